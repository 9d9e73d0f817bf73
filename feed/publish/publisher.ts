/**
 * The one writer of the segment for every venue (a BookSink): gives instruments slots as the
 * venue names them (only --symbols if given), commits every top-N change to its slot, mirrors it
 * to --dump-books, marks books stale after a feed gap, and turns the venue's counters into the
 * segment's.
 */
import * as abi from '../../native/segment/abi.js';
import type { EventFields } from '../../native/segment/events.js';
import type { LevelSource } from '../../native/segment/seqlock.js';
import type { InstrumentSpec } from '../../native/segment/directory.js';
import type { SegmentWriter } from '../../native/segment/writer.js';
import { ErrorCode, isMdfanError } from '../../native/segment/errors.js';
import { LogEvent, type Logger, rateLimit } from '../../lib/log.js';
import { type BookSink, NOT_PUBLISHED, type NativeTarget, OWN_INDEX, type SourceCounters, newCounters } from '../sink.js';
import type { BookDump } from './dump.js';

export interface PublisherOptions {
  /** Only these symbols get slots (null: all). */
  symbols?: ReadonlySet<string> | null;
  dump?: BookDump | null;
  /** Where a refused instrument (directory full) is said, at most once a second. */
  log?: Logger | null;
}

export class Publisher implements BookSink {
  /** Flags each slot's commits carry (MDFAN_SLOT_STALE once a gap made its book doubtful). */
  private readonly flags: Uint32Array;
  /** Each slot's last book's input message (a stale mark at OWN_INDEX names it). */
  private readonly bookIndex: Float64Array;
  /** MDFAN_SLOT_STALE where the venue said the slot's last book was doubtful: no recovery of ours clears that. */
  private readonly upstream: Uint32Array;
  private readonly symbolBySlot: string[] = [];
  private readonly symbols: ReadonlySet<string> | null;
  private readonly dump: BookDump | null;
  /** The venue's counters as last flushed: the cold counters are added as deltas. */
  private readonly reported: SourceCounters = newCounters();
  private readonly log: Logger | null;
  private readonly refusedLogDue = rateLimit(1000);
  private refused = 0;
  /** Input was lost for good this session: stale marks stay (a recovery cannot clear them). */
  private lostForGood = false;

  constructor(
    readonly writer: SegmentWriter,
    opts: PublisherOptions = {},
  ) {
    this.flags = new Uint32Array(writer.layout.maxInstruments);
    this.bookIndex = new Float64Array(writer.layout.maxInstruments);
    this.upstream = new Uint32Array(writer.layout.maxInstruments);
    this.symbols = opts.symbols ?? null;
    this.dump = opts.dump ?? null;
    this.log = opts.log ?? null;
  }

  instrument(symbol: string, feedId: number, spec: InstrumentSpec): number {
    if (this.symbols !== null && !this.symbols.has(symbol)) return NOT_PUBLISHED;
    let slot: number;
    try {
      slot = this.writer.addInstrument(symbol, feedId, spec);
    } catch (e) {
      // A full directory is the operator's sizing, not a reason to stop publishing the others.
      if (!isMdfanError(e, ErrorCode.FULL)) throw e;
      this.refused++;
      this.writer.addCounter('instruments_refused');
      if (this.refusedLogDue())
        this.log?.error({ event: LogEvent.INSTRUMENT_REFUSED, code: e.code, symbol, maxInstruments: this.writer.layout.maxInstruments, count: this.refused }, e.message);
      return NOT_PUBLISHED;
    }
    this.symbolBySlot[slot] = symbol;
    return slot;
  }

  /**
   * What an engine in the addon needs to publish as this publisher (feed/itch/native-venue.ts):
   * the writer and the per-slot arrays it reads and keeps. Null when a book dump is asked for (the
   * dump is written here, book by book).
   */
  nativeTarget(): NativeTarget | null {
    if (this.dump !== null) return null;
    return { writer: this.writer, flags: this.flags, bookIndex: this.bookIndex, upstream: this.upstream };
  }

  /** Something was published since the last tick(): sleepers may need waking. */
  private published = false;

  /** The writer's stage: a venue that fills its top N there is committed without a copy. */
  get scratch(): LevelSource {
    return this.writer.slots.stage;
  }

  book(slot: number, top: LevelSource, msgIndex: number, exchangeTs: number, doubtful = false, keepTop = false): void {
    const upstream = doubtful ? abi.SLOT_STALE : 0;
    this.writer.publish(slot, top, msgIndex, exchangeTs, this.flags[slot]! | upstream, keepTop ? abi.COMMIT_BOOK_ONLY : abi.COMMIT_BOOK_AND_TOP);
    this.bookIndex[slot] = msgIndex;
    this.upstream[slot] = upstream;
    this.published = true;
    this.dump?.write(msgIndex, this.symbolBySlot[slot]!, top);
  }

  bbo(slot: number, bidPrice: number, bidSize: number, askPrice: number, askSize: number, msgIndex: number, exchangeTs: number): void {
    this.writer.publishTop(slot, bidPrice, bidSize, askPrice, askSize, msgIndex, exchangeTs);
    this.published = true;
  }

  bookStale(slot: number, msgIndex: number): void {
    if (this.upstream[slot]! & abi.SLOT_STALE) return;
    this.upstream[slot] = abi.SLOT_STALE;
    this.writer.flagSlot(slot, this.flags[slot]! | abi.SLOT_STALE, msgIndex);
    this.writer.addCounter('stale_marks');
    this.published = true;
  }

  get wantsEvents(): boolean {
    return this.writer.ring !== null;
  }

  event(e: EventFields): void {
    const slot = e.instrumentIndex;
    // A book a gap made doubtful: its events say so too.
    if (slot !== abi.EVENT_NO_INSTRUMENT && this.flags[slot] & abi.SLOT_STALE) e.flags |= abi.EVENT_FLAG_BAD_BOOK;
    this.writer.appendEvent(e);
    this.published = true;
  }

  /**
   * Messages were lost: every published book may now be wrong. Each is re-committed with
   * MDFAN_SLOT_STALE (its levels kept) and keeps the flag on later commits for the rest of the
   * session (docs/FEED.md).
   */
  gap(msgIndex: number): void {
    this.writer.addCounter('feed_gaps');
    this.markStale(msgIndex);
  }

  /**
   * The missing input came back: every book is exact again, so the stale marks go (each slot
   * re-committed without the flag), unless input was ever lost for good this session.
   */
  recovered(msgIndex: number): void {
    if (this.lostForGood) return;
    const n = this.writer.instruments;
    for (let slot = 0; slot < n; slot++) {
      if (!(this.flags[slot] & abi.SLOT_STALE)) continue;
      this.flags[slot] &= ~abi.SLOT_STALE;
      this.writer.flagSlot(slot, this.flags[slot]! | this.upstream[slot]!, msgIndex === OWN_INDEX ? this.bookIndex[slot]! : msgIndex);
    }
    this.writer.wakeIfSleepers();
  }

  /** Input lost for good: the books stay stale for the rest of the session. */
  lost(msgIndex: number): void {
    this.lostForGood = true;
    this.markStale(msgIndex);
  }

  private markStale(msgIndex: number): void {
    const n = this.writer.instruments;
    for (let slot = 0; slot < n; slot++) {
      if (this.flags[slot] & abi.SLOT_STALE) continue;
      this.flags[slot] |= abi.SLOT_STALE;
      this.writer.flagSlot(slot, this.flags[slot], msgIndex === OWN_INDEX ? this.bookIndex[slot]! : msgIndex);
      this.writer.addCounter('stale_marks');
    }
    this.writer.wakeIfSleepers();
  }

  tick(): void {
    // Once per message that published, after all it published: one fence and a load or two when
    // no reader sleeps (no syscall).
    if (this.published) {
      this.published = false;
      this.writer.wakeIfSleepers();
    }
    this.writer.tick();
  }

  /** The counters as last flushed (several sources: their sum). */
  get flushed(): Readonly<SourceCounters> {
    return this.reported;
  }

  /** Copies the venue's counters into the segment (cold counters as deltas). */
  flush(c: SourceCounters): void {
    const w = this.writer;
    const r = this.reported;
    w.messages = c.messages;
    w.inputBytes = c.inputBytes;
    w.flushCounters();
    if (c.unknownTypes > r.unknownTypes) w.addCounter('unknown_message_types', c.unknownTypes - r.unknownTypes);
    if (c.unknownOrderRefs > r.unknownOrderRefs) w.addCounter('unknown_order_refs', c.unknownOrderRefs - r.unknownOrderRefs);
    if (c.reveals > r.reveals) w.addCounter('reveals', c.reveals - r.reveals);
    if (c.duplicates > r.duplicates) w.addCounter('feed_duplicates', c.duplicates - r.duplicates);
    if (c.malformed > r.malformed) w.addCounter('malformed_messages', c.malformed - r.malformed);
    if (c.unannounced > r.unannounced) w.addCounter('unannounced_messages', c.unannounced - r.unannounced);
    if (c.recovered > r.recovered) w.addCounter('feed_recovered', c.recovered - r.recovered);
    if (c.unrecovered > r.unrecovered) w.addCounter('feed_unrecovered', c.unrecovered - r.unrecovered);
    if (c.gaps > r.gaps) w.addCounter('feed_gaps', c.gaps - r.gaps);
    Object.assign(r, c);
  }
}
