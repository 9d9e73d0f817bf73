/*
 * mdfan_seqlock.h — the seqlock over one book slot (slot word 0 is `seq`), for C11 and C++17.
 *
 * One copy of the read loop for every native reader (the addon, native/examples/read_book.c,
 * native/tools/mdfan_c_reader.c, bench/peers/c_latency_reader.c); docs/ABI.md "Reading a slot"
 * has the prose. The GCC/Clang __atomic builtins are the same in C and C++, so this header needs
 * neither <stdatomic.h> nor <atomic>. clock_gettime is POSIX: with -std=c11, define _POSIX_C_SOURCE 199309L (or _GNU_SOURCE)
 * before the first #include.
 *
 * The protocol, with the names the comments below use:
 *   writer: W0 s = seq ; W1 seq = s+1 ; F1 ; payload (plain stores) ; W2 seq = s+2
 *   reader: R1 s1 = seq ; odd -> retry ; copy (plain loads) ; F2 ; R2 s2 = seq ;
 *           s1 != s2 -> retry, else the copy is exactly commit s1
 *
 * Every atomic access and fence this header makes, in the order the functions make them (each one
 * also carries a tag on the line above it, "[ID] order: ORDER KIND; pairs with: IDS.", and
 * test/seqlock-prose.test.ts holds the tags, this table and docs/ABI.md's copy of it to the calls):
 *
 *   access  function                   kind   order    pairs with
 *   R1      mdfan_seqlock_read         load   acquire  W2
 *   F2      mdfan_seqlock_read         fence  acquire  F1
 *   R2      mdfan_seqlock_read         load   relaxed  W1
 *   W0      mdfan_seqlock_write_begin  load   relaxed  none
 *   W1      mdfan_seqlock_write_begin  store  relaxed  R2
 *   F1      mdfan_seqlock_write_begin  fence  release  F2
 *   W0      mdfan_seqlock_write_open   load   relaxed  none
 *   W2      mdfan_seqlock_write_end    store  release  R1
 *
 * R1 (acquire) reading the W2 (release) that stored s1 makes the whole commit s1 visible to the
 * copy. If any load of the copy saw a payload store of a later commit, F1 (before that store)
 * synchronises with F2 (after that load), so that commit's W1 = s1+1 happens before R2 and R2
 * cannot return s1 (Boehm, "Can seqlocks get along with programming language memory models?",
 * 2012). Nothing here is seq_cst and nothing here is a full fence: on x86-64 every access is a
 * plain MOV and both fences compile to nothing (TSO); on arm64 (GCC/Clang) R1 is an LDAR (or
 * LDAPR), F2 a DMB ISHLD, F1 a DMB ISH, W2 an STLR, and the fences must stay. The wake protocol's
 * StoreLoad fence is not in this header: the writer makes it once per input message, after all
 * its commits and before it loads the registry's sleeper counts (mdfan_abi.h, reader registry;
 * mdfan's writer: SegmentWriter.wakeIfSleepers, a seq_cst Atomics.store to a private word, which
 * is an XCHG on x86-64; a C writer would use a seq_cst fence). The copy races with the writer by
 * design: a copy that may be torn is discarded, never returned.
 */
#ifndef MDFAN_SEQLOCK_H
#define MDFAN_SEQLOCK_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "mdfan_abi.h"

/* mdfan_seqlock_read's answer when one odd seq outlived the stale bound (MDFAN_ERR_STALE). */
#define MDFAN_SEQLOCK_STALE (-1)

/* CLOCK_MONOTONIC in ns: the clock of heartbeat_ns, publish_ts_ns and the stale bound. */
static inline uint64_t mdfan_monotonic_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The spin hint: the sibling hyperthread gets the core, and the spinning core stops hammering the
 * slot's line while the writer needs it. */
static inline void mdfan_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield" ::: "memory");
#endif
}

/*
 * The reader: copies `bytes` of the slot at `slot` (its payload, MDFAN_SLOT_PAYLOAD_BYTES(levels);
 * 4-aligned) into `dst`. Returns the retries it took (odd seq seen, or a torn copy), with the
 * validated even seq in dst's first word and in *seq (if seq is not NULL). Returns
 * MDFAN_SEQLOCK_STALE if the seq stayed at one odd value for longer than stale_ns — a writer stuck
 * or dead inside the slot — with that odd value in *seq and no book in dst. A busy writer shows a
 * new odd value each time and never trips the bound; the clock is read only once every
 * MDFAN_STALE_CHECK_SPINS spins on the same odd value, so the bound costs nothing on the fast path.
 */
static inline int64_t mdfan_seqlock_read(const void *slot, void *dst, size_t bytes, uint64_t stale_ns, uint32_t *seq) {
  const uint32_t *seqp = (const uint32_t *)slot;
  int64_t retries = 0;
  uint32_t odd_seq = 0, odd_spins = 0; /* 0 is even: the first odd value always starts afresh */
  uint64_t odd_since = 0;              /* 0: the clock was not read yet for this odd value */
  for (;;) {
    /* [R1] order: acquire load; pairs with: W2.
     * Reading the W2 that stored s1 makes commit s1's payload visible to the copy below. */
    uint32_t s1 = __atomic_load_n(seqp, __ATOMIC_ACQUIRE);
    if (s1 & 1u) { /* the writer is inside this slot */
      retries++;
      if (s1 != odd_seq) {
        odd_seq = s1;
        odd_spins = 0;
        odd_since = 0;
      } else if ((++odd_spins & (MDFAN_STALE_CHECK_SPINS - 1u)) == 0) {
        uint64_t now = mdfan_monotonic_ns();
        if (odd_since == 0) {
          odd_since = now;
        } else if (now - odd_since > stale_ns) {
          if (seq) *seq = s1;
          return MDFAN_SEQLOCK_STALE;
        }
      }
      mdfan_cpu_relax();
      continue;
    }
#ifdef MDFAN_SEQLOCK_TEST_MIDCOPY
    /* Test builds only: a hook between the two halves of the copy, so a test can make a copy race
     * a commit every time (a reader that skipped R2 would then return it torn, every time). */
    size_t half = (bytes / 2u) & ~(size_t)3u;
    memcpy(dst, slot, half);
    MDFAN_SEQLOCK_TEST_MIDCOPY(retries);
    memcpy((char *)dst + half, (const char *)slot + half, bytes - half);
#else
    memcpy(dst, slot, bytes); /* plain loads, racing the writer: kept only if R2 validates them */
#endif
    /* [F2] order: acquire fence; pairs with: F1.
     * Every load of the copy happens before R2: a copy that saw any payload store of a later commit
     * has that commit's F1 synchronise with F2, so its W1 happens before R2. */
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    /* [R2] order: relaxed load; pairs with: W1.
     * Ordered after the copy by F2 (and W1 before the payload by F1), so it sees the W1 of any
     * commit the copy overlapped: the copy is then rejected. */
    uint32_t s2 = __atomic_load_n(seqp, __ATOMIC_RELAXED);
    if (s1 == s2) {
      memcpy(dst, &s1, sizeof s1); /* the copy's seq is the one validated */
      if (seq) *seq = s1;
      return retries;
    }
    retries++; /* torn: a commit began during the copy */
  }
}

/*
 * The writer (one process holds the writer lock, so one writer per slot): read its own seq s; if s
 * is even, W1 (begin); write the payload with plain stores; W2 (end). A slot found odd — a dead
 * writer's half commit, met at takeover — is already "inside": skip W1 and end it from that odd
 * value once the payload is rewritten (making it even first would publish the dead writer's torn
 * payload). mdfan's writer commits through mdfan_commit_book below (the addon's commitBook), so
 * there is one commit for every writer; no store of it is a full fence: on x86-64 each is a plain
 * MOV, so the stores to the top line and to the slot's lines drain from the store buffer in order
 * and their line transfers overlap. The wake protocol's StoreLoad fence comes once per input
 * message, after all its commits (mdfan_abi.h, reader registry).
 */

/* W0, W1, F1: opens a commit on a slot whose seq is even. Returns the new, odd, seq. */
static inline uint32_t mdfan_seqlock_write_begin(uint32_t *seqp) {
  /* [W0] order: relaxed load; pairs with: none.
   * The single writer reads back its own last store (or a dead writer's, at takeover). */
  uint32_t s = __atomic_load_n(seqp, __ATOMIC_RELAXED) + 1u;
  /* [W1] order: relaxed store; pairs with: R2.
   * Ordered before the payload by F1; a reader's R2 that sees it rejects the copy. */
  __atomic_store_n(seqp, s, __ATOMIC_RELAXED);
  /* [F1] order: release fence; pairs with: F2.
   * W1 is ordered before every payload store that follows: a copy that saw any payload store of
   * this commit has R2 see s, or later. */
  __atomic_thread_fence(__ATOMIC_RELEASE);
  return s;
}

/* W0, then W0 W1 F1 (mdfan_seqlock_write_begin) on an even seq; on an odd one (a dead writer's
 * half commit) nothing more: already inside. */
static inline uint32_t mdfan_seqlock_write_open(uint32_t *seqp) {
  /* [W0] order: relaxed load; pairs with: none.
   * Our own last store (or the dead writer's). */
  uint32_t s = __atomic_load_n(seqp, __ATOMIC_RELAXED);
  return (s & 1u) ? s : mdfan_seqlock_write_begin(seqp);
}

/* W2: closes the commit opened at odd seq `odd`. */
static inline void mdfan_seqlock_write_end(uint32_t *seqp, uint32_t odd) {
  /* [W2] order: release store; pairs with: R1.
   * Every payload store is ordered before the even seq. Not seq_cst on purpose: a seq_cst store
   * is a full fence on x86-64 (XCHG) that would hold the writer until every line of the commit had
   * been transferred. The wake protocol's StoreLoad fence comes once per input message, after all
   * its commits, before the writer loads the sleeper counts (mdfan_abi.h). */
  __atomic_store_n(seqp, odd + 1u, __ATOMIC_RELEASE);
}

/* The top line's fields from a best bid and ask (size 0: that side empty), composed on the stack. */
static inline void mdfan_top_fill(mdfan_top_t *t, uint32_t flags, uint8_t bid_count, uint8_t ask_count, uint64_t msg_index,
                                  uint64_t exchange_ts_ns, uint64_t publish_ts_ns, const mdfan_level_t *bid,
                                  const mdfan_level_t *ask) {
  t->flags = (uint16_t)flags;
  t->bid_count = bid_count;
  t->ask_count = ask_count;
  t->msg_index = msg_index;
  t->exchange_ts_ns = exchange_ts_ns;
  t->publish_ts_ns = publish_ts_ns;
  t->bid_price = bid->price;
  t->bid_size = bid->size;
  t->ask_price = ask->price;
  t->ask_size = ask->size;
}

/* The top line's commit: `t` composed on the stack, copied after W1 in a few wide stores. */
static inline void mdfan_commit_top_line(mdfan_top_t *top, const mdfan_top_t *t) {
  uint32_t odd = mdfan_seqlock_write_open(&top->seq);
  memcpy((uint8_t *)top + sizeof t->seq, (const uint8_t *)t + sizeof t->seq, sizeof *t - sizeof t->seq);
  mdfan_seqlock_write_end(&top->seq, odd);
}

/*
 * One book commit, as mdfan's writer makes it: the top line first when the top changed (unless
 * keep_top: the line already shows a newer best bid/offer than this book, MDFAN_COMMIT_BOOK_ONLY),
 * then the slot. `slot` is the slot's first byte, `top` its top line (NULL: none); bids and asks
 * are `levels` levels each (the slot's own format, best first), of which bid_count / ask_count are
 * in use (at most `levels`): the rest of the slot's levels are zeroed, so a reader never sees an
 * old book's tail. Returns 1 if the top line was committed, else 0.
 * Each header line is composed on the stack and copied after W1 in a few wide stores: a reader
 * spinning on the line takes it back between any two of the writer's stores, so every store after
 * W1 may cost a line transfer (one store per field measured about 3x slower than this on a spinning
 * reader's line: docs/BENCHMARKS.md).
 * mdfan_commit_book_from writes only the levels from bid_from / ask_from on (levels: none of that
 * side): for a writer that knows the slot already holds the levels before them (it wrote them, and
 * the slot's update_count says nobody committed since) and that only a change at that rank moved
 * the rest. The slot ends exactly as a whole commit would leave it, in fewer line transfers.
 * mdfan_commit_book is the whole commit: from 0 on both sides.
 */
static inline int mdfan_commit_book_from(uint8_t *slot, mdfan_top_t *top, uint32_t levels, const mdfan_level_t *bids,
                                         uint32_t bid_count, const mdfan_level_t *asks, uint32_t ask_count,
                                         uint32_t bid_from, uint32_t ask_from, uint64_t msg_index,
                                         uint64_t exchange_ts_ns, uint64_t publish_ts_ns, uint32_t flags,
                                         uint32_t instrument_index, int keep_top) {
  mdfan_slot_header_t h;
  memcpy(&h, slot, sizeof h); /* our own last stores: a plain read is exact (update_count) */
  if (bid_count > levels) bid_count = levels;
  if (ask_count > levels) ask_count = levels;
  static const mdfan_level_t none = {0, 0, 0, 0};
  const mdfan_level_t *b0 = bid_count ? bids : &none, *a0 = ask_count ? asks : &none;
  h.flags = flags;
  h.msg_index = msg_index;
  h.exchange_ts_ns = exchange_ts_ns;
  h.publish_ts_ns = publish_ts_ns;
  h.bid_count = bid_count;
  h.ask_count = ask_count;
  h.update_count += 1;
  h.instrument_index = instrument_index;
  int top_changed = 0;
  if (top && keep_top) {
    /* The line shows a newer best bid/offer: it keeps its prices, but not an old STALE mark. */
    mdfan_top_t t;
    memcpy(&t, top, sizeof t);
    if (t.seq != 0 && t.flags != (uint16_t)flags) {
      t.flags = (uint16_t)flags;
      t.publish_ts_ns = publish_ts_ns;
      mdfan_commit_top_line(top, &t);
      top_changed = 1;
    }
  } else if (top) {
    mdfan_top_t t;
    memcpy(&t, top, sizeof t); /* our own last stores, as for the slot */
    uint8_t bc = (uint8_t)bid_count, ac = (uint8_t)ask_count; /* levels <= MDFAN_MAX_LEVELS <= 255 */
    /* A top that did not change is not rewritten: its readers are not disturbed (nor woken). seq 0:
     * never committed. */
    top_changed = t.seq == 0 || t.flags != (uint16_t)flags || t.bid_count != bc || t.ask_count != ac ||
                  t.bid_price != b0->price || t.bid_size != b0->size || t.ask_price != a0->price ||
                  t.ask_size != a0->size;
    if (top_changed) {
      mdfan_top_fill(&t, flags, bc, ac, msg_index, exchange_ts_ns, publish_ts_ns, b0, a0);
      mdfan_commit_top_line(top, &t);
    }
  }
#ifdef MDFAN_SEQLOCK_TEST_BETWEEN_COMMITS
  /* Test builds only (the addon defines it, branching on a flag set once at init): a hook between
   * the top line's commit and the slot's, where a test reads both (the line must be the newer). */
  MDFAN_SEQLOCK_TEST_BETWEEN_COMMITS(h.update_count);
#endif
  uint32_t *seqp = (uint32_t *)slot;
  uint32_t odd = mdfan_seqlock_write_open(seqp);
  memcpy(slot + sizeof h.seq, (const uint8_t *)&h + sizeof h.seq, sizeof h - sizeof h.seq);
  uint8_t *bid_levels = slot + MDFAN_BIDS_OFFSET, *ask_levels = slot + MDFAN_ASKS_OFFSET(levels);
  if (bid_from < levels) {
    size_t from = (size_t)bid_from * MDFAN_LEVEL_BYTES, end = (size_t)levels * MDFAN_LEVEL_BYTES;
    size_t used = bid_count > bid_from ? (size_t)bid_count * MDFAN_LEVEL_BYTES : from;
    if (bid_levels != (const uint8_t *)bids) memcpy(bid_levels + from, (const uint8_t *)bids + from, used - from); /* bids may be the slot's own */
    memset(bid_levels + used, 0, end - used);
  }
  if (ask_from < levels) {
    size_t from = (size_t)ask_from * MDFAN_LEVEL_BYTES, end = (size_t)levels * MDFAN_LEVEL_BYTES;
    size_t used = ask_count > ask_from ? (size_t)ask_count * MDFAN_LEVEL_BYTES : from;
    if (ask_levels != (const uint8_t *)asks) memcpy(ask_levels + from, (const uint8_t *)asks + from, used - from);
    memset(ask_levels + used, 0, end - used);
  }
  mdfan_seqlock_write_end(seqp, odd);
  return top_changed;
}

static inline int mdfan_commit_book(uint8_t *slot, mdfan_top_t *top, uint32_t levels, const mdfan_level_t *bids,
                                    uint32_t bid_count, const mdfan_level_t *asks, uint32_t ask_count,
                                    uint64_t msg_index, uint64_t exchange_ts_ns, uint64_t publish_ts_ns,
                                    uint32_t flags, uint32_t instrument_index, int keep_top) {
  return mdfan_commit_book_from(slot, top, levels, bids, bid_count, asks, ask_count, 0, 0, msg_index, exchange_ts_ns,
                                publish_ts_ns, flags, instrument_index, keep_top);
}

/*
 * A top line committed alone (MDFAN_COMMIT_TOP_ONLY): a venue's best bid/offer that is newer than
 * its book (Binance @bookTicker). `bid` / `ask` are the best levels (size 0: that side is empty);
 * flags are the slot's current ones, and the counts the book's, at least 1 for a side shown.
 * The slot is not touched. Returns 1 if the line was committed (0: it already showed exactly this).
 */
static inline int mdfan_commit_top(const uint8_t *slot, mdfan_top_t *top, const mdfan_level_t *bid,
                                   const mdfan_level_t *ask, uint64_t msg_index, uint64_t exchange_ts_ns,
                                   uint64_t publish_ts_ns) {
  mdfan_slot_header_t h;
  memcpy(&h, slot, sizeof h); /* our own last stores */
  mdfan_top_t t;
  memcpy(&t, top, sizeof t);
  /* A side the ticker shows empty counts 0 (its price and size are 0), whatever the book holds. */
  uint8_t bc = (uint8_t)(bid->size ? (h.bid_count ? h.bid_count : 1u) : 0u);
  uint8_t ac = (uint8_t)(ask->size ? (h.ask_count ? h.ask_count : 1u) : 0u);
  /* An empty side shows price 0, as a book commit's does. */
  mdfan_level_t b = {bid->size ? bid->price : 0, bid->size, 0, 0}, a = {ask->size ? ask->price : 0, ask->size, 0, 0};
  if (t.seq != 0 && t.flags == (uint16_t)h.flags && t.bid_count == bc && t.ask_count == ac && t.bid_price == b.price &&
      t.bid_size == b.size && t.ask_price == a.price && t.ask_size == a.size)
    return 0;
  mdfan_top_fill(&t, h.flags, bc, ac, msg_index, exchange_ts_ns, publish_ts_ns, &b, &a);
  mdfan_commit_top_line(top, &t);
  return 1;
}

#endif /* MDFAN_SEQLOCK_H */
