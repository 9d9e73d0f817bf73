/*
 * mdfan_tops.h: the top-of-book lines ("/NAME.tops") in C11, from mdfan_abi.h and
 * docs/ABI.md "Top-of-book lines" alone. Beside mdfan_attach.h, mdfan_wait.h and mdfan_events.h.
 *
 *   mdfan_tops_t t;
 *   mdfan_tops_open_segment(&t, &seg, &code, why, sizeof why)   the lines of the data segment
 *                                 `seg` (mdfan_attach.h)'s current generation: MDFAN_TOPS_OK, or why not
 *   (mdfan_tops_open(&t, NAME, data_header, ...) does the same for a caller that holds only the
 *   header: it opens NAME once more to learn the owner and mode its lines must have)
 *   p = mdfan_top_line(&t, slot)  slot's line: poll its seq word (mdfan_top_seq), and copy it
 *                                 with mdfan_seqlock_read(p, &top, MDFAN_TOP_BYTES, ...) when it moved
 *   mdfan_tops_close(&t);
 * When the data segment's generation moves (a new writer), close and open the new writer's lines.
 *
 * The lines are mapped PROT_READ: every atomic access is a pure load. Needs _GNU_SOURCE (or
 * _DEFAULT_SOURCE) before the first #include, for MAP_POPULATE.
 */
#ifndef MDFAN_TOPS_H
#define MDFAN_TOPS_H

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
#include "mdfan_attach.h"

typedef struct {
  const uint8_t *base; /* the whole object, mapped read-only; NULL when closed */
  size_t size;
  const mdfan_tops_header_t *h;
  uint32_t max_instruments;
  uint32_t generation; /* the data segment's generation these lines belong to */
} mdfan_tops_t;

/* mdfan_tops_open's answers. ABSENT: the header names no lines, or they were removed. NOT_YET: try
 * again soon (not READY, a takeover under way, the object not sized or without magic yet, or
 * another generation's). REFUSED: not lines this reader can read; the code says why. */
enum { MDFAN_TOPS_OK = 0, MDFAN_TOPS_ABSENT = 1, MDFAN_TOPS_NOT_YET = 2, MDFAN_TOPS_REFUSED = 3 };

static inline void mdfan_tops_close(mdfan_tops_t *t) {
  if (t->base) munmap((void *)t->base, t->size);
  t->base = NULL;
}

__attribute__((format(printf, 6, 7))) static inline int mdfan_tops_fail(int kind, const char **code, const char *c, char *why, size_t why_len,
                                                                         const char *fmt, ...) {
  va_list ap;
  *code = c;
  va_start(ap, fmt);
  vsnprintf(why, why_len, fmt, ap);
  va_end(ap);
  return kind;
}

/* Opens the top lines of data segment `seg` (attached and validated) read-only, and validates them
 * in the order of the TypeScript reader (openTops): named by the header (lines it does not name are
 * never opened), a regular file of the data segment's owner with no permission bit the
 * data segment lacks, size, magic, ABI major, max_instruments (the data segment's),
 * top_stride_bytes, header_bytes, generation. */
static inline int mdfan_tops_open_segment(mdfan_tops_t *t, const mdfan_segment_t *seg, const char **code, char *why, size_t why_len) {
  char path[256];
  struct stat st;
  const char *name = seg->name;
  const mdfan_header_t *data = seg->h;
  memset(t, 0, sizeof *t);
  /* generation, then state, both acquire: a takeover leaves READY before it bumps the generation
   * and makes its lines before READY again (pairs with the writer's seq_cst stores of both). */
  uint32_t g = __atomic_load_n(&data->generation, __ATOMIC_ACQUIRE);
  uint32_t state = __atomic_load_n(&data->state, __ATOMIC_ACQUIRE);
  if (state != MDFAN_STATE_READY && state != MDFAN_STATE_CLOSED)
    return mdfan_tops_fail(MDFAN_TOPS_NOT_YET, code, "MDFAN_ERR_NOT_READY", why, why_len, "segment %s is not READY", name);
  if (snprintf(path, sizeof path, "/%s.tops", name) >= (int)sizeof path)
    return mdfan_tops_fail(MDFAN_TOPS_REFUSED, code, "MDFAN_ERR_OPTIONS", why, why_len, "the top lines' name of segment %s is too long", name);
  uint32_t named = mdfan_segment_companions(data);
  /* the generation again: the companions read belong to generation g's writer */
  int moved = __atomic_load_n(&data->generation, __ATOMIC_ACQUIRE) != g;
  if (!(named & MDFAN_COMPANION_TOPS))
    return mdfan_tops_fail(moved ? MDFAN_TOPS_NOT_YET : MDFAN_TOPS_ABSENT, code, "MDFAN_ERR_NO_SEGMENT", why, why_len,
                           "segment %s has no top-of-book lines (%s): its writer keeps none", name, path + 1);
  int fd = mdfan_shm_open_regular(path, &st);
  if (fd < 0) {
    int e = errno;
    if (e == ENOENT) {
      int kind = __atomic_load_n(&data->generation, __ATOMIC_ACQUIRE) == g ? MDFAN_TOPS_ABSENT : MDFAN_TOPS_NOT_YET;
      return mdfan_tops_fail(kind, code, "MDFAN_ERR_NO_SEGMENT", why, why_len,
                             "segment %s's top-of-book lines (%s) were removed: its writer made them, and someone deleted them since", name, path + 1);
    }
    if (e == ENODEV)
      return mdfan_tops_fail(MDFAN_TOPS_REFUSED, code, "MDFAN_ERR_UNSAFE_OBJECT", why, why_len, "%s in /dev/shm is not a regular file: refused without reading it", path + 1);
    if (e == EACCES || e == EPERM)
      return mdfan_tops_fail(MDFAN_TOPS_REFUSED, code, "MDFAN_ERR_PERMISSION", why, why_len, "permission denied on %s (shm_open: %s)", path + 1, strerror(e));
    return mdfan_tops_fail(MDFAN_TOPS_REFUSED, code, "MDFAN_ERR_SYSCALL", why, why_len, "%s: shm_open: %s", path + 1, strerror(e));
  }
  const char *unsafe = mdfan_companion_unsafe(&st, seg->owner, seg->mode);
  if (unsafe) {
    unsigned owner = (unsigned)st.st_uid, mode = (unsigned)(st.st_mode & 0777);
    close(fd);
    return mdfan_tops_fail(MDFAN_TOPS_REFUSED, code, "MDFAN_ERR_UNSAFE_OBJECT", why, why_len,
                           "%s has uid %u and mode 0%o, segment %s uid %u and mode 0%o: not its writer's (its %s differs); refusing to read it", path + 1, owner,
                           mode, name, (unsigned)seg->owner, (unsigned)seg->mode, unsafe);
  }
  uint64_t size = (uint64_t)st.st_size, want = MDFAN_TOPS_BYTES(data->max_instruments);
  if (size == 0) { /* created, not sized yet: its writer is coming up */
    close(fd);
    return mdfan_tops_fail(MDFAN_TOPS_NOT_YET, code, "MDFAN_ERR_NOT_READY", why, why_len, "%s is not sized yet", path + 1);
  }
  if (size != want) {
    close(fd);
    return mdfan_tops_fail(MDFAN_TOPS_REFUSED, code, "MDFAN_ERR_SEGMENT_SIZE", why, why_len, "%s is %" PRIu64 " bytes; %u top lines need %" PRIu64, path + 1, size,
                           data->max_instruments, want);
  }
  void *p = mmap(NULL, (size_t)size, PROT_READ, MAP_SHARED | MAP_POPULATE, fd, 0);
  int e = errno;
  close(fd); /* the mapping stays */
  if (p == MAP_FAILED) return mdfan_tops_fail(MDFAN_TOPS_REFUSED, code, "MDFAN_ERR_SYSCALL", why, why_len, "%s: mmap: %s", path + 1, strerror(e));
  t->base = (const uint8_t *)p;
  t->size = (size_t)size;
  t->h = (const mdfan_tops_header_t *)p;
  const mdfan_tops_header_t *h = t->h;
  /* acquire: pairs with the writer's store-release of magic, made after the other fields */
  uint32_t magic = __atomic_load_n(&h->magic, __ATOMIC_ACQUIRE);
  int kind = MDFAN_TOPS_REFUSED;
  const char *c = NULL, *field = NULL;
  uint64_t found = 0, expected = 0;
  if (magic == 0) kind = MDFAN_TOPS_NOT_YET, c = "MDFAN_ERR_NOT_READY";
  else if (magic != MDFAN_TOPS_MAGIC) c = "MDFAN_ERR_BAD_MAGIC", found = magic, expected = MDFAN_TOPS_MAGIC;
  else if (h->abi_major != MDFAN_ABI_MAJOR) c = "MDFAN_ERR_ABI_VERSION", field = "abi_major", found = h->abi_major, expected = MDFAN_ABI_MAJOR;
  else if (h->max_instruments != data->max_instruments)
    c = "MDFAN_ERR_LAYOUT", field = "max_instruments", found = h->max_instruments, expected = data->max_instruments;
  else if (h->top_stride_bytes != MDFAN_TOP_STRIDE_BYTES)
    c = "MDFAN_ERR_LAYOUT", field = "top_stride_bytes", found = h->top_stride_bytes, expected = MDFAN_TOP_STRIDE_BYTES;
  else if (h->header_bytes != MDFAN_TOPS_HEADER_BYTES)
    c = "MDFAN_ERR_LAYOUT", field = "header_bytes", found = h->header_bytes, expected = MDFAN_TOPS_HEADER_BYTES;
  else if (h->generation != g) kind = MDFAN_TOPS_NOT_YET, c = "MDFAN_ERR_NOT_READY", field = "generation", found = h->generation, expected = g;
  if (c) {
    mdfan_tops_close(t);
    if (!field) return mdfan_tops_fail(kind, code, c, why, why_len, "%s: magic 0x%08" PRIx64 ", expected 0x%08" PRIx64 " (\"MTOP\")", path + 1, found, expected);
    return mdfan_tops_fail(kind, code, c, why, why_len, "%s: %s is %" PRIu64 ", expected %" PRIu64, path + 1, field, found, expected);
  }
  t->max_instruments = h->max_instruments;
  t->generation = g;
  return MDFAN_TOPS_OK;
}

/* mdfan_tops_open_segment for a caller that holds data segment `name`'s header alone: the owner and
 * mode the lines must have are those of the object under `name` now. */
static inline int mdfan_tops_open(mdfan_tops_t *t, const char *name, const mdfan_header_t *data, const char **code, char *why, size_t why_len) {
  char path[256];
  struct stat st;
  mdfan_segment_t seg;
  memset(&seg, 0, sizeof seg);
  memset(t, 0, sizeof *t);
  if (snprintf(path, sizeof path, "/%s", name) >= (int)sizeof path)
    return mdfan_tops_fail(MDFAN_TOPS_REFUSED, code, "MDFAN_ERR_OPTIONS", why, why_len, "segment name %s is too long", name);
  int fd = mdfan_shm_open_regular(path, &st);
  if (fd < 0) return mdfan_tops_fail(MDFAN_TOPS_REFUSED, code, "MDFAN_ERR_SYSCALL", why, why_len, "segment %s: shm_open: %s", name, strerror(errno));
  close(fd);
  seg.name = name, seg.h = data, seg.fd = -1, seg.owner = st.st_uid, seg.mode = st.st_mode & 0777;
  return mdfan_tops_open_segment(t, &seg, code, why, why_len);
}

/* Slot `slot`'s top line (slot < max_instruments). */
static inline const uint8_t *mdfan_top_line(const mdfan_tops_t *t, uint32_t slot) {
  return t->base + MDFAN_TOPS_HEADER_BYTES + (uint64_t)slot * MDFAN_TOP_STRIDE_BYTES;
}

/* A line's seq word, for polling: a new value means a new top commit (or one under way). */
static inline uint32_t mdfan_top_seq(const mdfan_tops_t *t, uint32_t slot, memory_order mo) {
  return atomic_load_explicit((const _Atomic uint32_t *)mdfan_top_line(t, slot), mo);
}

#endif /* MDFAN_TOPS_H */
