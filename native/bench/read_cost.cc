// The native seqlock read's own cost, for the seqlock-read benchmark: many reads of one slot
// timed inside C, so the JavaScript -> addon call is not part of the figure.
#include <cstdint>

#include "bench.h"
#include "mdfan_seqlock.h"
#include "util.h"

namespace mdfan {
namespace {

// benchReadSlot(buffer, slotOffset, bytes, iterations) -> { nsPerRead, retries }
Napi::Value BenchReadSlot(const Napi::CallbackInfo& info) {
  uint8_t* base;
  size_t len;
  uint64_t off, bytes, iterations;
  if (!ArgBuffer(info, 0, &base, &len) || !ArgUint(info, 1, "slotOffset", &off) || !ArgUint(info, 2, "bytes", &bytes) ||
      !ArgUint(info, 3, "iterations", &iterations))
    return info.Env().Undefined();
  if (off % 8 != 0 || bytes < 4 || off + bytes > len) {
    ThrowType(info.Env(), "slot range outside the segment");
    return info.Env().Undefined();
  }
  const uint8_t* slot = base + off;
  alignas(64) uint8_t dst[4096];
  if (bytes > sizeof dst) {
    ThrowType(info.Env(), "slot larger than the benchmark buffer");
    return info.Env().Undefined();
  }
  double t0 = NowNs();
  int64_t retries = 0;
  for (uint64_t i = 0; i < iterations; i++) {
    retries += mdfan_seqlock_read(slot, dst, bytes, 1000000000u, nullptr);
    asm volatile("" : : "r"(dst) : "memory");  // keep the copy
  }
  double t1 = NowNs();
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("nsPerRead", Napi::Number::New(info.Env(), (t1 - t0) / static_cast<double>(iterations ? iterations : 1)));
  o.Set("retries", Napi::Number::New(info.Env(), static_cast<double>(retries)));
  return o;
}

}  // namespace

void InitReadCost(Napi::Env env, Napi::Object exports) {
  exports.Set("benchReadSlot", Napi::Function::New(env, BenchReadSlot, "benchReadSlot"));
}

}  // namespace mdfan
