// The reader registry as a sealed memfd, and handing its descriptor to readers over the control
// socket (SCM_RIGHTS). Readers write into the registry, so no file a reader can shrink may be
// mapped on the writer's path: a memfd sealed against shrinking and growing cannot be truncated
// by anyone, and it has no name in /dev/shm to truncate.
#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "util.h"

namespace mdfan {
namespace {

// memfdCreate(bytes) -> fd: a memfd of `bytes` (reserved), sealed against shrink, grow and
// further seals; close-on-exec.
Napi::Value MemfdCreate(const Napi::CallbackInfo& info) {
  uint64_t bytes;
  if (!ArgUint(info, 0, "bytes", &bytes)) return info.Env().Undefined();
  int fd = memfd_create("mdfan-registry", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) {
    ThrowErrno(info.Env(), "memfd_create", errno);
    return info.Env().Undefined();
  }
  int err = 0;
  const char* what = "";
  if (ftruncate(fd, static_cast<off_t>(bytes)) != 0) err = errno, what = "ftruncate";
  else if ((err = posix_fallocate(fd, 0, static_cast<off_t>(bytes))) != 0) what = "posix_fallocate";
  else if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) err = errno, what = "fcntl(F_ADD_SEALS)";
  if (err != 0) {
    close(fd);
    ThrowErrno(info.Env(), what, err);
    return info.Env().Undefined();
  }
  return Napi::Number::New(info.Env(), fd);
}

// sendFd(socketFd, fd): one byte with `fd` attached (SCM_RIGHTS) on a connected Unix socket.
Napi::Value SendFd(const Napi::CallbackInfo& info) {
  uint64_t sock, fd;
  if (!ArgUint(info, 0, "socketFd", &sock) || !ArgUint(info, 1, "fd", &fd)) return info.Env().Undefined();
  char byte = 'R';
  struct iovec iov = {&byte, 1};
  alignas(struct cmsghdr) char ctl[CMSG_SPACE(sizeof(int))] = {};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = ctl;
  msg.msg_controllen = sizeof ctl;
  struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  int v = static_cast<int>(fd);
  memcpy(CMSG_DATA(c), &v, sizeof v);
  if (sendmsg(static_cast<int>(sock), &msg, MSG_NOSIGNAL | MSG_DONTWAIT) != 1) ThrowErrno(info.Env(), "sendmsg", errno);
  return info.Env().Undefined();
}

// recvFd(path, request, timeoutMs) -> fd: connects to the Unix socket at `path`, writes
// `request`, and reads until a message carries a descriptor (other bytes, such as a greeting,
// are skipped); ETIMEDOUT if none within timeoutMs, ECONNRESET if the peer hangs up first.
Napi::Value RecvFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint64_t timeoutMs;
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsString() || !ArgUint(info, 2, "timeoutMs", &timeoutMs)) {
    if (!env.IsExceptionPending()) ThrowType(env, "recvFd(path, request, timeoutMs)");
    return env.Undefined();
  }
  std::string path = info[0].As<Napi::String>().Utf8Value();
  std::string request = info[1].As<Napi::String>().Utf8Value();
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof addr.sun_path) {
    ThrowType(env, "socket path must be 1..107 bytes");
    return env.Undefined();
  }
  memcpy(addr.sun_path, path.c_str(), path.size());
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) {
    ThrowErrno(env, "socket", errno);
    return env.Undefined();
  }
  struct timeval tv = {static_cast<time_t>(timeoutMs / 1000), static_cast<suseconds_t>((timeoutMs % 1000) * 1000)};
  setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  int got = -1, err = 0;
  const char* what = "connect";
  if (connect(s, reinterpret_cast<struct sockaddr*>(&addr), sizeof addr) != 0) err = errno;
  else if (write(s, request.data(), request.size()) != static_cast<ssize_t>(request.size())) err = errno, what = "write";
  for (int round = 0; err == 0 && got < 0 && round < 64; round++) {
    char buf[512];
    struct iovec iov = {buf, sizeof buf};
    alignas(struct cmsghdr) char ctl[CMSG_SPACE(sizeof(int))] = {};
    struct msghdr msg = {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = ctl;
    msg.msg_controllen = sizeof ctl;
    ssize_t n = recvmsg(s, &msg, MSG_CMSG_CLOEXEC);
    what = "recvmsg";
    if (n < 0) err = (errno == EAGAIN || errno == EWOULDBLOCK) ? ETIMEDOUT : errno;
    else if (n == 0) err = ECONNRESET;
    for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c && err == 0; c = CMSG_NXTHDR(&msg, c))
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) memcpy(&got, CMSG_DATA(c), sizeof got);
  }
  close(s);
  if (got < 0) {
    ThrowErrno(env, what, err != 0 ? err : EPROTO, path);
    return env.Undefined();
  }
  return Napi::Number::New(env, got);
}

}  // namespace

void InitFdPass(Napi::Env env, Napi::Object exports) {
  exports.Set("memfdCreate", Napi::Function::New(env, MemfdCreate, "memfdCreate"));
  exports.Set("sendFd", Napi::Function::New(env, SendFd, "sendFd"));
  exports.Set("recvFd", Napi::Function::New(env, RecvFd, "recvFd"));
}

}  // namespace mdfan
