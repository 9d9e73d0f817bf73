// The native seqlock read path, with real fences: correct on arm64 as well as x86-64.
//
// The read loop and the stale bound are mdfan_seqlock.h's, shared with the C
// readers; its comments name each access and the one it pairs with on the other side. What lives
// here is the JavaScript face: argument checks and the conversion of JavaScript numbers.
#include <cmath>
#include <cstdint>

#include "mdfan_seqlock.h"
#include "util.h"

namespace mdfan {
namespace {

// staleNs arrives as a JavaScript number: NaN, Infinity or anything beyond u64 never trips the
// bound; zero or below trips it at the first clock check that can (as comparing doubles did).
uint64_t StaleBoundNs(double ns) {
  if (std::isnan(ns) || ns >= 18446744073709551615.0) return UINT64_MAX;
  if (ns <= 0) return 0;
  return static_cast<uint64_t>(ns);
}

// Copies `bytes` of the slot at `slot` into `dst`. Returns retries (>= 0), or -1 if the seq
// stayed odd (a writer inside the slot) for longer than stale_ns: the caller reports
// MDFAN_ERR_STALE instead of spinning forever on a dead writer.
inline int64_t ReadSlot(const uint8_t* slot, uint8_t* dst, size_t bytes, uint64_t stale_ns) {
  return mdfan_seqlock_read(slot, dst, bytes, stale_ns, nullptr);
}

bool SlotArgs(const Napi::CallbackInfo& info, const uint8_t** slot, uint64_t* bytes) {
  uint8_t* base;
  size_t len;
  uint64_t off;
  if (!ArgBuffer(info, 0, &base, &len) || !ArgUint(info, 1, "slotOffset", &off) || !ArgUint(info, 2, "bytes", bytes))
    return false;
  if (off % 8 != 0 || *bytes < 4 || off + *bytes > len) {
    ThrowType(info.Env(), "slot range outside the segment");
    return false;
  }
  *slot = base + off;
  return true;
}

// readSlot(buffer, slotOffset, bytes, dst: Uint32Array, staleNs) -> retries or -1 (stale).
Napi::Value ReadSlotJs(const Napi::CallbackInfo& info) {
  const uint8_t* slot;
  uint64_t bytes;
  if (!SlotArgs(info, &slot, &bytes)) return info.Env().Undefined();
  if (info.Length() < 5 || !info[3].IsTypedArray() || !info[4].IsNumber()) {
    ThrowType(info.Env(), "readSlot(buffer, slotOffset, bytes, dst, staleNs)");
    return info.Env().Undefined();
  }
  Napi::TypedArray dst = info[3].As<Napi::TypedArray>();
  if (dst.ByteLength() < bytes) {
    ThrowType(info.Env(), "dst is smaller than the slot");
    return info.Env().Undefined();
  }
  uint8_t* d = static_cast<uint8_t*>(dst.ArrayBuffer().Data()) + dst.ByteOffset();
  int64_t r = ReadSlot(slot, d, bytes, StaleBoundNs(info[4].As<Napi::Number>().DoubleValue()));
  return Napi::Number::New(info.Env(), static_cast<double>(r));
}

}  // namespace

void InitSeqlockRead(Napi::Env env, Napi::Object exports) {
  exports.Set("readSlot", Napi::Function::New(env, ReadSlotJs, "readSlot"));
}

}  // namespace mdfan
