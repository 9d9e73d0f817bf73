/*
 * c_reaction_strategy.c: the C strategy of `mdfan bench reaction`, from the ABI headers alone.
 *
 *   c_reaction_strategy SEGMENT REPLY [FAULT]
 *
 * Attaches to SEGMENT read-only (mdfan_attach.h) and to its top lines (mdfan_tops.h), maps the
 * benchmark's reply object /REPLY read-write (one line, native/bench/reaction_reply.h), prints
 * "ready", then spins on slot 0's top line: on each new commit it copies the line through the
 * seqlock and writes an order for it (the msg_index and best bid it saw) into the reply line. No
 * clock read on that path: the benchmark stamps the commit and the order's arrival itself. Exits 0
 * when the segment is CLOSED. FAULT (tests only): `wrong-index` orders for msg_index + 1,
 * `silent` never orders, `exit-after=N` exits 3 after N orders.
 * Errors: one line "MDFAN_ERR_...: message" on stderr, exit 2. Dies with its parent (PDEATHSIG).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "mdfan_abi.h"
#include "mdfan_attach.h"
#include "mdfan_seqlock.h"
#include "mdfan_tops.h"
#include "reaction_reply.h"
#include "peer_die.h"

#define STALE_NS ((uint64_t)MDFAN_STALE_AFTER_MS * 1000000ull)
/* The segment's state is looked at once per this many spins (a power of two): it changes once, at the end. */
#define SPINS_PER_STATE_LOOK 65536u

int main(int argc, char **argv) {
  if (argc != 3 && argc != 4) die("MDFAN_ERR_OPTIONS", "usage: c_reaction_strategy SEGMENT REPLY [FAULT]");
  const char *name = argv[1], *fault = argc == 4 ? argv[3] : "none";
  long exit_after = -1;
  int wrong_index = strcmp(fault, "wrong-index") == 0, silent = strcmp(fault, "silent") == 0;
  if (strncmp(fault, "exit-after=", 11) == 0) exit_after = strtol(fault + 11, NULL, 10);
  else if (!wrong_index && !silent && strcmp(fault, "none") != 0) die("MDFAN_ERR_OPTIONS", "unknown fault %s", fault);
  prctl(PR_SET_PDEATHSIG, SIGKILL); /* a spinner left behind would burn a core */
  if (getppid() == 1) die("MDFAN_ERR_WRITER_DEAD", "parent already gone");

  mdfan_segment_t seg;
  mdfan_attach_why_t why;
  if (mdfan_segment_try_attach(&seg, name, &why) != MDFAN_ATTACH_OK) die(why.code, "%s", why.msg);
  mdfan_tops_t tops;
  const char *code;
  char msg[512];
  if (mdfan_tops_open_segment(&tops, &seg, &code, msg, sizeof msg) != MDFAN_TOPS_OK) die(code, "%s", msg);
  char path[256];
  snprintf(path, sizeof path, "/%s", argv[2]);
  int fd = shm_open(path, O_RDWR, 0);
  if (fd < 0) die("MDFAN_ERR_NO_SEGMENT", "reply object %s: shm_open: %s", argv[2], strerror(errno));
  void *p = mmap(NULL, MDFAN_REACTION_REPLY_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
  if (p == MAP_FAILED) die("MDFAN_ERR_SYSCALL", "reply object %s: mmap: %s", argv[2], strerror(errno));
  close(fd);
  mdfan_reaction_reply_t *reply = (mdfan_reaction_reply_t *)p;

  const uint8_t *line = mdfan_top_line(&tops, 0);
  _Alignas(64) mdfan_top_t t;
  /* Only commits after "ready" are books to react to. acquire: pairs with the writer's W2. */
  uint32_t last = mdfan_load32(line, memory_order_acquire);
  /* The order's sequence: ours alone (relaxed: our own last store). */
  uint32_t seq = __atomic_load_n(&reply->seq, __ATOMIC_RELAXED);
  long orders = 0;
  printf("ready\n");
  fflush(stdout);
  for (uint32_t spins = 1;; spins++) {
    /* The poll: one acquire load of the line's seq (pairs with the writer's W2); only a new value is worth a read. */
    if (mdfan_load32(line, memory_order_acquire) != last) {
      uint32_t s;
      if (mdfan_seqlock_read(line, &t, MDFAN_TOP_BYTES, STALE_NS, &s) == MDFAN_SEQLOCK_STALE)
        die("MDFAN_ERR_STALE", "segment %s: slot 0's top line stayed mid-update (odd seq %u); its writer is stuck or dead", name, s);
      if (s != last) {
        last = s;
        if (silent) continue;
        /* The order: plain stores of its fields, then the sequence with a release store; pairs
         * with the benchmark's acquire load of seq (reaction.cc RR1), so its loads of the fields
         * after it see these. */
        reply->msg_index = t.msg_index + (wrong_index ? 1u : 0u);
        reply->bid_price = t.bid_price;
        __atomic_store_n(&reply->seq, ++seq, __ATOMIC_RELEASE);
        if (++orders == exit_after) return 3;
      }
    }
    /* CLOSED: the run is over (acquire: pairs with the writer's store of the state). */
    if (spins % SPINS_PER_STATE_LOOK == 0 && mdfan_load32(&seg.h->state, memory_order_acquire) == MDFAN_STATE_CLOSED) break;
  }
  munmap(p, MDFAN_REACTION_REPLY_BYTES);
  mdfan_tops_close(&tops);
  mdfan_segment_close(&seg);
  return 0;
}
