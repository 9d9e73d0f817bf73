/*
 * reaction_reply.h: the reply line of `mdfan bench reaction`, for C11 and C++17. Not part of the
 * ABI: a benchmark's own object (/dev/shm/mdfan-bench-reaction-<pid>-<n>.reply), one 64-byte,
 * 64-aligned line at offset 0, written by the strategy under test (bench/peers/c_reaction_strategy.c,
 * bench/reaction-strategy-proc.ts) and read by the benchmark's writer thread (reaction.cc).
 * bench/reaction-reply.ts holds the same offsets for the JavaScript strategy.
 *
 * The order: msg_index and bid_price of the top the strategy reacted to, with plain stores, then
 * seq (+1) last with a release store (seq_cst in JavaScript: Atomics.store). The reader loads seq
 * with acquire and, once it moved, the two fields (relaxed): it sees the order that seq published.
 * One order per book: the writer commits the next book only after it has read this order, so the
 * strategy never rewrites the line while it is being read (no seqlock needed).
 */
#ifndef MDFAN_REACTION_REPLY_H
#define MDFAN_REACTION_REPLY_H

#include <stdint.h>

typedef struct {
  uint32_t seq;       /* 0  the order's sequence: stored last (release); pairs with the reader's acquire load */
  uint32_t reserved;  /* 4 */
  uint64_t msg_index; /* 8  the top line's msg_index the strategy reacted to */
  int64_t bid_price;  /* 16 the best bid it saw on that line */
  uint8_t pad[40];    /* 24 the rest of the line */
} mdfan_reaction_reply_t;

#define MDFAN_REACTION_REPLY_BYTES 64u

#ifdef __cplusplus
static_assert(sizeof(mdfan_reaction_reply_t) == MDFAN_REACTION_REPLY_BYTES, "one line");
#else
_Static_assert(sizeof(mdfan_reaction_reply_t) == MDFAN_REACTION_REPLY_BYTES, "one line");
#endif

#endif /* MDFAN_REACTION_REPLY_H */
