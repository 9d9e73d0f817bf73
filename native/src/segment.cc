// Segment syscalls: shm_open / ftruncate / fstat / mmap / unlink, and the writer lock.
//
// Mapping choice: one mapping per JavaScript thread, exposed as an external ArrayBuffer
// (napi_create_external_arraybuffer), not a SharedArrayBuffer. N-API has no external
// SharedArrayBuffer; building one needs V8's BackingStore API and a cast from v8::Local to
// napi_value that depends on Node internals. Per-thread mappings keep the addon on the stable
// N-API ABI, give each mapping exactly one backing store (V8 aborts on two over one address),
// and cost one mmap per worker at attach time — nothing on the read path. Atomics.load/store
// work on typed arrays over a non-shared ArrayBuffer.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

namespace mdfan {
namespace {

constexpr uint32_t kOpenCreateExcl = 1;  // O_CREAT|O_EXCL: only the creator
constexpr uint32_t kOpenReadWrite = 2;   // else O_RDONLY (readers)

bool ArgName(const Napi::CallbackInfo& info, size_t i, std::string* out) {
  if (info.Length() <= i || !info[i].IsString()) {
    ThrowType(info.Env(), "name must be a string");
    return false;
  }
  *out = info[i].As<Napi::String>().Utf8Value();
  if (out->size() < 2 || (*out)[0] != '/' || out->find('/', 1) != std::string::npos || out->size() > 250) {
    ThrowType(info.Env(), "shm name must be '/' followed by 1..249 characters without '/'");
    return false;
  }
  return true;
}

// shmOpen(name, flags, mode) -> fd. glibc's shm_open sets O_CLOEXEC, so children spawned by the
// writer never inherit the fd (and with it the writer lock).
Napi::Value ShmOpen(const Napi::CallbackInfo& info) {
  std::string name;
  uint64_t flags, mode;
  if (!ArgName(info, 0, &name) || !ArgUint(info, 1, "flags", &flags) || !ArgUint(info, 2, "mode", &mode))
    return info.Env().Undefined();
  // O_NONBLOCK: anyone may plant a FIFO under a segment's name in /dev/shm, and a plain open of
  // one waits for a writer for ever. Non-blocking, the open returns, and what is not a regular
  // file is refused (ENODEV) before anything reads or maps it.
  int oflag = ((flags & kOpenReadWrite) ? O_RDWR : O_RDONLY) | O_NONBLOCK;
  if (flags & kOpenCreateExcl) oflag |= O_CREAT | O_EXCL;
  int fd = shm_open(name.c_str(), oflag, static_cast<mode_t>(mode));
  if (fd < 0) {
    ThrowErrno(info.Env(), "shm_open", errno, name);
    return info.Env().Undefined();
  }
  struct stat st;
  int err = fstat(fd, &st) != 0 ? errno : (S_ISREG(st.st_mode) ? 0 : ENODEV);
  if (err != 0) {
    close(fd);
    ThrowErrno(info.Env(), err == ENODEV ? "shm_open" : "fstat", err, name);
    return info.Env().Undefined();
  }
  if ((flags & kOpenCreateExcl) && fchmod(fd, static_cast<mode_t>(mode)) != 0) {
    // shm_open's mode is filtered by the umask; the segment's mode is a contract, so set it.
    int err = errno;
    close(fd);
    shm_unlink(name.c_str());
    ThrowErrno(info.Env(), "fchmod", err, name);
    return info.Env().Undefined();
  }
  return Napi::Number::New(info.Env(), fd);
}

Napi::Value ShmUnlink(const Napi::CallbackInfo& info) {
  std::string name;
  if (!ArgName(info, 0, &name)) return info.Env().Undefined();
  if (shm_unlink(name.c_str()) != 0) {
    ThrowErrno(info.Env(), "shm_unlink", errno, name);
    return info.Env().Undefined();
  }
  return info.Env().Undefined();
}

Napi::Value Ftruncate(const Napi::CallbackInfo& info) {
  uint64_t fd, size;
  if (!ArgUint(info, 0, "fd", &fd) || !ArgUint(info, 1, "size", &size)) return info.Env().Undefined();
  if (ftruncate(static_cast<int>(fd), static_cast<off_t>(size)) != 0)
    ThrowErrno(info.Env(), "ftruncate", errno);
  return info.Env().Undefined();
}

Napi::Value Fchown(const Napi::CallbackInfo& info) {
  uint64_t fd;
  int64_t uid, gid;
  if (!ArgUint(info, 0, "fd", &fd) || !ArgInt(info, 1, "uid", &uid) || !ArgInt(info, 2, "gid", &gid))
    return info.Env().Undefined();
  if (fchown(static_cast<int>(fd), static_cast<uid_t>(uid), static_cast<gid_t>(gid)) != 0)
    ThrowErrno(info.Env(), "fchown", errno);
  return info.Env().Undefined();
}

// fallocate(fd, size): reserves the object's pages now (posix_fallocate), so a full /dev/shm is
// an ENOSPC here instead of a SIGBUS at the first store into a page that cannot be backed.
Napi::Value Fallocate(const Napi::CallbackInfo& info) {
  uint64_t fd, size;
  if (!ArgUint(info, 0, "fd", &fd) || !ArgUint(info, 1, "size", &size)) return info.Env().Undefined();
  int err = posix_fallocate(static_cast<int>(fd), 0, static_cast<off_t>(size));  // returns the error, not errno
  if (err != 0) ThrowErrno(info.Env(), "posix_fallocate", err);
  return info.Env().Undefined();
}

Napi::Value Fstat(const Napi::CallbackInfo& info) {
  uint64_t fd;
  if (!ArgUint(info, 0, "fd", &fd)) return info.Env().Undefined();
  struct stat st;
  if (fstat(static_cast<int>(fd), &st) != 0) {
    ThrowErrno(info.Env(), "fstat", errno);
    return info.Env().Undefined();
  }
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("size", Napi::Number::New(info.Env(), static_cast<double>(st.st_size)));
  o.Set("mode", Napi::Number::New(info.Env(), st.st_mode & 07777));
  o.Set("uid", Napi::Number::New(info.Env(), st.st_uid));
  o.Set("gid", Napi::Number::New(info.Env(), st.st_gid));
  o.Set("ino", Napi::Number::New(info.Env(), static_cast<double>(st.st_ino)));
  o.Set("ctimeMs", Napi::Number::New(info.Env(), st.st_ctim.tv_sec * 1e3 + st.st_ctim.tv_nsec / 1e6));
  return o;
}

Napi::Value Close(const Napi::CallbackInfo& info) {
  uint64_t fd;
  if (!ArgUint(info, 0, "fd", &fd)) return info.Env().Undefined();
  if (close(static_cast<int>(fd)) != 0) ThrowErrno(info.Env(), "close", errno);
  return info.Env().Undefined();
}

struct Mapping {
  void* addr;
  size_t len;
};

void FinalizeMapping(Napi::Env, void* data, Mapping* m) {
  // Runs when V8 frees the backing store: only then may the address range be reused, so an
  // explicit unmap() leaves a PROT_NONE reservation that this finaliser releases.
  munmap(m->addr, m->len);
  delete m;
}

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22 /* Linux 5.14 */
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

// mmap(fd, length, writable, populate, huge) -> ArrayBuffer over MAP_SHARED memory. Readers pass
// writable=false and get PROT_READ: a strategy bug faults instead of corrupting a book.
// populate=true uses MAP_POPULATE so first-touch page faults never land in the latency tail.
Napi::Value Mmap(const Napi::CallbackInfo& info) {
  uint64_t fd, len;
  if (!ArgUint(info, 0, "fd", &fd) || !ArgUint(info, 1, "length", &len)) return info.Env().Undefined();
  bool writable = info.Length() > 2 && info[2].ToBoolean().Value();
  bool populate = info.Length() > 3 && info[3].ToBoolean().Value();
  if (len == 0) {
    ThrowType(info.Env(), "length must be > 0");
    return info.Env().Undefined();
  }
  bool huge = info.Length() > 4 && info[4].ToBoolean().Value();
  int prot = PROT_READ | (writable ? PROT_WRITE : 0);
  void* p;
  if (!huge) {
    p = mmap(nullptr, len, prot, MAP_SHARED | (populate ? MAP_POPULATE : 0), static_cast<int>(fd), 0);
    if (p == MAP_FAILED) {
      ThrowErrno(info.Env(), "mmap", errno);
      return info.Env().Undefined();
    }
  } else {
    // 2 MiB pages: the mapping must start on a 2 MiB boundary (file offset 0 then lines up with
    // the kernel's huge folios), be advised MADV_HUGEPAGE before any page is touched, and only
    // then be populated: MAP_POPULATE would fault 4 KiB pages in first.
    const size_t H = size_t{2} << 20;
    void* res = mmap(nullptr, len + H, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (res == MAP_FAILED) {
      ThrowErrno(info.Env(), "mmap(reserve)", errno);
      return info.Env().Undefined();
    }
    uintptr_t lo = reinterpret_cast<uintptr_t>(res);
    uintptr_t at = (lo + H - 1) & ~(uintptr_t{H} - 1);
    p = mmap(reinterpret_cast<void*>(at), len, prot, MAP_SHARED | MAP_FIXED, static_cast<int>(fd), 0);
    int err = p == MAP_FAILED ? errno : 0;
    if (at > lo) munmap(res, at - lo);
    if (lo + len + H > at + len) munmap(reinterpret_cast<void*>(at + len), lo + len + H - (at + len));
    if (err != 0) {
      ThrowErrno(info.Env(), "mmap", err);
      return info.Env().Undefined();
    }
    if (madvise(p, len, MADV_HUGEPAGE) != 0) {
      err = errno;
      munmap(p, len);
      ThrowErrno(info.Env(), "madvise(MADV_HUGEPAGE)", err);
      return info.Env().Undefined();
    }
    // Populate now, as MAP_POPULATE does, but reporting failure (ENOMEM, EFAULT for a full
    // /dev/shm) instead of leaving a SIGBUS for a later store.
    if (populate && madvise(p, len, writable ? MADV_POPULATE_WRITE : MADV_POPULATE_READ) != 0) {
      err = errno;
      munmap(p, len);
      ThrowErrno(info.Env(), writable ? "madvise(MADV_POPULATE_WRITE)" : "madvise(MADV_POPULATE_READ)", err);
      return info.Env().Undefined();
    }
  }
  auto* m = new Mapping{p, static_cast<size_t>(len)};
  return Napi::ArrayBuffer::New(info.Env(), p, len, FinalizeMapping, m);
}

// unmap(buffer): detach the ArrayBuffer (every view on it becomes length 0, so JavaScript can
// no longer touch the memory) and drop the shared pages now, keeping the address range reserved
// as PROT_NONE until the finaliser runs. Idempotent.
Napi::Value Unmap(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsArrayBuffer()) {
    ThrowType(info.Env(), "argument must be a segment ArrayBuffer");
    return info.Env().Undefined();
  }
  Napi::ArrayBuffer ab = info[0].As<Napi::ArrayBuffer>();
  void* p = ab.Data();
  size_t len = ab.ByteLength();
  if (p == nullptr || len == 0 || ab.IsDetached()) return info.Env().Undefined();
  ab.Detach();
  if (info.Env().IsExceptionPending()) return info.Env().Undefined();
  void* r = mmap(p, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
  if (r == MAP_FAILED) ThrowErrno(info.Env(), "mmap(PROT_NONE)", errno);
  return info.Env().Undefined();
}

// The writer lock: an open-file-description (OFD) write lock on byte 0 of the segment. The kernel
// drops it when the last fd of that open file description closes, i.e. when the writer process
// dies, however it dies. The same lock on the writer's private lock object (NAME.lock, mode 0600)
// keeps writers and removers apart where no reader can reach.
struct flock LockRange(short type) {
  struct flock fl;
  memset(&fl, 0, sizeof fl);
  fl.l_type = type;
  fl.l_whence = SEEK_SET;
  fl.l_start = 0;
  fl.l_len = 1;
  return fl;
}

// tryLockWriter(fd) -> true if taken, false if another open file description holds a lock there.
Napi::Value TryLockWriter(const Napi::CallbackInfo& info) {
  uint64_t fd;
  if (!ArgUint(info, 0, "fd", &fd)) return info.Env().Undefined();
  struct flock fl = LockRange(F_WRLCK);
  if (fcntl(static_cast<int>(fd), F_OFD_SETLK, &fl) == 0) return Napi::Boolean::New(info.Env(), true);
  if (errno == EAGAIN || errno == EACCES) return Napi::Boolean::New(info.Env(), false);
  ThrowErrno(info.Env(), "fcntl(F_OFD_SETLK)", errno);
  return info.Env().Undefined();
}

Napi::Value UnlockWriter(const Napi::CallbackInfo& info) {
  uint64_t fd;
  if (!ArgUint(info, 0, "fd", &fd)) return info.Env().Undefined();
  struct flock fl = LockRange(F_UNLCK);
  if (fcntl(static_cast<int>(fd), F_OFD_SETLK, &fl) != 0) ThrowErrno(info.Env(), "fcntl(F_OFD_SETLK unlock)", errno);
  return info.Env().Undefined();
}

// writerLockHeld(fd) -> true if some other open file description holds a write lock on byte 0.
// The query asks as a read lock would: only a write lock conflicts with it, so a reader's read
// lock (any reader may take one on its O_RDONLY fd) never reads as a live writer.
Napi::Value WriterLockHeld(const Napi::CallbackInfo& info) {
  uint64_t fd;
  if (!ArgUint(info, 0, "fd", &fd)) return info.Env().Undefined();
  struct flock fl = LockRange(F_RDLCK);
  if (fcntl(static_cast<int>(fd), F_OFD_GETLK, &fl) != 0) {
    ThrowErrno(info.Env(), "fcntl(F_OFD_GETLK)", errno);
    return info.Env().Undefined();
  }
  return Napi::Boolean::New(info.Env(), fl.l_type == F_WRLCK);
}

Napi::Value Fchmod(const Napi::CallbackInfo& info) {
  uint64_t fd, mode;
  if (!ArgUint(info, 0, "fd", &fd) || !ArgUint(info, 1, "mode", &mode)) return info.Env().Undefined();
  if (fchmod(static_cast<int>(fd), static_cast<mode_t>(mode)) != 0) ThrowErrno(info.Env(), "fchmod", errno);
  return info.Env().Undefined();
}

}  // namespace

void InitSegment(Napi::Env env, Napi::Object exports) {
  exports.Set("OPEN_CREATE_EXCL", Napi::Number::New(env, kOpenCreateExcl));
  exports.Set("OPEN_READ_WRITE", Napi::Number::New(env, kOpenReadWrite));
  exports.Set("shmOpen", Napi::Function::New(env, ShmOpen, "shmOpen"));
  exports.Set("shmUnlink", Napi::Function::New(env, ShmUnlink, "shmUnlink"));
  exports.Set("ftruncate", Napi::Function::New(env, Ftruncate, "ftruncate"));
  exports.Set("fchown", Napi::Function::New(env, Fchown, "fchown"));
  exports.Set("fstat", Napi::Function::New(env, Fstat, "fstat"));
  exports.Set("fallocate", Napi::Function::New(env, Fallocate, "fallocate"));
  exports.Set("close", Napi::Function::New(env, Close, "close"));
  exports.Set("mmap", Napi::Function::New(env, Mmap, "mmap"));
  exports.Set("unmap", Napi::Function::New(env, Unmap, "unmap"));
  exports.Set("tryLockWriter", Napi::Function::New(env, TryLockWriter, "tryLockWriter"));
  exports.Set("unlockWriter", Napi::Function::New(env, UnlockWriter, "unlockWriter"));
  exports.Set("writerLockHeld", Napi::Function::New(env, WriterLockHeld, "writerLockHeld"));
  exports.Set("fchmod", Napi::Function::New(env, Fchmod, "fchmod"));
}

}  // namespace mdfan
