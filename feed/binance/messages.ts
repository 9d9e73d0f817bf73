/**
 * What one Binance payload says, checked and in integers: a combined-stream message
 * (`{"stream":"btcusdt@depth@100ms","data":{...}}`) of @depth, @trade or @bookTicker, or a bare
 * REST depth snapshot body (`lastUpdateId`, `bids`, `asks`). Prices and sizes are converted from
 * their decimal strings at the instrument's scale (feed/binance/decimal.ts), never rounded.
 *
 * Anything else is malformed, with a reason from a fixed list (counted per reason by the market):
 * not JSON, not one of the four shapes, a stream of another kind, a missing or mistyped field, a
 * number that does not fit the scale. A message is decoded whole before anything uses it, so a
 * bad level late in an event never leaves half of it applied.
 *
 * JSON.parse does the parsing. On the recordings it is about two thirds of a decode's time (the
 * checks and decimal conversion the rest); an exact scanner of our own is where time could be
 * won, not written yet.
 * One decoder per market; its outputs are reused by every decode.
 */
import { DECIMAL_ERROR_TEXT, DecimalError, decimalStatus, parseDecimal } from './decimal.js';

export const MessageKind = Object.freeze({
  MALFORMED: 0,
  DEPTH: 1,
  TRADE: 2,
  BOOK_TICKER: 3,
  SNAPSHOT: 4,
} as const);
export type MessageKind = (typeof MessageKind)[keyof typeof MessageKind];

/** Why a payload was refused: the keys of the market's per-reason counts. */
export const MALFORMED_REASONS = Object.freeze([
  'not_json',
  'unknown_shape',
  'other_stream',
  'bad_field',
  'bad_number',
  'more_decimals',
  'too_large',
  'symbol_mismatch',
  'snapshot_unknown_symbol',
] as const);
export type MalformedReason = (typeof MALFORMED_REASONS)[number];

/** Price levels of one side, as decoded: parallel arrays, `count` used. */
export class Levels {
  prices = new Float64Array(64);
  sizes = new Float64Array(64);
  count = 0;

  /** Room for n levels (grows, keeps nothing: called before filling). */
  reserve(n: number): void {
    if (n <= this.prices.length) return;
    let cap = this.prices.length;
    while (cap < n) cap *= 2;
    this.prices = new Float64Array(cap);
    this.sizes = new Float64Array(cap);
  }
}

export interface DepthEvent {
  symbol: string;
  /** First and last update id of the event (U, u), and the previous event's u (pu; -1 on spot). */
  firstId: number;
  lastId: number;
  prevId: number;
  /** Event time E, ms since the epoch. */
  eventTimeMs: number;
  bids: Levels;
  asks: Levels;
}

export interface Trade {
  symbol: string;
  tradeId: number;
  price: number;
  size: number;
  /** Trade time T, ms since the epoch. */
  tradeTimeMs: number;
  /** m: the buyer was the maker (the seller the aggressor). */
  buyerIsMaker: boolean;
}

export interface BookTicker {
  symbol: string;
  updateId: number;
  bidPrice: number;
  bidSize: number;
  askPrice: number;
  askSize: number;
  /** Event time E in ms (futures); 0 where the venue sends none (spot). */
  eventTimeMs: number;
}

export interface Snapshot {
  lastUpdateId: number;
  /** `symbol` of the body (COIN-M's name it), or '' when it does not say. */
  symbol: string;
  /** E in ms where given (futures), else 0. */
  eventTimeMs: number;
  bids: Levels;
  asks: Levels;
}

const isId = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** Which stream kind a combined-stream name is (`btcusdt@depth@100ms` -> DEPTH), or MALFORMED. */
function streamKind(stream: string): MessageKind {
  const at = stream.indexOf('@');
  if (at <= 0) return MessageKind.MALFORMED;
  if (stream.startsWith('depth', at + 1) && (stream.length === at + 6 || stream.charCodeAt(at + 6) === 64)) return MessageKind.DEPTH;
  if (stream.length === at + 6 && stream.startsWith('trade', at + 1)) return MessageKind.TRADE;
  if (stream.length === at + 11 && stream.startsWith('bookTicker', at + 1)) return MessageKind.BOOK_TICKER;
  return MessageKind.MALFORMED;
}

/** Whether `symbol` is the stream name's symbol (stream names are lower case, symbols upper). */
function sameSymbol(stream: string, symbol: string): boolean {
  if (stream.charCodeAt(symbol.length) !== 64) return false;
  for (let i = 0; i < symbol.length; i++) {
    let c = symbol.charCodeAt(i);
    if (c >= 65 && c <= 90) c += 32;
    if (stream.charCodeAt(i) !== c) return false;
  }
  return true;
}

export class MessageDecoder {
  readonly depth: DepthEvent = { symbol: '', firstId: 0, lastId: 0, prevId: -1, eventTimeMs: 0, bids: new Levels(), asks: new Levels() };
  readonly trade: Trade = { symbol: '', tradeId: 0, price: 0, size: 0, tradeTimeMs: 0, buyerIsMaker: false };
  readonly ticker: BookTicker = { symbol: '', updateId: 0, bidPrice: 0, bidSize: 0, askPrice: 0, askSize: 0, eventTimeMs: 0 };
  readonly snapshot: Snapshot = { lastUpdateId: 0, symbol: '', eventTimeMs: 0, bids: new Levels(), asks: new Levels() };
  /** The last refusal: its reason, and the field and what was found, for a rate-limited log line. */
  reason: MalformedReason = 'not_json';
  field = '';
  found = '';

  /**
   * futures: depth events must carry `pu`. Prices and sizes are integers at these decimals.
   */
  constructor(
    readonly futures: boolean,
    readonly priceDecimals: number,
    readonly sizeDecimals: number,
  ) {}

  /** Decodes `payload` into the matching output; MALFORMED with reason/field/found set otherwise. */
  decode(payload: string): MessageKind {
    let msg: unknown;
    try {
      msg = JSON.parse(payload);
    } catch {
      return this.refuse('not_json', '', payload.slice(0, 40));
    }
    if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) return this.refuse('unknown_shape', '', payload.slice(0, 40));
    const o = msg as Record<string, unknown>;
    const stream = o.stream;
    if (stream === undefined) {
      if (o.lastUpdateId !== undefined) return this.decodeSnapshot(o);
      return this.refuse('unknown_shape', 'stream', 'missing');
    }
    if (typeof stream !== 'string') return this.refuse('bad_field', 'stream', typeof stream);
    const data = o.data;
    if (typeof data !== 'object' || data === null || Array.isArray(data)) return this.refuse('bad_field', 'data', Array.isArray(data) ? 'array' : typeof data);
    const d = data as Record<string, unknown>;
    const kind = streamKind(stream);
    if (kind === MessageKind.MALFORMED) return this.refuse('other_stream', 'stream', stream);
    const symbol = d.s;
    if (typeof symbol !== 'string' || symbol === '') return this.refuse('bad_field', 's', typeof symbol);
    if (!sameSymbol(stream, symbol)) return this.refuse('symbol_mismatch', 's', `${symbol} on ${stream}`);
    switch (kind) {
      case MessageKind.DEPTH:
        return this.decodeDepth(d, symbol);
      case MessageKind.TRADE:
        return this.decodeTrade(d, symbol);
      default:
        return this.decodeTicker(d, symbol);
    }
  }

  private refuse(reason: MalformedReason, field: string, found: string): MessageKind {
    this.reason = reason;
    this.field = field;
    this.found = found;
    return MessageKind.MALFORMED;
  }

  /** A decimal-string field: the number, or NaN with the refusal recorded. */
  private number(v: unknown, decimals: number, signed: boolean, field: string): number {
    if (typeof v !== 'string') {
      this.refuse('bad_field', field, typeof v);
      return Number.NaN;
    }
    const n = parseDecimal(v, decimals, signed);
    if (Number.isNaN(n)) {
      const e = decimalStatus.error;
      this.refuse(e === DecimalError.MORE_DECIMALS ? 'more_decimals' : e === DecimalError.TOO_LARGE ? 'too_large' : 'bad_number', field, `${v} (${DECIMAL_ERROR_TEXT[e]})`);
    }
    return n;
  }

  /** `[[price, qty], ...]` into `out`; false (refusal recorded) if any level is bad. */
  private levels(v: unknown, out: Levels, field: string): boolean {
    if (!Array.isArray(v)) {
      this.refuse('bad_field', field, typeof v);
      return false;
    }
    const n = v.length;
    out.reserve(n);
    const pd = this.priceDecimals;
    const sd = this.sizeDecimals;
    for (let i = 0; i < n; i++) {
      const level = v[i] as unknown;
      if (!Array.isArray(level) || level.length < 2) {
        this.refuse('bad_field', `${field}[${i}]`, Array.isArray(level) ? `${level.length} items` : typeof level);
        return false;
      }
      const p = this.number(level[0], pd, true, `${field}[${i}] price`);
      if (Number.isNaN(p)) return false;
      const q = this.number(level[1], sd, false, `${field}[${i}] size`);
      if (Number.isNaN(q)) return false;
      out.prices[i] = p;
      out.sizes[i] = q;
    }
    out.count = n;
    return true;
  }

  private decodeDepth(d: Record<string, unknown>, symbol: string): MessageKind {
    if (d.e !== 'depthUpdate') return this.refuse('bad_field', 'e', String(d.e));
    const U = d.U;
    const u = d.u;
    const E = d.E;
    if (!isId(U)) return this.refuse('bad_field', 'U', String(U));
    if (!isId(u) || u < U) return this.refuse('bad_field', 'u', String(u));
    if (!isId(E)) return this.refuse('bad_field', 'E', String(E));
    let pu = -1;
    if (this.futures) {
      if (!isId(d.pu)) return this.refuse('bad_field', 'pu', String(d.pu));
      pu = d.pu;
    }
    const ev = this.depth;
    if (!this.levels(d.b, ev.bids, 'b') || !this.levels(d.a, ev.asks, 'a')) return MessageKind.MALFORMED;
    ev.symbol = symbol;
    ev.firstId = U;
    ev.lastId = u;
    ev.prevId = pu;
    ev.eventTimeMs = E;
    return MessageKind.DEPTH;
  }

  private decodeTrade(d: Record<string, unknown>, symbol: string): MessageKind {
    if (d.e !== 'trade') return this.refuse('bad_field', 'e', String(d.e));
    const t = this.trade;
    if (!isId(d.t)) return this.refuse('bad_field', 't', String(d.t));
    if (!isId(d.T)) return this.refuse('bad_field', 'T', String(d.T));
    if (typeof d.m !== 'boolean') return this.refuse('bad_field', 'm', typeof d.m);
    const p = this.number(d.p, this.priceDecimals, true, 'p');
    if (Number.isNaN(p)) return MessageKind.MALFORMED;
    const q = this.number(d.q, this.sizeDecimals, false, 'q');
    if (Number.isNaN(q)) return MessageKind.MALFORMED;
    t.symbol = symbol;
    t.tradeId = d.t;
    t.tradeTimeMs = d.T;
    t.buyerIsMaker = d.m;
    t.price = p;
    t.size = q;
    return MessageKind.TRADE;
  }

  private decodeTicker(d: Record<string, unknown>, symbol: string): MessageKind {
    // Spot's bookTicker has no `e`; the futures' says "bookTicker".
    if (d.e !== undefined && d.e !== 'bookTicker') return this.refuse('bad_field', 'e', String(d.e));
    if (!isId(d.u)) return this.refuse('bad_field', 'u', String(d.u));
    let E = 0;
    if (d.E !== undefined) {
      if (!isId(d.E)) return this.refuse('bad_field', 'E', String(d.E));
      E = d.E;
    }
    const pd = this.priceDecimals;
    const sd = this.sizeDecimals;
    const bp = this.number(d.b, pd, true, 'b');
    if (Number.isNaN(bp)) return MessageKind.MALFORMED;
    const bq = this.number(d.B, sd, false, 'B');
    if (Number.isNaN(bq)) return MessageKind.MALFORMED;
    const ap = this.number(d.a, pd, true, 'a');
    if (Number.isNaN(ap)) return MessageKind.MALFORMED;
    const aq = this.number(d.A, sd, false, 'A');
    if (Number.isNaN(aq)) return MessageKind.MALFORMED;
    const t = this.ticker;
    t.symbol = symbol;
    t.updateId = d.u;
    t.eventTimeMs = E;
    t.bidPrice = bp;
    t.bidSize = bq;
    t.askPrice = ap;
    t.askSize = aq;
    return MessageKind.BOOK_TICKER;
  }

  private decodeSnapshot(o: Record<string, unknown>): MessageKind {
    const s = this.snapshot;
    if (!isId(o.lastUpdateId)) return this.refuse('bad_field', 'lastUpdateId', String(o.lastUpdateId));
    let symbol = '';
    if (o.symbol !== undefined) {
      if (typeof o.symbol !== 'string' || o.symbol === '') return this.refuse('bad_field', 'symbol', typeof o.symbol);
      symbol = o.symbol;
    }
    let E = 0;
    if (o.E !== undefined) {
      if (!isId(o.E)) return this.refuse('bad_field', 'E', String(o.E));
      E = o.E;
    }
    if (!this.levels(o.bids, s.bids, 'bids') || !this.levels(o.asks, s.asks, 'asks')) return MessageKind.MALFORMED;
    s.lastUpdateId = o.lastUpdateId;
    s.symbol = symbol;
    s.eventTimeMs = E;
    return MessageKind.SNAPSHOT;
  }
}
