/*
 * c_latency_reader.c: the best case for an mdfan reader, for the peer benchmark.
 * A C program spinning on slot 0's seq of a live segment, written from mdfan_abi.h alone.
 *
 *   c_latency_reader SEGMENT CAPACITY [book|top]
 *
 * Attaches read-only (the segment must exist, be READY and have 10 levels; mdfan_attach.h), prints
 * "ready" on stdout, then spins: on each new even seq of slot 0 (book, the default) or of slot 0's
 * top-of-book line (top: /SEGMENT.tops, mdfan_tops.h) it copies the slot or line through the
 * seqlock and records CLOCK_MONOTONIC - publish_ts_ns (the writer's clock at commit) in a
 * preallocated array of CAPACITY values. When the header state is CLOSED it prints one latency (ns) per line, then
 * "done <observed> <corrupt> <dropped>" (dropped: observed past CAPACITY), and exits 0.
 * The writer fills number j of a side's levels (level * 3 + 0 price, 1 size, 2 orders) of commit k
 * (msg_index k) with payload_word(k, 16 + j) for the bids and payload_word(k, 46 + j) for the asks,
 * as bench/peers/native-c.ts: a copy that differs is counted corrupt (a top line: level 0's price
 * and size of both sides).
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
#include "mdfan_attach.h"
#include "mdfan_seqlock.h"
#include "mdfan_tops.h"
#include "peer_die.h"

#define LEVELS 10u
#define PAYLOAD_BYTES MDFAN_SLOT_PAYLOAD_BYTES(LEVELS) /* the slot's header and 2 x 10 levels */
#define BIDS_TAG 16u /* payload_word indices of the first bid and ask number: native-c.ts's BIDS_WORD, ASKS_WORD */
#define ASKS_TAG (BIDS_TAG + LEVELS * 3u)
#define MAX_CAPACITY 100000000ull
#define STALE_NS ((uint64_t)MDFAN_STALE_AFTER_MS * 1000000ull)

/* The same derivation as payloadWord() in bench/peers/payload.ts (mod 2^32). */
static inline uint32_t payload_word(uint32_t seq, uint32_t i) { return seq * 0x9E3779B1u + i * 40503u; }

/* Level i of one side of commit k, as the writer fills it from tag (BIDS_TAG or ASKS_TAG). */
static int level_intact(const mdfan_level_t *l, uint32_t k, uint32_t tag, uint32_t i) {
  uint32_t j = tag + i * 3u;
  return l->price == (int64_t)payload_word(k, j) && l->size == (uint64_t)payload_word(k, j + 1) && l->orders == payload_word(k, j + 2) && l->reserved == 0;
}

/* A copy of slot 0 made under the seqlock: intact if it is what the benchmark writer commits. */
static int intact(const uint8_t *copy) {
  mdfan_slot_header_t h;
  memcpy(&h, copy, sizeof h);
  if (h.bid_count != LEVELS || h.ask_count != LEVELS || h.exchange_ts_ns != h.msg_index) return 0;
  uint32_t k = (uint32_t)h.msg_index;
  const mdfan_level_t *bids = (const mdfan_level_t *)(copy + MDFAN_BIDS_OFFSET), *asks = (const mdfan_level_t *)(copy + MDFAN_ASKS_OFFSET(LEVELS));
  for (uint32_t i = 0; i < LEVELS; i++)
    if (!level_intact(&bids[i], k, BIDS_TAG, i) || !level_intact(&asks[i], k, ASKS_TAG, i)) return 0;
  return 1;
}

/* A copy of slot 0's top line: intact if it is level 0 of both sides of the commit it names. */
static int top_intact(const mdfan_top_t *t) {
  uint32_t k = (uint32_t)t->msg_index;
  return t->bid_count == LEVELS && t->ask_count == LEVELS && t->exchange_ts_ns == t->msg_index && t->bid_price == (int64_t)payload_word(k, BIDS_TAG) &&
         t->bid_size == (uint64_t)payload_word(k, BIDS_TAG + 1) && t->ask_price == (int64_t)payload_word(k, ASKS_TAG) &&
         t->ask_size == (uint64_t)payload_word(k, ASKS_TAG + 1);
}

int main(int argc, char **argv) {
  if (argc != 3 && argc != 4) die("MDFAN_ERR_OPTIONS", "usage: c_latency_reader SEGMENT CAPACITY [book|top]");
  const char *name = argv[1];
  char *end;
  errno = 0;
  unsigned long long capacity = strtoull(argv[2], &end, 10);
  if (errno || *end || capacity < 1 || capacity > MAX_CAPACITY) die("MDFAN_ERR_OPTIONS", "CAPACITY must be 1..%llu, got %s", MAX_CAPACITY, argv[2]);
  int top = argc == 4 && strcmp(argv[3], "top") == 0;
  if (argc == 4 && !top && strcmp(argv[3], "book") != 0) die("MDFAN_ERR_OPTIONS", "the layout is book or top, got %s", argv[3]);
  /* Die with the writer: it is our parent, and a spinner left behind would burn a core. */
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() == 1) die("MDFAN_ERR_WRITER_DEAD", "parent already gone");

  mdfan_segment_t seg;
  mdfan_attach_why_t why;
  if (mdfan_segment_try_attach(&seg, name, &why) != MDFAN_ATTACH_OK) die(why.code, "%s", why.msg);
  if (seg.levels != LEVELS) die("MDFAN_ERR_LAYOUT", "segment %s has %u levels; this reader expects %u", name, seg.levels, LEVELS);
  const mdfan_header_t *h = seg.h;
  mdfan_tops_t tops = {0};
  if (top) {
    const char *code;
    char msg[512];
    if (mdfan_tops_open(&tops, name, h, &code, msg, sizeof msg) != MDFAN_TOPS_OK) die(code, "%s", msg);
  }
  const uint8_t *line = top ? mdfan_top_line(&tops, 0) : seg.base + seg.slots_offset;
  size_t bytes = top ? MDFAN_TOP_BYTES : PAYLOAD_BYTES;

  int64_t *lat_ns = malloc(capacity * sizeof *lat_ns);
  if (!lat_ns) die("MDFAN_ERR_SYSCALL", "out of memory for %llu values", capacity);
  memset(lat_ns, 0, capacity * sizeof *lat_ns); /* fault the pages in now, not while measuring */
  printf("ready\n");
  fflush(stdout);

  _Alignas(64) uint8_t snap[PAYLOAD_BYTES]; /* a slot header or a top line, then levels */
  uint32_t last = mdfan_load32(line, memory_order_acquire); /* only commits after attaching count */
  uint64_t observed = 0, corrupt = 0, n = 0;
  for (;;) {
    /* CLOSED is stored after the last commit: the pass after loading it sees that commit. */
    int closed = mdfan_load32(&h->state, memory_order_acquire) == MDFAN_STATE_CLOSED;
    /* Poll: one acquire load of seq per pass; only a new value is worth a read. */
    if (mdfan_load32(line, memory_order_acquire) != last) {
      uint64_t t = mdfan_monotonic_ns();
      uint32_t seq;
      int64_t r = mdfan_seqlock_read(line, snap, bytes, STALE_NS, &seq);
      if (r == MDFAN_SEQLOCK_STALE)
        die("MDFAN_ERR_STALE", "segment %s: slot 0%s stayed mid-update (odd seq %u) for over %u ms; its writer is stuck or dead", name, top ? "'s top line" : "",
            seq, MDFAN_STALE_AFTER_MS);
      /* Retries: the commit was still under way (or overtook the copy) when the poll saw seq move;
       * its even seq was seen inside the read, at most one copy ago: take the time again. */
      if (r > 0) t = mdfan_monotonic_ns();
      if (seq != last) {
        last = seq;
        observed++;
        const mdfan_top_t *tl = (const mdfan_top_t *)snap;
        const mdfan_slot_header_t *sh = (const mdfan_slot_header_t *)snap;
        if (!(top ? top_intact(tl) : intact(snap))) corrupt++;
        else if (n < capacity) lat_ns[n++] = (int64_t)(t - (top ? tl->publish_ts_ns : sh->publish_ts_ns));
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
  mdfan_tops_close(&tops);
  mdfan_segment_close(&seg);
  return 0;
}
