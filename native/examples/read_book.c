/*
 * read_book.c: the shortest whole mdfan reader in C11, from native/include/ and docs/ABI.md alone
 * (no addon, no TypeScript). It attaches to the segment, reads the directory and prints every
 * book once (or one instrument's), each through the seqlock.
 *
 *   read_book NAME [--symbol SYM]
 *
 * Output (stdout), one line per book, the format of `mdfan feed --dump-books`:
 *   msgIndex,SYMBOL,ask1px,ask1size,bid1px,bid1size,...   for all `levels` levels of the segment,
 * empty levels as 9999999999,0 (ask) and -9999999999,0 (bid), prices (signed) and sizes (unsigned)
 * as the slot's 64-bit integers, in the instrument's units (10^-price_decimals, 10^-size_decimals).
 * Errors: one line `MDFAN_ERR_...: message` on stderr, exit 2.
 *
 * Build: cc -std=c11 -O2 -Wall -Wextra -Werror -I native/include native/examples/read_book.c
 * Following commits, top lines, the event ring, the blocking wait and takeovers are in the full
 * reader, native/tools/mdfan_c_reader.c.
 */
#define _GNU_SOURCE /* F_OFD_GETLK in mdfan_attach.h */
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "mdfan_abi.h"
#include "mdfan_attach.h"
#include "mdfan_seqlock.h"

/* A validated copy of one slot: the slot header, then bids[levels], then asks[levels]. */
typedef struct {
  mdfan_slot_header_t h;
  mdfan_level_t lv[2 * MDFAN_MAX_LEVELS];
} snapshot_t;

static int fail(const char *code, const char *msg) {
  fprintf(stderr, "%s: %s\n", code, msg);
  return 2;
}

static void print_book(const mdfan_segment_t *s, const char *symbol, const snapshot_t *b) {
  uint32_t levels = s->levels;
  uint32_t bids = b->h.bid_count < levels ? b->h.bid_count : levels;
  uint32_t asks = b->h.ask_count < levels ? b->h.ask_count : levels;
  const mdfan_level_t *bid = &b->lv[0], *ask = &b->lv[levels];
  printf("%" PRIu64 ",%s", b->h.msg_index, symbol);
  for (uint32_t i = 0; i < levels; i++) {
    if (i < asks) printf(",%" PRId64 ",%" PRIu64, ask[i].price, ask[i].size);
    else fputs(",9999999999,0", stdout);
    if (i < bids) printf(",%" PRId64 ",%" PRIu64, bid[i].price, bid[i].size);
    else fputs(",-9999999999,0", stdout);
  }
  putchar('\n');
}

int main(int argc, char **argv) {
  const char *symbol = argc == 4 && strcmp(argv[2], "--symbol") == 0 ? argv[3] : NULL;
  if (argc != 2 && !symbol) return fail("MDFAN_ERR_OPTIONS", "usage: read_book NAME [--symbol SYM]");

  /* Open, map and validate in docs/ABI.md's order; a segment not READY yet is refused, not awaited. */
  mdfan_segment_t seg;
  mdfan_attach_why_t why;
  if (mdfan_segment_try_attach(&seg, argv[1], &why) != MDFAN_ATTACH_OK) return fail(why.code, why.msg);

  /* The directory: entries below instrument_count (acquire: each entry is complete before the
   * count that covers it is stored, with release). */
  uint32_t count = mdfan_load32(&seg.h->instrument_count, memory_order_acquire);
  if (count > seg.max_instruments) return fail("MDFAN_ERR_LAYOUT", "instrument_count exceeds max_instruments");
  const mdfan_dir_entry_t *dir = (const mdfan_dir_entry_t *)(seg.base + MDFAN_DIRECTORY_OFFSET);
  int found = 0;
  static snapshot_t book;
  for (uint32_t i = 0; i < count; i++) {
    char sym[MDFAN_SYMBOL_BYTES + 1];
    memcpy(sym, dir[i].symbol, MDFAN_SYMBOL_BYTES);
    sym[MDFAN_SYMBOL_BYTES] = '\0'; /* a full-length symbol has no NUL */
    if (symbol && strcmp(symbol, sym) != 0) continue;
    uint32_t slot = dir[i].slot_index;
    if (slot >= seg.max_instruments) return fail("MDFAN_ERR_LAYOUT", "a directory entry names a slot out of range");
    if (dir[i].price_decimals > MDFAN_MAX_DECIMALS || dir[i].size_decimals > MDFAN_MAX_DECIMALS)
      return fail("MDFAN_ERR_LAYOUT", "a directory entry has more decimals than MDFAN_MAX_DECIMALS");
    /* The seqlock read (docs/ABI.md "Reading a slot"): a copy between two equal even seqs. */
    const uint8_t *p = seg.base + seg.slots_offset + (uint64_t)slot * seg.stride;
    if (mdfan_seqlock_read(p, &book, seg.payload, (uint64_t)MDFAN_STALE_AFTER_MS * 1000000ull, NULL) == MDFAN_SEQLOCK_STALE)
      return fail("MDFAN_ERR_STALE", "a slot stayed mid-update past the stale bound");
    print_book(&seg, sym, &book);
    found = 1;
  }
  mdfan_segment_close(&seg);
  if (symbol && !found) return fail("MDFAN_ERR_OPTIONS", "the symbol is not in the segment's directory");
  return 0;
}
