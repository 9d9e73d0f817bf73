// Who is at the other end of a connected Unix socket, as the kernel recorded it at connect
// (SO_PEERCRED): the control plane checks what a peer claims (its pid) against it and counts
// connections per uid. A peer cannot forge these: they are the connecting process's own.
#include <sys/socket.h>

#include "util.h"

namespace mdfan {
namespace {

// peerCred(fd) -> [pid, uid, gid]
Napi::Value PeerCred(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint64_t fd;
  if (!ArgUint(info, 0, "fd", &fd)) return env.Undefined();
  struct ucred cred = {};
  socklen_t len = sizeof cred;
  if (getsockopt(static_cast<int>(fd), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    ThrowErrno(env, "getsockopt(SO_PEERCRED)", errno);
    return env.Undefined();
  }
  Napi::Array out = Napi::Array::New(env, 3);
  out.Set(0u, Napi::Number::New(env, cred.pid));
  out.Set(1u, Napi::Number::New(env, cred.uid));
  out.Set(2u, Napi::Number::New(env, cred.gid));
  return out;
}

}  // namespace

void InitPeerCred(Napi::Env env, Napi::Object exports) {
  exports.Set("peerCred", Napi::Function::New(env, PeerCred, "peerCred"));
}

}  // namespace mdfan
