// Exports every offset, size and constant of include/mdfan_abi.h as compiled by the C compiler,
// so the TypeScript constants (native/ts/abi.ts) are checked against the header itself: at load
// (native/ts/addon.ts) and by test/abi.test.ts, which also checks that the fields tile each
// struct with no gap.
#include "mdfan_abi.h"
#include "util.h"

namespace mdfan {
namespace {

#define FIELD(obj, type, field)                                                     \
  do {                                                                              \
    Napi::Object f = Napi::Object::New(env);                                        \
    f.Set("offset", Napi::Number::New(env, offsetof(type, field)));                 \
    f.Set("size", Napi::Number::New(env, sizeof(((type*)nullptr)->field)));         \
    obj.Set(#field, f);                                                             \
  } while (0)

#define CONST(obj, name) obj.Set(#name, Napi::Number::New(env, static_cast<double>(name)))

Napi::Value Abi(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);

  Napi::Object h = Napi::Object::New(env);
  FIELD(h, mdfan_header_t, magic);
  FIELD(h, mdfan_header_t, abi_major);
  FIELD(h, mdfan_header_t, abi_minor);
  FIELD(h, mdfan_header_t, header_bytes);
  FIELD(h, mdfan_header_t, total_bytes);
  FIELD(h, mdfan_header_t, max_instruments);
  FIELD(h, mdfan_header_t, levels);
  FIELD(h, mdfan_header_t, slot_stride_bytes);
  FIELD(h, mdfan_header_t, dir_entry_bytes);
  FIELD(h, mdfan_header_t, directory_offset);
  FIELD(h, mdfan_header_t, slots_offset);
  FIELD(h, mdfan_header_t, layout_flags);
  FIELD(h, mdfan_header_t, mode);
  FIELD(h, mdfan_header_t, created_realtime_ns);
  FIELD(h, mdfan_header_t, line0_reserved);
  FIELD(h, mdfan_header_t, state);
  FIELD(h, mdfan_header_t, generation);
  FIELD(h, mdfan_header_t, writer_pid);
  FIELD(h, mdfan_header_t, instrument_count);
  FIELD(h, mdfan_header_t, writer_start_realtime_ns);
  FIELD(h, mdfan_header_t, writer_start_ticks);
  FIELD(h, mdfan_header_t, last_error_code);
  FIELD(h, mdfan_header_t, flags);
  FIELD(h, mdfan_header_t, line1_reserved);
  FIELD(h, mdfan_header_t, heartbeat_ns);
  FIELD(h, mdfan_header_t, line2_reserved);
  FIELD(h, mdfan_header_t, notify_seq);
  FIELD(h, mdfan_header_t, line3_reserved);
  FIELD(h, mdfan_header_t, messages);
  FIELD(h, mdfan_header_t, publishes);
  FIELD(h, mdfan_header_t, input_bytes);
  FIELD(h, mdfan_header_t, line4_reserved);
  FIELD(h, mdfan_header_t, unknown_message_types);
  FIELD(h, mdfan_header_t, unknown_order_refs);
  FIELD(h, mdfan_header_t, feed_gaps);
  FIELD(h, mdfan_header_t, feed_duplicates);
  FIELD(h, mdfan_header_t, reader_attaches);
  FIELD(h, mdfan_header_t, reader_detaches);
  FIELD(h, mdfan_header_t, version_mismatches);
  FIELD(h, mdfan_header_t, takeovers);
  FIELD(h, mdfan_header_t, stale_marks);
  FIELD(h, mdfan_header_t, reveals);
  FIELD(h, mdfan_header_t, line5_reserved);
  FIELD(h, mdfan_header_t, control_socket_path);
  FIELD(h, mdfan_header_t, tail_reserved);
  out.Set("header", h);

  Napi::Object d = Napi::Object::New(env);
  FIELD(d, mdfan_dir_entry_t, symbol);
  FIELD(d, mdfan_dir_entry_t, feed_id);
  FIELD(d, mdfan_dir_entry_t, slot_index);
  FIELD(d, mdfan_dir_entry_t, price_scale);
  FIELD(d, mdfan_dir_entry_t, flags);
  FIELD(d, mdfan_dir_entry_t, reserved);
  out.Set("dir", d);

  Napi::Object l = Napi::Object::New(env);
  FIELD(l, mdfan_level_t, price);
  FIELD(l, mdfan_level_t, size);
  FIELD(l, mdfan_level_t, orders);
  out.Set("level", l);

  Napi::Object s = Napi::Object::New(env);
  FIELD(s, mdfan_slot_header_t, seq);
  FIELD(s, mdfan_slot_header_t, flags);
  FIELD(s, mdfan_slot_header_t, msg_index);
  FIELD(s, mdfan_slot_header_t, exchange_ts_ns);
  FIELD(s, mdfan_slot_header_t, publish_ts_ns);
  FIELD(s, mdfan_slot_header_t, bid_count);
  FIELD(s, mdfan_slot_header_t, ask_count);
  FIELD(s, mdfan_slot_header_t, update_count);
  FIELD(s, mdfan_slot_header_t, instrument_index);
  FIELD(s, mdfan_slot_header_t, reserved);
  out.Set("slot", s);

  Napi::Object c = Napi::Object::New(env);
  c.Set("MAGIC_LO", Napi::Number::New(env, static_cast<double>(MDFAN_MAGIC & 0xffffffffu)));
  c.Set("MAGIC_HI", Napi::Number::New(env, static_cast<double>(MDFAN_MAGIC >> 32)));
  CONST(c, MDFAN_ABI_MAJOR);
  CONST(c, MDFAN_ABI_MINOR);
  CONST(c, MDFAN_LINE_BYTES);
  CONST(c, MDFAN_HEADER_BYTES);
  CONST(c, MDFAN_DIR_ENTRY_BYTES);
  CONST(c, MDFAN_SLOT_HEADER_BYTES);
  CONST(c, MDFAN_LEVEL_BYTES);
  CONST(c, MDFAN_MAX_LEVELS);
  CONST(c, MDFAN_MAX_INSTRUMENTS);
  CONST(c, MDFAN_SYMBOL_BYTES);
  CONST(c, MDFAN_SOCKET_PATH_BYTES);
  CONST(c, MDFAN_STATE_UNINITIALIZED);
  CONST(c, MDFAN_STATE_INITIALIZING);
  CONST(c, MDFAN_STATE_READY);
  CONST(c, MDFAN_STATE_BROKEN);
  CONST(c, MDFAN_STATE_CLOSED);
  CONST(c, MDFAN_LAYOUT_PACKED);
  CONST(c, MDFAN_SLOT_STALE);
  CONST(c, MDFAN_DIR_ACTIVE);
  CONST(c, MDFAN_ERRNUM_FEED_TRUNCATED);
  CONST(c, MDFAN_ERRNUM_FEED_CORRUPT);
  CONST(c, MDFAN_ERRNUM_FEED_GAP);
  c.Set("SIZEOF_HEADER", Napi::Number::New(env, sizeof(mdfan_header_t)));
  c.Set("SIZEOF_DIR_ENTRY", Napi::Number::New(env, sizeof(mdfan_dir_entry_t)));
  c.Set("SIZEOF_LEVEL", Napi::Number::New(env, sizeof(mdfan_level_t)));
  c.Set("SIZEOF_SLOT_HEADER", Napi::Number::New(env, sizeof(mdfan_slot_header_t)));
  out.Set("constants", c);

  // Layout arithmetic samples: TypeScript's computeLayout() must agree with the C macros.
  Napi::Array samples = Napi::Array::New(env);
  const uint32_t inst[] = {1, 7, 64, 8192};
  const uint32_t lev[] = {1, 5, 10, 50};
  uint32_t k = 0;
  for (uint32_t i : inst)
    for (uint32_t n : lev) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("maxInstruments", Napi::Number::New(env, i));
      o.Set("levels", Napi::Number::New(env, n));
      o.Set("slotStride", Napi::Number::New(env, MDFAN_SLOT_STRIDE(n)));
      o.Set("slotsOffset", Napi::Number::New(env, static_cast<double>(MDFAN_SLOTS_OFFSET(i))));
      o.Set("totalBytes", Napi::Number::New(env, static_cast<double>(MDFAN_TOTAL_BYTES(i, n))));
      o.Set("asksOffset", Napi::Number::New(env, MDFAN_ASKS_OFFSET(n)));
      o.Set("packedStride", Napi::Number::New(env, MDFAN_SLOT_STRIDE_PACKED(n)));
      samples.Set(k++, o);
    }
  out.Set("layoutSamples", samples);
  return out;
}

}  // namespace

void InitAbi(Napi::Env env, Napi::Object exports) {
  exports.Set("abi", Napi::Function::New(env, Abi, "abi"));
}

}  // namespace mdfan
