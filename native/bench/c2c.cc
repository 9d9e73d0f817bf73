// The physical limit of this machine for a publish->observe handoff: one cache line passed
// between two cores. Two threads, each pinned to its CPU, play ping-pong on one 128-byte-aligned
// line; each round trip is timed with the TSC (calibrated against CLOCK_MONOTONIC), and the
// one-way latency is half a round trip. Every mdfan latency is reported also as a ratio to it.
#include <pthread.h>
#include <sched.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>
#if defined(__x86_64__)
#include <x86intrin.h>
#endif

#include "bench.h"
#include "util.h"

namespace mdfan {
namespace {

struct alignas(128) Line {
  std::atomic<uint64_t> v{0};
};

inline uint64_t Ticks() {
#if defined(__x86_64__)
  return __rdtsc();
#else
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + ts.tv_nsec;
#endif
}

bool Pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0;
}

// c2cPingPong(cpuA, cpuB, roundTrips) -> { oneWayNs: number[] (sorted), nsPerTick, pinned }
Napi::Value C2cPingPong(const Napi::CallbackInfo& info) {
  uint64_t a, b, n;
  if (!ArgUint(info, 0, "cpuA", &a) || !ArgUint(info, 1, "cpuB", &b) || !ArgUint(info, 2, "roundTrips", &n))
    return info.Env().Undefined();
  if (n < 1 || n > 10000000) {
    ThrowType(info.Env(), "roundTrips must be 1..10000000");
    return info.Env().Undefined();
  }
  Line ping, pong;
  std::vector<uint64_t> rtt(n);
  std::atomic<bool> pinnedB{false};
  std::atomic<bool> ready{false};
  std::thread responder([&] {
    pinnedB = Pin(static_cast<int>(b));
    ready.store(true, std::memory_order_release);
    for (uint64_t i = 1; i <= n + 1000; i++) {
      while (ping.v.load(std::memory_order_acquire) != i) CpuRelax();
      pong.v.store(i, std::memory_order_release);
    }
  });
  bool pinnedA = Pin(static_cast<int>(a));
  while (!ready.load(std::memory_order_acquire)) {
  }
  double t0 = NowNs();
  uint64_t k0 = Ticks();
  for (uint64_t i = 1; i <= n + 1000; i++) {  // the first 1000 warm up and are not kept
    uint64_t s = Ticks();
    ping.v.store(i, std::memory_order_release);
    while (pong.v.load(std::memory_order_acquire) != i) CpuRelax();
    if (i > 1000) rtt[i - 1001] = Ticks() - s;
  }
  uint64_t k1 = Ticks();
  double t1 = NowNs();
  responder.join();
  double ns_per_tick = (t1 - t0) / static_cast<double>(k1 - k0);
  std::sort(rtt.begin(), rtt.end());
  Napi::Env env = info.Env();
  Napi::Float64Array out = Napi::Float64Array::New(env, n);
  for (uint64_t i = 0; i < n; i++) out[i] = static_cast<double>(rtt[i]) * ns_per_tick / 2.0;
  Napi::Object o = Napi::Object::New(env);
  o.Set("oneWayNs", out);
  o.Set("nsPerTick", Napi::Number::New(env, ns_per_tick));
  o.Set("pinned", Napi::Boolean::New(env, pinnedA && pinnedB));
  return o;
}

}  // namespace

void InitC2c(Napi::Env env, Napi::Object exports) {
  exports.Set("c2cPingPong", Napi::Function::New(env, C2cPingPong, "c2cPingPong"));
}

}  // namespace mdfan
