// Cross-process futex on a 32-bit word of the segment, CLOCK_MONOTONIC, and CPU affinity.
//
// Atomics.wait is an in-process emulation in V8 (a condition variable per isolate group) and
// cannot wake another process, so blocking readers sleep here. The futex is a *shared* one
// (no FUTEX_PRIVATE_FLAG): the kernel keys it by the shm inode and offset, so every process
// that maps the segment, at whatever address, waits on the same queue. FUTEX_WAIT only needs
// read access, so readers' PROT_READ mappings work.
#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>

#include "util.h"

namespace mdfan {
namespace {

bool ArgWord(const Napi::CallbackInfo& info, uint32_t** word) {
  uint8_t* base;
  size_t len;
  uint64_t off;
  if (!ArgBuffer(info, 0, &base, &len) || !ArgUint(info, 1, "byteOffset", &off)) return false;
  if (off % 4 != 0 || off + 4 > len) {
    ThrowType(info.Env(), "futex byteOffset must be 4-aligned and inside the segment");
    return false;
  }
  *word = reinterpret_cast<uint32_t*>(base + off);
  return true;
}

// futexWait(buffer, byteOffset, expected, timeoutNs) -> 0 woken, 1 timed out,
// 2 value was not `expected` (no sleep), 3 interrupted by a signal. timeoutNs < 0: no timeout.
Napi::Value FutexWait(const Napi::CallbackInfo& info) {
  uint32_t* word;
  int64_t expected, timeout_ns;
  if (!ArgWord(info, &word) || !ArgInt(info, 2, "expected", &expected) || !ArgInt(info, 3, "timeoutNs", &timeout_ns))
    return info.Env().Undefined();
  struct timespec ts;
  struct timespec* tsp = nullptr;
  if (timeout_ns >= 0) {
    ts.tv_sec = timeout_ns / 1000000000;
    ts.tv_nsec = timeout_ns % 1000000000;
    tsp = &ts;
  }
  long r = syscall(SYS_futex, word, FUTEX_WAIT, static_cast<uint32_t>(expected), tsp, nullptr, 0);
  int code = 0;
  if (r != 0) {
    if (errno == ETIMEDOUT) code = 1;
    else if (errno == EAGAIN) code = 2;
    else if (errno == EINTR) code = 3;
    else {
      ThrowErrno(info.Env(), "futex(FUTEX_WAIT)", errno);
      return info.Env().Undefined();
    }
  }
  return Napi::Number::New(info.Env(), code);
}

// futexWake(buffer, byteOffset, count) -> number of waiters woken.
Napi::Value FutexWake(const Napi::CallbackInfo& info) {
  uint32_t* word;
  uint64_t count;
  if (!ArgWord(info, &word) || !ArgUint(info, 2, "count", &count)) return info.Env().Undefined();
  int n = count > 0x7fffffff ? 0x7fffffff : static_cast<int>(count);
  long r = syscall(SYS_futex, word, FUTEX_WAKE, n, nullptr, nullptr, 0);
  if (r < 0) {
    ThrowErrno(info.Env(), "futex(FUTEX_WAKE)", errno);
    return info.Env().Undefined();
  }
  return Napi::Number::New(info.Env(), static_cast<double>(r));
}

double ClockNs(clockid_t id) {  // MonotonicNs and RealtimeNs; NowNs (util.h) for CLOCK_MONOTONIC inside C
  struct timespec ts;
  clock_gettime(id, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

// CLOCK_MONOTONIC in ns as a double: exact to the nanosecond for 104 days of uptime (2^53 ns),
// and a double costs no allocation (a BigInt would, on every call).
Napi::Value MonotonicNs(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), ClockNs(CLOCK_MONOTONIC));
}

Napi::Value RealtimeNs(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), ClockNs(CLOCK_REALTIME));
}

// setAffinity(cpus[]) pins the calling thread (a worker pins itself, not its whole process).
Napi::Value SetAffinity(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsArray()) {
    ThrowType(info.Env(), "cpus must be an array of CPU numbers");
    return info.Env().Undefined();
  }
  Napi::Array a = info[0].As<Napi::Array>();
  cpu_set_t set;
  CPU_ZERO(&set);
  for (uint32_t i = 0; i < a.Length(); i++) {
    Napi::Value v = a.Get(i);
    if (!v.IsNumber()) {
      ThrowType(info.Env(), "cpus must be an array of CPU numbers");
      return info.Env().Undefined();
    }
    int cpu = v.As<Napi::Number>().Int32Value();
    if (cpu < 0 || cpu >= CPU_SETSIZE) {
      ThrowType(info.Env(), "cpu number out of range: " + std::to_string(cpu));
      return info.Env().Undefined();
    }
    CPU_SET(cpu, &set);
  }
  if (sched_setaffinity(0, sizeof set, &set) != 0) ThrowErrno(info.Env(), "sched_setaffinity", errno);
  return info.Env().Undefined();
}

Napi::Value GetAffinity(const Napi::CallbackInfo& info) {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) {
    ThrowErrno(info.Env(), "sched_getaffinity", errno);
    return info.Env().Undefined();
  }
  Napi::Array out = Napi::Array::New(info.Env());
  uint32_t k = 0;
  for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
    if (CPU_ISSET(cpu, &set)) out.Set(k++, Napi::Number::New(info.Env(), cpu));
  return out;
}

Napi::Value CurrentCpu(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), sched_getcpu());
}

}  // namespace

void InitSync(Napi::Env env, Napi::Object exports) {
  exports.Set("futexWait", Napi::Function::New(env, FutexWait, "futexWait"));
  exports.Set("futexWake", Napi::Function::New(env, FutexWake, "futexWake"));
  exports.Set("monotonicNs", Napi::Function::New(env, MonotonicNs, "monotonicNs"));
  exports.Set("realtimeNs", Napi::Function::New(env, RealtimeNs, "realtimeNs"));
  exports.Set("setAffinity", Napi::Function::New(env, SetAffinity, "setAffinity"));
  exports.Set("getAffinity", Napi::Function::New(env, GetAffinity, "getAffinity"));
  exports.Set("currentCpu", Napi::Function::New(env, CurrentCpu, "currentCpu"));
}

}  // namespace mdfan
