// mdfan_bench: the benchmarks' addon. Stateless: every call works on its arguments alone, so it
// needs no per-environment data and loads in any thread.
#include "bench.h"

namespace {
Napi::Object Init(Napi::Env env, Napi::Object exports) {
  mdfan::InitC2c(env, exports);
  mdfan::InitReadCost(env, exports);
  mdfan::InitNuma(env, exports);
  mdfan::InitReaction(env, exports);
  return exports;
}
}  // namespace

NODE_API_MODULE(mdfan_bench, Init)
