/**
 * One Binance market (spot, USDⓈ-M or COIN-M): its payloads in, its symbols' books out to a
 * BookSink. Recorded and live sources drive it the same way, one payload at a time, so a replay
 * of a capture publishes what the live run published.
 *
 * Per symbol: a full-depth book (both DepthSides), the sequencer, and a bounded buffer of depth
 * events that wait for a snapshot. Events before the first snapshot are buffered; the snapshot is
 * loaded and the buffered events are run through the rules in order (older ones dropped, the
 * bridging one applied, ...). A gap (a futures pu break, a spot U past u + 1, a snapshot older
 * than every event left) loses the book: it is marked STALE (sink.bookStale, levels kept), a new
 * snapshot is asked for (transport.requestSnapshot), events are buffered until it comes, and the
 * first book applied after it is committed without the mark. In a recording no new snapshot comes
 * unless the recorder took one: the book then stays STALE to the end.
 *
 * Publication: after every applied depth event, the top N (book(); one --dump-books line each),
 * flagged STALE while it shows a level past the snapshot's edge (depth-book.ts).
 *
 * Re-anchoring. A 1,000-level snapshot spans little of a busy book, so the edge is soon passed:
 * the first commit past it asks for a new snapshot (with a transport; once until one comes). A
 * snapshot that arrives while the book is in sync, asked for or recorded, re-anchors the book
 * (a replay must do what the live run did, so this does not depend on a transport). With L its
 * lastUpdateId and u the last applied: L > u loads it and the events that follow go through the
 * first-sync rules; L <= u loads it and silently applies again the logged events after L (the
 * applied events since the book's last snapshot load, as many as the buffer holds), the first of
 * them bridging L, then commits the book once with the snapshot's message index. A log that
 * cannot bridge L keeps the book as it is (counted failed). Either way the edge is the new one.
 * Top-of-book line: it shows the newest best bid/offer by update id, whichever stream carried it.
 * Per symbol the update id it shows is kept; a @bookTicker with a greater u is committed alone
 * (bbo()), an older or equal one is dropped (counted); a depth event with u >= it commits the
 * book with its top, an older one commits the book but leaves the top line (keepTop). Times are
 * the venue's ms (tsUnitNs 1e6): depth E, trade T, futures bookTicker E; spot's bookTicker carries
 * no time and is committed with 0 ("unknown"), never a time borrowed from another message.
 *
 * Trades go to the event ring (kind T, action A: the side is the aggressor's, B when the buyer
 * took, S when the seller did; the trade id as orderRef; price in 1e-9 currency units).
 */
import type { Logger } from '../../lib/log.js';
import { LogEvent, rateLimit } from '../../lib/log.js';
import * as abi from '../../native/segment/abi.js';
import { ErrorCode, MdfanError } from '../../native/segment/errors.js';
import type { InstrumentSpec } from '../../native/segment/directory.js';
import { type EventFields, newEventFields } from '../../native/segment/events.js';
import type { LevelSource } from '../../native/segment/seqlock.js';
import { type BookSink, NOT_PUBLISHED, type SourceCounters, newCounters } from '../sink.js';
import { DepthSide } from './depth-book.js';
import { EventBuffer } from './event-log.js';
import { MessageDecoder, MessageKind, type MalformedReason } from './messages.js';
import { type BinanceCounters, newBinanceCounters } from './counters.js';
export type { BinanceCounters } from './counters.js';
import { Sequencer, SyncState, Verdict } from './sequencer.js';
import type { BinanceVenue } from './venues.js';

/** Binance's times are milliseconds: tsUnitNs of every Binance instrument. */
export const BINANCE_TS_UNIT_NS = 1e6;

/** Depth events a symbol keeps while it waits for a snapshot (the oldest go first past it). */
export const DEFAULT_MAX_BUFFERED = 16384;

/** Decimals a price may have: a trade's price must be exact in the event ring's 1e-9 units. */
export const MAX_PRICE_DECIMALS = 9;
export const MAX_SIZE_DECIMALS = 15;
/** By default every Binance number exactly (prices and quantities have at most 8 decimals). */
export const DEFAULT_DECIMALS = 8;

export interface BinanceMarketOptions {
  /** Levels a side published. */
  levels: number;
  /** The symbols to keep (as the venue spells them, e.g. BTCUSDT); null: every symbol seen. */
  symbols: string[] | null;
  priceDecimals?: number;
  sizeDecimals?: number;
  log: Logger;
  /** Live: asks for a symbol's REST snapshot; its body comes back through onSnapshot() or onMessage(). */
  transport?: { requestSnapshot(symbol: string): void };
  maxBuffered?: number;
}


class SymbolBook {
  readonly bids = new DepthSide(false);
  readonly asks = new DepthSide(true);
  readonly seq: Sequencer;
  readonly buffer: EventBuffer;
  /** Events applied since the book's last snapshot load, a chain (re-applied on an older snapshot). */
  readonly log: EventBuffer;
  /** A snapshot was asked for because the book went past the edge; not asked again until one comes. */
  reanchorAsked = false;
  /** Exchange time (ms) of the last applied event: a re-anchor's commit carries it. */
  lastEventMs = 0;
  /** A book was committed (there is something to mark STALE). */
  published = false;
  /** The committed book is marked STALE (lost, waiting for a snapshot). */
  stale = false;
  /** The update id the top-of-book line shows (-1: none yet). */
  shownId = -1;
  /** The last trade id handed on (-1: none yet). */
  lastTradeId = -1;

  constructor(
    readonly symbol: string,
    readonly slot: number,
    venue: BinanceVenue,
    maxBuffered: number,
  ) {
    this.seq = new Sequencer(venue.sequencing);
    this.buffer = new EventBuffer(maxBuffered);
    this.log = new EventBuffer(maxBuffered);
  }
}

export class BinanceMarket {
  readonly counters: SourceCounters = newCounters();
  readonly binance: BinanceCounters = newBinanceCounters();
  private readonly decoder: MessageDecoder;
  private readonly books = new Map<string, SymbolBook>();
  /** Symbols the sink does not publish (or not among opts.symbols): dropped on sight. */
  private readonly skipped = new Set<string>();
  private readonly wanted: ReadonlySet<string> | null;
  private readonly levels: number;
  private readonly top: LevelSource;
  private readonly ev: EventFields = newEventFields();
  private readonly spec: InstrumentSpec;
  /** From the instrument's price units to the event ring's 1e-9. */
  private readonly priceToRing: number;
  private readonly maxBuffered: number;
  private readonly log: Logger;
  private readonly malformedLogDue = rateLimit(1000);
  private readonly transport: { requestSnapshot(symbol: string): void } | null;
  private feedIds = 0;

  constructor(
    readonly venue: BinanceVenue,
    private readonly sink: BookSink,
    opts: BinanceMarketOptions,
  ) {
    const priceDecimals = opts.priceDecimals ?? DEFAULT_DECIMALS;
    const sizeDecimals = opts.sizeDecimals ?? DEFAULT_DECIMALS;
    if (!Number.isInteger(priceDecimals) || priceDecimals < 0 || priceDecimals > MAX_PRICE_DECIMALS)
      throw new MdfanError(ErrorCode.OPTIONS, `price decimals must be 0..${MAX_PRICE_DECIMALS} (trade prices are exact in 1e-9 units), got ${priceDecimals}`, { field: 'priceDecimals', found: priceDecimals });
    if (!Number.isInteger(sizeDecimals) || sizeDecimals < 0 || sizeDecimals > MAX_SIZE_DECIMALS)
      throw new MdfanError(ErrorCode.OPTIONS, `size decimals must be 0..${MAX_SIZE_DECIMALS}, got ${sizeDecimals}`, { field: 'sizeDecimals', found: sizeDecimals });
    this.decoder = new MessageDecoder(venue.sequencing === 'futures', priceDecimals, sizeDecimals);
    this.spec = Object.freeze({ priceDecimals, sizeDecimals, tsUnitNs: BINANCE_TS_UNIT_NS });
    this.priceToRing = 10 ** (MAX_PRICE_DECIMALS - priceDecimals);
    this.wanted = opts.symbols === null ? null : new Set(opts.symbols);
    this.levels = opts.levels;
    // The writer's stage when it has this depth: the book is committed without a copy.
    const n = opts.levels * 3;
    const stage = sink.scratch;
    const fits = stage !== undefined && stage.bids.length === n && stage.asks.length === n;
    this.top = { bidCount: 0, askCount: 0, bids: fits ? stage.bids : new Float64Array(n), asks: fits ? stage.asks : new Float64Array(n) };
    this.maxBuffered = opts.maxBuffered ?? DEFAULT_MAX_BUFFERED;
    this.log = opts.log;
    this.transport = opts.transport ?? null;
  }

  /** The instrument's decimals and time unit, as given to sink.instrument(). */
  get instrumentSpec(): InstrumentSpec {
    return this.spec;
  }

  /** Symbols with a book, in the order first seen. */
  get symbols(): string[] {
    return [...this.books.keys()];
  }

  /** Whether `symbol`'s book is in sync (LIVE) and not marked STALE. */
  inSync(symbol: string): boolean {
    const b = this.books.get(symbol);
    return b !== undefined && b.seq.state === SyncState.LIVE && !b.stale;
  }

  /**
   * One payload (a capture line's, or a live frame), message index msgIndex: a combined-stream
   * message, or a bare snapshot body (attributed: the body's `symbol`; else the only symbol; else
   * the one symbol waiting for a snapshot whose buffered events it bridges, or the only one
   * waiting; else counted malformed "snapshot_unknown_symbol"). Ends with sink.tick().
   */
  onMessage(payload: string, msgIndex: number): void {
    this.counters.messages++;
    this.counters.inputBytes += payload.length;
    const dec = this.decoder;
    switch (dec.decode(payload)) {
      case MessageKind.DEPTH: {
        const b = this.bookOf(dec.depth.symbol);
        if (b !== null) this.depthEvent(b, payload, msgIndex);
        break;
      }
      case MessageKind.BOOK_TICKER: {
        const b = this.bookOf(dec.ticker.symbol);
        if (b !== null) this.bookTicker(b, msgIndex);
        break;
      }
      case MessageKind.TRADE: {
        const b = this.bookOf(dec.trade.symbol);
        if (b !== null) this.trade(b, msgIndex);
        break;
      }
      case MessageKind.SNAPSHOT: {
        const b = this.snapshotOwner(msgIndex);
        if (b !== null) this.snapshot(b, msgIndex);
        break;
      }
      default:
        this.malformed(dec.reason, msgIndex, dec.field, dec.found);
    }
    this.sink.tick();
  }

  /** A REST depth snapshot body of `symbol` (the caller asked for it). Ends with sink.tick(). */
  onSnapshot(symbol: string, payload: string, msgIndex: number): void {
    this.counters.messages++;
    this.counters.inputBytes += payload.length;
    const dec = this.decoder;
    const kind = dec.decode(payload);
    if (kind !== MessageKind.SNAPSHOT) {
      if (kind === MessageKind.MALFORMED) this.malformed(dec.reason, msgIndex, dec.field, dec.found);
      else this.malformed('unknown_shape', msgIndex, 'lastUpdateId', 'a stream message where a snapshot was expected');
    } else if (dec.snapshot.symbol !== '' && dec.snapshot.symbol !== symbol) {
      this.malformed('symbol_mismatch', msgIndex, 'symbol', `${dec.snapshot.symbol} for ${symbol}`);
    } else {
      const b = this.bookOf(symbol);
      if (b !== null) this.snapshot(b, msgIndex);
    }
    this.sink.tick();
  }

  /**
   * The connection dropped: events were lost for every symbol. Each book is marked STALE, its
   * buffer emptied (what it held cannot bridge the hole) and a new snapshot asked for.
   */
  onDisconnect(msgIndex: number): void {
    for (const b of this.books.values()) {
      b.buffer.clear();
      this.lose(b, msgIndex);
    }
    this.sink.tick();
  }

  /** The symbol's book, made on first sight; null if the symbol is not kept. */
  private bookOf(symbol: string): SymbolBook | null {
    const b = this.books.get(symbol);
    if (b !== undefined) return b;
    if (this.skipped.has(symbol)) {
      this.binance.otherSymbols++;
      return null;
    }
    const slot = this.wanted === null || this.wanted.has(symbol) ? this.sink.instrument(symbol, this.feedIds++, this.spec) : NOT_PUBLISHED;
    if (slot === NOT_PUBLISHED) {
      this.skipped.add(symbol);
      this.binance.otherSymbols++;
      return null;
    }
    const nb = new SymbolBook(symbol, slot, this.venue, this.maxBuffered);
    this.books.set(symbol, nb);
    this.requestSnapshot(nb);
    return nb;
  }

  private requestSnapshot(b: SymbolBook): void {
    if (this.transport === null) return;
    this.binance.snapshotRequests++;
    this.transport.requestSnapshot(b.symbol);
  }

  /** Which symbol a bare snapshot body (in the decoder) belongs to, or null (counted malformed). */
  private snapshotOwner(msgIndex: number): SymbolBook | null {
    const snap = this.decoder.snapshot;
    if (snap.symbol !== '') return this.bookOf(snap.symbol);
    if (this.books.size === 1) return this.books.values().next().value ?? null;
    if (this.books.size === 0 && this.wanted !== null && this.wanted.size === 1) return this.bookOf(this.wanted.values().next().value ?? '');
    let bridged: SymbolBook | null = null;
    let bridgedCount = 0;
    let waiting: SymbolBook | null = null;
    let waitingCount = 0;
    for (const b of this.books.values()) {
      if (b.seq.state === SyncState.LIVE) continue;
      waiting = b;
      waitingCount++;
      const buf = b.buffer;
      for (let k = 0; k < buf.count; k++) {
        const at = buf.at(k);
        if (b.seq.bridges(snap.lastUpdateId, buf.firstIds[at]!, buf.lastIds[at]!)) {
          bridged = b;
          bridgedCount++;
          break;
        }
      }
    }
    if (bridgedCount === 1) return bridged;
    if (bridgedCount === 0 && waitingCount === 1) return waiting;
    this.malformed('snapshot_unknown_symbol', msgIndex, 'lastUpdateId', String(snap.lastUpdateId));
    return null;
  }

  /** A depth event (in the decoder) of `b`, through the rules. */
  private depthEvent(b: SymbolBook, payload: string, msgIndex: number): void {
    const d = this.decoder.depth;
    switch (b.seq.check(d.firstId, d.lastId, d.prevId)) {
      case Verdict.APPLY:
        this.apply(b, payload, msgIndex);
        return;
      case Verdict.BUFFER:
        this.buffer(b, payload, msgIndex);
        return;
      case Verdict.DROP_OLD:
        this.binance.droppedOld++;
        return;
      case Verdict.DROP_DUPLICATE:
        this.binance.duplicates++;
        this.counters.duplicates++;
        return;
      default:
        // The event past the hole may bridge the next snapshot: it is kept for it.
        this.lose(b, msgIndex);
        this.buffer(b, payload, msgIndex);
    }
  }

  private buffer(b: SymbolBook, payload: string, msgIndex: number): void {
    const d = this.decoder.depth;
    this.binance.buffered++;
    if (!b.buffer.push(payload, msgIndex, d.firstId, d.lastId, d.prevId)) this.binance.bufferOverflows++;
  }

  /** Applies the depth event in the decoder to `b`, logs it and commits the book. */
  private apply(b: SymbolBook, payload: string, msgIndex: number): void {
    const d = this.decoder.depth;
    this.setLevels(b);
    b.log.push(payload, msgIndex, d.firstId, d.lastId, d.prevId);
    b.lastEventMs = d.eventTimeMs;
    this.binance.applied++;
    const keepTop = b.shownId > d.lastId;
    if (!keepTop) b.shownId = d.lastId;
    if (b.stale) {
      b.stale = false;
      this.binance.resyncs++;
    }
    this.commit(b, msgIndex, d.eventTimeMs, keepTop);
  }

  /** The levels of the depth event in the decoder, into `b`'s book. */
  private setLevels(b: SymbolBook): void {
    const { bids, asks } = this.decoder.depth;
    for (let i = 0; i < bids.count; i++) b.bids.set(bids.prices[i]!, bids.sizes[i]!);
    for (let i = 0; i < asks.count; i++) b.asks.set(asks.prices[i]!, asks.sizes[i]!);
  }

  private commit(b: SymbolBook, msgIndex: number, exchangeMs: number, keepTop: boolean): void {
    const top = this.top;
    top.bidCount = b.bids.fillTop(top.bids, this.levels);
    top.askCount = b.asks.fillTop(top.asks, this.levels);
    // A published level past the snapshot's edge: the levels between the edge and it that never
    // changed since the snapshot are missing, so the book may be wrong: committed STALE until the
    // top N is back inside what the snapshot covered, or a new snapshot moves the edge: asked for once.
    const pastEdge = b.bids.lastTopPastEdge || b.asks.lastTopPastEdge;
    if (pastEdge) {
      this.binance.pastEdge++;
      if (!b.reanchorAsked && this.transport !== null) {
        b.reanchorAsked = true;
        this.binance.reanchorRequests++;
        this.requestSnapshot(b);
      }
    }
    b.published = true;
    this.sink.book(b.slot, top, msgIndex, exchangeMs, pastEdge, keepTop);
  }

  /** The book of `b` is lost: marked STALE (once), and a new snapshot asked for. */
  private lose(b: SymbolBook, msgIndex: number): void {
    b.seq.lose();
    b.log.clear(); // the chain is broken: what it held cannot bridge a snapshot after the hole
    this.binance.gaps++;
    this.counters.gaps++;
    if (b.published && !b.stale) {
      // Its levels stay readable, flagged, until the first book applied after a new snapshot.
      b.stale = true;
      this.binance.staleMarks++;
      this.sink.bookStale(b.slot, msgIndex);
    }
    this.requestSnapshot(b);
  }

  /** The snapshot in the decoder came for `b` (message msgIndex): loaded, or re-anchored on. */
  private snapshot(b: SymbolBook, msgIndex: number): void {
    b.reanchorAsked = false;
    if (b.seq.state !== SyncState.LIVE) this.loadSnapshot(b);
    else if (this.decoder.snapshot.lastUpdateId > b.seq.lastId) {
      this.binance.reanchors++;
      this.loadSnapshot(b);
    } else this.reanchorOlder(b, msgIndex);
  }

  /** The snapshot's levels into `b`'s book: the edge moves to its worst levels. */
  private loadLevels(b: SymbolBook): void {
    const snap = this.decoder.snapshot;
    const limit = this.venue.snapshotLimit;
    b.bids.load(snap.bids.prices, snap.bids.sizes, snap.bids.count, snap.bids.count < limit);
    b.asks.load(snap.asks.prices, snap.asks.sizes, snap.asks.count, snap.asks.count < limit);
    this.binance.snapshots++;
  }

  /**
   * A snapshot no newer than the book in sync (L <= the last applied u): loaded, the logged events
   * after L applied again under the rules (dropped as older up to L; the first left must bridge L),
   * the book committed once. A log that does not reach back to L leaves the book as it was.
   */
  private reanchorOlder(b: SymbolBook, msgIndex: number): void {
    const L = this.decoder.snapshot.lastUpdateId;
    const log = b.log;
    let k = 0;
    while (k < log.count && b.seq.older(L, log.lastIds[log.at(k)]!)) k++;
    if (k < log.count && !b.seq.bridges(L, log.firstIds[log.at(k)]!, log.lastIds[log.at(k)]!)) {
      this.binance.reanchorsFailed++;
      return;
    }
    this.loadLevels(b);
    const dec = this.decoder;
    // Each decoded when it was applied, so it decodes the same now.
    for (; k < log.count; k++) if (dec.decode(log.payloads[log.at(k)]!) === MessageKind.DEPTH) this.setLevels(b);
    b.seq.reanchor(L);
    this.binance.reanchors++;
    this.commit(b, msgIndex, b.lastEventMs, b.shownId > b.seq.lastId);
  }

  /** Loads the snapshot in the decoder into `b` and runs its buffered events through the rules. */
  private loadSnapshot(b: SymbolBook): void {
    this.loadLevels(b);
    b.seq.snapshot(this.decoder.snapshot.lastUpdateId);
    // Events applied before it do not chain with those after (the older ones are dropped unlogged).
    b.log.clear();
    const buf = b.buffer;
    const n = buf.count;
    if (n === 0) return;
    // The buffer is emptied first: an event may go back into it (a gap re-buffers the rest).
    const payloads: string[] = [];
    const indexes: number[] = [];
    for (let k = 0; k < n; k++) {
      const at = buf.at(k);
      payloads.push(buf.payloads[at]!);
      indexes.push(buf.msgIndexes[at]!);
    }
    buf.clear();
    const dec = this.decoder;
    for (let k = 0; k < n; k++) {
      // It decoded when it was buffered, so it decodes the same now.
      if (dec.decode(payloads[k]!) === MessageKind.DEPTH) this.depthEvent(b, payloads[k]!, indexes[k]!);
    }
  }

  private bookTicker(b: SymbolBook, msgIndex: number): void {
    const t = this.decoder.ticker;
    if (t.updateId <= b.shownId) {
      this.binance.tickersDropped++;
      return;
    }
    b.shownId = t.updateId;
    this.binance.tickers++;
    this.sink.bbo(b.slot, t.bidPrice, t.bidSize, t.askPrice, t.askSize, msgIndex, t.eventTimeMs);
  }

  private trade(b: SymbolBook, msgIndex: number): void {
    const t = this.decoder.trade;
    // Trade ids only grow per symbol: one not above the last was handed on already (a fresh
    // connection taking over before the 24-hour cut carries the same trades for a moment).
    if (t.tradeId <= b.lastTradeId) {
      this.binance.tradeDuplicates++;
      this.counters.duplicates++;
      return;
    }
    b.lastTradeId = t.tradeId;
    this.binance.trades++;
    if (!this.sink.wantsEvents) return;
    const e = this.ev;
    e.kind = abi.EVENT_KIND_TRADE;
    e.action = 0x41; // A: a trade whose side is the aggressor's
    e.side = t.buyerIsMaker ? 0x53 : 0x42; // the buyer made: the seller took (S); else B
    e.flags = abi.EVENT_FLAG_LAST;
    e.instrumentIndex = b.slot;
    e.msgIndex = msgIndex;
    e.exchangeTs = t.tradeTimeMs;
    e.price = t.price * this.priceToRing;
    e.orderRef = t.tradeId;
    e.size = t.size;
    this.sink.event(e);
  }

  private malformed(reason: MalformedReason, msgIndex: number, field: string, found: string): void {
    this.counters.malformed++;
    const count = ++this.binance.malformed[reason];
    if (this.malformedLogDue())
      this.log.warn({ event: LogEvent.FEED_MALFORMED, venue: this.venue.name, msgIndex, reason, field, found, count }, `${this.venue.name}: malformed message dropped (${reason})`);
  }
}
