/*
 * mdfan_seqlock.h — the seqlock over one book slot (slot word 0 is `seq`), for C11 and C++17.
 *
 * One copy of the read loop for every native reader (the addon, native/examples/read_book.c,
 * bench/peers/c_latency_reader.c); docs/ABI.md "Reading a slot" has the prose. The GCC/Clang
 * __atomic builtins are the same in C and C++, so this header needs neither <stdatomic.h> nor
 * <atomic>. clock_gettime is POSIX: with -std=c11, define _POSIX_C_SOURCE 199309L (or _GNU_SOURCE)
 * before the first #include.
 *
 * The accesses, named as in the comments below:
 *   writer: W1 seq = s+1 (relaxed) ; F1 release fence ; payload (plain stores) ; W2 seq = s+2 (seq_cst)
 *   reader: R1 s1 = seq (acquire) ; odd -> retry ; copy (plain loads) ; F2 acquire fence ;
 *           R2 s2 = seq (relaxed) ; s1 != s2 -> retry, else the copy is exactly commit s1
 * R1 reading W2 makes the whole commit s1 visible to the copy. If any load of the copy saw a
 * payload store of a later commit, F1 (before that store) synchronises with F2 (after that load),
 * so that commit's W1 = s1+1 happens before R2 and R2 cannot return s1 (Boehm, "Can seqlocks get
 * along with programming language memory models?", 2012). On x86-64 the fences compile to nothing
 * (TSO); on arm64 they are real barriers and must stay. The copy races with the writer by design:
 * a copy that may be torn is discarded, never returned.
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
    /* R1, acquire: pairs with the W2 (seq_cst store) that wrote s1, so the copy sees commit s1. */
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
    memcpy(dst, slot, bytes); /* plain loads, racing the writer: kept only if R2 validates them */
    /* F2, acquire fence: every load of the copy happens before R2; pairs with the writer's F1. */
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    /* R2, relaxed: ordered after the copy by F2; it sees W1 of any commit the copy overlapped. */
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
 * The writer (one process holds the writer lock, so one writer per slot), as SlotWriter.commit in
 * native/segment/seqlock.ts does it: read its own seq s; if s is even, W1 (begin); write the
 * payload with plain stores; W2 (end). A slot found odd — a dead writer's half commit, met at
 * takeover — is already "inside": skip W1 and end it from that odd value once the payload is
 * rewritten (making it even first would publish the dead writer's torn payload).
 * On x86-64 the TypeScript writer's W1 is an Atomics.store (seq_cst, an XCHG: a full fence); where
 * the CPU is not TSO it calls the addon's writeBegin, which is mdfan_seqlock_write_begin.
 */

/* W1 + F1: opens a commit on a slot whose seq is even. Returns the new, odd, seq. */
static inline uint32_t mdfan_seqlock_write_begin(uint32_t *seqp) {
  /* relaxed load: the single writer reads back its own last store */
  uint32_t s = __atomic_load_n(seqp, __ATOMIC_RELAXED) + 1u;
  /* W1, relaxed store: ordered before the payload by F1; a reader's R2 that sees it rejects the copy */
  __atomic_store_n(seqp, s, __ATOMIC_RELAXED);
  /* F1, release fence: W1 is visible before every payload store that follows; pairs with the
   * reader's F2 (a copy that saw any payload store of this commit has R2 see s, or later). */
  __atomic_thread_fence(__ATOMIC_RELEASE);
  return s;
}

/* W2: closes the commit opened at odd seq `odd`. */
static inline void mdfan_seqlock_write_end(uint32_t *seqp, uint32_t odd) {
  /* W2, seq_cst store (implies release): the payload is visible before the even seq; pairs with
   * R1's acquire. seq_cst, not only release: the wake protocol (mdfan_abi.h) needs it ordered
   * before the writer's seq_cst load of the registry's sleepers that follows the commit. */
  __atomic_store_n(seqp, odd + 1u, __ATOMIC_SEQ_CST);
}

#endif /* MDFAN_SEQLOCK_H */
