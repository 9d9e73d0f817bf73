// The mdfan addon: a small numeric surface over shm_open/mmap, locks, futexes, clocks, the
// native seqlock read path and the writer's commit. Policy (what to create, when to wait, which error code) lives in the
// TypeScript face (native/segment/); this layer only makes syscalls and reports errno.
#include "util.h"

namespace {
Napi::Object Init(Napi::Env env, Napi::Object exports) {
  mdfan::InitSegment(env, exports);
  mdfan::InitSync(env, exports);
  mdfan::InitSeqlockRead(env, exports);
  mdfan::InitAbi(env, exports);
  mdfan::InitC2c(env, exports);
  mdfan::InitCommit(env, exports);
  mdfan::InitFdPass(env, exports);
  return exports;
}
}  // namespace

NODE_API_MODULE(mdfan, Init)
