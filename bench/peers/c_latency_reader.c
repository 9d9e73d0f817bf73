/*
 * c_latency_reader.c: the best case for an mdfan reader, for the peer benchmark.
 * A C program spinning on slot 0's seq of a live segment, written from mdfan_abi.h alone.
 *
 *   c_latency_reader SEGMENT CAPACITY
 *
 * Attaches read-only (the segment must exist, be READY and have 10 levels), prints "ready" on
 * stdout, then spins: on each new even seq of slot 0 it copies the slot through the seqlock and
 * records CLOCK_MONOTONIC - publish_ts_ns (the writer's clock at commit) in a preallocated array
 * of CAPACITY values. When the header state is CLOSED it prints one latency (ns) per line, then
 * "done <observed> <corrupt> <dropped>" (dropped: observed past CAPACITY), and exits 0.
 * The writer fills level word w of commit k (msg_index k) with payload_word(k, w), as
 * bench/peers/payload.ts: a copy that differs is counted corrupt.
 * The read is mdfan_seqlock.h's, with the stale bound every reader has (MDFAN_STALE_AFTER_MS): a
 * writer that dies inside the slot ends the run with MDFAN_ERR_STALE instead of a silent spin.
 * Errors: one line "MDFAN_ERR_...: message" on stderr, exit 2. Dies with its parent (PDEATHSIG).
 *
 * Build: node-gyp (native/binding.gyp target c_latency_reader), or
 *        cc -std=gnu11 -O2 -Wall -Wextra -I native/include bench/peers/c_latency_reader.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mdfan_abi.h"
#include "mdfan_seqlock.h"

#define LEVELS 10u
#define PAYLOAD_BYTES MDFAN_SLOT_PAYLOAD_BYTES(LEVELS) /* 304, as the Node peers' payload */
#define PAYLOAD_WORDS (PAYLOAD_BYTES / 4u)
#define MAX_CAPACITY 100000000ull
#define STALE_NS ((uint64_t)MDFAN_STALE_AFTER_MS * 1000000ull)

static void die(const char *code, const char *fmt, ...) {
  va_list ap;
  fflush(stdout);
  fprintf(stderr, "%s: ", code);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  exit(2);
}

static inline uint32_t load32(const void *p, memory_order mo) { return atomic_load_explicit((const _Atomic uint32_t *)p, mo); }

/* The same derivation as payloadWord() in bench/peers/payload.ts (mod 2^32). */
static inline uint32_t payload_word(uint32_t seq, uint32_t i) { return seq * 0x9E3779B1u + i * 40503u; }

/* A copy of slot 0 made under the seqlock: intact if it is what the benchmark writer commits. */
static int intact(const uint32_t *w) {
  const mdfan_slot_header_t *h = (const mdfan_slot_header_t *)w;
  if (h->bid_count != LEVELS || h->ask_count != LEVELS || h->exchange_ts_ns != h->msg_index) return 0;
  uint32_t k = (uint32_t)h->msg_index;
  for (uint32_t i = MDFAN_BIDS_OFFSET / 4u; i < PAYLOAD_WORDS; i++)
    if (w[i] != payload_word(k, i)) return 0;
  return 1;
}

int main(int argc, char **argv) {
  if (argc != 3) die("MDFAN_ERR_OPTIONS", "usage: c_latency_reader SEGMENT CAPACITY");
  const char *name = argv[1];
  char *end;
  errno = 0;
  unsigned long long capacity = strtoull(argv[2], &end, 10);
  if (errno || *end || capacity < 1 || capacity > MAX_CAPACITY) die("MDFAN_ERR_OPTIONS", "CAPACITY must be 1..%llu, got %s", MAX_CAPACITY, argv[2]);
  /* Die with the writer: it is our parent, and a spinner left behind would burn a core. */
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() == 1) die("MDFAN_ERR_WRITER_DEAD", "parent already gone");

  char path[256];
  if (snprintf(path, sizeof path, "/%s", name) >= (int)sizeof path) die("MDFAN_ERR_OPTIONS", "segment name %s is too long", name);
  int fd = shm_open(path, O_RDONLY, 0);
  if (fd < 0) die(errno == ENOENT ? "MDFAN_ERR_NO_SEGMENT" : "MDFAN_ERR_SYSCALL", "segment %s: shm_open: %s", name, strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0) die("MDFAN_ERR_SYSCALL", "segment %s: fstat: %s", name, strerror(errno));
  size_t size = (size_t)st.st_size;
  if (size < MDFAN_HEADER_BYTES) die("MDFAN_ERR_SEGMENT_SIZE", "segment %s is %zu bytes, smaller than its header", name, size);
  const uint8_t *base = mmap(NULL, size, PROT_READ, MAP_SHARED | MAP_POPULATE, fd, 0);
  if (base == MAP_FAILED) die("MDFAN_ERR_SYSCALL", "segment %s: mmap: %s", name, strerror(errno));
  close(fd); /* the mapping stays */
  const mdfan_header_t *h = (const mdfan_header_t *)base;

  /* Attach checks in the order of docs/ABI.md: magic (acquire) first, then the layout. */
  if (atomic_load_explicit((const _Atomic uint64_t *)&h->magic, memory_order_acquire) != MDFAN_MAGIC)
    die("MDFAN_ERR_BAD_MAGIC", "segment %s is not an initialised mdfan segment", name);
  if (h->abi_major != MDFAN_ABI_MAJOR) die("MDFAN_ERR_ABI_VERSION", "segment %s has ABI %u, this reader speaks %u", name, h->abi_major, MDFAN_ABI_MAJOR);
  uint32_t state = load32(&h->state, memory_order_acquire);
  if (state != MDFAN_STATE_READY) die("MDFAN_ERR_NOT_READY", "segment %s is not READY (state %u)", name, state);
  if (h->levels != LEVELS) die("MDFAN_ERR_LAYOUT", "segment %s has %u levels; this reader expects %u", name, h->levels, LEVELS);
  if (h->max_instruments < 1 || h->total_bytes > size || h->slots_offset + PAYLOAD_BYTES > h->total_bytes)
    die("MDFAN_ERR_SEGMENT_SIZE", "segment %s: slot 0 lies outside its %zu bytes", name, size);
  const uint8_t *slot = base + h->slots_offset;

  int64_t *lat_ns = malloc(capacity * sizeof *lat_ns);
  if (!lat_ns) die("MDFAN_ERR_SYSCALL", "out of memory for %llu values", capacity);
  memset(lat_ns, 0, capacity * sizeof *lat_ns); /* fault the pages in now, not while measuring */
  printf("ready\n");
  fflush(stdout);

  uint32_t snap[PAYLOAD_WORDS];
  uint32_t last = load32(slot, memory_order_acquire); /* only commits after attaching count */
  uint64_t observed = 0, corrupt = 0, n = 0;
  for (;;) {
    /* CLOSED is stored after the last commit: the pass after loading it sees that commit. */
    int closed = load32(&h->state, memory_order_acquire) == MDFAN_STATE_CLOSED;
    /* Poll: one acquire load of seq per pass; only a new value is worth a read. */
    if (load32(slot, memory_order_acquire) != last) {
      uint64_t t = mdfan_monotonic_ns();
      uint32_t seq;
      int64_t r = mdfan_seqlock_read(slot, snap, PAYLOAD_BYTES, STALE_NS, &seq);
      if (r == MDFAN_SEQLOCK_STALE)
        die("MDFAN_ERR_STALE", "segment %s: slot 0 stayed mid-update (odd seq %u) for over %u ms; its writer is stuck or dead", name, seq,
            MDFAN_STALE_AFTER_MS);
      /* Retries: the commit was still under way (or overtook the copy) when the poll saw seq move;
       * its even seq was seen inside the read, at most one copy ago: take the time again. */
      if (r > 0) t = mdfan_monotonic_ns();
      if (seq != last) {
        last = seq;
        observed++;
        if (!intact(snap)) corrupt++;
        else if (n < capacity) lat_ns[n++] = (int64_t)(t - ((const mdfan_slot_header_t *)snap)->publish_ts_ns);
      }
      continue; /* look again at once: the writer may have moved on */
    }
    if (closed) break;
    mdfan_cpu_relax();
  }

  for (uint64_t i = 0; i < n; i++) printf("%" PRId64 "\n", lat_ns[i]);
  printf("done %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", observed, corrupt, observed - corrupt - n);
  fflush(stdout);
  free(lat_ns);
  munmap((void *)base, size);
  return 0;
}
