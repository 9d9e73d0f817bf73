/*
 * mdfan_attach.h: attaching to an mdfan segment in C11, read-only, from mdfan_abi.h and docs/ABI.md
 * alone: open, map, and validate in the order of docs/ABI.md "Attaching" (size, magic, ABI major,
 * header size, layout arithmetic, state), then ask whether the writer lock is held. The caller
 * retries, times out and reports (native/examples/read_book.c, native/tools/mdfan_c_reader.c).
 * Define _GNU_SOURCE before the first #include (F_OFD_GETLK).
 */
#ifndef MDFAN_ATTACH_H
#define MDFAN_ATTACH_H

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mdfan_abi.h"

/* Atomic loads on the read-only mapping. The ABI's atomic fields are naturally aligned 32-bit
 * words; _Atomic uint32_t has the same size and alignment on the target platforms. */
static inline uint32_t mdfan_load32(const void *p, memory_order mo) {
  return atomic_load_explicit((const _Atomic uint32_t *)p, mo);
}

static inline const char *mdfan_state_name(uint32_t s) {
  switch (s) {
    case 0: return "UNINITIALIZED";
    case MDFAN_STATE_INITIALIZING: return "INITIALIZING";
    case MDFAN_STATE_READY: return "READY";
    case MDFAN_STATE_BROKEN: return "BROKEN";
    case MDFAN_STATE_CLOSED: return "CLOSED";
    default: return "UNKNOWN";
  }
}


typedef struct {
  const char *name;
  int fd;
  uid_t owner; /* the object's owner and permission bits: what its companions must match */
  mode_t mode;
  const uint8_t *base;
  size_t size;
  const mdfan_header_t *h;
  uint32_t max_instruments;
  uint32_t levels;
  uint32_t stride;
  uint64_t slots_offset;
  size_t payload; /* bytes of a slot a reader copies: MDFAN_SLOT_PAYLOAD_BYTES(levels) */
} mdfan_segment_t;

/* Outcome of one attach attempt. RETRY: may still be coming up (absent, empty, no magic yet, not
 * READY); FAIL: refused for good. */
enum { MDFAN_ATTACH_OK = 0, MDFAN_ATTACH_RETRY = 1, MDFAN_ATTACH_FAIL = 2 };

/* Why an attempt did not attach: the stable code and the message (kept for a timeout report). */
typedef struct {
  const char *code;
  char msg[512];
} mdfan_attach_why_t;

static inline int mdfan_attach_err(mdfan_attach_why_t *why, int kind, const char *code, const char *fmt, ...) {
  va_list ap;
  why->code = code;
  va_start(ap, fmt);
  vsnprintf(why->msg, sizeof why->msg, fmt, ap);
  va_end(ap);
  return kind;
}

/* Opens the shared-memory object `path` ("/NAME") read-only without ever waiting: O_NONBLOCK, for
 * anyone may put a FIFO under a name in /dev/shm, and a plain open of one waits for a writer for
 * ever. Fills *st; what fstat does not call a regular file is closed and refused (-1, errno ENODEV).
 * Returns the fd, or -1 with errno. */
static inline int mdfan_shm_open_regular(const char *path, struct stat *st) {
  int fd = shm_open(path, O_RDONLY | O_NONBLOCK, 0);
  if (fd < 0) return -1;
  int e = fstat(fd, st) != 0 ? errno : (S_ISREG(st->st_mode) ? 0 : ENODEV);
  if (e != 0) {
    close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

/* A writer's new segment is its user's alone until the writer holds its lock: refused now, it may
 * be open to this reader a moment later. True when /dev/shm/NAME exists and is empty. */
static inline int mdfan_shm_is_empty(const char *path) {
  char p[300];
  struct stat st;
  snprintf(p, sizeof p, "/dev/shm%s", path);
  return stat(p, &st) == 0 && st.st_size == 0;
}

/* Whether object `st`, beside a data segment of owner `owner` and permission bits `mode`, is that
 * segment's: the same owner, no permission bit the segment lacks, writable by nobody else. Any
 * local user may create a file under a companion's name while it is absent. Returns NULL, or the
 * field that differs ("uid" or "mode"). */
static inline const char *mdfan_companion_unsafe(const struct stat *st, uid_t owner, mode_t mode) {
  if (st->st_uid != owner) return "uid";
  if ((st->st_mode & 0777 & ~mode) != 0 || (st->st_mode & S_IWOTH)) return "mode";
  return NULL;
}

static inline void mdfan_segment_close(mdfan_segment_t *s) {
  if (s->base) munmap((void *)s->base, s->size);
  if (s->fd >= 0) close(s->fd);
  s->base = NULL;
  s->fd = -1;
}

/* One attempt: open, map, validate in the order of docs/ABI.md "Attaching". The segment must
 * belong to this user, to root, or to `writer_uid` (pass (uid_t)-1 for none), and be writable by
 * nobody else: its owner could forge books or shrink it under the reader. */
static inline int mdfan_segment_try_attach_as(mdfan_segment_t *s, const char *name, uid_t writer_uid, mdfan_attach_why_t *why) {
  char path[256];
  memset(s, 0, sizeof *s);
  s->name = name;
  s->fd = -1;
  if (snprintf(path, sizeof path, "/%s", name) >= (int)sizeof path)
    return mdfan_attach_err(why, MDFAN_ATTACH_FAIL, "MDFAN_ERR_OPTIONS", "segment name %s is too long", name);

  /* 1. open read-only, never waiting, and only a regular file; 2. its size (fstat) */
  struct stat st;
  s->fd = mdfan_shm_open_regular(path, &st);
  if (s->fd < 0) {
    int e = errno;
    if (e == ENOENT) return mdfan_attach_err(why, MDFAN_ATTACH_RETRY, "MDFAN_ERR_NO_SEGMENT", "no segment %s (%s)", name, strerror(e));
    if (e == ENODEV)
      return mdfan_attach_err(why, MDFAN_ATTACH_FAIL, "MDFAN_ERR_UNSAFE_OBJECT",
                              "%s in /dev/shm is not a shared-memory segment (a FIFO, a socket or a device: not something mdfan made), refused without reading it", name);
    if ((e == EACCES || e == EPERM) && mdfan_shm_is_empty(path))
      return mdfan_attach_err(why, MDFAN_ATTACH_RETRY, "MDFAN_ERR_NOT_READY", "segment %s is being created", name);
    if (e == EACCES || e == EPERM)
      return mdfan_attach_err(why, MDFAN_ATTACH_FAIL, "MDFAN_ERR_PERMISSION", "permission denied on segment %s (shm_open: %s)", name, strerror(e));
    return mdfan_attach_err(why, MDFAN_ATTACH_FAIL, "MDFAN_ERR_SYSCALL", "segment %s: shm_open: %s", name, strerror(e));
  }
  uid_t me = geteuid();
  if (st.st_uid != me && st.st_uid != 0 && st.st_uid != writer_uid) {
    unsigned owner = (unsigned)st.st_uid;
    mdfan_segment_close(s);
    return mdfan_attach_err(why, MDFAN_ATTACH_FAIL, "MDFAN_ERR_UNSAFE_OBJECT", "segment %s belongs to uid %u, not to this user (uid %u), root or the writer named: refusing it",
                            name, owner, (unsigned)me);
  }
  if (st.st_mode & S_IWOTH) {
    unsigned mode = (unsigned)(st.st_mode & 07777);
    mdfan_segment_close(s);
    return mdfan_attach_err(why, MDFAN_ATTACH_FAIL, "MDFAN_ERR_UNSAFE_OBJECT", "segment %s has mode 0%o: anyone may write it; refusing it", name, mode);
  }
  s->owner = st.st_uid;
  s->mode = st.st_mode & 0777;
  uint64_t file_bytes = (uint64_t)st.st_size;
  if (file_bytes == 0) {
    mdfan_segment_close(s);
    return mdfan_attach_err(why, MDFAN_ATTACH_RETRY, "MDFAN_ERR_NOT_READY", "segment %s is empty: its creator has not sized it yet", name);
  }
  /* 3. map the header alone, read-only, not pre-faulted: the object's size is trusted (and the
   * whole mapped and faulted in) only once its header agrees with it (step 11), so a hostile sparse
   * object of gigabytes costs nothing */
  size_t header_map = file_bytes < MDFAN_HEADER_BYTES ? (size_t)file_bytes : MDFAN_HEADER_BYTES;
  void *p = mmap(NULL, header_map, PROT_READ, MAP_SHARED, s->fd, 0);
  if (p == MAP_FAILED) {
    int e = errno;
    mdfan_segment_close(s);
    if (e == EACCES || e == EPERM)
      return mdfan_attach_err(why, MDFAN_ATTACH_FAIL, "MDFAN_ERR_PERMISSION", "permission denied on segment %s (mmap: %s)", name, strerror(e));
    return mdfan_attach_err(why, MDFAN_ATTACH_FAIL, "MDFAN_ERR_SYSCALL", "segment %s: mmap: %s", name, strerror(e));
  }
  s->base = (const uint8_t *)p;
  s->size = header_map;
  s->h = (const mdfan_header_t *)p;
  const mdfan_header_t *h = s->h;

  /* 4. long enough for the header */
  if (file_bytes < MDFAN_HEADER_BYTES) {
    mdfan_segment_close(s);
    return mdfan_attach_err(why, MDFAN_ATTACH_FAIL, "MDFAN_ERR_SEGMENT_SIZE", "segment %s is %" PRIu64 " bytes, shorter than the %u-byte header", name,
                      file_bytes, MDFAN_HEADER_BYTES);
  }
  /* 5. magic: low word first, with acquire (the writer stores the high word, then the low word,
   * last of all identity fields). Low word 0: not initialised yet. */
  uint32_t magic_lo = mdfan_load32(s->base, memory_order_acquire);
  if (magic_lo == 0) {
    mdfan_segment_close(s);
    return mdfan_attach_err(why, MDFAN_ATTACH_RETRY, "MDFAN_ERR_NOT_READY", "segment %s has no magic yet: its creator is initialising it", name);
  }
  uint32_t magic_hi = mdfan_load32(s->base + 4, memory_order_relaxed);
  uint64_t magic = ((uint64_t)magic_hi << 32) | magic_lo;
  if (magic != MDFAN_MAGIC) {
    mdfan_segment_close(s);
    return mdfan_attach_err(why, MDFAN_ATTACH_FAIL, "MDFAN_ERR_BAD_MAGIC", "segment %s is not an mdfan segment: magic 0x%016" PRIx64 ", expected 0x%016" PRIx64 " (\"MDFANSHM\")",
                      name, magic, (uint64_t)MDFAN_MAGIC);
  }
  /* 6. ABI major */
  if (h->abi_major != MDFAN_ABI_MAJOR) {
    unsigned major = h->abi_major, minor = h->abi_minor;
    mdfan_segment_close(s);
    return mdfan_attach_err(why, MDFAN_ATTACH_FAIL, "MDFAN_ERR_ABI_VERSION", "segment %s has ABI %u.%u; this reader speaks ABI %u.%u (majors must match)", name,
                      major, minor, MDFAN_ABI_MAJOR, MDFAN_ABI_MINOR);
  }
  /* 7. header size */
  if (h->header_bytes != MDFAN_HEADER_BYTES) {
    unsigned hb = h->header_bytes;
    mdfan_segment_close(s);
    return mdfan_attach_err(why, MDFAN_ATTACH_FAIL, "MDFAN_ERR_SEGMENT_SIZE", "segment %s declares a %u-byte header; ABI %u has %u", name, hb, MDFAN_ABI_MAJOR,
                      MDFAN_HEADER_BYTES);
  }
  /* 8. declared size == file size */
  uint64_t total = h->total_bytes;
  if (total != file_bytes) {
    mdfan_segment_close(s);
    return mdfan_attach_err(why, MDFAN_ATTACH_FAIL, "MDFAN_ERR_SEGMENT_SIZE", "segment %s declares %" PRIu64 " bytes but is %" PRIu64 " bytes long", name, total,
                      file_bytes);
  }
  /* 9. layout arithmetic: every offset recomputed, nothing followed before it matches */
  uint32_t max = h->max_instruments, levels = h->levels, stride = h->slot_stride_bytes, dir_entry = h->dir_entry_bytes;
  uint64_t dir_off = h->directory_offset, slots_off = h->slots_offset;
  int packed = (h->layout_flags & MDFAN_LAYOUT_PACKED) != 0;
  if (max < 1 || max > MDFAN_MAX_INSTRUMENTS) {
    mdfan_segment_close(s);
    return mdfan_attach_err(why, MDFAN_ATTACH_FAIL, "MDFAN_ERR_LAYOUT", "segment %s: header field max_instruments is %u, expected 1..%u", name, max,
                      MDFAN_MAX_INSTRUMENTS);
  }
  if (levels < 1 || levels > MDFAN_MAX_LEVELS) {
    mdfan_segment_close(s);
    return mdfan_attach_err(why, MDFAN_ATTACH_FAIL, "MDFAN_ERR_LAYOUT", "segment %s: header field levels is %u, expected 1..%u", name, levels, MDFAN_MAX_LEVELS);
  }
  uint64_t want_stride = packed ? MDFAN_SLOT_PAYLOAD_BYTES(levels) : MDFAN_SLOT_STRIDE(levels);
  uint64_t want_slots = MDFAN_SLOTS_OFFSET((uint64_t)max);
  uint64_t want_total = want_slots + (uint64_t)max * want_stride;
  const char *field = NULL;
  uint64_t found = 0, expected = 0;
  if (dir_entry != MDFAN_DIR_ENTRY_BYTES) field = "dir_entry_bytes", found = dir_entry, expected = MDFAN_DIR_ENTRY_BYTES;
  else if (stride != want_stride) field = "slot_stride_bytes", found = stride, expected = want_stride;
  else if (dir_off != MDFAN_DIRECTORY_OFFSET) field = "directory_offset", found = dir_off, expected = MDFAN_DIRECTORY_OFFSET;
  else if (slots_off != want_slots) field = "slots_offset", found = slots_off, expected = want_slots;
  if (field) {
    mdfan_segment_close(s);
    return mdfan_attach_err(why, MDFAN_ATTACH_FAIL, "MDFAN_ERR_LAYOUT", "segment %s: header field %s is %" PRIu64 ", expected %" PRIu64, name, field, found, expected);
  }
  if (want_total != total) {
    mdfan_segment_close(s);
    return mdfan_attach_err(why, MDFAN_ATTACH_FAIL, "MDFAN_ERR_SEGMENT_SIZE", "segment %s: layout needs %" PRIu64 " bytes, total_bytes says %" PRIu64, name,
                      want_total, total);
  }
  uint32_t count = mdfan_load32(&h->instrument_count, memory_order_acquire);
  if (count > max) {
    mdfan_segment_close(s);
    return mdfan_attach_err(why, MDFAN_ATTACH_FAIL, "MDFAN_ERR_LAYOUT", "segment %s: header field instrument_count is %u, expected <= max_instruments (%u)", name,
                      count, max);
  }
  /* 10. state */
  uint32_t state = mdfan_load32(&h->state, memory_order_acquire);
  if (state != MDFAN_STATE_READY) {
    mdfan_segment_close(s);
    return mdfan_attach_err(why, MDFAN_ATTACH_RETRY, "MDFAN_ERR_NOT_READY", "segment %s is %s, not READY", name, mdfan_state_name(state));
  }
  /* 11. the whole object, now that its header vouches for its size: read-only, pre-faulted */
  munmap((void *)s->base, s->size);
  s->base = NULL;
  p = mmap(NULL, (size_t)file_bytes, PROT_READ, MAP_SHARED | MAP_POPULATE, s->fd, 0);
  if (p == MAP_FAILED) {
    int e = errno;
    mdfan_segment_close(s);
    return mdfan_attach_err(why, MDFAN_ATTACH_FAIL, "MDFAN_ERR_SYSCALL", "segment %s: mmap: %s", name, strerror(e));
  }
  s->base = (const uint8_t *)p;
  s->size = (size_t)file_bytes;
  s->h = (const mdfan_header_t *)p;
  s->max_instruments = max;
  s->levels = levels;
  s->stride = stride;
  s->slots_offset = slots_off;
  s->payload = MDFAN_SLOT_PAYLOAD_BYTES(levels);
  return MDFAN_ATTACH_OK;
}

/* mdfan_segment_try_attach_as for a writer that is this user or root. */
static inline int mdfan_segment_try_attach(mdfan_segment_t *s, const char *name, mdfan_attach_why_t *why) {
  return mdfan_segment_try_attach_as(s, name, (uid_t)-1, why);
}

/* The writer lock: an OFD write lock on byte 0. F_OFD_GETLK reports it without taking it; asked as
 * a read lock, it reports only a write lock, so another reader's read lock never reads as a writer.
 * Returns 1 held, 0 free, -1 with errno if fcntl failed. */
static inline int mdfan_segment_writer_lock_held(const mdfan_segment_t *s) {
  struct flock fl;
  memset(&fl, 0, sizeof fl);
  fl.l_type = F_RDLCK;
  fl.l_whence = SEEK_SET;
  fl.l_start = 0;
  fl.l_len = 1;
  if (fcntl(s->fd, F_OFD_GETLK, &fl) != 0) return -1;
  return fl.l_type == F_WRLCK;
}

/* The objects beside the segment its header names (MDFAN_COMPANION_*): a reader opens those and
 * no other (one named and missing was removed). */
static inline uint32_t mdfan_segment_companions(const mdfan_header_t *h) {
  return __atomic_load_n(&h->companions, __ATOMIC_ACQUIRE);
}

#endif /* MDFAN_ATTACH_H */
