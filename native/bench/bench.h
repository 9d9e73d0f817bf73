// The benchmark addon's parts (mdfan_bench): measurement and placement calls only the benchmarks
// use, kept out of the product's addon. Loaded by bench/native/bench-addon.ts alone.
#pragma once
#include <napi.h>

namespace mdfan {

void InitC2c(Napi::Env env, Napi::Object exports);
void InitReadCost(Napi::Env env, Napi::Object exports);
void InitNuma(Napi::Env env, Napi::Object exports);
void InitReaction(Napi::Env env, Napi::Object exports);

}  // namespace mdfan
