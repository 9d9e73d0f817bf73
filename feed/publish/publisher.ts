/**
 * Connects the replay engine to the segment: gives instruments slots as the directory names them
 * (only --symbols if given), commits every top-N change to its slot, mirrors it to --dump-books,
 * marks books stale after a feed gap, and keeps the segment's counters current.
 */
import * as abi from '../../native/segment/abi.js';
import { SegmentWriter } from '../../native/segment/writer.js';
import type { InstrumentBook } from '../book/itch-books.js';
import { BookDump } from './dump.js';
import { ItchReplay } from '../itch/engine.js';
import { TopOfBook } from './top.js';

export const ITCH_PRICE_SCALE = 10000;

export class Publisher {
  /** Slot of each stock locate, -1 if none (not selected, or not seen). */
  private readonly slotByLocate = new Int32Array(65536).fill(-1);
  private readonly flags: Uint32Array;
  readonly replay: ItchReplay;
  private readonly stale = new TopOfBook(1);
  private reported = { unknownTypes: 0, unknownRefs: 0 };

  constructor(
    readonly writer: SegmentWriter,
    levels: number,
    private readonly symbols: Set<string> | null,
    private readonly dump: BookDump | null,
  ) {
    this.flags = new Uint32Array(writer.layout.maxInstruments);
    this.replay = new ItchReplay(levels, {
      onDirectory: (book) => this.slotFor(book),
      onTopChange: (msgIndex, book, top, ts) => this.onTopChange(msgIndex, book, top, ts),
    });
  }

  private slotFor(book: InstrumentBook): number {
    const have = this.slotByLocate[book.locate];
    if (have >= 0) return have;
    if (this.symbols !== null && !this.symbols.has(book.symbol)) return -1;
    const slot = this.writer.addInstrument(book.symbol, book.locate, ITCH_PRICE_SCALE);
    this.slotByLocate[book.locate] = slot;
    return slot;
  }

  private onTopChange(msgIndex: number, book: InstrumentBook, top: TopOfBook, exchangeTsNs: number): void {
    if (this.symbols !== null && !this.symbols.has(book.symbol)) return;
    const slot = this.slotFor(book); // a book with no directory message gets a slot on first change
    this.writer.publish(slot, top, msgIndex, exchangeTsNs, this.flags[slot]);
    this.writer.wakeIfSleepers(); // one load when no reader sleeps on the futex
    this.dump?.write(msgIndex, book.symbol, top);
  }

  /**
   * Messages were lost (a MoldUDP64 gap): every published book may now be wrong. Each is
   * re-committed with MDFAN_SLOT_STALE, and keeps the flag on later commits for the rest of the
   * session (no retransmission: docs/FEED.md).
   */
  markAllStale(msgIndex: number): void {
    for (let locate = 0; locate < 65536; locate++) {
      const slot = this.slotByLocate[locate];
      if (slot < 0 || this.flags[slot] & abi.SLOT_STALE) continue;
      this.flags[slot] |= abi.SLOT_STALE;
      const book = this.replay.books.byLocate[locate];
      const top = book ? this.replay.top : this.stale;
      if (book) top.fill(book);
      this.writer.publish(slot, top, msgIndex, 0, this.flags[slot]);
      this.writer.addCounter('stale_marks');
    }
    this.writer.wakeIfSleepers();
  }

  /** Copies the engine's counters into the segment (cold counters as deltas). */
  flushCounters(): void {
    const r = this.replay;
    this.writer.messages = r.messages;
    this.writer.flushCounters();
    const refs = r.books.counters.unknownOrderRefs;
    // Known types with a wrong length (live path only) are counted with the unknown types.
    const unknown = r.unknownTypes + r.badLengths;
    if (unknown > this.reported.unknownTypes) this.writer.addCounter('unknown_message_types', unknown - this.reported.unknownTypes);
    if (refs > this.reported.unknownRefs) this.writer.addCounter('unknown_order_refs', refs - this.reported.unknownRefs);
    this.reported = { unknownTypes: unknown, unknownRefs: refs };
  }
}
