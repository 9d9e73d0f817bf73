// The native seqlock read path, with real fences: correct on arm64 as well as x86-64.
//
// Pairs with the writer in native/segment/seqlock.ts:
//   writer: seq <- s+1 (odd, seq_cst store) ; payload stores ; seq <- s+2 (seq_cst store)
//   reader: s1 <- seq (acquire) ; if odd retry ; copy payload ; fence(acquire) ; s2 <- seq
//           (relaxed) ; if s1 != s2 retry
// The acquire load of s1 orders the copy after it; the acquire fence orders the copy before the
// load of s2 (a load-load fence: the piece x86 gets for free and arm64 does not). If s2 == s1 and
// s1 is even, no writer store to the payload can have been observed by the copy (Boehm,
// "Can seqlocks get along with programming language memory models?", 2012). The copy itself
// races with the writer by design; torn copies are discarded, never returned.
#include <atomic>
#include <cstring>
#include <time.h>

#include "util.h"

namespace mdfan {
namespace {

// Copies `bytes` of the slot at `slot` into `dst`. Returns retries (>= 0), or -1 if the seq
// stayed odd (a writer inside the slot) for longer than stale_ns: the caller reports
// MDFAN_ERR_STALE instead of spinning forever on a dead writer.
inline int64_t ReadSlot(const uint8_t* slot, uint8_t* dst, size_t bytes, double stale_ns) {
  const uint32_t* seqp = reinterpret_cast<const uint32_t*>(slot);
  int64_t retries = 0;
  // Stale means the *same* odd seq for longer than stale_ns: a writer stuck or dead inside the
  // slot. A busy writer shows a different odd value each time and never trips it.
  uint32_t odd_seq = 0;
  uint32_t odd_spins = 0;
  double odd_since = 0;
  for (;;) {
    uint32_t s1 = __atomic_load_n(seqp, __ATOMIC_ACQUIRE);  // pairs with the writer's final store
    if (s1 & 1u) {
      retries++;
      if (s1 != odd_seq) {
        odd_seq = s1;
        odd_spins = 0;
        odd_since = 0;
      } else if ((++odd_spins & 255) == 0) {
        double now = NowNs();
        if (odd_since == 0) odd_since = now;
        else if (now - odd_since > stale_ns) return -1;
      }
      CpuRelax();
      continue;
    }
    std::memcpy(dst, slot, bytes);
    std::atomic_thread_fence(std::memory_order_acquire);  // copy happens-before the s2 load
    uint32_t s2 = __atomic_load_n(seqp, __ATOMIC_RELAXED);
    if (s1 == s2) {
      std::memcpy(dst, &s1, sizeof s1);  // the snapshot's seq is the one validated
      return retries;
    }
    retries++;
  }
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
  int64_t r = ReadSlot(slot, d, bytes, info[4].As<Napi::Number>().DoubleValue());
  return Napi::Number::New(info.Env(), static_cast<double>(r));
}

// benchReadSlot(buffer, slotOffset, bytes, iterations) -> ns per read, measured in C: the cost
// of the native read path without the JavaScript -> addon call.
Napi::Value BenchReadSlot(const Napi::CallbackInfo& info) {
  const uint8_t* slot;
  uint64_t bytes, iterations;
  if (!SlotArgs(info, &slot, &bytes) || !ArgUint(info, 3, "iterations", &iterations)) return info.Env().Undefined();
  alignas(64) uint8_t dst[4096];
  if (bytes > sizeof dst) {
    ThrowType(info.Env(), "slot larger than the benchmark buffer");
    return info.Env().Undefined();
  }
  double t0 = NowNs();
  int64_t retries = 0;
  for (uint64_t i = 0; i < iterations; i++) {
    int64_t r = ReadSlot(slot, dst, bytes, 1e9);
    retries += r;
    asm volatile("" : : "r"(dst) : "memory");  // keep the copy
  }
  double t1 = NowNs();
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("nsPerRead", Napi::Number::New(info.Env(), (t1 - t0) / static_cast<double>(iterations ? iterations : 1)));
  o.Set("retries", Napi::Number::New(info.Env(), static_cast<double>(retries)));
  return o;
}

// writeBegin(buffer, slotOffset) -> new (odd) seq. The writer's W1 for platforms without TSO:
// the release fence after the odd store keeps the payload stores that follow (plain JavaScript
// stores, after this opaque call) from becoming visible before it.
Napi::Value WriteBegin(const Napi::CallbackInfo& info) {
  uint8_t* base;
  size_t len;
  uint64_t off;
  if (!ArgBuffer(info, 0, &base, &len) || !ArgUint(info, 1, "slotOffset", &off)) return info.Env().Undefined();
  if (off % 8 != 0 || off + 4 > len) {
    ThrowType(info.Env(), "slot range outside the segment");
    return info.Env().Undefined();
  }
  uint32_t* seqp = reinterpret_cast<uint32_t*>(base + off);
  uint32_t s = __atomic_load_n(seqp, __ATOMIC_RELAXED) + 1u;  // single writer: its own value
  __atomic_store_n(seqp, s, __ATOMIC_RELAXED);
  std::atomic_thread_fence(std::memory_order_release);  // odd seq visible before any payload store
  return Napi::Number::New(info.Env(), s);
}

}  // namespace

void InitSeqlockRead(Napi::Env env, Napi::Object exports) {
  exports.Set("readSlot", Napi::Function::New(env, ReadSlotJs, "readSlot"));
  exports.Set("writeBegin", Napi::Function::New(env, WriteBegin, "writeBegin"));
  exports.Set("benchReadSlot", Napi::Function::New(env, BenchReadSlot, "benchReadSlot"));
}

}  // namespace mdfan
