/**
 * What a venue gives the publisher, and what it gets from it. Every input (an ITCH file, a
 * LOBSTER pair, a MoldUDP64 stream, any venue added later) is a FeedSource that drives one
 * BookSink: the publisher (feed/publish/publisher.ts) is the only code that writes the segment.
 * A venue is one folder under feed/sources/ that exports a SourceKind, and one line in
 * feed/sources/registry.ts.
 */
import type { Logger } from '../lib/log.js';
import type { InstrumentSpec } from '../native/segment/directory.js';
import type { EventFields } from '../native/segment/events.js';
import type { LevelSource } from '../native/segment/seqlock.js';
import type { SegmentWriter } from '../native/segment/writer.js';
import type { Pacer } from './pacing/pacer.js';

/** The publisher's side of the pipeline. All calls are cheap and allocate nothing. */
/** A publisher's writer and per-slot arrays, for an engine in the addon that commits as it. */
export interface NativeTarget {
  writer: SegmentWriter;
  /** MDFAN_SLOT_* flags each slot's commits carry. */
  flags: Uint32Array;
  /** Each slot's last book's input message. */
  bookIndex: Float64Array;
  /** Each slot's upstream doubt mark (MDFAN_SLOT_STALE), cleared by a book of the venue's. */
  upstream: Uint32Array;
}

export interface BookSink {
  /**
   * The venue announced an instrument (or met one it had not announced). Returns its slot, or
   * NOT_PUBLISHED when it is not published (not among --symbols): the venue then stops calling
   * book() for it. `spec`: its decimals and time unit (prices, sizes and times it passes are in them).
   */
  instrument(symbol: string, feedId: number, spec: InstrumentSpec): number;
  /**
   * Input message msgIndex changed the top N of the instrument in `slot` to `top` (exchangeTs in
   * the instrument's time unit). `doubtful`: the venue itself says this book may be wrong (an
   * upstream stale mark): committed flagged stale. `keepTop`: the top-of-book line already shows a
   * newer best bid/offer than this book (a venue's faster ticker): the book is committed alone.
   */
  book(slot: number, top: LevelSource, msgIndex: number, exchangeTs: number, doubtful?: boolean, keepTop?: boolean): void;
  /**
   * A best bid/offer newer than the book (Binance @bookTicker): the top-of-book line alone is
   * committed; size 0 is an empty side. The slot's book is untouched.
   */
  bbo(slot: number, bidPrice: number, bidSize: number, askPrice: number, askSize: number, msgIndex: number, exchangeTs: number): void;
  /**
   * The venue knows the book in `slot` is wrong from input message msgIndex on (its own sequence
   * broke for this instrument): the book stays readable, marked STALE, until the venue's next book()
   * without `doubtful`. No dump line: nothing was applied.
   */
  bookStale(slot: number, msgIndex: number): void;
  /**
   * Level arrays a venue may fill its top N into (the writer's stage): a book() whose levels are
   * these is committed without a copy. Optional; any LevelSource works.
   */
  readonly scratch?: { bids: Float64Array; asks: Float64Array };
  /** True if events are wanted (the writer keeps an event ring): a venue makes none otherwise. */
  readonly wantsEvents: boolean;
  /**
   * One event of an input message, in the ring's units (price in 1/MDFAN_EVENT_PRICE_SCALE),
   * instrumentIndex a slot the sink gave (or MDFAN_EVENT_NO_INSTRUMENT). Reused by the venue.
   */
  event(e: EventFields): void;
  /**
   * Input before msgIndex is missing: every published book may be wrong until recovered() (the
   * messages came back) or for good once lost() says they will not. The stale marks name msgIndex,
   * or with OWN_INDEX each book's own last message (a venue whose books are each as of their own
   * message, such as a mirror's).
   */
  gap(msgIndex: number, lostMessages: number): void;
  /** The open gaps were filled: the books are exact again (unless lost() was ever called). */
  recovered(msgIndex: number): void;
  /** Messages were lost for good: the books stay doubtful for the rest of the session. */
  lost(msgIndex: number, lostMessages: number): void;
  /**
   * Once per input message, after its books and events: wakes sleeping readers if it published
   * anything; heartbeat and counters when due (one increment otherwise).
   */
  tick(): void;
  /** The venue's counters changed (once per batch, and at the end). */
  flush(counters: SourceCounters): void;
  /**
   * What an engine in the addon needs to publish as this sink (feed/itch/native-venue.ts): the
   * writer and the per-slot arrays the sink reads and keeps. Absent or null: the sink takes
   * books one by one (a book dump, several sources sharing one segment).
   */
  nativeTarget?(): NativeTarget | null;
}

/** gap()'s and recovered()'s msgIndex for "each book keeps the index of its own last message". */
export const OWN_INDEX = -1;

/** slot of an instrument the sink does not publish. */
export const NOT_PUBLISHED = -1;

/** What every venue counts; the publisher turns them into the segment's counters. */
export interface SourceCounters {
  messages: number;
  inputBytes: number;
  unknownTypes: number;
  unknownOrderRefs: number;
  reveals: number;
  duplicates: number;
  /** Messages and packets dropped as malformed (the live path; a file stops at the first). */
  malformed: number;
  /** Order messages for stock locates no directory message named (not published). */
  unannounced: number;
  /** Messages a gap lost that a re-request brought back, and those lost for good. */
  recovered: number;
  unrecovered: number;
  /**
   * Gaps a venue's own rules heal without a stale mark (a per-subject sequence jump before a record
   * that is whole by itself); gap() counts the others.
   */
  gaps: number;
}

export const newCounters = (): SourceCounters => ({
  messages: 0,
  inputBytes: 0,
  unknownTypes: 0,
  unknownOrderRefs: 0,
  reveals: 0,
  duplicates: 0,
  malformed: 0,
  unannounced: 0,
  recovered: 0,
  unrecovered: 0,
  gaps: 0,
});

export interface StopFlag {
  requested: boolean;
}

export interface RunContext {
  pacer: Pacer;
  stop: StopFlag;
  log: Logger;
  /** Progress of a bounded input: `done` of `total` units (bytes, rows). */
  progress?(msgIndex: number, done: number, total: number): void;
}

/** One opened input. Inputs are checked (or, for small ones, read) when opened, before any segment exists. */
export interface FeedSource {
  /** Its bounded size for a progress bar, in `unit`s; null for an unbounded stream. */
  readonly total: { unit: string; count: number } | null;
  readonly counters: SourceCounters;
  /**
   * Feeds the sink until the input ends or ctx.stop is requested. Bad input throws MdfanError
   * MDFAN_ERR_FEED_* naming the file, offset and message index; what was published stays.
   */
  run(sink: BookSink, ctx: RunContext): Promise<void>;
  /** Extra facts for the feed command's closing line (", 44451 levels revealed ..."), or ''. */
  summary(): string;
}

export interface SourceOptions {
  /** Price levels per side the segment keeps. */
  levels: number;
  /** Live MoldUDP64: where lost packets are asked for (default: the packets' source address). */
  rerequest?: { host: string; port: number } | null;
  /** NATS: the identity and TLS flags as given (parsed by the source, which alone knows it needs them). */
  natsFlags?: Readonly<Record<string, string | boolean | undefined>>;
  /** Live MoldUDP64: the only source whose packets are taken (port null: any); default the first data packet's. */
  sourceAddr?: { host: string; port: number | null } | null;
  /** --symbols as given (a live venue subscribes to these; null: none given). */
  symbols?: readonly string[] | null;
  /**
   * Crypto venues: the decimals prices and sizes are held at (default every Binance number exactly:
   * 8 and 8). Fewer size decimals let a coin traded in billions of units stay below 2^53.
   */
  decimals?: { price?: number; size?: number };
  /** DBN files: pace by each record's ts_recv instead of its ts_event. */
  pace?: 'event' | 'recv';
  /** Live Binance: the WebSocket and REST base URLs (default the venue's own). */
  wsUrl?: string;
  restUrl?: string;
}

/** A venue: how `--source SCHEME:REST` is spelled and opened. */
export interface SourceKind {
  readonly scheme: string;
  /** As in --help, e.g. 'itch:FILE'. */
  readonly syntax: string;
  /** Parses REST (null: malformed, the caller names the syntax) and reads the input. */
  open(rest: string, opts: SourceOptions): FeedSource | null;
}

/**
 * A sink that publishes nothing, for code that needs a venue's judgement without a segment (the
 * capture recorder, benchmarks, tests): extend it and override what you watch. Slots are handed
 * out in order.
 */
export class NullSink implements BookSink {
  readonly wantsEvents: boolean = false;
  private nextSlot = 0;
  instrument(_symbol: string, _feedId: number, _spec: InstrumentSpec): number {
    return this.nextSlot++;
  }
  book(_slot: number, _top: LevelSource, _msgIndex: number, _exchangeTs: number, _doubtful?: boolean, _keepTop?: boolean): void {}
  bbo(_slot: number, _bidPrice: number, _bidSize: number, _askPrice: number, _askSize: number, _msgIndex: number, _exchangeTs: number): void {}
  bookStale(_slot: number, _msgIndex: number): void {}
  event(_e: EventFields): void {}
  gap(_msgIndex: number, _lostMessages: number): void {}
  recovered(_msgIndex: number): void {}
  lost(_msgIndex: number, _lostMessages: number): void {}
  tick(): void {}
  flush(_counters: SourceCounters): void {}
}
