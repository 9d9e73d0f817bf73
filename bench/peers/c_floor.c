/*
 * c_floor.c: what the segment's layouts allow on this machine, measured beside mdfan's readers.
 * A C writer thread commits a 10-level book with mdfan_commit_book (native/include/mdfan_seqlock.h,
 * the commit mdfan's writer makes) into a slot and its top line laid out as in a segment (private
 * memory: no Node, no addon call); a C reader thread spins on one of them, copies it through
 * mdfan_seqlock_read and takes CLOCK_MONOTONIC - publish_ts_ns. In the same run, the core-to-core
 * handoff (one line ping-ponged): the unit every latency is divided by.
 *
 *   c_floor RATE SECONDS WRITER_CPU READER_CPU
 *
 * Prints "c2c N" (one-way ns), "top N" and "book N" (publish -> observe ns), one value per line,
 * then "done <c2c> <top> <book>" (the counts). Errors: "MDFAN_ERR_...: message" on stderr, exit 2.
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
static _Alignas(128) uint8_t top_line[MDFAN_TOP_STRIDE_BYTES];
static _Atomic int stop;

struct lane {
  const uint8_t *line; /* what the reader follows: the top line or the slot */
  size_t bytes;
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

static void run_lane(struct lane *l, double rate, double seconds, int writer_cpu) {
  memset(slot, 0, sizeof slot);
  memset(top_line, 0, sizeof top_line);
  atomic_store(&stop, 0);
  pthread_t t;
  if (pthread_create(&t, NULL, reader, l)) die("MDFAN_ERR_SYSCALL", "pthread_create");
  pin(writer_cpu);
  mdfan_level_t bids[LEVELS], asks[LEVELS];
  for (uint32_t i = 0; i < LEVELS; i++) {
    bids[i] = (mdfan_level_t){1000000 - 100 * (int64_t)(i + 1), 100 * (uint64_t)(i + 1), i + 1, 0};
    asks[i] = (mdfan_level_t){1000000 + 100 * (int64_t)(i + 1), 100 * (uint64_t)(i + 1), i + 1, 0};
  }
  uint64_t interval = (uint64_t)(1e9 / rate), total = (uint64_t)(rate * seconds);
  uint64_t next = mdfan_monotonic_ns() + 1000000; /* the reader is spinning by then */
  for (uint64_t k = 1; k <= total; k++) {
    while (mdfan_monotonic_ns() < next) mdfan_cpu_relax();
    next += interval;
    bids[0].price = 990000 + (int64_t)(k & 1023); /* the top changes on every commit, as in the benchmark */
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
  struct lane top = {top_line, MDFAN_TOP_BYTES, calloc(cap, 8), cap, 0};
  struct lane book = {slot, SLOT_BYTES, calloc(cap, 8), cap, 0};
  if (!top.lat || !book.lat) die("MDFAN_ERR_SYSCALL", "out of memory");
  uint64_t *d = c2c();
  run_lane(&top, rate, seconds, writer_cpu);
  run_lane(&book, rate, seconds, writer_cpu);
  for (uint32_t i = 0; i < C2C_ROUNDS; i++) printf("c2c %" PRIu64 "\n", d[i]);
  for (uint64_t i = 0; i < top.n; i++) printf("top %" PRIu64 "\n", top.lat[i]);
  for (uint64_t i = 0; i < book.n; i++) printf("book %" PRIu64 "\n", book.lat[i]);
  printf("done %u %" PRIu64 " %" PRIu64 "\n", C2C_ROUNDS, top.n, book.n);
  return 0;
}
