// The writer's commit as one addon call: stamp, top line, slot (mdfan_commit_book in
// mdfan_seqlock.h, the one commit every writer uses). One call per book instead of a clock call
// and two full fences: none of its stores is a fence, so the lines it writes transfer to readers
// while the writer goes on.
//
// The surface is numeric: commitBind registers a mapping, its tops object and a staging buffer
// once and returns a handle; commitBook(handle, ...) takes numbers only and reads the rest from
// the stage (mdfan_commit_stage_t in mdfan_abi.h) the TypeScript writer fills. commitUnbind forgets
// the handle before the mapping is unmapped, so a commit after close finds no writer instead of
// unmapped memory. Handles belong to the environment that bound them (state.h).
#include <node_api.h>

#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdlib>

#include "test_pause.h"

namespace mdfan {
namespace {
// Tests (MDFAN_TEST_PAUSE_BETWEEN_COMMITS names a FIFO; read once, when the addon is loaded): the
// first commit that replaces a book stops between its top line and its slot, where the test reads
// both. Without the variable the commit's only cost is a branch on this null.
const char* const pause_between_commits_fifo = std::getenv("MDFAN_TEST_PAUSE_BETWEEN_COMMITS");
std::atomic<bool> paused_between_commits{false};
}  // namespace
}  // namespace mdfan

#define MDFAN_SEQLOCK_TEST_BETWEEN_COMMITS(update_count)                                          \
  do {                                                                                             \
    if (__builtin_expect(::mdfan::pause_between_commits_fifo != nullptr, 0) && (update_count) > 1) \
      ::mdfan::TestPauseOnce(::mdfan::pause_between_commits_fifo, &::mdfan::paused_between_commits); \
  } while (0)
#include "mdfan_seqlock.h"
#include "state.h"
#include "util.h"

namespace mdfan {
namespace {

bool BufferOf(Napi::Value v, uint8_t** data, size_t* len) {
  if (!v.IsArrayBuffer()) return false;
  Napi::ArrayBuffer ab = v.As<Napi::ArrayBuffer>();
  *data = static_cast<uint8_t*>(ab.Data());
  *len = ab.ByteLength();
  return *data != nullptr && *len > 0;
}

AddonState* StateOf(const Napi::CallbackInfo& info) { return static_cast<AddonState*>(info.Data()); }

// commitBind(map, slotsOffset, slotStride, levels, maxInstruments, tops | null, stage) -> handle
Napi::Value CommitBind(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint8_t *map, *tops = nullptr, *stage;
  size_t map_len, tops_len = 0, stage_len;
  uint64_t slots_off, stride, levels, max;
  if (!ArgBuffer(info, 0, &map, &map_len) || !ArgUint(info, 1, "slotsOffset", &slots_off) ||
      !ArgUint(info, 2, "slotStride", &stride) || !ArgUint(info, 3, "levels", &levels) ||
      !ArgUint(info, 4, "maxInstruments", &max))
    return env.Undefined();
  if (levels < 1 || levels > MDFAN_MAX_LEVELS || max < 1 || max > MDFAN_MAX_INSTRUMENTS ||
      stride < MDFAN_SLOT_PAYLOAD_BYTES(levels) || stride % 8 != 0 || slots_off % 8 != 0 ||
      slots_off + max * stride > map_len) {
    ThrowType(env, "commitBind: the layout does not fit the mapping");
    return env.Undefined();
  }
  if (!info[5].IsNull() && !(BufferOf(info[5], &tops, &tops_len) &&
                             tops_len >= MDFAN_TOPS_BYTES(max))) {
    ThrowType(env, "commitBind: tops must be null or a tops mapping for maxInstruments lines");
    return env.Undefined();
  }
  if (!BufferOf(info[6], &stage, &stage_len) || stage_len < MDFAN_COMMIT_STAGE_BYTES(levels) ||
      reinterpret_cast<uintptr_t>(stage) % 8 != 0) {
    ThrowType(env, "commitBind: stage must be an 8-aligned ArrayBuffer of MDFAN_COMMIT_STAGE_BYTES(levels)");
    return env.Undefined();
  }
  std::vector<BoundWriter>& bound = StateOf(info)->bound;
  size_t h = 0;
  while (h < bound.size() && bound[h].used) h++;
  if (h == bound.size()) bound.emplace_back();
  BoundWriter& w = bound[h];
  w.used = true;
  w.slots = map + slots_off;
  w.stride = stride;
  w.levels = static_cast<uint32_t>(levels);
  w.max_instruments = static_cast<uint32_t>(max);
  w.tops = tops ? tops + MDFAN_TOPS_HEADER_BYTES : nullptr;
  w.stage = stage;
  w.converted.assign(2u * levels, mdfan_level_t{0, 0, 0, 0});
  // The buffers stay alive while bound (the mapping is unmapped only after commitUnbind).
  for (int i = 0; i < 3; i++) {
    napi_value v = info[i == 0 ? 0 : i == 1 ? 5 : 6];
    w.refs[i] = nullptr;
    if (i == 1 && tops == nullptr) continue;
    napi_create_reference(env, v, 1, &w.refs[i]);
  }
  return Napi::Number::New(env, static_cast<double>(h));
}

// commitUnbind(handle): the handle is forgotten (idempotent).
Napi::Value CommitUnbind(const Napi::CallbackInfo& info) {
  uint64_t h;
  if (!ArgUint(info, 0, "handle", &h)) return info.Env().Undefined();
  std::vector<BoundWriter>& bound = StateOf(info)->bound;
  if (h < bound.size() && bound[h].used) UnbindWriter(info.Env(), bound[h]);
  return info.Env().Undefined();
}

inline uint64_t ToU64(double d) { return d >= 0 && d < 18446744073709551616.0 ? static_cast<uint64_t>(d) : 0; }
inline int64_t ToI64(double d) {
  return d >= -9223372036854775808.0 && d < 9223372036854775808.0 ? static_cast<int64_t>(d) : 0;
}

// The stage's [price, size, orders] doubles of one side, as the slot's levels.
void Convert(const double* src, uint32_t count, mdfan_level_t* dst) {
  for (uint32_t i = 0; i < count; i++, src += 3) {
    dst[i].price = ToI64(src[0]);
    dst[i].size = ToU64(src[1]);
    dst[i].orders = static_cast<uint32_t>(ToU64(src[2]));
    dst[i].reserved = 0;
  }
}

// commitBook(handle, index) -> publish_ts_ns, or -1 for a handle or index that is not bound (the
// TypeScript face checks both first). Everything else comes from the stage, whose mode says what
// is committed (MDFAN_COMMIT_*). Plain N-API, not node-addon-api: this is the hot path, and two
// arguments are all it converts.
napi_value CommitBook(napi_env env, napi_callback_info cbinfo) {
  size_t argc = 2;
  napi_value argv[2];
  void* data = nullptr;
  double hd = -1, id = -1;
  napi_get_cb_info(env, cbinfo, &argc, argv, nullptr, &data);
  if (argc == 2) {
    if (napi_get_value_double(env, argv[0], &hd) != napi_ok) hd = -1;
    if (napi_get_value_double(env, argv[1], &id) != napi_ok) id = -1;
  }
  std::vector<BoundWriter>& bound = static_cast<AddonState*>(data)->bound;
  double result = -1;
  if (hd >= 0 && hd < static_cast<double>(bound.size()) && bound[static_cast<size_t>(hd)].used) {
    BoundWriter& w = bound[static_cast<size_t>(hd)];
    if (id >= 0 && id < w.max_instruments && id == std::floor(id)) {
      uint32_t index = static_cast<uint32_t>(id);
      auto* st = reinterpret_cast<mdfan_commit_stage_t*>(w.stage);
      // The publish time: when the writer begins this commit (before the top line).
      uint64_t now = mdfan_monotonic_ns();
      const double* bids = reinterpret_cast<const double*>(w.stage + sizeof(mdfan_commit_stage_t));
      const double* asks = bids + 3 * w.levels;
      uint32_t bc = st->bid_count < w.levels ? st->bid_count : w.levels;
      uint32_t ac = st->ask_count < w.levels ? st->ask_count : w.levels;
      mdfan_level_t* cb = w.converted.data();
      mdfan_level_t* ca = cb + w.levels;
      // Exact in 64-bit integers: an epoch time in ms times 1e6 is above 2^53.
      uint64_t exchange_ts_ns;
      // Unknown (NaN, negative) or past 2^64 ns (a hostile or broken venue time): 0, "unknown", never a wrapped time.
      if (!(st->exchange_ts >= 0) || __builtin_mul_overflow(ToU64(st->exchange_ts), ToU64(st->exchange_ts_unit_ns), &exchange_ts_ns) ||
          __builtin_add_overflow(exchange_ts_ns, ToU64(st->exchange_ts_base_ns), &exchange_ts_ns))
        exchange_ts_ns = 0;
      uint8_t* slot = w.slots + index * w.stride;
      mdfan_top_t* top = w.tops ? reinterpret_cast<mdfan_top_t*>(w.tops + static_cast<uint64_t>(index) * MDFAN_TOP_STRIDE_BYTES) : nullptr;
      int top_changed = 0;
      if (st->mode == MDFAN_COMMIT_TOP_ONLY) {
        if (top) {
          static const mdfan_level_t none = {0, 0, 0, 0};
          Convert(bids, bc ? 1 : 0, cb);
          Convert(asks, ac ? 1 : 0, ca);
          top_changed = mdfan_commit_top(slot, top, bc ? cb : &none, ac ? ca : &none, ToU64(st->msg_index),
                                         exchange_ts_ns, now);
        }
      } else {
        Convert(bids, bc, cb);
        Convert(asks, ac, ca);
        top_changed = mdfan_commit_book(slot, top, w.levels, cb, bc, ca, ac, ToU64(st->msg_index), exchange_ts_ns, now,
                                        st->flags, index, st->mode == MDFAN_COMMIT_BOOK_ONLY);
      }
      st->top_commits += static_cast<uint32_t>(top_changed);
      result = static_cast<double>(now);
    }
  }
  napi_value out;
  napi_create_double(env, result, &out);
  return out;
}

}  // namespace

void UnbindWriter(napi_env env, BoundWriter& w) {
  for (napi_ref& r : w.refs)
    if (r) napi_delete_reference(env, r), r = nullptr;
  w = BoundWriter();
}

void InitCommit(Napi::Env env, Napi::Object exports, AddonState* state) {
  exports.Set("commitBind", Napi::Function::New(env, CommitBind, "commitBind", state));
  exports.Set("commitUnbind", Napi::Function::New(env, CommitUnbind, "commitUnbind", state));
  napi_value fn;
  napi_create_function(env, "commitBook", NAPI_AUTO_LENGTH, CommitBook, state, &fn);
  exports.Set("commitBook", Napi::Value(env, fn));
}

}  // namespace mdfan
