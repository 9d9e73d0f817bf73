/*
 * c_floor.c: what the segment's layouts allow on this machine, measured beside mdfan's readers.
 * A C writer thread commits a 10-level book with mdfan_commit_book (native/include/mdfan_seqlock.h,
 * the commit mdfan's writer makes) into a slot and its top line laid out as in a segment (private
 * memory: no Node, no addon call); a C reader thread spins on one of them, copies it through
 * mdfan_seqlock_read and takes CLOCK_MONOTONIC - publish_ts_ns. In the same run, the core-to-core
 * handoff (one line ping-ponged): the unit every latency is divided by. A third lane, book1x, commits
 * an ABI 1.x book (12-byte levels: 304 bytes, against 2.0's 544) with the same seqlock and the same
 * top-line commit first, so the cost of the wider levels is measured in the same run. The three
 * lanes take turns in short chunks (their order rotating), so a vCPU move mid-run lands on all three.
 *
 *   c_floor RATE SECONDS WRITER_CPU READER_CPU
 *
 * Prints "c2c N" (one-way ns), "top N", "book N" and "book1x N" (publish -> observe ns), one value
 * per line, then "done <c2c> <top> <book> <book1x>" (the counts). Errors: "MDFAN_ERR_...: message"
 * on stderr, exit 2.
 *
 * Build: node-gyp (native/binding.gyp target c_floor), or
 *        cc -std=gnu11 -O2 -pthread -I native/include bench/peers/c_floor.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mdfan_abi.h"
#include "mdfan_seqlock.h"

#define LEVELS 10u
#define SLOT_BYTES MDFAN_SLOT_PAYLOAD_BYTES(LEVELS)
#define C2C_ROUNDS 50000u
#define CHUNKS 10u /* turns each lane takes, when there are enough commits for it */

/* ABI 1.x's level (gone from mdfan_abi.h): the book1x lane's payload is a 1.x slot. */
typedef struct {
  uint32_t price, size, orders;
} level1x_t;
#define BOOK1X_BYTES (MDFAN_SLOT_HEADER_BYTES + 2u * LEVELS * sizeof(level1x_t))
_Static_assert(BOOK1X_BYTES == 304, "a 1.x 10-level slot is 64 + 2*10*12 bytes");

static void die(const char *code, const char *msg) {
  fprintf(stderr, "%s: %s\n", code, msg);
  exit(2);
}

static int pin(int cpu) {
  cpu_set_t s;
  CPU_ZERO(&s);
  CPU_SET(cpu, &s);
  return pthread_setaffinity_np(pthread_self(), sizeof s, &s);
}

/* ---- the handoff: one 64-bit value ping-ponged between two lines ---- */
static _Alignas(128) _Atomic uint64_t ping;
static _Alignas(128) _Atomic uint64_t pong;
static int reader_cpu;

static void *c2c_peer(void *arg) {
  (void)arg;
  pin(reader_cpu);
  for (uint64_t i = 1; i <= C2C_ROUNDS; i++) {
    while (atomic_load_explicit(&ping, memory_order_acquire) != i) mdfan_cpu_relax();
    atomic_store_explicit(&pong, i, memory_order_release);
  }
  return NULL;
}

static uint64_t *c2c(void) {
  uint64_t *d = malloc(C2C_ROUNDS * sizeof *d);
  if (!d) die("MDFAN_ERR_SYSCALL", "out of memory");
  atomic_store(&ping, 0);
  atomic_store(&pong, 0);
  pthread_t t;
  if (pthread_create(&t, NULL, c2c_peer, NULL)) die("MDFAN_ERR_SYSCALL", "pthread_create");
  for (uint64_t i = 1; i <= C2C_ROUNDS; i++) {
    uint64_t s = mdfan_monotonic_ns();
    atomic_store_explicit(&ping, i, memory_order_release);
    while (atomic_load_explicit(&pong, memory_order_acquire) != i) mdfan_cpu_relax();
    d[i - 1] = (mdfan_monotonic_ns() - s) / 2;
  }
  pthread_join(t, NULL);
  return d;
}

/* ---- a slot and its top line, each on its own line pair, as in a segment ---- */
static _Alignas(128) uint8_t slot[MDFAN_SLOT_STRIDE(LEVELS)];
static _Alignas(128) uint8_t slot1x[MDFAN_ROUND_UP(BOOK1X_BYTES, MDFAN_LINE_BYTES)];
static _Alignas(128) uint8_t top_line[MDFAN_TOP_STRIDE_BYTES];
static _Atomic int stop;

struct lane {
  const uint8_t *line; /* what the reader follows: the top line or the slot */
  size_t bytes;
  int v1x;             /* the writer commits the 1.x slot (slot1x) instead of the 2.0 one */
  uint64_t *lat;
  uint64_t cap, n;
};

static void *reader(void *arg) {
  struct lane *l = arg;
  pin(reader_cpu);
  uint8_t copy[SLOT_BYTES];
  uint32_t last = 0;
  while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
    uint32_t s = __atomic_load_n((const uint32_t *)l->line, __ATOMIC_ACQUIRE);
    if (s == last || (s & 1u)) {
      mdfan_cpu_relax();
      continue;
    }
    uint32_t seq;
    if (mdfan_seqlock_read(l->line, copy, l->bytes, 1000000000ull, &seq) < 0) continue;
    uint64_t t = mdfan_monotonic_ns();
    if (seq == last) continue;
    last = seq;
    uint64_t ts;
    memcpy(&ts, copy + 24, sizeof ts); /* publish_ts_ns: offset 24 in both the slot header and the top line */
    if (l->n < l->cap) l->lat[l->n++] = t - ts;
  }
  return NULL;
}

/* A 1.x book commit, as mdfan_commit_book makes a 2.0 one: the top line first (it changes on every
 * commit here; one line in both ABIs), then the slot's header and levels copied after W1. */
static void commit_book1x(const level1x_t *bids, const level1x_t *asks, uint64_t k, uint64_t publish_ts_ns) {
  mdfan_slot_header_t h;
  memcpy(&h, slot1x, sizeof h);
  h.msg_index = k;
  h.exchange_ts_ns = k;
  h.publish_ts_ns = publish_ts_ns;
  h.bid_count = h.ask_count = LEVELS;
  h.update_count += 1;
  mdfan_top_t t;
  memcpy(&t, top_line, sizeof t);
  t.bid_count = t.ask_count = LEVELS;
  t.msg_index = t.exchange_ts_ns = k;
  t.publish_ts_ns = publish_ts_ns;
  t.bid_price = bids[0].price;
  t.bid_size = bids[0].size;
  t.ask_price = asks[0].price;
  t.ask_size = asks[0].size;
  mdfan_commit_top_line((mdfan_top_t *)top_line, &t);
  uint32_t odd = mdfan_seqlock_write_open((uint32_t *)slot1x);
  memcpy(slot1x + sizeof h.seq, (const uint8_t *)&h + sizeof h.seq, sizeof h - sizeof h.seq);
  memcpy(slot1x + MDFAN_SLOT_HEADER_BYTES, bids, LEVELS * sizeof *bids);
  memcpy(slot1x + MDFAN_SLOT_HEADER_BYTES + LEVELS * sizeof *bids, asks, LEVELS * sizeof *asks);
  mdfan_seqlock_write_end((uint32_t *)slot1x, odd);
}

/* One turn of a lane: `total` commits at `rate`, read by a fresh reader thread. The lines start at
 * seq 0 each turn, so the new reader (last = 0) never times a commit of an earlier turn. */
static void run_lane(struct lane *l, double rate, uint64_t total, int writer_cpu) {
  memset(slot, 0, sizeof slot);
  memset(slot1x, 0, sizeof slot1x);
  memset(top_line, 0, sizeof top_line);
  atomic_store(&stop, 0);
  pthread_t t;
  if (pthread_create(&t, NULL, reader, l)) die("MDFAN_ERR_SYSCALL", "pthread_create");
  pin(writer_cpu);
  mdfan_level_t bids[LEVELS], asks[LEVELS];
  level1x_t bids1x[LEVELS], asks1x[LEVELS];
  for (uint32_t i = 0; i < LEVELS; i++) {
    bids[i] = (mdfan_level_t){1000000 - 100 * (int64_t)(i + 1), 100 * (uint64_t)(i + 1), i + 1, 0};
    asks[i] = (mdfan_level_t){1000000 + 100 * (int64_t)(i + 1), 100 * (uint64_t)(i + 1), i + 1, 0};
    bids1x[i] = (level1x_t){1000000 - 100 * (i + 1), 100 * (i + 1), i + 1};
    asks1x[i] = (level1x_t){1000000 + 100 * (i + 1), 100 * (i + 1), i + 1};
  }
  uint64_t interval = (uint64_t)(1e9 / rate);
  uint64_t next = mdfan_monotonic_ns() + 1000000; /* the reader is spinning by then */
  for (uint64_t k = 1; k <= total; k++) {
    while (mdfan_monotonic_ns() < next) mdfan_cpu_relax();
    next += interval;
    bids[0].price = 990000 + (int64_t)(k & 1023); /* the top changes on every commit, as in the benchmark */
    bids1x[0].price = 990000 + (uint32_t)(k & 1023);
    if (l->v1x)
      commit_book1x(bids1x, asks1x, k, mdfan_monotonic_ns());
    else
      mdfan_commit_book(slot, (mdfan_top_t *)top_line, LEVELS, bids, LEVELS, asks, LEVELS, k, k, mdfan_monotonic_ns(), 0, 0, 0);
  }
  uint64_t settle = mdfan_monotonic_ns() + 1000000;
  while (mdfan_monotonic_ns() < settle) mdfan_cpu_relax();
  atomic_store(&stop, 1);
  pthread_join(t, NULL);
}

int main(int argc, char **argv) {
  if (argc != 5) die("MDFAN_ERR_OPTIONS", "usage: c_floor RATE SECONDS WRITER_CPU READER_CPU");
  double rate = atof(argv[1]), seconds = atof(argv[2]);
  int writer_cpu = atoi(argv[3]);
  reader_cpu = atoi(argv[4]);
  if (!(rate >= 1 && rate <= 1e7) || !(seconds > 0 && seconds <= 3600)) die("MDFAN_ERR_OPTIONS", "RATE must be 1..1e7 and SECONDS 0..3600");
  if (pin(writer_cpu) || pin(reader_cpu) || pin(writer_cpu)) die("MDFAN_ERR_OPTIONS", "cannot pin to the CPUs given");
  uint64_t cap = (uint64_t)(rate * seconds) + 16;
  struct lane lanes[3] = {
      {top_line, MDFAN_TOP_BYTES, 0, calloc(cap, 8), cap, 0},
      {slot, SLOT_BYTES, 0, calloc(cap, 8), cap, 0},
      {slot1x, BOOK1X_BYTES, 1, calloc(cap, 8), cap, 0},
  };
  static const char *const names[3] = {"top", "book", "book1x"};
  for (int j = 0; j < 3; j++)
    if (!lanes[j].lat) die("MDFAN_ERR_SYSCALL", "out of memory");
  uint64_t *d = c2c();
  uint64_t total = (uint64_t)(rate * seconds), chunks = total >= 100 * CHUNKS ? CHUNKS : 1;
  for (uint64_t c = 0; c < chunks; c++) /* turns, the lanes' order rotating: no lane always goes first */
    for (int j = 0; j < 3; j++) run_lane(&lanes[(c + j) % 3], rate, total / chunks, writer_cpu);
  for (uint32_t i = 0; i < C2C_ROUNDS; i++) printf("c2c %" PRIu64 "\n", d[i]);
  for (int j = 0; j < 3; j++)
    for (uint64_t i = 0; i < lanes[j].n; i++) printf("%s %" PRIu64 "\n", names[j], lanes[j].lat[i]);
  printf("done %u %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", C2C_ROUNDS, lanes[0].n, lanes[1].n, lanes[2].n);
  return 0;
}
