/**
 * ITCH 5.0 as a venue: the replay engine's instruments and top-N changes, handed to a BookSink.
 * Shared by every ITCH transport (a file, MoldUDP64). Stock locates map to slots in a typed
 * array (no Map on the hot path).
 */
import { NOT_PUBLISHED, type BookSink, type SourceCounters, newCounters } from '../sink.js';
import type { InstrumentBook } from './books.js';
import { ItchReplay } from './engine.js';
import { itchEvent } from './events.js';
import type { ItchMessage } from './message.js';
import { abi, type EventFields, newEventFields } from '../../native/segment/index.js';
import { ITCH_SPEC } from '../../native/segment/directory.js';

/** ITCH prices are integers in units of 1/10000 of a dollar. */
export const ITCH_PRICE_SCALE = 10000;
/** From ITCH units to the event ring's (1/MDFAN_EVENT_PRICE_SCALE): exact, both are powers of ten. */
const PRICE_TO_RING = abi.EVENT_PRICE_SCALE / ITCH_PRICE_SCALE;
/** Stock locates are 16-bit. */
const LOCATES = 65536;
/** slotByLocate: the locate has no slot yet (no directory message named it). */
const UNASKED = -2;

export class ItchVenue {
  readonly engine: ItchReplay;
  readonly counters: SourceCounters = newCounters();
  private readonly slotByLocate = new Int32Array(LOCATES).fill(UNASKED);
  /** The events of the message being processed (filled before the books change, appended after). */
  private readonly events = [newEventFields(), newEventFields()];
  private pending = 0;
  /** Order messages for locates no directory message named: kept in the books, not published. */
  unannounced = 0;

  /** `onMalformed`: what to do with a malformed message (default: drop it, counted). */
  constructor(
    private readonly sink: BookSink,
    levels: number,
    onMalformed?: (msgIndex: number, field: string, found: string) => void,
  ) {
    this.engine = new ItchReplay(levels, {
      onDirectory: (book) => this.ask(book),
      onMalformed,
      onTopChange: (msgIndex, book, top, ts) => {
        const slot = this.slotByLocate[book.locate];
        // Only instruments a directory message named get a slot: orders for any other locate
        // (a corrupt or hostile input) must not fill the directory.
        if (slot === UNASKED) this.unannounced++;
        else if (slot !== NOT_PUBLISHED) this.sink.book(slot, top, msgIndex, ts);
      },
      beforeApply: sink.wantsEvents ? (msg, msgIndex) => this.collectEvents(msg, msgIndex) : undefined,
    }, sink.scratch);
  }

  private collectEvents(msg: ItchMessage, msgIndex: number): void {
    const [first, second] = this.events as [EventFields, EventFields];
    const n = itchEvent(msg, this.engine.books, first, second);
    if (n === 0) return;
    let slot = abi.EVENT_NO_INSTRUMENT;
    if (first.kind !== abi.EVENT_KIND_SYSTEM) {
      const s = this.slotByLocate[msg.locate];
      if (s === NOT_PUBLISHED || s === UNASKED) return; // not among --symbols, or never announced
      slot = s;
    }
    for (let k = 0; k < n; k++) {
      const e = this.events[k]!;
      e.instrumentIndex = slot;
      e.msgIndex = msgIndex;
      e.exchangeTs = msg.timestampNs;
      e.flags |= k === n - 1 ? abi.EVENT_FLAG_LAST : 0;
      if (!Number.isNaN(e.price)) e.price *= PRICE_TO_RING;
    }
    this.pending = n;
  }

  /** A directory message (or a first change) names the book: ask the sink once for a slot. */
  private ask(book: InstrumentBook): number {
    const have = this.slotByLocate[book.locate];
    if (have >= 0) return have;
    const slot = this.sink.instrument(book.symbol, book.locate, ITCH_SPEC);
    this.slotByLocate[book.locate] = slot;
    return slot;
  }

  /** One framed message (payload at buf[offset, offset+length)). */
  process(buf: Uint8Array, offset: number, length: number, msgIndex: number): void {
    this.engine.process(buf, offset, length, msgIndex);
    // Events after the book they changed is committed: a reader that sees a trade finds the book after it.
    for (let k = 0; k < this.pending; k++) this.sink.event(this.events[k]!);
    this.pending = 0;
    this.sink.tick();
  }

  /** The engine's counts as the venue's counters. Known types with a wrong length (live path only) count as unknown types. */
  syncCounters(): SourceCounters {
    const e = this.engine;
    const c = this.counters;
    c.messages = e.messages;
    c.unknownTypes = e.unknownTypes + e.badLengths;
    c.unknownOrderRefs = e.books.counters.unknownOrderRefs;
    c.malformed = e.malformed;
    c.unannounced = this.unannounced;
    return c;
  }
}
