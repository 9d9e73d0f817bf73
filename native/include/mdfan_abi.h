/*
 * mdfan_abi.h — the one source of truth for the mdfan shared-memory segment, ABI 2.0
 * (MDFAN_ABI_MAJOR.MDFAN_ABI_MINOR: readers refuse another major and accept any minor).
 *
 * Everything a reader in any language needs: offsets, sizes, constants, and the commit
 * protocol (see docs/ABI.md for the prose). Nothing else states a layout fact: the build compiles
 * this header and generates the TypeScript offsets and constants from what the compiler says
 * (native/abi/gen-abi.mjs), and the addon re-checks them at load.
 *
 * All integers are little-endian (the segment never leaves the host: x86-64 / arm64).
 * No pointers, handles or fds live in the segment: only offsets, each range-checked by readers.
 *
 * Segment = header (MDFAN_HEADER_BYTES) | instrument directory | book slots
 *
 *   header      8 lines of 128 bytes; every line has one writer-side concern so readers that poll
 *               state never share a line with the counters the writer bumps on every message.
 *   directory   max_instruments entries of MDFAN_DIR_ENTRY_BYTES (64).
 *   slots       max_instruments slots of slot_stride bytes, each on a 128-byte boundary (two
 *               cache lines: the adjacent-line prefetcher pulls pairs, so 64 is not enough).
 */
#ifndef MDFAN_ABI_H
#define MDFAN_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
#define MDFAN_STATIC_ASSERT(c, m) static_assert(c, m)
#else
#define MDFAN_STATIC_ASSERT(c, m) _Static_assert(c, m)
#endif

/* "MDFANSHM" as bytes at offset 0; read as a little-endian uint64. */
#define MDFAN_MAGIC 0x4D48534E4146444DULL
#define MDFAN_ABI_MAJOR 2u /* readers refuse any other major. 2.0: venue-neutral numbers: levels,
                           * top lines and events carry signed 64-bit prices and unsigned 64-bit
                           * sizes, each instrument with its own decimals in the directory (1.x:
                           * 32-bit ITCH-shaped levels) */
#define MDFAN_ABI_MINOR 0u /* minor bumps only add fields in reserved space or objects beside the
                           * segment (the 1.x minors' additions are all part of 2.0) */

#define MDFAN_LINE_BYTES 128u /* false-sharing unit: two 64-byte lines (adjacent-line prefetch) */
#define MDFAN_HEADER_BYTES 1024u
#define MDFAN_DIR_ENTRY_BYTES 64u
#define MDFAN_SLOT_HEADER_BYTES 64u
#define MDFAN_LEVEL_BYTES 24u
#define MDFAN_MAX_LEVELS 50u
#define MDFAN_MAX_INSTRUMENTS 1000000u /* readers refuse a header that claims more */
#define MDFAN_SYMBOL_BYTES 32u /* room for a venue-qualified name: "binance-coinm:BTCUSD_PERP" */
#define MDFAN_MAX_DECIMALS 18u /* price and size decimals: 10^18 still fits a u64 */
#define MDFAN_SOCKET_PATH_BYTES 108u /* sizeof(sockaddr_un.sun_path) on Linux */

/* Segment states (header.state). Only the writer stores them (release); readers load (acquire).
 * 0 is a segment whose creator has not initialised it yet (its magic is 0 too). */
#define MDFAN_STATE_UNINITIALIZED 0u
#define MDFAN_STATE_INITIALIZING 1u
#define MDFAN_STATE_READY 2u
#define MDFAN_STATE_BROKEN 3u
#define MDFAN_STATE_CLOSED 4u /* final for this writer; books keep their last values. Readers do not
                                 * attach to it (they wait for READY: a new writer with the same
                                 * layout may take the object over); inspecting tools may. */

/* header.flags: a new writer replaced this object by a new one under the same name (another
 * layout, or a mode wider than asked). Stored before state CLOSED: a reader that sees CLOSED with
 * this flag re-opens the name and carries on, where a plain CLOSED is the writer's graceful end. */
#define MDFAN_HEADER_REPLACED 1u
/* header.layout_flags */
#define MDFAN_LAYOUT_PACKED 1u /* benchmark-only: slots not padded to 128 bytes (false sharing) */
/* the writer backs the segment with 2 MiB pages (shared-memory transparent huge pages):
 * readers map it 2 MiB-aligned and advise the kernel likewise, so their TLB holds a few entries
 * instead of one per 4 KiB. Offsets and sizes do not change; a reader that ignores it is correct. */
#define MDFAN_LAYOUT_HUGE_PAGES 2u

/* header.companions: the objects beside the segment this generation's writer made. A reader
 * opens only those named here (one named and missing was removed; one not named is never opened,
 * whoever planted it), and only if it has the data segment's owner and no permission bit the data
 * segment lacks. */
#define MDFAN_COMPANION_EVENTS 1u /* "/NAME.events", the event ring */
#define MDFAN_COMPANION_TOPS 2u   /* "/NAME.tops", the top-of-book lines */

/* slot.flags (written inside the seqlock) */
#define MDFAN_SLOT_STALE 1u /* the writer knows this book may be wrong (feed gap, takeover) */

/* dir_entry.flags */
#define MDFAN_DIR_ACTIVE 1u /* set on every entry written and never cleared: readers need not
                             * check it (entries below instrument_count are the live ones) */

/* ---- header, 1024 bytes ------------------------------------------------------------------ */
typedef struct mdfan_header {
  /* line 0 [0,128): identity and layout. Written by the creator before state becomes READY and
   * never again while READY, so readers may read it with plain loads after acquiring state. */
  uint64_t magic;                /* 0   MDFAN_MAGIC; one 64-bit atomic store (release) by the
                                  *     initialiser, after every other line-0 field; 0 before */
  uint16_t abi_major;            /* 8 */
  uint16_t abi_minor;            /* 10 */
  uint32_t header_bytes;         /* 12  MDFAN_HEADER_BYTES */
  uint64_t total_bytes;          /* 16  whole segment; readers map exactly this */
  uint32_t max_instruments;      /* 24  number of directory entries and slots */
  uint32_t levels;               /* 28  price levels per side in each slot, 1..MDFAN_MAX_LEVELS */
  uint32_t slot_stride_bytes;    /* 32  distance between slots; multiple of 128 unless PACKED */
  uint32_t dir_entry_bytes;      /* 36  MDFAN_DIR_ENTRY_BYTES */
  uint64_t directory_offset;     /* 40 */
  uint64_t slots_offset;         /* 48 */
  uint32_t layout_flags;         /* 56  MDFAN_LAYOUT_* */
  uint32_t mode;                 /* 60  permission bits the segment was created with */
  uint64_t created_realtime_ns;  /* 64  CLOCK_REALTIME at creation */
  uint8_t line0_reserved[56];    /* 72 */

  /* line 1 [128,256): lifecycle. Written by the writer on state changes only; polled by readers. */
  uint32_t state;                /* 128 MDFAN_STATE_*; atomic, store-release / load-acquire */
  uint32_t generation;           /* 132 +1 on every takeover or re-creation; atomic. A reader ties a
                                  *     read (directory or slot) to one generation by loading it
                                  *     (acquire) before and after: equal -> same writer's data */
  uint32_t writer_pid;           /* 136 the writer holds an OFD write lock on byte 0, length 1, of
                                  *     the object; query it with F_OFD_GETLK, l_type F_RDLCK (only
                                  *     a write lock conflicts: a reader's read lock is not a writer)
                                  *     and l_pid = 0 (any other l_pid is EINVAL, not "lock free") */
  uint32_t instrument_count;     /* 140 directory entries in use; store-release after the entry */
  uint64_t writer_start_realtime_ns; /* 144 CLOCK_REALTIME when the writer took the segment */
  uint64_t writer_start_ticks;   /* 152 /proc/<pid>/stat field 22, to tell a reused pid apart */
  uint32_t last_error_code;      /* 160 MDFAN_ERRNUM_* of the last error the writer met, 0 none */
  uint32_t flags;                /* 164 lifecycle flags: MDFAN_HEADER_REPLACED */
  uint32_t companions;           /* 168 MDFAN_COMPANION_*: stored before READY (a takeover
                                  *     stores its own while INITIALIZING); atomic */
  uint8_t line1_reserved[84];    /* 172 */

  /* line 2 [256,384): heartbeat alone; the writer stores it every ~10 ms. */
  uint64_t heartbeat_ns;         /* 256 CLOCK_MONOTONIC of the writer's last heartbeat */
  uint8_t line2_reserved[120];   /* 264 */

  /* line 3 [384,512): futex word alone. The writer bumps it (+1, seq_cst RMW) then FUTEX_WAKEs
   * after an input message's commits if the registry counts sleepers, and once at close; never on
   * its own schedule: sleep with a timeout. */
  uint32_t notify_seq;           /* 384 */
  uint8_t line3_reserved[124];   /* 388 */

  /* line 4 [512,640): hot counters (relaxed; stat only). Not stored per message: the writer flushes
   * its own counts on its heartbeat, between input batches and at close, so they lag while it runs. */
  uint64_t messages;             /* 512 input messages processed */
  uint64_t publishes;            /* 520 slot commits */
  uint64_t input_bytes;          /* 528 */
  uint64_t events;               /* 536 records appended to the event ring */
  uint8_t line4_reserved[96];    /* 544 */

  /* line 5 [640,768): cold counters (relaxed; stat only). */
  uint64_t unknown_message_types; /* 640 */
  uint64_t unknown_order_refs;   /* 648 */
  uint64_t feed_gaps;            /* 656 */
  uint64_t feed_duplicates;      /* 664 */
  uint64_t reader_attaches;      /* 672 */
  uint64_t reader_detaches;      /* 680 */
  uint64_t version_mismatches;   /* 688 */
  uint64_t takeovers;            /* 696 */
  uint64_t stale_marks;          /* 704 */
  uint64_t reveals;              /* 712 LOBSTER levels entering from below the window */
  uint64_t malformed_messages;   /* 720 input messages and packets dropped as malformed (a
                                  *     directory symbol that is not printable, a packet whose blocks
                                  *     run past its end, a sequence number far outside the window) */
  uint64_t unannounced_messages; /* 728 order messages for stock locates no directory message
                                  *     named: kept in the books, not published */
  uint64_t feed_recovered;       /* 736 messages a gap lost and a re-request brought back */
  uint64_t feed_unrecovered;     /* 744 messages a gap lost for good (recovery timed out) */
  uint64_t instruments_refused;  /* 752 instruments given no slot: the directory was full */
  uint8_t line5_reserved[8];     /* 760 */

  /* lines 6-7 [768,1024): control plane and reserved space for minor versions. */
  char control_socket_path[MDFAN_SOCKET_PATH_BYTES]; /* 768 NUL-terminated, "" if none */
  uint8_t tail_reserved[148];    /* 876 */
} mdfan_header_t;

/* ---- instrument directory entry, 64 bytes ------------------------------------------------ */
typedef struct mdfan_dir_entry {
  char symbol[MDFAN_SYMBOL_BYTES]; /* 0  ASCII, NUL-padded (ITCH's space padding is trimmed); unique
                                  *    in the segment */
  uint32_t feed_id;              /* 32 the venue's number for it (ITCH: stock locate), 0 if none */
  uint32_t slot_index;           /* 36 < max_instruments */
  uint32_t flags;                /* 40 MDFAN_DIR_* */
  uint8_t price_decimals;        /* 44 prices are integers in units of 10^-price_decimals (ITCH: 4),
                                  *    at most MDFAN_MAX_DECIMALS */
  uint8_t size_decimals;         /* 45 sizes likewise (ITCH shares: 0; Binance: 8) */
  uint16_t reserved16;           /* 46 */
  uint8_t reserved[16];          /* 48 */
} mdfan_dir_entry_t;

/* ---- one price level, 24 bytes ------------------------------------------------------------ */
typedef struct mdfan_level {
  int64_t price;                 /* 0  in units of 10^-price_decimals of the instrument */
  uint64_t size;                 /* 8  in units of 10^-size_decimals */
  uint32_t orders;               /* 16 order count at this level; 0 where the venue gives none */
  uint32_t reserved;             /* 20 0 */
} mdfan_level_t;

/* ---- book slot header, 64 bytes; followed by bids[levels] then asks[levels] ---------------- */
typedef struct mdfan_slot_header {
  uint32_t seq;                  /* 0  seqlock: odd while the writer is inside (mdfan_seqlock.h).
                                  *    Plain loads in program order suffice only on x86-64 (TSO);
                                  *    arm64 needs the acquire fence before the re-check */
  uint32_t flags;                /* 4  MDFAN_SLOT_* */
  uint64_t msg_index;            /* 8  0-based index of the input message that produced it */
  uint64_t exchange_ts_ns;       /* 16 exchange timestamp (ITCH: ns since midnight) */
  uint64_t publish_ts_ns;        /* 24 CLOCK_MONOTONIC when the writer began this commit */
  uint32_t bid_count;            /* 32 levels in use, <= levels */
  uint32_t ask_count;            /* 36 */
  uint64_t update_count;         /* 40 commits to this slot since the segment was created; a takeover
                                  *    keeps counting (its STALE commit counts too), a re-created
                                  *    object starts again from 0 */
  uint32_t instrument_index;     /* 48 directory entry of this slot's book (mdfan's writer: entry i
                                  *    owns slot i) */
  uint8_t reserved[12];          /* 52 */
} mdfan_slot_header_t;

/* Slot stride for a depth: header + both sides, rounded up to the 128-byte line pair. */
#define MDFAN_SLOT_PAYLOAD_BYTES(levels) (MDFAN_SLOT_HEADER_BYTES + 2u * (levels) * MDFAN_LEVEL_BYTES)
#define MDFAN_ROUND_UP(x, a) ((((x) + (a) - 1u) / (a)) * (a))
#define MDFAN_SLOT_STRIDE(levels) MDFAN_ROUND_UP(MDFAN_SLOT_PAYLOAD_BYTES(levels), MDFAN_LINE_BYTES)
/* Benchmark-only layout (MDFAN_LAYOUT_PACKED): slots back to back, neighbours share lines. */
#define MDFAN_SLOT_STRIDE_PACKED(levels) MDFAN_SLOT_PAYLOAD_BYTES(levels)
#define MDFAN_BIDS_OFFSET MDFAN_SLOT_HEADER_BYTES
#define MDFAN_ASKS_OFFSET(levels) (MDFAN_SLOT_HEADER_BYTES + (levels) * MDFAN_LEVEL_BYTES)
#define MDFAN_DIRECTORY_OFFSET MDFAN_HEADER_BYTES
#define MDFAN_SLOTS_OFFSET(max_instruments) \
  MDFAN_ROUND_UP(MDFAN_HEADER_BYTES + (max_instruments) * MDFAN_DIR_ENTRY_BYTES, MDFAN_LINE_BYTES)
#define MDFAN_TOTAL_BYTES(max_instruments, levels) \
  (MDFAN_SLOTS_OFFSET(max_instruments) + (uint64_t)(max_instruments) * MDFAN_SLOT_STRIDE(levels))

/* Error numbers stored in header.last_error_code; strings are the codes in docs/ABI.md. */
#define MDFAN_ERRNUM_FEED_TRUNCATED 1u
#define MDFAN_ERRNUM_FEED_CORRUPT 2u
#define MDFAN_ERRNUM_FEED_GAP 3u /* strings: MDFAN_ERR_FEED_TRUNCATED, _FEED_CORRUPT, _FEED_GAP. A gap
                                  * ends nothing: the feed logs MDFAN_ERR_FEED_GAP, counts feed_gaps
                                  * and marks books STALE */

/* ---- times every party agrees on ------------------------------------------------------------ */
/* The writer stores heartbeat_ns at least this often: while publishing (checked per commit) and,
 * while idle, from a timer. */
#define MDFAN_HEARTBEAT_INTERVAL_MS 10u
/* A reader takes the writer for dead when its lock is free (the process is gone), or when its
 * heartbeat is older than this (a live process that stopped beating: stuck, or stopped by a
 * signal). 100 intervals: a writer descheduled on a loaded machine is not declared dead. */
#define MDFAN_HEARTBEAT_TIMEOUT_MS 1000u
/* One odd seq that lasts longer than this is a writer stuck or dead inside the slot: the reader
 * reports MDFAN_ERR_STALE instead of spinning on. */
#define MDFAN_STALE_AFTER_MS 100u
/* A spinning reader reads the clock once per this many spins on an odd seq (a power of two): the
 * stale bound costs nothing on the fast path. */
#define MDFAN_STALE_CHECK_SPINS 256u
/* How long a reader waits for a segment to exist and become READY before MDFAN_ERR_NO_SEGMENT or
 * MDFAN_ERR_NOT_READY. */
#define MDFAN_ATTACH_TIMEOUT_MS 5000u

/* ---- reader registry: a sealed memfd whose descriptor the control socket hands readers ---------
 * The data segment is read-only for readers, so what readers must write lives here, read-write for
 * them: one 128-byte line per attached reader and, alone on its line, the count of readers asleep
 * on the futex. It has no name in /dev/shm (1.x's "/NAME.readers" file is gone: a reader could
 * shrink it and kill the writer with SIGBUS). The writer creates it before the data segment becomes
 * READY (memfd_create, sized, its pages reserved, sealed against shrinking and growing), keeps it
 * for its life, and sweeps the lines of dead pids on its heartbeat. A reader gets its descriptor
 * from the writer's control socket (control_socket_path, a stream socket): it writes the line
 * {"type":"registry"}\n and receives one byte 'R', no newline, carrying the descriptor
 * (SCM_RIGHTS), possibly in the same read as the greeting line; the connection may close once it
 * has it (docs/ABI.md "The control socket"). Who may connect decides who may join: the socket's
 * mode is the data segment's plus write wherever read is granted.
 *
 * Wake protocol (no lost wake-up: a Dekker pattern, each side's store ordered before its load by a
 * seq_cst RMW or fence):
 *   reader: line.state = SLEEPING; sleepers += 1 (seq_cst RMW); v = notify_seq (seq_cst);
 *           look at the slots once more; nothing new -> futex_wait(&notify_seq, v, timeout);
 *           then sleepers -= 1 (CAS the line SLEEPING -> ATTACHED first) and read.
 *   writer: the input message's commits; a seq_cst fence (StoreLoad: the commits' stores are only
 *           release); if sleepers > 0 (load): notify_seq += 1 (seq_cst RMW); futex_wake(&notify_seq,
 *           all). Readers of top changes alike: line.state = SLEEPING_TOP, top_sleepers,
 *           and the tops' notify_seq, bumped only after a message that changed a top.
 * Either the writer sees the sleeper and bumps notify_seq (the wait returns at once or is woken),
 * or the reader sees the commit before it sleeps. A reader that cannot claim a line (registry
 * missing or full) must not block on the futex: it spins, yields, or waits with a short timeout.
 * The futex word is shared (not FUTEX_PRIVATE_FLAG): waiters are in other processes. */
#define MDFAN_REGISTRY_MAGIC 0x4752444Du /* "MDRG" as bytes at offset 0 (little-endian u32) */
#define MDFAN_REGISTRY_LINE_BYTES 128u
#define MDFAN_REGISTRY_CAPACITY 255u     /* reader lines after the two header lines */
#define MDFAN_READER_FREE 0u             /* line.state: claim it with a CAS FREE -> ATTACHED */
#define MDFAN_READER_ATTACHED 1u
#define MDFAN_READER_SLEEPING 2u         /* counted in sleepers */
#define MDFAN_READER_SLEEPING_TOP 3u     /* counted in top_sleepers: asleep on the top futex word */

typedef struct mdfan_registry_header {
  /* line 0: identity, written by the writer before the data segment becomes READY. */
  uint32_t magic;                /* 0   MDFAN_REGISTRY_MAGIC; store-release after capacity */
  uint32_t capacity;             /* 4   reader lines that follow the header */
  uint8_t line0_reserved[120];   /* 8 */
  /* line 1: the sleeper count alone (every sleeping reader and the writer touch it). */
  uint32_t sleepers;             /* 128 readers asleep on notify_seq; seq_cst RMW by readers,
                                  *     seq_cst load by the writer after each input message's
                                  *     commits and its seq_cst fence */
  uint32_t top_sleepers;         /* 132 readers asleep on the tops' notify_seq (top changes
                                  *     only); same protocol as sleepers */
  uint8_t line1_reserved[120];   /* 136 */
} mdfan_registry_header_t;

typedef struct mdfan_reader_line {
  uint32_t pid;                  /* 0  the reader's pid, stored right after it claims the line
                                  *    (0 for a moment after the claim: sweepers skip pid 0) */
  uint32_t state;                /* 4  MDFAN_READER_*; claim, wake-up and sweep are CASes; only
                                  *    the line's own reader stores (SLEEPING; FREE at release) */
  uint8_t reserved[120];         /* 8 */
} mdfan_reader_line_t;

/* Registry size for a capacity: header lines then reader lines. */
#define MDFAN_REGISTRY_BYTES(capacity) \
  ((uint64_t)sizeof(mdfan_registry_header_t) + (uint64_t)(capacity) * sizeof(mdfan_reader_line_t))

/* ---- event ring: the segment "/NAME.events" beside "/NAME" --------------------------------
 * Every event (trade, trading action, order event) in order, for readers that need each one, not
 * only the latest book. Its own object, so a reader of books alone never maps it. One writer (the data segment's), any number of read-only readers.
 *
 *   ring header   two lines: identity (line 0) and the head (line 1, alone)
 *   records       capacity records of MDFAN_EVENT_BYTES (one cache line each)
 *
 * Record r (1-based ring sequence) lives at index (r - 1) & (capacity - 1).
 * Writer, per record:  rec.seq = an invalid value (0, or mdfan's writers: 0xFFFFFFFF in its high
 *                      word) ; release fence ; body (plain) ;
 *                      rec.seq = r (release at least) ; head = r (release at least)
 * Reader expecting r (r <= head, acquire):
 *   s1 = rec.seq (acquire) ; copy ; acquire fence ; s2 = rec.seq ;
 *   s1 == r && s2 == r: the copy is record r.
 *   (A reader may look at rec.seq first: r there vouches for the record by itself, and only
 *   a failed look needs head: r > head is a record being written, not a lap.)
 *   otherwise the slot was overwritten (lapped): the records still whole are
 *   [max(r + 1, oldest), head] (the slot after head may be mid-write); resume at the first of
 *   them and count the ones skipped: exactly the events lost.
 * oldest = head + 2 > capacity ? head + 2 - capacity : 1: clamped at 1, since head - capacity + 2
 * wraps (unsigned) while the ring has not yet filled. A new reader starts at oldest ("oldest") or
 * at head + 1 ("newest").
 * A new writer generation re-creates the object: a reader that sees the data segment's
 * generation move re-opens it and starts again at 1 (the books are in the slots). */
#define MDFAN_EVENTS_MAGIC 0x5645444Du    /* "MDEV" as bytes at offset 0 (little-endian u32) */
#define MDFAN_EVENTS_HEADER_BYTES 256u
#define MDFAN_EVENT_BYTES 64u
#define MDFAN_EVENTS_MIN_CAPACITY 16u     /* records; a power of two */
#define MDFAN_EVENTS_MAX_CAPACITY 67108864u /* 2^26 records: 4 GiB */
/* Default capacity: 2^19 records (32 MiB), so a reader stalled for 100 ms at the feed handler's
 * top rate (about 3 M messages/s, at most one event each) is not lapped. */
#define MDFAN_EVENTS_DEFAULT_CAPACITY 524288u

typedef struct mdfan_events_header {
  /* line 0: identity, written by the writer before it stores magic (release), never again. */
  uint32_t magic;                /* 0   MDFAN_EVENTS_MAGIC; store-release after the other fields */
  uint16_t abi_major;            /* 4   as the data segment */
  uint16_t abi_minor;            /* 6 */
  uint32_t capacity;             /* 8   records; a power of two */
  uint32_t record_bytes;         /* 12  MDFAN_EVENT_BYTES */
  uint32_t generation;           /* 16  the data segment's generation this ring belongs to */
  uint32_t header_bytes;         /* 20  MDFAN_EVENTS_HEADER_BYTES */
  uint64_t total_bytes;          /* 24  header_bytes + capacity * record_bytes */
  uint8_t line0_reserved[96];    /* 32 */
  /* line 1: the head alone: the writer stores it after every record, readers poll it. */
  uint64_t head;                 /* 128 ring sequence of the newest whole record (0: none); release store */
  uint8_t line1_reserved[120];   /* 136 */
} mdfan_events_header_t;

typedef struct mdfan_event {
  uint64_t seq;                  /* 0  ring sequence of this record (1-based); an invalid value while
                                  *    being written (0, or 0xFFFFFFFF in the high word) */
  uint8_t kind;                  /* 8  MDFAN_EVENT_KIND_* (an ASCII letter) */
  uint8_t action;                /* 9  the venue's letter: trade E C P Q; trading state H P Q T; ... */
  uint8_t side;                  /* 10 'B', 'S', or 0 */
  uint8_t flags;                 /* 11 MDFAN_EVENT_FLAG_* */
  uint32_t instrument_index;     /* 12 directory entry (== slot); MDFAN_EVENT_NO_INSTRUMENT if none */
  uint64_t msg_index;            /* 16 0-based index of the input message that produced it */
  uint64_t exchange_ts_ns;       /* 24 exchange timestamp (ITCH: ns since midnight) */
  uint64_t publish_ts_ns;        /* 32 CLOCK_MONOTONIC read once per input message: when the writer
                                  *    began publishing what it produced (book commit, then events) */
  int64_t price;                 /* 40 units of 1 / MDFAN_EVENT_PRICE_SCALE; MDFAN_EVENT_PRICE_NONE if none */
  uint64_t order_ref;            /* 48 the venue's order reference or trade id, 0 if none; CLEAR: the
                                  *    new generation */
  uint64_t size;                 /* 56 in the instrument's size units (10^-size_decimals) */
} mdfan_event_t;

#define MDFAN_EVENT_PRICE_SCALE 1000000000ull /* prices in 1e-9 of the currency unit */
#define MDFAN_EVENT_PRICE_NONE 0x7FFFFFFFFFFFFFFFull /* INT64_MAX: no price */
#define MDFAN_EVENT_NO_INSTRUMENT 0xFFFFFFFFu
#define MDFAN_EVENT_KIND_TRADE 0x54u     /* 'T' */
#define MDFAN_EVENT_KIND_STATUS 0x48u    /* 'H' a trading action */
#define MDFAN_EVENT_KIND_SYSTEM 0x53u    /* 'S' */
#define MDFAN_EVENT_KIND_ORDER 0x4Fu     /* 'O' an order event; action: A add, X cancel, D delete, U replace */
#define MDFAN_EVENT_KIND_CLEAR 0x52u     /* 'R' the first record of a ring a takeover started: action 'G',
                                          * order_ref the new generation; drop what earlier events built */
#define MDFAN_EVENT_FLAG_LAST 1u         /* the last record of its input message */
#define MDFAN_EVENT_FLAG_BAD_BOOK 2u     /* input was lost and not recovered: books may be wrong */
#define MDFAN_EVENT_FLAG_NOT_PRINTABLE 4u /* a trade the venue marks non-printable (ITCH C with 'N'):
                                           * not in volume or last-sale figures */

#define MDFAN_EVENTS_BYTES(capacity) \
  ((uint64_t)MDFAN_EVENTS_HEADER_BYTES + (uint64_t)(capacity) * MDFAN_EVENT_BYTES)

/* ---- top-of-book lines: the segment "/NAME.tops" beside "/NAME" ---------------------------------
 * The best bid and ask of every book, one 64-byte line per slot under its own seqlock, so that a
 * reader of the top alone waits for one line transfer, not for the whole book. In every commit that
 * changes a book's top (level 0 of either side, any change of bid_count or ask_count, not only to
 * or from 0, or the flags), the writer commits the top line first, then the slot: both carry the
 * same msg_index and publish_ts_ns. A commit that leaves the top as it was does not touch the line. A venue with a faster best bid/offer than its
 * book (Binance @bookTicker) also commits the top line alone, and a book commit older than the top
 * line shown leaves the line alone (MDFAN_COMMIT_BOOK_ONLY): the line then runs ahead of the slot
 * (docs/FEED.md states the rule). The line's seq counts its commits (seq / 2 within a generation).
 * A data segment has one, created before it becomes READY, and a new writer generation re-creates
 * it (a reader re-opens it when the generation moves).
 *
 *   tops header   two lines: identity (line 0), the top futex word alone (line 1)
 *   top lines     max_instruments lines, MDFAN_TOP_STRIDE_BYTES apart (a line pair each: the
 *                 adjacent-line prefetcher pulls pairs, as for the slots)
 *
 * Commit and read are the slot's seqlock (mdfan_seqlock.h) over MDFAN_TOP_BYTES: line i is slot i's. */
#define MDFAN_TOPS_MAGIC 0x504F544Du      /* "MTOP" as bytes at offset 0 (little-endian u32) */
#define MDFAN_TOPS_HEADER_BYTES 256u
#define MDFAN_TOP_BYTES 64u
#define MDFAN_TOP_STRIDE_BYTES 128u

typedef struct mdfan_tops_header {
  /* line 0: identity, written before magic (store-release), never again. */
  uint32_t magic;                /* 0   MDFAN_TOPS_MAGIC; store-release after the other fields */
  uint16_t abi_major;            /* 4   as the data segment */
  uint16_t abi_minor;            /* 6 */
  uint32_t max_instruments;      /* 8   top lines, as the data segment's slots */
  uint32_t top_stride_bytes;     /* 12  MDFAN_TOP_STRIDE_BYTES */
  uint32_t generation;           /* 16  the data segment's generation these lines belong to */
  uint32_t header_bytes;         /* 20  MDFAN_TOPS_HEADER_BYTES */
  uint64_t total_bytes;          /* 24  header_bytes + max_instruments * top_stride_bytes */
  uint8_t line0_reserved[96];    /* 32 */
  /* line 1: the top futex word alone. After an input message whose commits changed a top, if the
   * registry's top_sleepers > 0 (seq_cst load), the writer bumps it (+1, seq_cst RMW) and
   * FUTEX_WAKEs; also once at close. The wake protocol is notify_seq's, with top_sleepers. */
  uint32_t notify_seq;           /* 128 */
  uint8_t line1_reserved[124];   /* 132 */
} mdfan_tops_header_t;

typedef struct mdfan_top {
  uint32_t seq;                  /* 0  seqlock, as the slot's */
  uint16_t flags;                /* 4  the slot's MDFAN_SLOT_* at this commit */
  uint8_t bid_count;             /* 6  the book's bid levels in use (at most MDFAN_MAX_LEVELS); a top
                                  *    committed alone counts at least 1 for a side it shows,
                                  *    0 for a side it shows empty */
  uint8_t ask_count;             /* 7 */
  uint64_t msg_index;            /* 8  the input message that carried this best bid/offer */
  uint64_t exchange_ts_ns;       /* 16 its exchange timestamp */
  uint64_t publish_ts_ns;        /* 24 when the writer began this publication (CLOCK_MONOTONIC) */
  int64_t bid_price;             /* 32 level 0 of the bids, the instrument's units; both 0 when
                                  *    bid_count is 0 (order counts: read the slot) */
  uint64_t bid_size;             /* 40 */
  int64_t ask_price;             /* 48 level 0 of the asks; both 0 when ask_count is 0 */
  uint64_t ask_size;             /* 56 */
} mdfan_top_t;

#define MDFAN_TOPS_BYTES(max_instruments) \
  ((uint64_t)MDFAN_TOPS_HEADER_BYTES + (uint64_t)(max_instruments) * MDFAN_TOP_STRIDE_BYTES)

/* ---- the commit stage: the TypeScript writer -> addon hand-over (not in any segment) ----------
 * One per bound writer, in the writer's own memory: before each commitBook the TypeScript writer
 * fills the fields and the levels, the addon reads them and commits (numbers through memory cost
 * less than N-API arguments). Both sides run on the writer's thread, one after the other: plain
 * accesses. Every number is a double holding an integer (exact below 2^53: what JavaScript holds);
 * the addon converts them to the slot's integers. The exchange time crosses in the venue's own unit
 * (Binance: ms) and the addon multiplies it by exchange_ts_unit_ns in 64-bit integers, so epoch
 * nanoseconds (above 2^53) arrive exact. The stage's buffer is 8-aligned; the levels follow the
 * struct at sizeof(mdfan_commit_stage_t): bids then asks, levels of each side, each level three
 * doubles [price, size, orders] (MDFAN_STAGE_LEVEL_BYTES). */
#define MDFAN_COMMIT_BOOK_AND_TOP 0u /* the book, and its top line if the top changed */
#define MDFAN_COMMIT_BOOK_ONLY 1u    /* the book; the top line already shows a newer best bid/offer */
#define MDFAN_COMMIT_TOP_ONLY 2u     /* the top line alone from level 0 of each side: a venue's faster
                                      * best bid/offer; the slot is untouched */
#define MDFAN_STAGE_LEVEL_BYTES 24u  /* [price, size, orders] as doubles */

typedef struct mdfan_commit_stage {
  double msg_index;              /* 0  written by TypeScript */
  double exchange_ts;            /* 8  in units of exchange_ts_unit_ns nanoseconds */
  double exchange_ts_unit_ns;    /* 16 1 for nanoseconds, 1000000 for milliseconds */
  uint32_t flags;                /* 24 the slot's MDFAN_SLOT_* for this commit */
  uint32_t bid_count;            /* 28 levels in use, at most the segment's levels */
  uint32_t ask_count;            /* 32 */
  uint32_t mode;                 /* 36 MDFAN_COMMIT_* */
  uint32_t top_commits;          /* 40 written by the addon: top lines committed so far */
  uint32_t reserved;             /* 44 */
  double exchange_ts_base_ns;    /* 48 added after the multiply: the instrument's time origin (DBN:
                                  *    a UTC midnight, a multiple of 2^16 ns, exact in a double), so
                                  *    an epoch time in ns crosses as a small exact offset; 0: none.
                                  *    exchange_ts NaN or negative: the time is unknown, stored 0 */
} mdfan_commit_stage_t;

#define MDFAN_COMMIT_STAGE_BYTES(levels) \
  (sizeof(mdfan_commit_stage_t) + 2u * (size_t)(levels) * MDFAN_STAGE_LEVEL_BYTES)

/* ---- the layout, asserted ----------------------------------------------------------------- */
MDFAN_STATIC_ASSERT(sizeof(mdfan_header_t) == MDFAN_HEADER_BYTES, "header is 1024 bytes");
MDFAN_STATIC_ASSERT(offsetof(mdfan_header_t, state) == 1 * MDFAN_LINE_BYTES, "state opens line 1");
MDFAN_STATIC_ASSERT(offsetof(mdfan_header_t, heartbeat_ns) == 2 * MDFAN_LINE_BYTES, "heartbeat owns line 2");
MDFAN_STATIC_ASSERT(offsetof(mdfan_header_t, notify_seq) == 3 * MDFAN_LINE_BYTES, "futex word owns line 3");
MDFAN_STATIC_ASSERT(offsetof(mdfan_header_t, messages) == 4 * MDFAN_LINE_BYTES, "hot counters own line 4");
MDFAN_STATIC_ASSERT(offsetof(mdfan_header_t, unknown_message_types) == 5 * MDFAN_LINE_BYTES, "cold counters line 5");
MDFAN_STATIC_ASSERT(offsetof(mdfan_header_t, control_socket_path) == 6 * MDFAN_LINE_BYTES, "socket path line 6");
MDFAN_STATIC_ASSERT(offsetof(mdfan_header_t, writer_start_realtime_ns) % 8 == 0, "u64 aligned");
MDFAN_STATIC_ASSERT(offsetof(mdfan_header_t, created_realtime_ns) % 8 == 0, "u64 aligned");
MDFAN_STATIC_ASSERT(sizeof(mdfan_dir_entry_t) == MDFAN_DIR_ENTRY_BYTES, "directory entry is 64 bytes");
MDFAN_STATIC_ASSERT(sizeof(mdfan_level_t) == MDFAN_LEVEL_BYTES, "level is 24 bytes");
MDFAN_STATIC_ASSERT(offsetof(mdfan_level_t, price) % 8 == 0 && offsetof(mdfan_level_t, size) % 8 == 0, "u64 aligned");
MDFAN_STATIC_ASSERT(MDFAN_SLOT_HEADER_BYTES % 8 == 0, "levels start 8-aligned");
MDFAN_STATIC_ASSERT(offsetof(mdfan_dir_entry_t, price_decimals) == 44, "decimals after the flags");
MDFAN_STATIC_ASSERT(sizeof(mdfan_slot_header_t) == MDFAN_SLOT_HEADER_BYTES, "slot header is 64 bytes");
MDFAN_STATIC_ASSERT(offsetof(mdfan_slot_header_t, seq) == 0, "seq first: it shares the line with the data");
MDFAN_STATIC_ASSERT(offsetof(mdfan_slot_header_t, msg_index) % 8 == 0, "u64 aligned");
MDFAN_STATIC_ASSERT(MDFAN_SLOT_STRIDE(10) == 640, "10 levels: 64 + 480 bytes -> 5 line pairs");
MDFAN_STATIC_ASSERT(MDFAN_SLOT_STRIDE(1) == 128, "1 level fits one line pair");
MDFAN_STATIC_ASSERT(MDFAN_HEADER_BYTES % MDFAN_LINE_BYTES == 0, "directory starts on a line");
MDFAN_STATIC_ASSERT(sizeof(mdfan_registry_header_t) == 2 * MDFAN_REGISTRY_LINE_BYTES, "registry header is two lines");
MDFAN_STATIC_ASSERT(offsetof(mdfan_registry_header_t, sleepers) == MDFAN_REGISTRY_LINE_BYTES, "sleepers own line 1");
MDFAN_STATIC_ASSERT(sizeof(mdfan_reader_line_t) == MDFAN_REGISTRY_LINE_BYTES, "one line per reader");
MDFAN_STATIC_ASSERT((MDFAN_STALE_CHECK_SPINS & (MDFAN_STALE_CHECK_SPINS - 1u)) == 0, "stale check interval is a power of two");
MDFAN_STATIC_ASSERT(sizeof(mdfan_events_header_t) == MDFAN_EVENTS_HEADER_BYTES, "event ring header is two lines");
MDFAN_STATIC_ASSERT(offsetof(mdfan_events_header_t, head) == MDFAN_LINE_BYTES, "the ring head owns line 1");
MDFAN_STATIC_ASSERT(sizeof(mdfan_event_t) == MDFAN_EVENT_BYTES, "an event is one 64-byte cache line");
MDFAN_STATIC_ASSERT(offsetof(mdfan_event_t, price) % 8 == 0, "u64 aligned");
MDFAN_STATIC_ASSERT((MDFAN_EVENTS_DEFAULT_CAPACITY & (MDFAN_EVENTS_DEFAULT_CAPACITY - 1u)) == 0, "capacity is a power of two");
MDFAN_STATIC_ASSERT(offsetof(mdfan_header_t, events) == 536, "the events counter in line 4");
MDFAN_STATIC_ASSERT(offsetof(mdfan_header_t, companions) == 168, "companions in line 1");
MDFAN_STATIC_ASSERT(offsetof(mdfan_event_t, size) == 56, "the event's size closes its line");

MDFAN_STATIC_ASSERT(offsetof(mdfan_registry_header_t, top_sleepers) == 132, "top_sleepers in line 1");
MDFAN_STATIC_ASSERT(sizeof(mdfan_tops_header_t) == MDFAN_TOPS_HEADER_BYTES, "tops header is two lines");
MDFAN_STATIC_ASSERT(offsetof(mdfan_tops_header_t, notify_seq) == MDFAN_LINE_BYTES, "the top futex word owns line 1");
MDFAN_STATIC_ASSERT(sizeof(mdfan_top_t) == MDFAN_TOP_BYTES, "a top is one 64-byte cache line");
MDFAN_STATIC_ASSERT(MDFAN_TOP_STRIDE_BYTES % MDFAN_LINE_BYTES == 0, "top lines do not share a line pair");
MDFAN_STATIC_ASSERT(MDFAN_TOPS_HEADER_BYTES % MDFAN_LINE_BYTES == 0, "top lines start on a line pair");
MDFAN_STATIC_ASSERT(offsetof(mdfan_top_t, seq) == 0, "seq first, as the slot's");
MDFAN_STATIC_ASSERT(offsetof(mdfan_top_t, publish_ts_ns) % 8 == 0, "u64 aligned");
MDFAN_STATIC_ASSERT(offsetof(mdfan_top_t, bid_price) == 32 && offsetof(mdfan_top_t, ask_size) == 56, "the best bid and offer fill the line's second half");
MDFAN_STATIC_ASSERT(MDFAN_MAX_LEVELS <= 255, "a top line's counts are u8");

MDFAN_STATIC_ASSERT(sizeof(mdfan_commit_stage_t) % 8 == 0, "stage levels start 8-aligned after the fields");
MDFAN_STATIC_ASSERT(offsetof(mdfan_commit_stage_t, msg_index) % 8 == 0, "f64 aligned");
MDFAN_STATIC_ASSERT(offsetof(mdfan_commit_stage_t, exchange_ts) % 8 == 0 && offsetof(mdfan_commit_stage_t, exchange_ts_unit_ns) % 8 == 0, "f64 aligned");
MDFAN_STATIC_ASSERT(offsetof(mdfan_commit_stage_t, exchange_ts_base_ns) % 8 == 0, "f64 aligned");
MDFAN_STATIC_ASSERT(sizeof(double) == 8, "the stage's doubles are JavaScript numbers (IEEE-754 binary64)");
MDFAN_STATIC_ASSERT(MDFAN_STAGE_LEVEL_BYTES == 3 * sizeof(double), "a stage level is three doubles");

#endif /* MDFAN_ABI_H */
