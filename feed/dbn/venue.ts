/**
 * DBN as a venue: each record, in order, to a BookSink. MBO records build order-by-order books
 * (./books.ts); MBP-1, MBP-10, TBBO, BBO, CMBP-1 and CBBO records carry their levels, published as
 * they are. A book is looked at only after a record flagged F_LAST for its instrument, and
 * published when its top N changed (MBO: by value; MBP: against the last published levels); a
 * record flagged F_MAYBE_BAD_BOOK marks it stale until a book without the flag. Trades (trade
 * records, MBO and MBP `T` actions) and status records go to the event ring; definitions and symbol
 * mappings name instruments (./symbology.ts). Other known types (OHLCV, statistics, imbalance,
 * errors, system) are counted and skipped, as are types this reader does not know.
 *
 * Numbers: prices stay DBN's integers at 1e-9 (9 price decimals), sizes are integers (0 decimals);
 * UNDEF_PRICE is no price, never a level. Times are epoch ns, held exactly as ns after a UTC
 * midnight a day before the metadata's start (the instruments' tsBaseNs). The message index is the record index.
 */
import { ACTION, FLAG, SIDE, UNDEF_TIMESTAMP } from '../../lib/dbn/enums.js';
import { cstrAt } from '../../lib/dbn/decode.js';
import { HEADER, type Layout, RTYPE as R, layoutOf, layoutOfStruct } from '../../lib/dbn/fields.js';
import type { DbnMetadata } from '../../lib/dbn/metadata.js';
import { abi, type EventFields, newEventFields } from '../../native/segment/index.js';
import { ErrorCode, isMdfanError } from '../../native/segment/errors.js';
import type { InstrumentSpec } from '../../native/segment/directory.js';
import { TopOfBook } from '../book/top.js';
import { NOT_PUBLISHED, type BookSink, type SourceCounters, newCounters } from '../sink.js';
import { DbnBooks, type DbnBook, NO_RANK } from './books.js';
import { isUndefTime, isWide, orderKeyAt, priceAt, tsSince, u16At, u32At } from './numbers.js';
import { DbnSymbology } from './symbology.js';
import type { RecordView } from './reader.js';

/** DBN prices are integers at 1e-9; sizes whole units. */
export const DBN_PRICE_DECIMALS = 9;
const UNASKED = -2;
const PAIR = layoutOfStruct('BidAskPair');
const CPAIR = layoutOfStruct('ConsolidatedBidAskPair');
for (const f of ['bid_px', 'ask_px', 'bid_sz', 'ask_sz'] as const)
  if (PAIR.at(f) !== CPAIR.at(f)) throw new Error(`DBN pair layouts disagree on ${f}`); // read with one set of offsets below
const DAY_NS = 86400e9;
/** Pair field offsets, read per level. */
const BID_PX = PAIR.at('bid_px');
const ASK_PX = PAIR.at('ask_px');
const BID_SZ = PAIR.at('bid_sz');
const ASK_SZ = PAIR.at('ask_sz');
const BID_CT = PAIR.at('bid_ct');
const ASK_CT = PAIR.at('ask_ct');

/** Where a book record's fields are (one per record type, for the stream's version). */
interface LevelRecord {
  levelsAt: number;
  count: number;
  /** Consolidated pairs carry publishers, not order counts. */
  consolidated: boolean;
  flagsAt: number;
  /** -1: the type has no action (BBO, CBBO: never a trade). */
  actionAt: number;
  sideAt: number;
  priceAt: number;
  sizeAt: number;
}

/** What a DBN replay counts beyond the common counters, for the feed's closing line. */
export interface DbnCounts {
  mbo: number;
  mbp: number;
  trades: number;
  statuses: number;
  definitions: number;
  mappings: number;
  /** Known record types that are not books, trades or status (OHLCV, statistics, imbalance, error, system). */
  skipped: number;
  unknownTypes: number;
  /** MBO actions that are none of A C M R T F N. */
  unknownActions: number;
  /** Order ids of 2^53 or more (folded into the order table's keys). */
  wideOrderIds: number;
  /** ts_event undefined or out of the 2^53 ns after the time origin: stored 0 (unknown). */
  unknownTimes: number;
}

export class DbnVenue {
  readonly counters: SourceCounters = newCounters();
  readonly dbn: DbnCounts = { mbo: 0, mbp: 0, trades: 0, statuses: 0, definitions: 0, mappings: 0, skipped: 0, unknownTypes: 0, unknownActions: 0, wideOrderIds: 0, unknownTimes: 0 };
  readonly books = new DbnBooks();
  readonly names: DbnSymbology;
  private readonly slotByName = new Map<string, number>();
  private readonly top: TopOfBook;
  /** Each MBP instrument's last published levels (TopOfBook.saveTo), by book index. */
  private readonly lastLevels: Float64Array[] = [];
  private readonly event: EventFields = newEventFields();
  private readonly levelRecords = new Map<number, LevelRecord>();
  /** MBO field offsets (the same in every version). */
  private readonly mbo: { action: number; flags: number; side: number; orderId: number; size: number; price: number };
  private readonly trade: { action: number; side: number; price: number; size: number };
  private readonly status: Layout;
  private readonly definition: Layout;
  private readonly mapping: Layout;
  private spec: InstrumentSpec | null = null;
  private baseHi = 0;
  private baseLo = 0;
  /** Exchange time of the record being processed: ns after the origin (NaN: unknown). */
  private ts = 0;

  constructor(
    private readonly sink: BookSink,
    private readonly levels: number,
    meta: DbnMetadata | null,
    private readonly version: number,
    /** A record this venue cannot hold (a price beyond 2^53 units): the source says where and stops. */
    private readonly fail: (recordIndex: number, field: string, why: string) => never,
  ) {
    this.names = new DbnSymbology(meta);
    // The metadata's start, when it has one, fixes the time origin before any record.
    if (meta !== null && meta.start > 0n && meta.start < UNDEF_TIMESTAMP) this.setOrigin(Number(meta.start));
    this.top = new TopOfBook(levels, sink.scratch);
    const at = (rtype: number): Layout => layoutOf(rtype, version)!;
    const mbo = at(R.MBO);
    this.mbo = { action: mbo.at('action'), flags: mbo.at('flags'), side: mbo.at('side'), orderId: mbo.at('order_id'), size: mbo.at('size'), price: mbo.at('price') };
    const trade = at(R.MBP_0);
    this.trade = { action: trade.at('action'), side: trade.at('side'), price: trade.at('price'), size: trade.at('size') };
    this.status = at(R.STATUS);
    this.definition = at(R.INSTRUMENT_DEF);
    this.mapping = at(R.SYMBOL_MAPPING);
    for (const rtype of [R.MBP_1, R.MBP_10, R.BBO_1S, R.BBO_1M, R.CMBP_1, R.TCBBO, R.CBBO_1S, R.CBBO_1M]) {
      const l = at(rtype);
      const levelsField = l.fields.find((f) => f.name === 'levels')!;
      const has = (name: string): boolean => l.fields.some((f) => f.name === name);
      this.levelRecords.set(rtype, {
        levelsAt: levelsField.offset,
        count: levelsField.count,
        consolidated: levelsField.type.startsWith('clevels'),
        flagsAt: l.at('flags'),
        actionAt: has('action') ? l.at('action') : -1,
        sideAt: l.at('side'),
        priceAt: l.at('price'),
        sizeAt: l.at('size'),
      });
    }
  }

  /** One record (its bytes in v.buf[v.at, v.at + v.bytes)), the `recordIndex`th after the metadata. */
  process(v: RecordView, recordIndex: number): void {
    const b = v.buf;
    const at = v.at;
    if (this.spec === null && !isUndefTime(b, at + HEADER.tsEvent)) this.setOrigin(u32At(b, at + HEADER.tsEvent + 4) * 4294967296 + u32At(b, at + HEADER.tsEvent));
    this.ts = this.spec === null ? Number.NaN : tsSince(b, at + HEADER.tsEvent, this.baseHi, this.baseLo);
    if (Number.isNaN(this.ts)) this.dbn.unknownTimes++;
    const rtype = v.rtype;
    if (rtype === R.MBO) this.onMbo(b, at, recordIndex);
    else if (rtype === R.MBP_0) this.onTrade(b, at, recordIndex, this.trade.action, this.trade.side, this.trade.price, this.trade.size);
    else {
      const lr = this.levelRecords.get(rtype);
      if (lr !== undefined) this.onLevels(b, at, recordIndex, lr);
      else if (rtype === R.STATUS) this.onStatus(b, at, recordIndex);
      else if (rtype === R.INSTRUMENT_DEF) this.onDefinition(b, at);
      else if (rtype === R.SYMBOL_MAPPING) this.onMapping(b, at);
      else if (layoutOf(rtype, this.version) !== null) this.dbn.skipped++;
      else this.dbn.unknownTypes++;
    }
    this.counters.messages++;
    this.sink.tick();
  }

  /**
   * The time origin, from the metadata's start (else the first record's defined ts_event): the UTC
   * midnight a day before it, so that records stamped a little before the start (ts_event precedes
   * the ts_recv a query's range is on) keep exact times too. Exact for 103 days after the start.
   * `roughNs` may be rounded (a double near 2^60): only its day is taken.
   */
  private setOrigin(roughNs: number): void {
    const day = Math.floor(roughNs / DAY_NS);
    const base = day >= 1 ? (day - 1) * DAY_NS : 0; // a multiple of 2^16: exact in a double
    this.baseHi = Math.floor(base / 4294967296);
    this.baseLo = base % 4294967296;
    this.spec = Object.freeze({ priceDecimals: DBN_PRICE_DECIMALS, sizeDecimals: 0, tsUnitNs: 1, tsBaseNs: base });
  }

  /** The spec every instrument shares (an origin of 0 if no record had a time yet: times are then unknown). */
  private specNow(): InstrumentSpec {
    if (this.spec === null) this.setOrigin(0);
    return this.spec!;
  }

  /** The slot of `book`, asked of the sink once per instrument (shared by every id that has the same name). */
  private slotOf(book: DbnBook): number {
    if (book.slot !== UNASKED) return book.slot;
    const day = Math.floor((this.baseHi * 4294967296 + this.baseLo + (Number.isNaN(this.ts) ? 0 : this.ts)) / DAY_NS);
    const name = this.names.nameOf(book.instrumentId, day);
    let slot = this.slotByName.get(name);
    if (slot === undefined) {
      slot = this.named(name, book.instrumentId);
      this.slotByName.set(name, slot);
    }
    book.slot = slot;
    return slot;
  }

  /**
   * Asks the sink for a slot for `name`; a name the sink cannot take (several sources qualify each
   * name with its scheme, which can make a long one too long) falls back to the id, counted.
   */
  private named(name: string, id: number): number {
    try {
      return this.sink.instrument(name, id, this.specNow());
    } catch (e) {
      if (!isMdfanError(e, ErrorCode.OPTIONS) || name === String(id)) throw e;
      this.names.renamed++;
      return this.sink.instrument(String(id), id, this.specNow());
    }
  }

  private onMbo(b: Uint8Array, at: number, recordIndex: number): void {
    this.dbn.mbo++;
    const L = this.mbo;
    const books = this.books;
    const book = books.book(u32At(b, at + HEADER.instrumentId));
    const action = b[at + L.action]!;
    const flags = b[at + L.flags]!;
    const sideByte = b[at + L.side]!;
    const isAsk = sideByte === SIDE.ASK ? true : sideByte === SIDE.BID ? false : null;
    const idAt = at + L.orderId;
    if (action === ACTION.ADD || action === ACTION.MODIFY || action === ACTION.CANCEL) {
      if (isWide(b, idAt)) this.dbn.wideOrderIds++;
      const key = orderKeyAt(b, idAt);
      const size = u32At(b, at + L.size);
      if (action === ACTION.CANCEL) books.cancel(key, size);
      else {
        const price = this.priceOf(b, at + L.price, recordIndex);
        if (action === ACTION.ADD) books.add(book, key, isAsk, price, size);
        else books.modify(book, key, isAsk, price, size);
      }
    } else if (action === ACTION.CLEAR) books.clear(book);
    else if (action === ACTION.TRADE) this.onTrade(b, at, recordIndex, L.action, L.side, L.price, L.size, book, idAt);
    else if (action !== ACTION.FILL && action !== ACTION.NONE) this.dbn.unknownActions++;
    if ((flags & FLAG.MAYBE_BAD_BOOK) !== 0) book.doubtful = true;
    if ((flags & FLAG.LAST) !== 0) this.look(book, recordIndex);
  }

  /** After F_LAST: publish the book if its top N changed, or mark it stale if the venue doubts it. */
  private look(book: DbnBook, recordIndex: number): void {
    const changed = book.dirtyRank < this.levels;
    book.dirtyRank = NO_RANK;
    if (!changed && !book.doubtful) return;
    const slot = this.slotOf(book);
    if (slot === NOT_PUBLISHED) return;
    if (changed) {
      this.top.fill(book);
      this.sink.book(slot, this.top, recordIndex, this.ts, book.doubtful);
    } else this.sink.bookStale(slot, recordIndex);
    book.doubtful = false;
  }

  /** A price, NaN for none; one a double cannot hold exactly stops the replay. */
  private priceOf(b: Uint8Array, p: number, recordIndex: number): number {
    const price = priceAt(b, p);
    if (price === Number.POSITIVE_INFINITY) this.fail(recordIndex, 'price', `the price is beyond ±2^53 units (±9,007,199 at 1e-9): this reader holds prices exactly, and cannot hold this one`);
    return price;
  }

  private onLevels(b: Uint8Array, at: number, recordIndex: number, lr: LevelRecord): void {
    this.dbn.mbp++;
    const book = this.books.book(u32At(b, at + HEADER.instrumentId));
    if (lr.actionAt >= 0 && b[at + lr.actionAt] === ACTION.TRADE) this.onTrade(b, at, recordIndex, lr.actionAt, lr.sideAt, lr.priceAt, lr.sizeAt, book);
    const flags = b[at + lr.flagsAt]!;
    if ((flags & FLAG.MAYBE_BAD_BOOK) !== 0) book.doubtful = true;
    if ((flags & FLAG.LAST) === 0) return;
    const top = this.top;
    const n = lr.count < this.levels ? lr.count : this.levels;
    const pair = lr.consolidated ? CPAIR : PAIR;
    // Levels are best first; the first level with no price ends a side.
    const bids = this.side(b, at + lr.levelsAt, pair.bytes, n, BID_PX, BID_SZ, lr.consolidated ? -1 : BID_CT, top.bids, recordIndex);
    const asks = this.side(b, at + lr.levelsAt, pair.bytes, n, ASK_PX, ASK_SZ, lr.consolidated ? -1 : ASK_CT, top.asks, recordIndex);
    top.bidCount = bids;
    top.askCount = asks;
    // Unused words read as 0 so that the comparison with the last published levels is exact.
    top.bids.fill(0, bids * 3);
    top.asks.fill(0, asks * 3);
    const last = this.lastLevels[book.index] ?? new Float64Array(2 + this.levels * 6).fill(-1);
    this.lastLevels[book.index] = last;
    const changed = top.differsFrom(last);
    if (!changed && !book.doubtful) return;
    const slot = this.slotOf(book);
    if (slot === NOT_PUBLISHED) return;
    if (changed) {
      top.saveTo(last);
      this.sink.book(slot, top, recordIndex, this.ts, book.doubtful);
    } else this.sink.bookStale(slot, recordIndex);
    book.doubtful = false;
  }

  /**
   * One side of a record's levels into dst as [price, size, orders]; returns how many. Both pair
   * layouts share the prices and sizes; only the plain one has order counts (ctAt -1: none, 0).
   */
  private side(b: Uint8Array, levelsAt: number, stride: number, n: number, pxAt: number, szAt: number, ctAt: number, dst: Float64Array, recordIndex: number): number {
    let count = 0;
    for (let k = 0; k < n; k++) {
      const p = levelsAt + k * stride;
      const price = this.priceOf(b, p + pxAt, recordIndex);
      if (Number.isNaN(price)) break;
      dst[k * 3] = price;
      dst[k * 3 + 1] = u32At(b, p + szAt);
      dst[k * 3 + 2] = ctAt < 0 ? 0 : u32At(b, p + ctAt);
      count++;
    }
    return count;
  }

  /** A trade (a trade record, or an MBO or MBP record with action T) to the event ring. */
  private onTrade(b: Uint8Array, at: number, recordIndex: number, actionAt: number, sideAt: number, priceAt_: number, sizeAt: number, book?: DbnBook, orderIdAt = -1): void {
    this.dbn.trades++;
    if (!this.sink.wantsEvents) return;
    const owner = book ?? this.books.book(u32At(b, at + HEADER.instrumentId));
    const slot = this.slotOf(owner);
    if (slot === NOT_PUBLISHED) return;
    const e = this.event;
    const side = b[at + sideAt];
    e.kind = abi.EVENT_KIND_TRADE;
    e.action = b[at + actionAt]!;
    // DBN's side of a trade is the aggressor's: A (a sell) or B (a buy); N none.
    e.side = side === SIDE.ASK ? 0x53 : side === SIDE.BID ? 0x42 : 0;
    e.flags = abi.EVENT_FLAG_LAST;
    e.instrumentIndex = slot;
    e.msgIndex = recordIndex;
    e.exchangeTs = this.ts;
    e.price = this.priceOf(b, at + priceAt_, recordIndex); // the ring's scale is DBN's (1e-9)
    e.orderRef = orderIdAt >= 0 && !isWide(b, orderIdAt) ? orderKeyAt(b, orderIdAt) : 0;
    e.size = u32At(b, at + sizeAt);
    this.sink.event(e);
  }

  /** A status record: kind H, action the DBN status action, side is_trading, order_ref the reason, size the trading event. */
  private onStatus(b: Uint8Array, at: number, recordIndex: number): void {
    this.dbn.statuses++;
    if (!this.sink.wantsEvents) return;
    const L = this.status;
    const slot = this.slotOf(this.books.book(u32At(b, at + HEADER.instrumentId)));
    if (slot === NOT_PUBLISHED) return;
    const e = this.event;
    e.kind = abi.EVENT_KIND_STATUS;
    e.action = Math.min(u16At(b, at + L.at('action')), 0xff);
    e.side = b[at + L.at('is_trading')]!;
    e.flags = abi.EVENT_FLAG_LAST;
    e.instrumentIndex = slot;
    e.msgIndex = recordIndex;
    e.exchangeTs = this.ts;
    e.price = Number.NaN;
    e.orderRef = u16At(b, at + L.at('reason'));
    e.size = u16At(b, at + L.at('trading_event'));
    this.sink.event(e);
  }

  private onDefinition(b: Uint8Array, at: number): void {
    this.dbn.definitions++;
    this.names.define(u32At(b, at + HEADER.instrumentId), cstrField(b, at, this.definition, 'raw_symbol'));
  }

  /** A symbol mapping record: the raw symbol is the output symbol, unless that is the id itself (then the input symbol). */
  private onMapping(b: Uint8Array, at: number): void {
    this.dbn.mappings++;
    const id = u32At(b, at + HEADER.instrumentId);
    const out = cstrField(b, at, this.mapping, 'stype_out_symbol');
    this.names.define(id, out !== '' && out !== String(id) ? out : cstrField(b, at, this.mapping, 'stype_in_symbol'));
  }

  /** The venue's counters for the sink. */
  syncCounters(): SourceCounters {
    const c = this.counters;
    const k = this.books.counters;
    c.unknownTypes = this.dbn.unknownTypes;
    c.unknownOrderRefs = k.unknownOrderRefs;
    c.duplicates = k.duplicateOrderRefs;
    return c;
  }
}

/** A C string field of a record, by name (definition and mapping records: not the hot path). */
function cstrField(b: Uint8Array, at: number, layout: Layout, name: string): string {
  const f = layout.fields.find((x) => x.name === name)!;
  return cstrAt(b, at + f.offset, f.bytes);
}
