/**
 * `mdfan read --record-dbn FILE`: what the reader saw, as a DBN v3 stream (docs/READERS.md,
 * "Recording what a reader saw as DBN"). The metadata first (at attach: the instruments followed,
 * each mapped to its feed id), then in the order the reader observed them: one MBP-10 or MBP-1
 * record per book, one trade record per printable trade of the event ring (--events), and a
 * symbol mapping record before the first record of an instrument the metadata did not name.
 * Nothing is allocated per record but the BigInts of the receive time (and of values past 2^53).
 */
import { unlinkSync } from 'node:fs';
import { BookMemory, bookChange, newBookChange } from '../../lib/dbn/book-change.js';
import { type Int64, type MbpFields, RECORD_SIZE, U32_MAX, UNDEF_PRICE_I64, UNDEF_TS_U64, encodeMbp, encodeSymbolMapping, encodeTrade, newMbpFields } from '../../lib/dbn/encode.js';
import { ACTION, FLAG, SCHEMA, SIDE, STYPE, UNDEF_TIMESTAMP } from '../../lib/dbn/enums.js';
import { encodeMetadata } from '../../lib/dbn/metadata.js';
import { DbnOutput } from '../../lib/dbn/output.js';
import { LogEvent, createLogger } from '../../lib/log.js';
import { RealtimeClock, utcDate } from '../../lib/realtime-clock.js';
import { ErrorCode, MdfanError, abi, type EventRecord } from '../../native/segment/index.js';
import type { Instrument } from '../../native/segment/directory.js';
import type { BookSnapshot } from '../../native/segment/seqlock.js';
import { TW, type TopSnapshot } from '../../native/segment/tops.js';
import type { DbnOptions } from './dbn-options.js';

/** DBN prices are integers of 1e-9: an instrument with finer prices cannot be written exactly. */
export const DBN_PRICE_DECIMALS = 9;
const TWO32 = 2 ** 32;
const I64_MIN = -(2n ** 63n);
/** Word indexes of the exchange time and the message index in a book's and a top line's copy. */
const BOOK_WORDS = { ts: abi.W.slotExchangeTsLo, msg: abi.W.slotMsgIndexLo };
const TOP_WORDS = { ts: TW.exchangeTsLo, msg: TW.msgIndexLo };
const EVENT_WORDS = { ts: abi.STRUCTS.event.exchange_ts_ns.offset >>> 2, msg: abi.STRUCTS.event.msg_index.offset >>> 2 };
const BUY = 0x42;
const SELL = 0x53;
/** ITCH's trade letters: E and C executions carry the resting order's side; P and Q name no aggressor. */
const ITCH_EXECUTED = 0x45;
const ITCH_EXECUTED_WITH_PRICE = 0x43;
const ITCH_TRADE = 0x50;
const ITCH_CROSS = 0x51;

/**
 * DBN's side of a trade is the aggressor's (B: a buy took liquidity, A: a sell). The ring carries it
 * as the venue gave it: an ITCH execution the resting order's (the aggressor is the other side, as
 * Databento's XNAS.ITCH normalization writes it), an ITCH non-displayed trade or cross no aggressor
 * (N), a Binance or DBN trade the aggressor's.
 */
function aggressorSide(action: number, side: number): number {
  if (action === ITCH_TRADE || action === ITCH_CROSS) return SIDE.NONE;
  const resting = action === ITCH_EXECUTED || action === ITCH_EXECUTED_WITH_PRICE;
  if (side === BUY) return resting ? SIDE.ASK : SIDE.BID;
  if (side === SELL) return resting ? SIDE.BID : SIDE.ASK;
  return SIDE.NONE;
}

/** A u64 of two words: a Number while exact, else a BigInt. */
const u64Of = (lo: number, hi: number): Int64 => (hi < 0x200000 ? hi * TWO32 + lo : (BigInt(hi) << 32n) | BigInt(lo));

/** What the recorder keeps per symbol. */
interface Followed {
  feedId: number;
  priceDecimals: number;
  /** 10^(9 - priceDecimals): feed price units to DBN's. */
  mult: number;
  memory: BookMemory;
  /** More than 9 price decimals: its books are not written. */
  skip: boolean;
  /** Its symbol maps to feedId in the metadata or a symbol mapping record already written. */
  mapped: boolean;
}

export interface DbnSummary {
  file: string;
  /** The MBP schema written, and the metadata's schema ('mixed' when trades may follow). */
  schema: string;
  metadata_schema: string;
  records: { mbp: number; trade: number; symbol_mapping: number };
  clamped_sizes: number;
  clamped_counts: number;
  unrepresentable_prices: number;
  skipped_books: number;
  trades_not_printable: number;
  bytes: number;
  file_bytes: number;
}

export class DbnRecorder {
  private readonly log = createLogger('mdfan-read');
  private readonly clock = new RealtimeClock();
  private readonly followed = new Map<string, Followed>();
  private readonly r: MbpFields = newMbpFields(10);
  private readonly change = newBookChange();
  private readonly words: { ts: number; msg: number };
  private started = false;
  private readonly n = { mbp: 0, trade: 0, mapping: 0, clampedSizes: 0, clampedCounts: 0, badPrices: 0, skipped: 0, notPrintable: 0 };

  private constructor(
    private readonly o: DbnOptions,
    private readonly out: DbnOutput,
    /** Trades may follow (the ring is followed for trades): the schema is mixed. */
    private readonly trades: boolean,
    top: boolean,
  ) {
    this.words = top ? TOP_WORDS : BOOK_WORDS;
  }

  /** Opens the file before anything else, so that an unwritable one fails at once (MDFAN_ERR_OUTPUT / _PERMISSION). */
  static async open(o: DbnOptions, opts: { trades: boolean; top: boolean }): Promise<DbnRecorder> {
    return new DbnRecorder(o, await DbnOutput.open(o.file), opts.trades, opts.top);
  }

  /**
   * Writes the metadata at attach: `directory` (the segment's instruments now), those of `symbols`
   * if given. Refuses (MDFAN_ERR_OPTIONS) an instrument of more than 9 price decimals.
   */
  start(directory: readonly Instrument[], symbols: ReadonlySet<string> | null): void {
    const now = directory.filter((i) => symbols === null || symbols.has(i.symbol));
    const fine = now.find((i) => i.priceDecimals > DBN_PRICE_DECIMALS);
    if (fine)
      throw new MdfanError(ErrorCode.OPTIONS, `--record-dbn: ${fine.symbol} has ${fine.priceDecimals} price decimals; DBN prices are in 1e-9 units, so at most ${DBN_PRICE_DECIMALS} are written exactly`, {
        flag: '--record-dbn',
        symbol: fine.symbol,
        found: fine.priceDecimals,
        expected: DBN_PRICE_DECIMALS,
      });
    const start = this.clock.nowNs();
    const [from, to] = [utcDate(start), utcDate(start, 1)];
    this.out.write(
      encodeMetadata({
        dataset: this.o.dataset,
        schema: this.trades ? null : this.o.depth === 1 ? SCHEMA.MBP_1 : SCHEMA.MBP_10,
        start,
        end: UNDEF_TIMESTAMP,
        limit: 0n,
        stypeIn: STYPE.RAW_SYMBOL,
        stypeOut: STYPE.INSTRUMENT_ID,
        tsOut: false,
        symbols: now.map((i) => i.symbol),
        partial: [],
        notFound: symbols === null ? [] : [...symbols].filter((s) => !now.some((i) => i.symbol === s)),
        mappings: now.map((i) => ({ rawSymbol: i.symbol, intervals: [{ startDate: from, endDate: to, symbol: String(i.feedId) }] })),
      }),
    );
    for (const i of now) this.follow(i).mapped = true;
    this.started = true;
  }

  /** The state of `inst` (new for a symbol unseen, or whose feed id or decimals a new writer changed). */
  private stateOf(inst: Instrument): Followed {
    const f = this.followed.get(inst.symbol);
    if (f !== undefined && f.feedId === inst.feedId && f.priceDecimals === inst.priceDecimals) return f;
    const g = this.follow(inst);
    g.mapped = f !== undefined && f.feedId === inst.feedId && f.mapped;
    return g;
  }

  /** Before an instrument's first record: a symbol mapping record, unless the metadata (or an earlier one) maps it. */
  private map(f: Followed, inst: Instrument): void {
    if (f.mapped) return;
    this.mapping(inst);
    f.mapped = true;
  }

  private follow(inst: Instrument): Followed {
    const skip = inst.priceDecimals > DBN_PRICE_DECIMALS;
    if (skip) this.log.warn({ event: LogEvent.DBN_INSTRUMENT_SKIPPED, symbol: inst.symbol, priceDecimals: inst.priceDecimals }, `--record-dbn: ${inst.symbol}'s books are not recorded (${inst.priceDecimals} price decimals, DBN has ${DBN_PRICE_DECIMALS})`);
    const f: Followed = { feedId: inst.feedId, priceDecimals: inst.priceDecimals, mult: skip ? 0 : 10 ** (DBN_PRICE_DECIMALS - inst.priceDecimals), memory: new BookMemory(this.o.depth), skip, mapped: false };
    this.followed.set(inst.symbol, f);
    return f;
  }

  private mapping(inst: Instrument): void {
    const now = this.clock.nowNs();
    const at = this.out.reserve(RECORD_SIZE.symbolMapping);
    encodeSymbolMapping(this.out.buf, at, {
      publisherId: 0,
      instrumentId: inst.feedId,
      tsEvent: now,
      stypeIn: STYPE.RAW_SYMBOL,
      stypeInSymbol: inst.symbol,
      stypeOut: STYPE.INSTRUMENT_ID,
      stypeOutSymbol: String(inst.feedId),
      startTs: now,
      endTs: UNDEF_TS_U64,
    });
    this.n.mapping++;
  }

  /** A price of the feed's units in DBN's 1e-9, exactly; UNDEF (counted) if it does not fit an i64. */
  private price(p: number, mult: number): Int64 {
    const v = p * mult;
    if (Number.isSafeInteger(v)) return v;
    const b = BigInt(p) * BigInt(mult);
    if (b >= UNDEF_PRICE_I64 || b < I64_MIN) {
      this.n.badPrices++;
      return UNDEF_PRICE_I64;
    }
    return b;
  }

  private size(s: number): number {
    if (s <= U32_MAX) return s;
    this.n.clampedSizes++;
    return U32_MAX;
  }

  private count(c: number): number {
    if (c <= U32_MAX) return c;
    this.n.clampedCounts++;
    return U32_MAX;
  }

  /** One book (or top of book) the reader observed: one MBP record. */
  book(snap: BookSnapshot | TopSnapshot, inst: Instrument): void {
    const f = this.stateOf(inst);
    if (f.skip) {
      this.n.skipped++;
      return;
    }
    this.map(f, inst);
    const r = this.r;
    const w = snap.words;
    const depth = this.o.depth;
    r.tsRecv = this.clock.nowNs();
    r.instrumentId = inst.feedId;
    r.tsEvent = u64Of(w[this.words.ts]!, w[this.words.ts + 1]!);
    r.sequence = w[this.words.msg]!;
    r.flags = FLAG.LAST | (snap.stale ? FLAG.MAYBE_BAD_BOOK : 0);
    const nb = Math.min(snap.bidCount, depth);
    const na = Math.min(snap.askCount, depth);
    for (let i = 0; i < depth; i++) {
      const l = r.levels[i]!;
      const k = i * 3;
      const bid = i < nb;
      const ask = i < na;
      l.bidPx = bid ? this.price(snap.bids[k]!, f.mult) : UNDEF_PRICE_I64;
      l.bidSz = bid ? this.size(snap.bids[k + 1]!) : 0;
      l.bidCt = bid ? this.count(snap.bids[k + 2]!) : 0;
      l.askPx = ask ? this.price(snap.asks[k]!, f.mult) : UNDEF_PRICE_I64;
      l.askSz = ask ? this.size(snap.asks[k + 1]!) : 0;
      l.askCt = ask ? this.count(snap.asks[k + 2]!) : 0;
    }
    const c = bookChange(f.memory, snap, depth, this.change);
    f.memory.keep(snap);
    r.action = c.action;
    r.side = c.side;
    r.depth = c.depth;
    r.price = Number.isNaN(c.price) ? UNDEF_PRICE_I64 : this.price(c.price, f.mult);
    r.size = this.size(c.size);
    const at = this.out.reserve(RECORD_SIZE[depth === 1 ? 'mbp1' : 'mbp10']);
    encodeMbp(this.out.buf, at, r, depth);
    this.n.mbp++;
  }

  /** One event of the ring: a printable trade becomes a trade record; the rest are not DBN trades. */
  event(rec: EventRecord, inst: Instrument | undefined): void {
    if (rec.kind !== abi.EVENT_KIND_TRADE) return;
    if ((rec.flags & abi.EVENT_FLAG_NOT_PRINTABLE) !== 0) {
      this.n.notPrintable++;
      return;
    }
    if (inst !== undefined) this.map(this.stateOf(inst), inst);
    const r = this.r;
    const w = rec.words;
    r.tsRecv = this.clock.nowNs();
    r.instrumentId = inst?.feedId ?? 0;
    r.tsEvent = u64Of(w[EVENT_WORDS.ts]!, w[EVENT_WORDS.ts + 1]!);
    r.sequence = w[EVENT_WORDS.msg]!;
    r.flags = FLAG.LAST | ((rec.flags & abi.EVENT_FLAG_BAD_BOOK) !== 0 ? FLAG.MAYBE_BAD_BOOK : 0);
    r.price = rec.hasPrice ? rec.price : UNDEF_PRICE_I64; // the ring's prices are 1e-9 already
    r.size = this.size(rec.size);
    r.action = ACTION.TRADE;
    r.side = aggressorSide(rec.action, rec.side);
    r.depth = 0;
    const at = this.out.reserve(RECORD_SIZE.trade);
    encodeTrade(this.out.buf, at, r);
    this.n.trade++;
  }

  get summary(): DbnSummary {
    const n = this.n;
    return {
      file: this.o.file,
      schema: this.o.schema,
      metadata_schema: this.trades ? 'mixed' : this.o.schema,
      records: { mbp: n.mbp, trade: n.trade, symbol_mapping: n.mapping },
      clamped_sizes: n.clampedSizes,
      clamped_counts: n.clampedCounts,
      unrepresentable_prices: n.badPrices,
      skipped_books: n.skipped,
      trades_not_printable: n.notPrintable,
      bytes: this.out.streamBytes,
      file_bytes: this.out.fileBytes,
    };
  }

  /**
   * Flushes and closes the file (every exit path calls it; safe twice). A recording that never
   * started (the reader never attached, or start refused) leaves no file: it would not be DBN.
   */
  close(): void {
    try {
      this.out.close();
    } finally {
      if (!this.started) {
        try {
          unlinkSync(this.o.file);
        } catch {
          /* gone already */
        }
      }
    }
  }
}
