/*
 * mdfan_c_reader.c: the whole C reader, every mode the tests drive (top lines, the event ring, the
 * blocking wait, following takeovers), written from native/include/ and docs/ABI.md alone (no
 * addon, no TypeScript): the proof that the ABI is language-neutral. The short example of the
 * same reading is native/examples/read_book.c.
 *
 *   mdfan_c_reader NAME [--top] [--symbol SYM] [--follow N] [--timeout-ms T] [--stale-ms S]
 *             [--wait spin|block] [--sleep-ms Z]
 *   mdfan_c_reader NAME --events N [--from oldest|newest] [--symbol SYM] [--timeout-ms T] [--wait spin|block]
 *             [--sleep-ms Z]
 *
 *   NAME            the POSIX shared-memory object /NAME (/dev/shm/NAME on Linux)
 *   --top           read the top-of-book lines (/NAME.tops: mdfan_tops.h) instead of the books:
 *                   one line of level 0 per book, which the writer commits before the book when
 *                   the top changed, or alone from a venue's faster best bid/offer (the line may
 *                   then be newer than the book); --follow then follows top changes alone, and
 *                   --wait block sleeps on the tops' futex word (woken by top changes only)
 *   --symbol SYM    only this instrument (default: every instrument in the directory)
 *   --writer-uid U  the writer runs as user U: accept a segment U owns (default: only this user's
 *                   or root's; any other owner, or a segment anyone may write, is refused with
 *                   MDFAN_ERR_UNSAFE_OBJECT: its owner could forge books or shrink it)
 *   --follow N      keep polling; print a line each time a slot's seq moves to a new even value,
 *                   until N lines were printed or the segment is CLOSED (then exit 0). A new
 *                   writer's takeover is followed (a new generation: every book printed anew, a
 *                   line claimed in its registry); so is a new object of another layout under the
 *                   name (CLOSED with MDFAN_HEADER_REPLACED: the name is attached anew)
 *   --timeout-ms T  how long to wait for the segment to exist and become READY, and for SYM to
 *                   appear in the directory (default 5000)
 *   --stale-ms S    how long one odd seq may last before MDFAN_ERR_STALE (default
 *                   MDFAN_STALE_AFTER_MS from mdfan_abi.h, 100, as every mdfan reader)
 *   --wait W        how --follow waits for the next commit: spin (default: poll the seq words,
 *                   one core busy) or block (claim a line of the reader registry, a sealed memfd
 *                   the writer hands over its control socket, mapped read-write, until exit, and
 *                   sleep on the futex word notify_seq whenever there is nothing to read:
 *                   mdfan_wait.h; without a control socket, or with a full registry, a line on
 *                   stderr says so and the reader spins, trying again every 100 ms)
 *   --sleep-ms Z    with --wait block, the longest sleep before the reader looks again, so a dead
 *                   writer (which wakes nobody) is noticed (default MDFAN_HEARTBEAT_TIMEOUT_MS, 1000)
 *   --events N      instead of books, follow the event ring /NAME.events (mdfan_events.h)
 *                   and print N event lines, or fewer if the segment goes CLOSED and the ring is
 *                   drained (then exit 0). With --symbol, only that instrument's events and the
 *                   system events (which have none). --wait and --sleep-ms apply as to --follow.
 *   --from F        with --events, where to start: oldest (default: the oldest record still in the
 *                   ring) or newest (only events appended after the reader opened the ring)
 *
 * Output (stdout), one line per book, the format of `mdfan feed --dump-books`:
 *   msgIndex,SYMBOL,ask1px,ask1size,bid1px,bid1size,...   for all `levels` levels of the segment,
 * empty levels as 9999999999,0 (ask) and -9999999999,0 (bid), prices (signed) and sizes (unsigned)
 * as the 64-bit integers of the slot, in the instrument's units (10^-price_decimals, 10^-size_decimals).
 * Without --follow every instrument selected is printed once (a slot never committed reads as an
 * empty book with msgIndex 0). With --follow, a slot is printed the first time it is seen
 * committed (seq != 0) and then on every new even seq the poll observes (a fast writer's
 * intermediate commits may be skipped: a seqlock keeps only the latest book). With --top, the same
 * line for one level (`mdfan read --top --record`'s), from the top line.
 * At the end, on stderr: retries=<n> reads=<n> (seqlock retries, validated slot copies).
 *
 * With --events, one line per event in the format of `mdfan read --record-events`
 * (lib/event-line.ts), symbol and price_decimals from the directory, prices in the instrument's
 * units (the record's 1e-9 price times 10^price_decimals, rounded half up), sizes the record's u64:
 *   msgIndex,SYMBOL,T,price,size,KIND  msgIndex,SYMBOL,H,STATE  msgIndex,,S,CODE
 *   msgIndex,SYMBOL,O,ACTION,SIDE,price,size,ref  (price empty when the record has none)
 * and `LAPPED,<n>` where the writer overwrote <n> events before the reader got to them (not
 * counted in N). Trades flagged not printable are left out, as in that format. A new writer
 * generation (takeover) is followed: the old ring is finished, the new one read from its oldest
 * record. At the end, on stderr, a second line: events read=<n> lost=<n> (whole records read,
 * filtered ones included; events lost to lapping).
 *
 * Exit codes: 0 done; 2 refused or failed to attach (MDFAN_ERR_NO_SEGMENT, _BAD_MAGIC,
 * _ABI_VERSION (another major: a 1.x segment), _SEGMENT_SIZE, _NOT_READY, _PERMISSION,
 * _UNSAFE_OBJECT, _LAYOUT (also a directory entry with a slot or decimals out of range), unknown symbol or bad
 * arguments: MDFAN_ERR_OPTIONS; with --top, a writer that keeps no top lines: MDFAN_ERR_NO_SEGMENT
 * "segment NAME has no top-of-book lines", and the same refusals of the lines; with --events, a segment whose writer keeps no event ring:
 * MDFAN_ERR_NO_SEGMENT "segment NAME has no event ring", and the same refusals of the ring
 * itself); 3 failed while reading (MDFAN_ERR_STALE: a seq stayed odd;
 * MDFAN_ERR_WRITER_DEAD: the writer lock stayed free for --timeout-ms while the segment was not
 * CLOSED; MDFAN_ERR_SYSCALL: fcntl or futex failed; with --events, a new writer that keeps no
 * ring or a ring it refuses). Errors are one line `MDFAN_ERR_...: message` on stderr.
 *
 * Build: cc -std=c11 -O2 -Wall -Wextra -Werror -I native/include native/tools/mdfan_c_reader.c
 * (the seqlock read is mdfan_seqlock.h's; attaching and validating is in mdfan_attach.h, the
 * blocking wait in mdfan_wait.h, the top lines in mdfan_tops.h and the event ring in
 * mdfan_events.h, all in native/include/)
 * Platforms: Linux on x86-64 or arm64 (32- and 64-bit atomic loads there are plain loads, which
 * a PROT_READ mapping allows; see docs/ABI.md "Atomics on a read-only mapping").
 */
#define _GNU_SOURCE /* F_OFD_GETLK, syscall() */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mdfan_abi.h"
#include "mdfan_attach.h"
#include "mdfan_events.h"
#include "mdfan_seqlock.h"
#include "mdfan_tops.h"
#include "mdfan_wait.h"

/* ---- small helpers ------------------------------------------------------------------------ */

#define EXIT_REFUSED 2
#define EXIT_READ_FAILED 3
#define POLL_NS 10000000ull            /* 10 ms between attach attempts, as the TypeScript reader */
#define LIVENESS_EVERY_NS 100000000ull /* follow mode: look at the writer lock every 100 ms */

static uint64_t g_retries, g_reads;
static const mdfan_events_t *g_ring; /* --events: its counts go on the last line */

static void sleep_ns(uint64_t ns) {
  struct timespec ts = {(time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull)};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

static void print_counts(void) {
  fprintf(stderr, "retries=%" PRIu64 " reads=%" PRIu64 "\n", g_retries, g_reads);
  if (g_ring) fprintf(stderr, "events read=%" PRIu64 " lost=%" PRIu64 "\n", g_ring->read, g_ring->lost);
}

/* Prints `CODE: message` and the counts line, then exits. */
static void die(int status, const char *code, const char *fmt, ...) {
  va_list ap;
  fflush(stdout);
  fprintf(stderr, "%s: ", code);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  print_counts();
  exit(status);
}

/* ---- the segment (mdfan_attach.h) ------------------------------------------------------------ */

/* Why the last attach or ring opening did not succeed (code and message). */
static mdfan_attach_why_t g_why;

/* Attaches, retrying what may still be coming up until timeout_ms; dies with the reason. */
static uid_t g_writer_uid = (uid_t)-1;

static void attach(mdfan_segment_t *s, const char *name, uint64_t timeout_ms) {
  uint64_t deadline = mdfan_monotonic_ns() + timeout_ms * 1000000ull;
  for (;;) {
    int r = mdfan_segment_try_attach_as(s, name, g_writer_uid, &g_why);
    if (r == MDFAN_ATTACH_OK) return;
    if (r == MDFAN_ATTACH_FAIL) die(EXIT_REFUSED, g_why.code, "%s", g_why.msg);
    if (mdfan_monotonic_ns() >= deadline) {
      if (strcmp(g_why.code, "MDFAN_ERR_NO_SEGMENT") == 0)
        die(EXIT_REFUSED, "MDFAN_ERR_NO_SEGMENT", "segment %s did not appear within %" PRIu64 " ms", name, timeout_ms);
      die(EXIT_REFUSED, "MDFAN_ERR_NOT_READY", "segment %s did not become READY within %" PRIu64 " ms (%s: %s)", name, timeout_ms, g_why.code, g_why.msg);
    }
    sleep_ns(POLL_NS);
  }
}

static int writer_lock_held(const mdfan_segment_t *s) {
  int held = mdfan_segment_writer_lock_held(s);
  if (held < 0) die(EXIT_READ_FAILED, "MDFAN_ERR_SYSCALL", "segment %s: fcntl(F_OFD_GETLK): %s", s->name, strerror(errno));
  return held;
}

/* ---- the directory -------------------------------------------------------------------------- */

typedef struct {
  char symbol[MDFAN_SYMBOL_BYTES + 1];
  uint32_t slot;
  uint8_t price_decimals, size_decimals; /* range-checked: at most MDFAN_MAX_DECIMALS */
} target_t;

/* Reads the directory entries below instrument_count into `out`; with `symbol`, only that
 * instrument. A takeover rewrites the directory, so the read is bracketed by the generation, like
 * a seqlock (docs/ABI.md "Reading the directory"): g1 (acquire), state must be READY (or CLOSED:
 * final), count (acquire), entries, acquire fence, g2; kept only if g1 == g2. Returns how many
 * entries matched, or -1 if the segment is neither or a takeover ran meanwhile (read again). */
static int64_t read_directory(const mdfan_segment_t *s, const char *symbol, target_t *out, uint32_t *generation) {
  uint32_t g1 = mdfan_load32(&s->h->generation, memory_order_acquire);
  uint32_t state = mdfan_load32(&s->h->state, memory_order_acquire);
  if (state != MDFAN_STATE_READY && state != MDFAN_STATE_CLOSED) return -1;
  uint32_t count = mdfan_load32(&s->h->instrument_count, memory_order_acquire);
  if (count > s->max_instruments)
    die(EXIT_REFUSED, "MDFAN_ERR_LAYOUT", "segment %s: header field instrument_count is %u, expected <= max_instruments (%u)", s->name, count,
        s->max_instruments);
  const mdfan_dir_entry_t *dir = (const mdfan_dir_entry_t *)(s->base + MDFAN_DIRECTORY_OFFSET);
  uint32_t n = 0;
  for (uint32_t i = 0; i < count; i++) {
    char sym[MDFAN_SYMBOL_BYTES + 1];
    memcpy(sym, dir[i].symbol, MDFAN_SYMBOL_BYTES);
    sym[MDFAN_SYMBOL_BYTES] = '\0'; /* a full-length symbol has no NUL */
    uint32_t slot = dir[i].slot_index;
    uint8_t price_decimals = dir[i].price_decimals, size_decimals = dir[i].size_decimals;
    if (symbol && strcmp(symbol, sym) != 0) continue;
    memcpy(out[n].symbol, sym, sizeof sym);
    out[n].slot = slot;
    out[n].price_decimals = price_decimals;
    out[n].size_decimals = size_decimals;
    n++;
    if (symbol) break;
  }
  atomic_thread_fence(memory_order_acquire);
  if (mdfan_load32(&s->h->generation, memory_order_relaxed) != g1) return -1;
  for (uint32_t i = 0; i < n; i++) { /* range-check only a consistent copy */
    if (out[i].slot >= s->max_instruments)
      die(EXIT_REFUSED, "MDFAN_ERR_LAYOUT", "segment %s: directory entry for %s names slot %u, outside 0..%u", s->name, out[i].symbol, out[i].slot,
          s->max_instruments - 1);
    if (out[i].price_decimals > MDFAN_MAX_DECIMALS || out[i].size_decimals > MDFAN_MAX_DECIMALS)
      die(EXIT_REFUSED, "MDFAN_ERR_LAYOUT", "segment %s: directory entry for %s has price_decimals %u and size_decimals %u, expected 0..%u each", s->name,
          out[i].symbol, out[i].price_decimals, out[i].size_decimals, MDFAN_MAX_DECIMALS);
  }
  *generation = g1;
  return n;
}

/* ---- the seqlock read ----------------------------------------------------------------------- */

/* A validated copy of one slot: the slot header, then bids[levels], then asks[levels]. */
typedef struct {
  mdfan_slot_header_t h;
  mdfan_level_t lv[2 * MDFAN_MAX_LEVELS];
} snapshot_t;
_Static_assert(offsetof(snapshot_t, lv) == MDFAN_BIDS_OFFSET, "levels follow the 64-byte slot header");
_Static_assert(sizeof(snapshot_t) == MDFAN_SLOT_PAYLOAD_BYTES(MDFAN_MAX_LEVELS), "no padding");

static uint64_t g_stale_ns = (uint64_t)MDFAN_STALE_AFTER_MS * 1000000ull;

/* Copies slot `slot` into `dst` through the seqlock (mdfan_seqlock.h; docs/ABI.md "Reading a
 * slot"). Exits with MDFAN_ERR_STALE if one odd seq outlives the stale bound. Returns the
 * validated seq. */
static uint32_t read_slot(const mdfan_segment_t *s, uint32_t slot, snapshot_t *dst) {
  const uint8_t *p = s->base + s->slots_offset + (uint64_t)slot * s->stride;
  uint32_t seq;
  int64_t r = mdfan_seqlock_read(p, dst, s->payload, g_stale_ns, &seq);
  if (r == MDFAN_SEQLOCK_STALE)
    die(EXIT_READ_FAILED, "MDFAN_ERR_STALE", "segment %s: slot %u stayed mid-update (odd seq %u) for over %" PRIu64 " ms; its writer is stuck or dead",
        s->name, slot, seq, g_stale_ns / 1000000ull);
  g_retries += (uint64_t)r;
  g_reads++;
  return seq;
}

/* A slot's seq word, for polling: a new value means a new commit (or one under way). */
static uint32_t slot_seq(const mdfan_segment_t *s, uint32_t slot, memory_order mo) {
  return mdfan_load32(s->base + s->slots_offset + (uint64_t)slot * s->stride, mo);
}

static void print_book(const mdfan_segment_t *s, const char *symbol, const snapshot_t *b);

/* ---- the top lines (--top) ------------------------------------------------------------------ */

static mdfan_tops_t g_tops; /* --top: the lines of the current writer; base NULL while closed */
static int g_top;

/* Opens the current writer's top lines. Returns 0 when they are not there yet (a new writer coming
 * up), with the reason in g_why; exits with `status` when the writer keeps none or they are refused. */
static int open_tops(const mdfan_segment_t *s, int status) {
  char why[512];
  const char *code;
  int r = mdfan_tops_open_segment(&g_tops, s, &code, why, sizeof why);
  if (r == MDFAN_TOPS_OK) return 1;
  if (r == MDFAN_TOPS_NOT_YET) return mdfan_attach_err(&g_why, 0, code, "%s", why);
  die(status, code, "%s", why);
  return 0;
}

/* Copies slot `slot`'s top line through the seqlock, as read_slot. Returns the validated seq. */
static uint32_t read_top(const mdfan_segment_t *s, uint32_t slot, mdfan_top_t *dst) {
  uint32_t seq;
  int64_t r = mdfan_seqlock_read(mdfan_top_line(&g_tops, slot), dst, MDFAN_TOP_BYTES, g_stale_ns, &seq);
  if (r == MDFAN_SEQLOCK_STALE)
    die(EXIT_READ_FAILED, "MDFAN_ERR_STALE", "segment %s: top line %u stayed mid-update (odd seq %u) for over %" PRIu64 " ms; its writer is stuck or dead",
        s->name, slot, seq, g_stale_ns / 1000000ull);
  g_retries += (uint64_t)r;
  g_reads++;
  return seq;
}

/* The seq word the follow loop polls: the top line's with --top, else the slot's. */
static uint32_t followed_seq(const mdfan_segment_t *s, uint32_t slot, memory_order mo) {
  return g_top ? mdfan_top_seq(&g_tops, slot, mo) : slot_seq(s, slot, mo);
}

static void print_top(const char *symbol, const mdfan_top_t *t) {
  printf("%" PRIu64 ",%s", t->msg_index, symbol);
  if (t->ask_count > 0) printf(",%" PRId64 ",%" PRIu64, t->ask_price, t->ask_size);
  else fputs(",9999999999,0", stdout);
  if (t->bid_count > 0) printf(",%" PRId64 ",%" PRIu64 "\n", t->bid_price, t->bid_size);
  else fputs(",-9999999999,0\n", stdout);
}

/* Reads and prints target `t`'s book (or top line). Returns the validated seq. */
static uint32_t read_print(const mdfan_segment_t *s, const target_t *t, snapshot_t *snap, int print_if_new, uint32_t last) {
  mdfan_top_t top;
  uint32_t v = g_top ? read_top(s, t->slot, &top) : read_slot(s, t->slot, snap);
  if (print_if_new && (v == last || v == 0)) return v;
  if (g_top) print_top(t->symbol, &top);
  else print_book(s, t->symbol, snap);
  return v;
}

static void print_book(const mdfan_segment_t *s, const char *symbol, const snapshot_t *b) {
  uint32_t levels = s->levels;
  uint32_t bids = b->h.bid_count < levels ? b->h.bid_count : levels;
  uint32_t asks = b->h.ask_count < levels ? b->h.ask_count : levels;
  const mdfan_level_t *bid = &b->lv[0];
  const mdfan_level_t *ask = &b->lv[levels];
  printf("%" PRIu64 ",%s", b->h.msg_index, symbol);
  for (uint32_t i = 0; i < levels; i++) {
    if (i < asks) printf(",%" PRId64 ",%" PRIu64, ask[i].price, ask[i].size);
    else fputs(",9999999999,0", stdout);
    if (i < bids) printf(",%" PRId64 ",%" PRIu64, bid[i].price, bid[i].size);
    else fputs(",-9999999999,0", stdout);
  }
  putchar('\n');
}

/* ---- following: --follow and --events ----------------------------------------------------- */

/* --wait block: this reader's registry line (released at exit, however main ends). */
static mdfan_wait_t g_wait;
static void release_line(void) { mdfan_wait_close(&g_wait); }

/* --wait block: claims a registry line (released at exit). Returns 0 when there is none: then the
 * reader spins, since an uncounted sleeper could miss its wake-up. */
static int start_blocking(const char *name, const mdfan_segment_t *s) {
  static int registered, said;
  char why[512];
  if (mdfan_wait_open(&g_wait, name, s->h, why, sizeof why) == 0) {
    if (!registered) atexit(release_line), registered = 1;
    return 1;
  }
  if (!said) fprintf(stderr, "mdfan_c_reader: --wait block: %s; spinning instead\n", why), said = 1; /* said once; tried again later */
  return 0;
}

/* --wait block without a line (a new writer not listening yet): try again, at most every 100 ms.
 * Returns whether a line is held now. */
static int retry_blocking(const mdfan_segment_t *s, uint64_t *next_try) {
  uint64_t t = mdfan_monotonic_ns();
  if (t < *next_try) return 0;
  *next_try = t + 100000000ull;
  return start_blocking(s->name, s);
}

/* The following modes look at the writer lock every LIVENESS_EVERY_NS. */
typedef struct {
  uint64_t next, lock_free_since;
} liveness_t;

/* Exits with MDFAN_ERR_WRITER_DEAD once the writer lock has been free for timeout_ms (callers stop
 * at CLOSED before they ask). */
static void check_writer(const mdfan_segment_t *s, liveness_t *l, uint64_t timeout_ms) {
  uint64_t t = mdfan_monotonic_ns();
  if (t < l->next) return;
  l->next = t + LIVENESS_EVERY_NS;
  if (writer_lock_held(s)) l->lock_free_since = 0;
  else if (l->lock_free_since == 0) l->lock_free_since = t;
  else if (t - l->lock_free_since >= timeout_ms * 1000000ull)
    die(EXIT_READ_FAILED, "MDFAN_ERR_WRITER_DEAD", "segment %s: writer pid %u is gone (its lock has been free for %" PRIu64 " ms) and the segment is %s",
        s->name, mdfan_load32(&s->h->writer_pid, memory_order_relaxed), (t - l->lock_free_since) / 1000000ull,
        mdfan_state_name(mdfan_load32(&s->h->state, memory_order_acquire)));
}

/* Whether the follow loop has anything to do since the pass that saw `state`: the state,
 * generation or instrument count moved, or a followed slot's seq differs from the last printed.
 * This is the wake protocol's "look at the slots once more" (mdfan_abi.h): seq_cst loads after our
 * seq_cst RMW of the sleeper count; the writer's commits (release stores) are ordered before its
 * look at the count by its seq_cst fence, so either this sees the commit or the writer sees us. */
static int anything_new(const mdfan_segment_t *s, uint32_t state, uint32_t generation, uint32_t known_count, const target_t *targets, uint32_t n,
                        const uint32_t *last_seq) {
  if (mdfan_load32(&s->h->state, memory_order_seq_cst) != state || mdfan_load32(&s->h->generation, memory_order_seq_cst) != generation ||
      mdfan_load32(&s->h->instrument_count, memory_order_seq_cst) != known_count)
    return 1;
  for (uint32_t i = 0; i < n; i++)
    if (followed_seq(s, targets[i].slot, memory_order_seq_cst) != last_seq[targets[i].slot]) return 1;
  return 0;
}

/* ---- the event ring (--events) -------------------------------------------------------------- */

/* Opens the ring of the data segment's current writer (mdfan_events.h), carrying the counts of a
 * previous ring on. Returns 0 when it is not there yet (a new writer coming up), with the reason
 * in g_why; exits with `status` when the writer keeps no ring or the ring is refused. */
static int open_ring(const mdfan_segment_t *s, mdfan_events_t *ring, int from_newest, int status) {
  char why[512];
  const char *code;
  uint64_t read = ring->read, lost = ring->lost;
  int r = mdfan_events_open_segment(ring, s, from_newest, &code, why, sizeof why);
  ring->read = read, ring->lost = lost;
  if (r == MDFAN_EVENTS_OK) return 1;
  if (r == MDFAN_EVENTS_NOT_YET) return mdfan_attach_err(&g_why, 0, code, "%s", why);
  die(status, code, "%s", why);
  return 0;
}

/* Prints up to `max` event lines (and LAPPED,<n> where events were lost); returns then, or at
 * CLOSED once the ring is drained. A new writer's ring is read from its oldest record once the
 * old one is drained (a takeover needs the old writer dead: its head stopped). */
static void follow_events(const mdfan_segment_t *s, mdfan_events_t *ring, const char *symbol, uint64_t max, int block, uint64_t timeout_ms,
                          uint64_t sleep_ms) {
  /* the generation whose registry holds this reader's line (--wait block) */
  uint32_t line_generation = mdfan_load32(&s->h->generation, memory_order_acquire);
  const int want_block = block; /* without a line (a new writer not listening yet): spin, and try again every 100 ms */
  uint64_t next_block_try = 0;
  liveness_t live = {mdfan_monotonic_ns() + LIVENESS_EVERY_NS, 0};
  uint64_t printed = 0;
  uint32_t passes = 0;
  char line[256];
  for (;;) {
    /* acquire, state then generation: CLOSED is stored after the writer's last append, and a
     * takeover bumps the generation after the old writer died, so the drain below (its head loads
     * come after these) reads every event the ring in hand will ever have. */
    uint32_t state = mdfan_load32(&s->h->state, memory_order_acquire);
    uint32_t generation = mdfan_load32(&s->h->generation, memory_order_acquire);
    while (ring->base && printed < max) {
      mdfan_event_t e;
      uint64_t lost;
      int got = mdfan_events_poll(ring, &e, &lost);
      if (lost > 0) printf("LAPPED,%" PRIu64 "\n", lost);
      if (!got) break;
      const mdfan_events_name_t *n = mdfan_events_instrument(ring, e.instrument_index);
      /* --symbol: its instrument's events, and those of none (system events) */
      if (symbol && e.instrument_index != MDFAN_EVENT_NO_INSTRUMENT && (!n || strcmp(n->symbol, symbol) != 0)) continue;
      if (!mdfan_event_format(&e, n ? n->symbol : "", n ? n->price_scale : 1, line, sizeof line)) continue;
      puts(line);
      printed++;
    }
    if (printed >= max) return;
    if (!ring->base || ring->generation != generation) {
      mdfan_events_close(ring);
      if (want_block && line_generation != generation) { /* a new writer, a new registry: a line in the old one is never woken */
        mdfan_wait_close(&g_wait);
        block = start_blocking(s->name, s);
        line_generation = generation;
      }
      if (open_ring(s, ring, 0, EXIT_READ_FAILED)) continue;
    } else if (state == MDFAN_STATE_CLOSED) {
      return;
    }
    fflush(stdout); /* nothing more to read for now: show what was printed */
    if (block || (++passes & 1023u) == 0) check_writer(s, &live, timeout_ms);
    if (want_block && !block && (passes & 1023u) == 0) block = retry_blocking(s, &next_block_try);
    if (!ring->base) { /* a new writer coming up wakes nobody until it publishes */
      sleep_ns(POLL_NS);
    } else if (!block) {
      mdfan_cpu_relax();
    } else { /* the wake protocol, as in main's follow loop; seq_cst loads for the last look */
      uint32_t v = mdfan_wait_begin(&g_wait);
      if (mdfan_load32(&s->h->state, memory_order_seq_cst) == state && mdfan_load32(&s->h->generation, memory_order_seq_cst) == generation &&
          !mdfan_events_pending(ring)) {
        int e = mdfan_wait_sleep(&g_wait, v, sleep_ms * 1000000ull);
        if (e < 0) die(EXIT_READ_FAILED, "MDFAN_ERR_SYSCALL", "segment %s: futex(FUTEX_WAIT): %s", s->name, strerror(-e));
      }
      mdfan_wait_end(&g_wait);
    }
  }
}

/* ---- main ----------------------------------------------------------------------------------- */

static void usage(const char *msg) {
  die(EXIT_REFUSED, "MDFAN_ERR_OPTIONS",
      "%s\nusage: mdfan_c_reader NAME [--top] [--symbol SYM] [--writer-uid U] [--follow N] [--timeout-ms T] [--stale-ms S] [--wait spin|block] [--sleep-ms Z]\n"
      "       mdfan_c_reader NAME --events N [--from oldest|newest] [--symbol SYM] [--timeout-ms T] [--wait spin|block] [--sleep-ms Z]\n"
      "  --stale-ms defaults to MDFAN_STALE_AFTER_MS (%u), --sleep-ms to MDFAN_HEARTBEAT_TIMEOUT_MS (%u); --wait defaults to spin",
      msg, MDFAN_STALE_AFTER_MS, MDFAN_HEARTBEAT_TIMEOUT_MS);
}

static uint64_t parse_uint(const char *opt, const char *v, uint64_t min) {
  char *end;
  if (!v || !*v || *v == '-') usage(opt);
  errno = 0;
  unsigned long long x = strtoull(v, &end, 10);
  if (errno || *end || x < min) usage(opt);
  return (uint64_t)x;
}

int main(int argc, char **argv) {
  const char *name = NULL, *symbol = NULL;
  uint64_t follow = 0, timeout_ms = 5000, sleep_ms = MDFAN_HEARTBEAT_TIMEOUT_MS, events = 0;
  int block = 0, from_newest = -1; /* -1: no --from */
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--symbol") == 0) {
      if (!v || !*v || strlen(v) > MDFAN_SYMBOL_BYTES) usage("--symbol needs 1..32 characters");
      symbol = v, i++;
    } else if (strcmp(a, "--writer-uid") == 0) {
      g_writer_uid = (uid_t)parse_uint("--writer-uid needs a uid", v, 0), i++;
    } else if (strcmp(a, "--top") == 0) {
      g_top = 1;
    } else if (strcmp(a, "--follow") == 0) {
      follow = parse_uint("--follow needs a count >= 1", v, 1), i++;
    } else if (strcmp(a, "--timeout-ms") == 0) {
      timeout_ms = parse_uint("--timeout-ms needs a number of ms", v, 0), i++;
    } else if (strcmp(a, "--stale-ms") == 0) {
      g_stale_ns = parse_uint("--stale-ms needs a number of ms >= 1", v, 1) * 1000000ull, i++;
    } else if (strcmp(a, "--wait") == 0) {
      if (!v || (strcmp(v, "spin") != 0 && strcmp(v, "block") != 0)) usage("--wait needs spin or block");
      block = strcmp(v, "block") == 0, i++;
    } else if (strcmp(a, "--sleep-ms") == 0) {
      sleep_ms = parse_uint("--sleep-ms needs a number of ms >= 1", v, 1), i++;
    } else if (strcmp(a, "--events") == 0) {
      events = parse_uint("--events needs a count >= 1", v, 1), i++;
    } else if (strcmp(a, "--from") == 0) {
      if (!v || (strcmp(v, "oldest") != 0 && strcmp(v, "newest") != 0)) usage("--from needs oldest or newest");
      from_newest = strcmp(v, "newest") == 0, i++;
    } else if (a[0] == '-' || name) {
      usage("unexpected argument");
    } else {
      name = a;
    }
  }
  if (!name) usage("missing segment NAME");
  if (events && follow) usage("--events and --follow exclude each other");
  if (from_newest >= 0 && !events) usage("--from goes with --events");
  if (g_top && events) usage("--top and --events exclude each other");

  uint64_t start = mdfan_monotonic_ns();
  mdfan_segment_t seg;
  attach(&seg, name, timeout_ms);

  target_t *targets = calloc(seg.max_instruments, sizeof *targets);
  uint32_t *last_seq = calloc(seg.max_instruments, sizeof *last_seq); /* per slot; 0: none yet */
  snapshot_t *snap = malloc(sizeof *snap);
  if (!targets || !last_seq || !snap) die(EXIT_READ_FAILED, "MDFAN_ERR_SYSCALL", "out of memory");

  /* The writer announces instruments after READY: wait (within the timeout) for SYM to appear,
   * and for a directory read no takeover interrupted. */
  uint32_t generation = 0;
  int64_t got;
  for (;;) {
    got = read_directory(&seg, symbol, targets, &generation);
    if (got > 0 || (got == 0 && !symbol)) break;
    if (mdfan_monotonic_ns() - start >= timeout_ms * 1000000ull) {
      if (got < 0)
        die(EXIT_REFUSED, "MDFAN_ERR_NOT_READY", "segment %s is %s, not READY (waited %" PRIu64 " ms)", name,
            mdfan_state_name(mdfan_load32(&seg.h->state, memory_order_acquire)), timeout_ms);
      die(EXIT_REFUSED, "MDFAN_ERR_OPTIONS", "symbol %s is not in segment %s's directory (%u instruments)", symbol, name,
          mdfan_load32(&seg.h->instrument_count, memory_order_acquire));
    }
    sleep_ns(POLL_NS);
  }
  uint32_t n = (uint32_t)got;

  if (events) {
    mdfan_events_t ring;
    memset(&ring, 0, sizeof ring);
    while (!open_ring(&seg, &ring, from_newest == 1, EXIT_REFUSED)) {
      if (mdfan_monotonic_ns() - start >= timeout_ms * 1000000ull)
        die(EXIT_REFUSED, "MDFAN_ERR_NOT_READY", "segment %s: no event ring of its writer within %" PRIu64 " ms (%s: %s)", name, timeout_ms, g_why.code, g_why.msg);
      sleep_ns(POLL_NS);
    }
    g_ring = &ring;
    follow_events(&seg, &ring, symbol, events, block && start_blocking(name, &seg), timeout_ms, sleep_ms);
    fflush(stdout);
    print_counts(); /* while ring, which g_ring points to, is in scope */
    g_ring = NULL;
    mdfan_events_close(&ring);
    goto cleanup;
  }

  if (g_top) {
    while (!open_tops(&seg, EXIT_REFUSED)) {
      if (mdfan_monotonic_ns() - start >= timeout_ms * 1000000ull)
        die(EXIT_REFUSED, "MDFAN_ERR_NOT_READY", "segment %s: no top lines of its writer within %" PRIu64 " ms (%s: %s)", name, timeout_ms, g_why.code, g_why.msg);
      sleep_ns(POLL_NS);
    }
  }

  if (follow == 0) {
    for (uint32_t i = 0; i < n; i++) read_print(&seg, &targets[i], snap, 0, 0);
    goto done;
  }

  /* Follow: spin over the slots' seq words (a plain acquire load each), and read a slot through
   * the seqlock only when its seq moved. Generation changes (a takeover rebuilt the directory)
   * and new instruments re-read the directory. With --wait block, a pass that printed nothing
   * ends asleep on the futex word instead of spinning on. */
  /* want_block: --wait block was asked for; block: a registry line is held. Without one (no control
   * socket yet, e.g. a new writer starting) the reader spins and tries again every 100 ms. */
  const int want_block = block;
  uint64_t next_block_try = 0;
  if (block) block = start_blocking(name, &seg);
  if (block && g_top) mdfan_wait_on_tops(&g_wait, g_tops.h);
  uint64_t printed = 0;
  uint32_t known_count = mdfan_load32(&seg.h->instrument_count, memory_order_acquire);
  liveness_t live = {mdfan_monotonic_ns() + LIVENESS_EVERY_NS, 0};
  uint32_t passes = 0;
  for (;;) {
    uint32_t state = mdfan_load32(&seg.h->state, memory_order_acquire);
    int closed = state == MDFAN_STATE_CLOSED;
    uint64_t printed_before = printed;
    if (state == MDFAN_STATE_READY || closed) {
      uint32_t g = mdfan_load32(&seg.h->generation, memory_order_acquire);
      uint32_t c = mdfan_load32(&seg.h->instrument_count, memory_order_acquire);
      if (g != generation || c != known_count || (symbol && n == 0)) {
        uint32_t before = generation;
        int64_t r = read_directory(&seg, symbol, targets, &generation);
        n = r < 0 ? 0 : (uint32_t)r;
        known_count = r < 0 ? UINT32_MAX : c; /* not READY, or torn by a takeover: again */
        /* A new generation rewrote every slot: print each book anew. Its writer made a new
         * reader registry: a line in the old one would never be seen asleep. */
        if (r >= 0 && generation != before) {
          memset(last_seq, 0, seg.max_instruments * sizeof *last_seq);
          if (want_block) {
            mdfan_wait_close(&g_wait);
            block = start_blocking(name, &seg);
            if (block && g_top && g_tops.base) mdfan_wait_on_tops(&g_wait, g_tops.h);
          }
        }
      }
      /* --top: a new writer makes new lines; until they are there, nothing to read */
      if (g_top && n > 0 && (!g_tops.base || g_tops.generation != generation)) {
        mdfan_tops_close(&g_tops);
        if (open_tops(&seg, EXIT_READ_FAILED)) {
          if (block) mdfan_wait_on_tops(&g_wait, g_tops.h);
        } else {
          n = 0, known_count = UINT32_MAX; /* look again next pass */
        }
      }
      for (uint32_t i = 0; i < n && printed < follow; i++) {
        uint32_t *last = &last_seq[targets[i].slot];
        if (followed_seq(&seg, targets[i].slot, memory_order_acquire) == *last) continue;
        uint32_t v = read_print(&seg, &targets[i], snap, 1, *last);
        if (v == *last || v == 0) continue;
        *last = v;
        fflush(stdout);
        printed++;
      }
    }
    /* CLOSED is stored after the writer's last commit: the pass above (made after loading
     * CLOSED with acquire) saw every commit, so stopping here loses nothing. Unless a new writer
     * replaced the object (MDFAN_HEADER_REPLACED): then follow the name to its new object. */
    if (printed >= follow) break;
    if (closed) {
      if (!(mdfan_load32(&seg.h->flags, memory_order_acquire) & MDFAN_HEADER_REPLACED)) break;
      if (block) mdfan_wait_close(&g_wait);
      mdfan_tops_close(&g_tops);
      uint32_t old_max = seg.max_instruments;
      mdfan_segment_close(&seg);
      attach(&seg, name, timeout_ms); /* waits for the new object to be READY, or dies saying why */
      if (seg.max_instruments != old_max) {
        free(targets);
        free(last_seq);
        targets = calloc(seg.max_instruments, sizeof *targets);
        last_seq = calloc(seg.max_instruments, sizeof *last_seq);
        if (!targets || !last_seq) die(EXIT_READ_FAILED, "MDFAN_ERR_SYSCALL", "out of memory");
      } else {
        memset(last_seq, 0, seg.max_instruments * sizeof *last_seq);
      }
      generation = 0, n = 0, known_count = UINT32_MAX; /* the directory is read anew next pass */
      if (want_block) block = start_blocking(name, &seg);
      live = (liveness_t){mdfan_monotonic_ns() + LIVENESS_EVERY_NS, 0};
      continue;
    }
    if (block || (++passes & 1023u) == 0) check_writer(&seg, &live, timeout_ms); /* a blocking pass is rare enough to look each time */
    if (want_block && !block && (passes & 1023u) == 0 && (block = retry_blocking(&seg, &next_block_try)) && g_top && g_tops.base)
      mdfan_wait_on_tops(&g_wait, g_tops.h);
    if (g_top && !g_tops.base) { /* a new writer coming up wakes nobody until it publishes */
      sleep_ns(POLL_NS);
      continue;
    }
    if (!block || printed != printed_before) {
      mdfan_cpu_relax();
      continue;
    }
    /* The wake protocol of mdfan_abi.h, in order: counted as a sleeper, the futex value, one more
     * look, then sleep unless something moved meanwhile; not counted any more before reading. */
    uint32_t v = mdfan_wait_begin(&g_wait);
    if (!anything_new(&seg, state, generation, known_count, targets, n, last_seq)) {
      int e = mdfan_wait_sleep(&g_wait, v, sleep_ms * 1000000ull);
      if (e < 0) die(EXIT_READ_FAILED, "MDFAN_ERR_SYSCALL", "segment %s: futex(FUTEX_WAIT): %s", name, strerror(-e));
    }
    mdfan_wait_end(&g_wait);
  }
done:
  fflush(stdout);
  print_counts();
cleanup:
  free(targets);
  free(last_seq);
  free(snap);
  mdfan_tops_close(&g_tops);
  mdfan_segment_close(&seg);
  return 0;
}
