// The mdfan addon: a small numeric surface over shm_open/mmap, locks, futexes, clocks, the
// native seqlock read path and the writer's commit. Policy (what to create, when to wait, which
// error code) lives in the TypeScript face (native/segment/); this layer only makes syscalls and
// reports errno. Its state is per environment (state.h): nothing mutable is process-global.
#include <atomic>

#include "state.h"
#include "util.h"

namespace mdfan {
namespace {

// How many environments hold a state: a count only, for the test that workers leave none behind.
// Relaxed on both sides: it orders nothing; a worker's decrement reaches the main thread through
// the worker thread's join, which Node completes before it emits the worker's 'exit'.
std::atomic<uint32_t> live_states{0};

// Runs as the environment ends, while it can still delete references: every bound writer's
// buffers are released (a worker that exits with writers bound leaks nothing).
void CleanupState(void* arg) {
  auto* state = static_cast<AddonState*>(arg);
  for (BoundWriter& w : state->bound)
    if (w.used) UnbindWriter(state->env, w);
  state->bound.clear();
  for (ItchEngine*& e : state->itch)
    if (e) FreeItchEngine(state->env, e);
  state->itch.clear();
}

// The instance data's finaliser: runs after the cleanup hooks, when the environment is gone.
void FreeState(Napi::Env, AddonState* state) {
  delete state;
  live_states.fetch_sub(1, std::memory_order_relaxed);
}

Napi::Value AddonStates(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), LiveStates());
}

}  // namespace

uint32_t LiveStates() { return live_states.load(std::memory_order_relaxed); }

}  // namespace mdfan

namespace mdfan {
// peercred.cc: declared here, not in util.h, to keep the shared header untouched.
void InitPeerCred(Napi::Env env, Napi::Object exports);
// itch_engine.cc
void InitItchEngine(Napi::Env env, Napi::Object exports, AddonState* state);
}  // namespace mdfan

namespace {
Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* state = new mdfan::AddonState();
  state->env = env;
  mdfan::live_states.fetch_add(1, std::memory_order_relaxed);
  env.SetInstanceData<mdfan::AddonState, mdfan::FreeState>(state);
  napi_add_env_cleanup_hook(env, mdfan::CleanupState, state);
  mdfan::InitSegment(env, exports);
  mdfan::InitSync(env, exports);
  mdfan::InitSeqlockRead(env, exports);
  mdfan::InitAbi(env, exports);
  mdfan::InitCommit(env, exports, state);
  mdfan::InitFdPass(env, exports);
  mdfan::InitPeerCred(env, exports);
  mdfan::InitItchEngine(env, exports, state);
  exports.Set("addonStates", Napi::Function::New(env, mdfan::AddonStates, "addonStates"));
  return exports;
}
}  // namespace

NODE_API_MODULE(mdfan, Init)
