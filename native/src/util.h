// Small helpers shared by the addon's files: argument checks and errno-carrying errors.
#pragma once
#include <napi.h>
#include <time.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace mdfan {

// Throws an Error whose message names the syscall and errno, with properties
// { syscall, errno (number), code (e.g. "ENOENT") } so the TypeScript face can map it to an
// MDFAN_ERR_* code without parsing text.
inline void ThrowErrno(Napi::Env env, const char* syscall, int err, const std::string& what = "") {
  const char* name = strerrorname_np(err);
  std::string msg = std::string(syscall) + (what.empty() ? "" : " " + what) + " failed: " +
                    (name ? name : "E?") + " (" + std::to_string(err) + ") " + strerror(err);
  Napi::Error e = Napi::Error::New(env, msg);
  e.Set("syscall", Napi::String::New(env, syscall));
  e.Set("errno", Napi::Number::New(env, err));
  e.Set("code", Napi::String::New(env, name ? name : "EUNKNOWN"));
  e.ThrowAsJavaScriptException();
}

inline void ThrowType(Napi::Env env, const std::string& msg) {
  Napi::TypeError::New(env, msg).ThrowAsJavaScriptException();
}

// Reads argument i as a non-negative integer that fits a double exactly; false (and a thrown
// TypeError) otherwise.
inline bool ArgUint(const Napi::CallbackInfo& info, size_t i, const char* name, uint64_t* out) {
  if (info.Length() <= i || !info[i].IsNumber()) {
    ThrowType(info.Env(), std::string(name) + " must be a number");
    return false;
  }
  double d = info[i].As<Napi::Number>().DoubleValue();
  if (!(d >= 0) || d > 9007199254740991.0 || d != static_cast<double>(static_cast<uint64_t>(d))) {
    ThrowType(info.Env(), std::string(name) + " must be a non-negative integer");
    return false;
  }
  *out = static_cast<uint64_t>(d);
  return true;
}

inline bool ArgInt(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t* out) {
  if (info.Length() <= i || !info[i].IsNumber()) {
    ThrowType(info.Env(), std::string(name) + " must be a number");
    return false;
  }
  *out = info[i].As<Napi::Number>().Int64Value();
  return true;
}

// The base address and length of an ArrayBuffer argument (a segment mapping).
inline bool ArgBuffer(const Napi::CallbackInfo& info, size_t i, uint8_t** data, size_t* len) {
  if (info.Length() <= i || !info[i].IsArrayBuffer()) {
    ThrowType(info.Env(), "argument must be a segment ArrayBuffer");
    return false;
  }
  Napi::ArrayBuffer ab = info[i].As<Napi::ArrayBuffer>();
  *data = static_cast<uint8_t*>(ab.Data());
  *len = ab.ByteLength();
  if (*data == nullptr || *len == 0) {
    ThrowType(info.Env(), "segment ArrayBuffer is detached (the segment was closed)");
    return false;
  }
  return true;
}

/** CLOCK_MONOTONIC in ns as a double (exact for 104 days of uptime). */
inline double NowNs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

/** The spin-wait hint: lets the sibling hyperthread run and saves power while waiting on a line. */
inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

struct AddonState;

void InitSegment(Napi::Env env, Napi::Object exports);
void InitSync(Napi::Env env, Napi::Object exports);
void InitSeqlockRead(Napi::Env env, Napi::Object exports);
void InitAbi(Napi::Env env, Napi::Object exports);
void InitCommit(Napi::Env env, Napi::Object exports, AddonState* state);
void InitFdPass(Napi::Env env, Napi::Object exports);

}  // namespace mdfan
