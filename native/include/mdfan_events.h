/*
 * mdfan_events.h: how a C reader follows the event ring "/NAME.events". For any C reader
 * (native/tools/mdfan_c_reader.c uses it), written from native/include/mdfan_abi.h ("event ring")
 * and docs/ABI.md "The event ring" alone; native/segment/events.ts (EventRingReader) is the
 * TypeScript twin.
 *
 *   mdfan_events_t r;                   data segment `seg` attached (mdfan_attach.h), then
 *   mdfan_events_open_segment(&r, &seg, from_newest, &code, why, sizeof why)   the ring of its
 *                                       current generation: MDFAN_EVENTS_OK, or why not (ABSENT: none)
 *   (mdfan_events_open(&r, NAME, h, ...) does the same for a caller that holds only the header h)
 *   mdfan_event_t e; uint64_t lost;
 *   while (mdfan_events_poll(&r, &e, &lost)) {                   1: e is the next whole record;
 *     lost > 0: that many events were lost to lapping just before e   (the line LAPPED,N)
 *     n = mdfan_events_instrument(&r, e.instrument_index);       its symbol and price scale
 *     mdfan_event_format(&e, n ? n->symbol : "", n ? n->price_scale : 1, line, sizeof line)
 *   }                                                            the `mdfan read --record-events` line
 *   mdfan_events_close(&r);
 * When h's generation moves (a new writer), drain r, close it and open the new writer's ring.
 *
 * The ring is mapped PROT_READ: every atomic access here is a pure load (docs/ABI.md "Atomics on a
 * read-only mapping"). Needs the GCC/Clang __atomic builtins and __int128 (x86-64, arm64), and
 * _GNU_SOURCE (or _DEFAULT_SOURCE) before the first #include, for MAP_POPULATE.
 */
#ifndef MDFAN_EVENTS_H
#define MDFAN_EVENTS_H

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mdfan_abi.h"
#include "mdfan_attach.h"

/* A directory entry as an event's line needs it. */
typedef struct {
  char symbol[MDFAN_SYMBOL_BYTES + 1]; /* NUL-terminated */
  uint8_t price_decimals;              /* as the entry says, at most MDFAN_MAX_DECIMALS */
  uint8_t size_decimals;
  uint32_t known;       /* read from the directory of the ring's generation */
  uint64_t price_scale; /* 10^price_decimals: the instrument's price units per 1.0 */
} mdfan_events_name_t;

typedef struct {
  const uint8_t *base; /* the whole object, mapped read-only; NULL when closed */
  size_t size;
  const mdfan_events_header_t *h;
  const mdfan_event_t *records;
  uint32_t capacity;   /* a power of two */
  uint32_t generation; /* the data segment's generation this ring belongs to */
  uint64_t next;       /* ring sequence of the next record to read */
  uint64_t read;       /* whole records returned since open */
  uint64_t lost;       /* events lost to lapping since open: read + lost = every sequence passed */
  const mdfan_header_t *data;  /* the data segment (mapped and validated by the caller) */
  mdfan_events_name_t *names;  /* per directory entry, read on first use and kept: a takeover
                                * rewrites the directory while the old ring is still drained */
} mdfan_events_t;

/* mdfan_events_open's answers. ABSENT: the data segment's current writer keeps no ring. NOT_YET:
 * try again soon (the segment is not READY, a takeover is under way, the ring is not sized or has
 * no magic yet). REFUSED: not a ring this reader can read; the code says why. */
enum { MDFAN_EVENTS_OK = 0, MDFAN_EVENTS_ABSENT = 1, MDFAN_EVENTS_NOT_YET = 2, MDFAN_EVENTS_REFUSED = 3 };

static inline void mdfan_events_close(mdfan_events_t *r) {
  if (r->base) munmap((void *)r->base, r->size);
  free(r->names);
  r->base = NULL;
  r->names = NULL;
}

/* The newest whole record's ring sequence. seq_cst load: pairs with the writer's seq_cst store
 * of head after each record, so the records up to it are visible (the protocol asks acquire;
 * seq_cst also orders it in --wait block's Dekker pattern, mdfan_abi.h). The TypeScript writer
 * stores head as two words, low first: at a 2^32 carry one 64-bit load may read a head one
 * carry too low, which only delays a poll. */
static inline uint64_t mdfan_events_head(const mdfan_events_t *r) {
  return __atomic_load_n(&r->h->head, __ATOMIC_SEQ_CST);
}

/* Sets the code and the message; returns MDFAN_EVENTS_REFUSED. */
__attribute__((format(printf, 5, 6))) static inline int mdfan_events_fail(const char **code, const char *c, char *why, size_t why_len, const char *fmt, ...) {
  va_list ap;
  *code = c;
  va_start(ap, fmt);
  vsnprintf(why, why_len, fmt, ap);
  va_end(ap);
  return MDFAN_EVENTS_REFUSED;
}

/*
 * Opens the ring of data segment `seg` (attached) read-only, for the data segment's current
 * generation, and validates it in the order of EventRingReader.open: named by the header (a ring
 * it does not name is never opened), a regular file of the data segment's owner with no
 * permission bit the data segment lacks, size, magic, ABI major, capacity (a power of two), record_bytes, and the object's size against
 * capacity. The reader starts at the oldest record still whole (head + 2 - capacity when head + 2 > capacity, else 1; as after a
 * lap) or, with from_newest, after the newest. Returns MDFAN_EVENTS_OK, or another MDFAN_EVENTS_*
 * with `CODE` in *code and the message in `why`. Zeroes *r first (read and lost too).
 */
static inline int mdfan_events_open_segment(mdfan_events_t *r, const mdfan_segment_t *seg, int from_newest, const char **code, char *why, size_t why_len) {
  char path[256];
  struct stat st;
  const char *name = seg->name;
  const mdfan_header_t *data = seg->h;
  memset(r, 0, sizeof *r);
  /* generation, then state, both acquire: a takeover leaves READY before it bumps the generation
   * and creates its ring before READY again, so READY seen after generation g means g's ring (if
   * its writer keeps one) exists. Pairs with the writer's seq_cst stores of both. */
  uint32_t g = __atomic_load_n(&data->generation, __ATOMIC_ACQUIRE);
  uint32_t state = __atomic_load_n(&data->state, __ATOMIC_ACQUIRE);
  if (state != MDFAN_STATE_READY && state != MDFAN_STATE_CLOSED) {
    mdfan_events_fail(code, "MDFAN_ERR_NOT_READY", why, why_len, "segment %s is not READY", name);
    return MDFAN_EVENTS_NOT_YET;
  }
  if (snprintf(path, sizeof path, "/%s.events", name) >= (int)sizeof path)
    return mdfan_events_fail(code, "MDFAN_ERR_OPTIONS", why, why_len, "the event ring name of segment %s is too long", name);
  uint32_t named = mdfan_segment_companions(data);
  if (!(named & MDFAN_COMPANION_EVENTS)) {
    mdfan_events_fail(code, "MDFAN_ERR_NO_SEGMENT", why, why_len, "segment %s has no event ring (%s): its writer keeps none (started without one)", name, path + 1);
    /* the companions read belong to generation g's writer only if the generation did not move */
    return __atomic_load_n(&data->generation, __ATOMIC_ACQUIRE) == g ? MDFAN_EVENTS_ABSENT : MDFAN_EVENTS_NOT_YET;
  }
  int fd = mdfan_shm_open_regular(path, &st);
  if (fd < 0) {
    int e = errno;
    if (e == ENOENT) {
      mdfan_events_fail(code, "MDFAN_ERR_NO_SEGMENT", why, why_len, "segment %s's event ring (%s) was removed: its writer made one, and someone deleted it since",
                        name, path + 1);
      /* acquire: pairs with a takeover's generation bump, made before it unlinks the old ring */
      return __atomic_load_n(&data->generation, __ATOMIC_ACQUIRE) == g ? MDFAN_EVENTS_ABSENT : MDFAN_EVENTS_NOT_YET;
    }
    if (e == ENODEV) return mdfan_events_fail(code, "MDFAN_ERR_UNSAFE_OBJECT", why, why_len, "%s in /dev/shm is not a regular file: refused without reading it", path + 1);
    if (e == EACCES || e == EPERM)
      return mdfan_events_fail(code, "MDFAN_ERR_PERMISSION", why, why_len, "permission denied on %s (shm_open: %s)", path + 1, strerror(e));
    return mdfan_events_fail(code, "MDFAN_ERR_SYSCALL", why, why_len, "%s: shm_open: %s", path + 1, strerror(e));
  }
  const char *unsafe = mdfan_companion_unsafe(&st, seg->owner, seg->mode);
  if (unsafe) {
    unsigned owner = (unsigned)st.st_uid, mode = (unsigned)(st.st_mode & 0777);
    close(fd);
    return mdfan_events_fail(code, "MDFAN_ERR_UNSAFE_OBJECT", why, why_len,
                             "%s has uid %u and mode 0%o, segment %s uid %u and mode 0%o: not its writer's (its %s differs); refusing to read it", path + 1, owner, mode,
                             name, (unsigned)seg->owner, (unsigned)seg->mode, unsafe);
  }
  uint64_t size = (uint64_t)st.st_size;
  if (size == 0) { /* created, not sized yet: its writer is coming up */
    close(fd);
    mdfan_events_fail(code, "MDFAN_ERR_NOT_READY", why, why_len, "%s is empty: its writer has not sized it yet", path + 1);
    return MDFAN_EVENTS_NOT_YET;
  }
  if (size < MDFAN_EVENTS_HEADER_BYTES || size % 8 != 0) {
    close(fd);
    return mdfan_events_fail(code, "MDFAN_ERR_SEGMENT_SIZE", why, why_len, "%s is %" PRIu64 " bytes: not an event ring", path + 1, size);
  }
  void *p = mmap(NULL, (size_t)size, PROT_READ, MAP_SHARED | MAP_POPULATE, fd, 0);
  int e = errno;
  close(fd); /* the mapping stays */
  if (p == MAP_FAILED) {
    if (e == EACCES || e == EPERM)
      return mdfan_events_fail(code, "MDFAN_ERR_PERMISSION", why, why_len, "permission denied on %s (mmap: %s)", path + 1, strerror(e));
    return mdfan_events_fail(code, "MDFAN_ERR_SYSCALL", why, why_len, "%s: mmap: %s", path + 1, strerror(e));
  }
  r->base = (const uint8_t *)p;
  r->size = (size_t)size;
  r->h = (const mdfan_events_header_t *)p;
  const mdfan_events_header_t *h = r->h;
  /* acquire: pairs with the writer's store-release of magic, made after the rest of line 0, so
   * the plain loads of line 0 below see the writer's values */
  uint32_t magic = __atomic_load_n(&h->magic, __ATOMIC_ACQUIRE);
  if (magic == 0) {
    mdfan_events_close(r);
    mdfan_events_fail(code, "MDFAN_ERR_NOT_READY", why, why_len, "%s has no magic yet: its writer is initialising it", path + 1);
    return MDFAN_EVENTS_NOT_YET;
  }
  if (magic != MDFAN_EVENTS_MAGIC) {
    mdfan_events_close(r);
    return mdfan_events_fail(code, "MDFAN_ERR_BAD_MAGIC", why, why_len, "%s is not an mdfan event ring: magic 0x%08" PRIx32 ", expected 0x%08" PRIx32 " (\"MDEV\")",
                             path + 1, magic, (uint32_t)MDFAN_EVENTS_MAGIC);
  }
  if (h->abi_major != MDFAN_ABI_MAJOR) {
    unsigned major = h->abi_major, minor = h->abi_minor;
    mdfan_events_close(r);
    return mdfan_events_fail(code, "MDFAN_ERR_ABI_VERSION", why, why_len, "%s has ABI %u.%u; this reader speaks ABI %u.%u (majors must match)", path + 1,
                             major, minor, MDFAN_ABI_MAJOR, MDFAN_ABI_MINOR);
  }
  uint32_t capacity = h->capacity, record_bytes = h->record_bytes;
  if (capacity == 0 || (capacity & (capacity - 1u)) != 0 || capacity > MDFAN_EVENTS_MAX_CAPACITY) {
    mdfan_events_close(r);
    return mdfan_events_fail(code, "MDFAN_ERR_LAYOUT", why, why_len, "%s: capacity %u is not a power of two up to %u", path + 1, capacity,
                             MDFAN_EVENTS_MAX_CAPACITY);
  }
  if (record_bytes != MDFAN_EVENT_BYTES) {
    mdfan_events_close(r);
    return mdfan_events_fail(code, "MDFAN_ERR_LAYOUT", why, why_len, "%s: record_bytes %u, expected %u", path + 1, record_bytes, MDFAN_EVENT_BYTES);
  }
  if (size != MDFAN_EVENTS_BYTES(capacity)) {
    mdfan_events_close(r);
    return mdfan_events_fail(code, "MDFAN_ERR_SEGMENT_SIZE", why, why_len, "%s: %" PRIu64 " bytes, but capacity %u needs %" PRIu64, path + 1, size, capacity,
                             MDFAN_EVENTS_BYTES(capacity));
  }
  if (h->generation != g) {
    uint32_t rg = h->generation;
    mdfan_events_close(r);
    if (rg < g) { /* a dead writer's ring: the writer of g, READY, would have replaced it */
      mdfan_events_fail(code, "MDFAN_ERR_NO_SEGMENT", why, why_len, "segment %s has no event ring: %s is generation %u's, its writer (generation %u) keeps none",
                        name, path + 1, rg, g);
      return MDFAN_EVENTS_ABSENT;
    }
    mdfan_events_fail(code, "MDFAN_ERR_NOT_READY", why, why_len, "%s is generation %u's, segment %s was at %u: a takeover is under way", path + 1, rg, name, g);
    return MDFAN_EVENTS_NOT_YET;
  }
  r->names = (mdfan_events_name_t *)calloc(data->max_instruments, sizeof *r->names);
  if (!r->names) {
    mdfan_events_close(r);
    return mdfan_events_fail(code, "MDFAN_ERR_SYSCALL", why, why_len, "%s: out of memory", path + 1);
  }
  r->records = (const mdfan_event_t *)(r->base + MDFAN_EVENTS_HEADER_BYTES);
  r->capacity = capacity;
  r->generation = g;
  r->data = data;
  uint64_t head = mdfan_events_head(r);
  r->next = from_newest ? head + 1 : (head + 2 > capacity ? head + 2 - capacity : 1);
  return MDFAN_EVENTS_OK;
}

/* mdfan_events_open_segment for a caller that holds data segment `name`'s header alone: the owner
 * and mode the ring must have are those of the object under `name` now. */
static inline int mdfan_events_open(mdfan_events_t *r, const char *name, const mdfan_header_t *data, int from_newest, const char **code, char *why,
                                    size_t why_len) {
  char path[256];
  struct stat st;
  mdfan_segment_t seg;
  memset(&seg, 0, sizeof seg);
  memset(r, 0, sizeof *r);
  if (snprintf(path, sizeof path, "/%s", name) >= (int)sizeof path)
    return mdfan_events_fail(code, "MDFAN_ERR_OPTIONS", why, why_len, "segment name %s is too long", name);
  int fd = mdfan_shm_open_regular(path, &st);
  if (fd < 0) return mdfan_events_fail(code, "MDFAN_ERR_SYSCALL", why, why_len, "segment %s: shm_open: %s", name, strerror(errno));
  close(fd);
  seg.name = name, seg.h = data, seg.fd = -1, seg.owner = st.st_uid, seg.mode = st.st_mode & 0777;
  return mdfan_events_open_segment(r, &seg, from_newest, code, why, why_len);
}

/*
 * Copies the next whole record into *out and returns 1, or returns 0 when there is none yet.
 * *lost is the number of events lost to lapping just before *out (0: none): when the record the
 * reader expected was overwritten, it resumes at the oldest record still whole, [head - capacity
 * + 2, head] (the slot after head may be mid-write), and counts every sequence it skipped. A
 * record is never returned half-written or twice.
 */
static inline int mdfan_events_poll(mdfan_events_t *r, mdfan_event_t *out, uint64_t *lost) {
  *lost = 0;
  for (;;) {
    uint64_t head = mdfan_events_head(r);
    uint64_t want = r->next;
    if (want > head) return 0;
    const mdfan_event_t *rec = &r->records[(want - 1) & (uint64_t)(r->capacity - 1u)];
    /* s1, acquire: pairs with the writer's seq_cst store of seq = want (the TypeScript writer's
     * high word, stored last), so the copy sees record `want` whole. One 64-bit load reads both
     * words at once: the writer's invalid high word (stored first, before the body) and its
     * restored one (stored last) can never combine into `want`. */
    uint64_t s1 = __atomic_load_n(&rec->seq, __ATOMIC_ACQUIRE);
    if (s1 == want) {
      memcpy(out, rec, sizeof *out); /* plain loads, racing a rewrite: kept only if s2 validates them */
      /* acquire fence: every load of the copy happens before s2; pairs with the writer's release
       * fence (the TypeScript writer's seq_cst store, an XCHG) between invalidating seq and the body */
      __atomic_thread_fence(__ATOMIC_ACQUIRE);
      /* s2, relaxed: ordered after the copy by the fence; it sees the invalidation of any rewrite
       * the copy overlapped */
      uint64_t s2 = __atomic_load_n(&rec->seq, __ATOMIC_RELAXED);
      if (s2 == want) {
        out->seq = want;
        r->next = want + 1;
        r->read++;
        return 1;
      }
    }
    /* Lapped: the slot holds a later record or one being written. The writer stored the head it
     * had reached before it began that rewrite, so this head normally counts past `want`; resume
     * at the oldest record still whole. Every sequence is read or counted lost, exactly once. */
    head = mdfan_events_head(r);
    uint64_t oldest = head + 2 > r->capacity ? head + 2 - r->capacity : 1;
    if (oldest <= want) oldest = want + 1; /* never go back, never re-read */
    *lost += oldest - want;
    r->lost += oldest - want;
    r->next = oldest;
  }
}

/* Whether a record is there to read. The head load is seq_cst: it can be --wait block's "look once
 * more" (the writer stores the head, seq_cst, after each record, and its seq_cst fence comes
 * after the message's last head store, before it loads the registry's sleepers). */
static inline int mdfan_events_pending(const mdfan_events_t *r) {
  return mdfan_events_head(r) >= r->next;
}

/*
 * The symbol and decimals of directory entry `idx` (an event's instrument_index) as this ring's
 * writer announced it, or NULL (no instrument, not announced, a later writer's directory now, or
 * an entry whose price_decimals exceeds MDFAN_MAX_DECIMALS: no price of it can be shown).
 * The directory protocol (docs/ABI.md "Reading the directory") for one entry: generation g1
 * (acquire), instrument_count (acquire), the entry, acquire fence, generation again.
 */
static inline const mdfan_events_name_t *mdfan_events_instrument(mdfan_events_t *r, uint32_t idx) {
  const mdfan_header_t *h = r->data;
  if (idx >= h->max_instruments) return NULL; /* MDFAN_EVENT_NO_INSTRUMENT among them */
  mdfan_events_name_t *n = &r->names[idx];
  if (n->known) return n;
  /* acquire: pairs with the generation bump of a takeover, which empties the directory first */
  uint32_t g1 = __atomic_load_n(&h->generation, __ATOMIC_ACQUIRE);
  if (g1 != r->generation) return NULL;
  /* acquire: pairs with the writer's store-release of the count, made after the entry */
  if (idx >= __atomic_load_n(&h->instrument_count, __ATOMIC_ACQUIRE)) return NULL;
  const mdfan_dir_entry_t *e = (const mdfan_dir_entry_t *)((const uint8_t *)h + MDFAN_DIRECTORY_OFFSET) + idx;
  char symbol[MDFAN_SYMBOL_BYTES + 1];
  memcpy(symbol, e->symbol, MDFAN_SYMBOL_BYTES);
  symbol[MDFAN_SYMBOL_BYTES] = '\0'; /* a full-length symbol has no NUL */
  uint8_t price_decimals = e->price_decimals, size_decimals = e->size_decimals;
  /* acquire fence, then a relaxed load: it sees the bump of any takeover whose rewrite the copy saw */
  __atomic_thread_fence(__ATOMIC_ACQUIRE);
  if (__atomic_load_n(&h->generation, __ATOMIC_RELAXED) != g1) return NULL;
  if (price_decimals > MDFAN_MAX_DECIMALS || size_decimals > MDFAN_MAX_DECIMALS) return NULL;
  memcpy(n->symbol, symbol, sizeof symbol);
  n->price_decimals = price_decimals;
  n->size_decimals = size_decimals;
  n->price_scale = 1;
  for (uint8_t d = 0; d < price_decimals; d++) n->price_scale *= 10u;
  n->known = 1;
  return n;
}

/* A letter of a record (kind, action, side, code) as the TypeScript format writes it: nothing
 * for 0, else the character String.fromCharCode gives, in UTF-8 (two bytes above 0x7F). */
static inline int mdfan_event_letter(char *buf, size_t len, uint8_t c) {
  if (c == 0) return snprintf(buf, len, "%s", "");
  if (c < 0x80) return snprintf(buf, len, "%c", (char)c);
  return snprintf(buf, len, "%c%c", (char)(0xC0 | (c >> 6)), (char)(0x80 | (c & 0x3F)));
}

/* The record's price in the instrument's units, price * price_scale / MDFAN_EVENT_PRICE_SCALE
 * rounded half up (JavaScript's Math.round), or nothing when the record has none. 128-bit: an i64
 * price times a scale up to 10^MDFAN_MAX_DECIMALS (< 2^60) is exact there. */
static inline int mdfan_event_price(char *buf, size_t len, int64_t price, uint64_t price_scale) {
  if (price == (int64_t)MDFAN_EVENT_PRICE_NONE) return snprintf(buf, len, "%s", "");
  const __int128 den = (__int128)MDFAN_EVENT_PRICE_SCALE;
  __int128 num = (__int128)price * price_scale;
  __int128 q = num / den, rem = num % den; /* C truncates toward zero: floor it */
  if (rem < 0) q -= 1, rem += den;
  if (2 * rem >= den) q += 1;
  if (q >= INT64_MIN && q <= INT64_MAX) return snprintf(buf, len, "%" PRId64, (int64_t)q);
  /* only a scale above MDFAN_EVENT_PRICE_SCALE gets here: print the 128-bit value (39 digits at most) */
  char tmp[44], *p = tmp + sizeof tmp - 1;
  unsigned __int128 u = q < 0 ? -(unsigned __int128)q : (unsigned __int128)q;
  *p = '\0';
  do *--p = (char)('0' + (int)(u % 10)), u /= 10;
  while (u);
  if (q < 0) *--p = '-';
  return snprintf(buf, len, "%s", p);
}

/*
 * Writes the line of `e` (no newline) into buf, in the format of lib/event-line.ts
 * (formatEventLine; `mdfan read --record-events`): `symbol` and `price_scale` (10^price_decimals)
 * are those of the record's instrument in the directory ("" and 1 when it has none); sizes are the
 * record's u64 in the instrument's size units. Returns 0 for a record the format leaves out (a trade
 * flagged MDFAN_EVENT_FLAG_NOT_PRINTABLE), else 1. A line longer than len is cut (no record's line
 * is near 256 bytes).
 */
static inline int mdfan_event_format(const mdfan_event_t *e, const char *symbol, uint64_t price_scale, char *buf, size_t len) {
  char kind[4], action[4], side[4], price[48];
  mdfan_event_letter(kind, sizeof kind, e->kind);
  mdfan_event_letter(action, sizeof action, e->action);
  mdfan_event_letter(side, sizeof side, e->side);
  mdfan_event_price(price, sizeof price, e->price, price_scale);
  switch (e->kind) {
    case MDFAN_EVENT_KIND_TRADE:
      if (e->flags & MDFAN_EVENT_FLAG_NOT_PRINTABLE) return 0;
      snprintf(buf, len, "%" PRIu64 ",%s,T,%s,%" PRIu64 ",%s", e->msg_index, symbol, price, e->size, action);
      return 1;
    case MDFAN_EVENT_KIND_STATUS:
      snprintf(buf, len, "%" PRIu64 ",%s,H,%s", e->msg_index, symbol, action);
      return 1;
    case MDFAN_EVENT_KIND_SYSTEM:
      snprintf(buf, len, "%" PRIu64 ",,S,%s", e->msg_index, action);
      return 1;
    case MDFAN_EVENT_KIND_ORDER:
      snprintf(buf, len, "%" PRIu64 ",%s,O,%s,%s,%s,%" PRIu64 ",%" PRIu64, e->msg_index, symbol, action, side, price, e->size, e->order_ref);
      return 1;
    default: /* a kind this reader does not know: its letters, as the TypeScript format */
      snprintf(buf, len, "%" PRIu64 ",%s,%s,%s", e->msg_index, symbol, kind, action);
      return 1;
  }
}

#endif /* MDFAN_EVENTS_H */
