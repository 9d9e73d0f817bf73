/**
 * The bridge's wire format, version 2 (docs/BRIDGE.md has it byte by byte, with a decoder in a
 * few lines of any language). Little-endian; one NATS message is one record: an 88-byte head
 * (version, type, flags, provenance, the instrument's decimals, the subject's own sequence number,
 * the symbol) and a body by type. Numbers are the segment's (ABI 2.0): signed 64-bit prices and
 * unsigned 64-bit sizes in the instrument's decimals. 64-bit fields are two u32 words (low first),
 * so JavaScript reads them without BigInt: the encoder refuses a value at or beyond 2^53
 * (MDFAN_ERR_WIRE_RANGE) rather than send it wrong, the decoder refuses one ('range'). Times are
 * the exception: epoch nanoseconds (Binance) are beyond 2^53, so a time is the u64 nearest the
 * Number given, which is what every JavaScript reader of the origin reads too. Offsets
 * come from the field lists below, nowhere else. Encoding writes into one reused buffer per
 * bridge; the bridge sends a copy (the client holds what it is given until it flushes).
 */
import * as abi from '../../native/segment/abi.js';
import { ErrorCode, MdfanError } from '../../native/segment/errors.js';
import { layout } from './layout.js';

/** Version 1 (32-bit levels, an 8-byte symbol) is refused, never reinterpreted. */
export const WIRE_VERSION = 2;

export const MsgType = Object.freeze({ TOP: 1, BOOK: 2, TRADE: 3, STATUS: 4 });
export type MsgType = (typeof MsgType)[keyof typeof MsgType];
/** The subject's last token for each type: `md.GOOG.top`. */
export const TYPE_TOKENS: Readonly<Record<MsgType, string>> = Object.freeze({ 1: 'top', 2: 'book', 3: 'trade', 4: 'status' });
export const TOKEN_TYPES: Readonly<Record<string, MsgType>> = Object.freeze({ top: 1, book: 2, trade: 3, status: 4 });

/**
 * Head flags. STALE: the origin's book may be wrong (its feed lost messages, or its writer died).
 * ORIGIN_DEAD: the origin's writer is dead (sent with STALE on every record until a new writer or a beat).
 */
export const WireFlag = Object.freeze({ STALE: 1, ORIGIN_DEAD: 2 });
/** TRADE flags: the event ring's own bit, so it crosses unchanged; no other bit is sent. */
export const TradeFlag = Object.freeze({ NOT_PRINTABLE: abi.EVENT_FLAG_NOT_PRINTABLE });

/** The symbol's bytes: the segment's, NUL-padded. */
export const SYMBOL_BYTES = abi.SYMBOL_BYTES;

const HEAD_LAYOUT = layout(0, [
  ['version', 1], // u8
  ['type', 1], // u8
  ['flags', 2], // u16: WireFlag
  ['generation', 4], // u32: the origin segment's generation
  ['session', 4], // u32: the bridge run's start, s since the epoch: sequences restart with it, a later run is newer
  ['priceDecimals', 1], // u8: prices are in 10^-priceDecimals
  ['sizeDecimals', 1], // u8: sizes are in 10^-sizeDecimals
  ['reserved', 2],
  ['seq', 8], // u64: this subject's sequence number, from 1 per session
  ['msgIndex', 8], // u64: the input message that produced it
  ['exchangeTsNs', 8], // u64: the exchange's timestamp (ns; may be beyond 2^53)
  ['publishTsNs', 8], // u64: when the origin writer published it (its CLOCK_MONOTONIC)
  ['bridgeTsNs', 8], // u64: when the bridge sent it (its CLOCK_MONOTONIC)
  ['symbol', SYMBOL_BYTES], // ASCII, NUL-padded
] as const);
export const HEAD = HEAD_LAYOUT.at;
export const HEAD_BYTES = HEAD_LAYOUT.end;

/** TOP body: the best bid and ask of the top line (which has no order counts); size 0: that side is empty. */
const TOP_LAYOUT = layout(HEAD_BYTES, [
  ['bidPrice', 8], // i64
  ['bidSize', 8], // u64
  ['askPrice', 8], // i64
  ['askSize', 8], // u64
] as const);
export const TOP = TOP_LAYOUT.at;
export const TOP_BYTES = TOP_LAYOUT.end;

/** BOOK body head; then bid_count bid levels and ask_count ask levels, best first. */
const BOOK_LAYOUT = layout(HEAD_BYTES, [
  ['levels', 2], // u16: the origin's depth
  ['bidCount', 2], // u16
  ['askCount', 2], // u16
  ['reserved', 2],
  ['feedId', 4], // u32
  ['maxInstruments', 4], // u32
] as const);
export const BOOK_HEAD = BOOK_LAYOUT.at;
export const BOOK_LEVELS_OFFSET = BOOK_LAYOUT.end;

/** One level, offsets within it (the segment's mdfan_level_t). */
const LEVEL_LAYOUT = layout(0, [
  ['price', 8], // i64
  ['size', 8], // u64
  ['orders', 4], // u32: 0 where the venue gives none
  ['reserved', 4],
] as const);
export const LEVEL = LEVEL_LAYOUT.at;
export const LEVEL_BYTES = LEVEL_LAYOUT.end;

/** TRADE body. */
const TRADE_LAYOUT = layout(HEAD_BYTES, [
  ['price', 8], // i64: in 1/EVENT_PRICE_SCALE currency units (the event ring's scale); 0 when has_price is 0
  ['size', 8], // u64: in the instrument's size decimals
  ['orderRef', 8], // u64: the order reference (ITCH) or trade id (Binance)
  ['action', 1], // u8: the venue's letter (ITCH E C P Q)
  ['side', 1], // u8: as the segment has it ('B', 'S', 0; an ITCH cross: its cross type)
  ['flags', 1], // u8: TradeFlag
  ['hasPrice', 1], // u8: 1 when price is one
  ['reserved', 4],
] as const);
export const TRADE = TRADE_LAYOUT.at;
export const TRADE_BYTES = TRADE_LAYOUT.end;

/** STATUS body. */
const STATUS_LAYOUT = layout(HEAD_BYTES, [
  ['action', 1], // u8: the trading state letter
  ['reserved', 7],
] as const);
export const STATUS = STATUS_LAYOUT.at;
export const STATUS_BYTES = STATUS_LAYOUT.end;

export const MAX_BOOK_BYTES = BOOK_LEVELS_OFFSET + 2 * abi.MAX_LEVELS * LEVEL_BYTES;

const TWO32 = 4294967296;
const TWO64 = TWO32 * TWO32;

/** Provenance every record carries. */
export interface Head {
  type: MsgType;
  flags: number;
  generation: number;
  session: number;
  priceDecimals: number;
  sizeDecimals: number;
  seq: number;
  msgIndex: number;
  exchangeTsNs: number;
  publishTsNs: number;
  bridgeTsNs: number;
  symbol: string;
}
export interface Side {
  count: number;
  /** count*3 numbers: price, size, orders, best first (the segment's LevelSource layout). */
  levels: ArrayLike<number>;
}
export interface BookBody {
  levels: number;
  feedId: number;
  maxInstruments: number;
  bids: Side;
  asks: Side;
}
export interface TradeBody {
  /** In 1/EVENT_PRICE_SCALE units; NaN when the trade carries none. */
  price: number;
  size: number;
  action: number;
  side: number;
  /** TradeFlag bits. */
  flags: number;
  orderRef: number;
}
/** What decode() returns: levels as doubles, exact (every value is below 2^53). */
export interface DecodedSide {
  count: number;
  levels: Float64Array;
}
export type Decoded =
  | { head: Head; top: { bid: DecodedSide; ask: DecodedSide } }
  | { head: Head; book: BookBody & { bids: DecodedSide; asks: DecodedSide } }
  | { head: Head; trade: TradeBody }
  | { head: Head; status: { action: number } };

/** Why a record was refused: a stable reason for the counters and the log. */
export type WireErrorReason = 'short' | 'length' | 'version' | 'type' | 'levels' | 'symbol' | 'range';

export class WireError extends Error {
  constructor(
    readonly reason: WireErrorReason,
    message: string,
  ) {
    super(message);
  }
}

const rangeError = (field: string, v: number, what: string): MdfanError =>
  new MdfanError(ErrorCode.WIRE_RANGE, `${field} ${v} is not ${what}: the wire carries 64-bit values below 2^53 exactly, and no others`, { field, found: v });

/** One reusable record buffer with typed writers: encode into it, then publish `bytes(length)`. */
export class WireWriter {
  readonly buf = new Uint8Array(MAX_BOOK_BYTES);
  private readonly dv = new DataView(this.buf.buffer);

  /** Writes the head; MDFAN_ERR_WIRE_RANGE for a symbol longer than SYMBOL_BYTES or not ASCII, or a u64 field at or beyond 2^53. */
  head(h: Head): void {
    const dv = this.dv;
    if (h.symbol.length > SYMBOL_BYTES) throw new MdfanError(ErrorCode.WIRE_RANGE, `symbol ${JSON.stringify(h.symbol)} is longer than ${SYMBOL_BYTES} characters`, { symbol: h.symbol });
    dv.setUint8(HEAD.version, WIRE_VERSION);
    dv.setUint8(HEAD.type, h.type);
    dv.setUint16(HEAD.flags, h.flags, true);
    dv.setUint32(HEAD.generation, h.generation, true);
    dv.setUint32(HEAD.session, h.session, true);
    dv.setUint8(HEAD.priceDecimals, h.priceDecimals);
    dv.setUint8(HEAD.sizeDecimals, h.sizeDecimals);
    dv.setUint16(HEAD.reserved, 0, true);
    this.u64(HEAD.seq, h.seq, 'seq');
    this.u64(HEAD.msgIndex, h.msgIndex, 'msgIndex');
    this.time(HEAD.exchangeTsNs, h.exchangeTsNs, 'exchangeTsNs');
    this.time(HEAD.publishTsNs, h.publishTsNs, 'publishTsNs');
    this.time(HEAD.bridgeTsNs, h.bridgeTsNs, 'bridgeTsNs');
    for (let i = 0; i < SYMBOL_BYTES; i++) {
      const c = i < h.symbol.length ? h.symbol.charCodeAt(i) : 0;
      if (c > 0x7f || (c === 0 && i < h.symbol.length)) throw new MdfanError(ErrorCode.WIRE_RANGE, `symbol ${JSON.stringify(h.symbol)} is not ASCII`, { symbol: h.symbol });
      this.buf[HEAD.symbol + i] = c;
    }
  }

  /** A TOP record's body (level 0 of each side, count 0: empty); returns the record's length. */
  top(bid: Side, ask: Side): number {
    const has = bid.count > 0;
    this.i64(TOP.bidPrice, has ? bid.levels[0]! : 0, 'bid price');
    this.u64(TOP.bidSize, has ? bid.levels[1]! : 0, 'bid size');
    const hasAsk = ask.count > 0;
    this.i64(TOP.askPrice, hasAsk ? ask.levels[0]! : 0, 'ask price');
    this.u64(TOP.askSize, hasAsk ? ask.levels[1]! : 0, 'ask size');
    return TOP_BYTES;
  }

  /** A BOOK record's body; returns the record's length. */
  book(b: BookBody): number {
    const dv = this.dv;
    dv.setUint16(BOOK_HEAD.levels, b.levels, true);
    dv.setUint16(BOOK_HEAD.bidCount, b.bids.count, true);
    dv.setUint16(BOOK_HEAD.askCount, b.asks.count, true);
    dv.setUint16(BOOK_HEAD.reserved, 0, true);
    dv.setUint32(BOOK_HEAD.feedId, b.feedId, true);
    dv.setUint32(BOOK_HEAD.maxInstruments, b.maxInstruments, true);
    const off = this.levels(BOOK_LEVELS_OFFSET, b.bids);
    return this.levels(off, b.asks);
  }

  /** A side's levels from `off`; returns the offset after them. */
  private levels(off: number, side: Side): number {
    const lv = side.levels;
    for (let i = 0; i < side.count; i++, off += LEVEL_BYTES) {
      this.i64(off + LEVEL.price, lv[i * 3] ?? 0, 'level price');
      this.u64(off + LEVEL.size, lv[i * 3 + 1] ?? 0, 'level size');
      const orders = lv[i * 3 + 2] ?? 0;
      if (orders >>> 0 !== orders) throw rangeError('level orders', orders, 'a u32');
      this.dv.setUint32(off + LEVEL.orders, orders, true);
      this.dv.setUint32(off + LEVEL.reserved, 0, true);
    }
    return off;
  }

  trade(t: TradeBody): number {
    const dv = this.dv;
    const has = !Number.isNaN(t.price);
    this.i64(TRADE.price, has ? t.price : 0, 'trade price');
    this.u64(TRADE.size, t.size, 'trade size');
    this.u64(TRADE.orderRef, t.orderRef, 'order reference');
    dv.setUint8(TRADE.action, t.action);
    dv.setUint8(TRADE.side, t.side);
    dv.setUint8(TRADE.flags, t.flags & TradeFlag.NOT_PRINTABLE);
    dv.setUint8(TRADE.hasPrice, has ? 1 : 0);
    dv.setUint32(TRADE.reserved, 0, true);
    return TRADE_BYTES;
  }

  status(action: number): number {
    this.buf.fill(0, HEAD_BYTES, STATUS_BYTES);
    this.dv.setUint8(STATUS.action, action & 0xff);
    return STATUS_BYTES;
  }

  private u64(off: number, v: number, field: string): void {
    if (!(Number.isSafeInteger(v) && v >= 0)) throw rangeError(field, v, 'an unsigned integer below 2^53');
    this.dv.setUint32(off, v % TWO32, true);
    this.dv.setUint32(off + 4, Math.floor(v / TWO32), true);
  }

  /** A time: any integer below 2^64, as the Number holds it (dividing by 2^32 is exact). */
  private time(off: number, v: number, field: string): void {
    if (!(Number.isInteger(v) && v >= 0 && v < TWO64)) throw rangeError(field, v, 'a u64 time');
    this.dv.setUint32(off, v % TWO32, true);
    this.dv.setUint32(off + 4, Math.floor(v / TWO32), true);
  }

  /** Two's complement in two words: the low word unsigned, the high word signed. */
  private i64(off: number, v: number, field: string): void {
    if (!Number.isSafeInteger(v)) throw rangeError(field, v, 'an integer of magnitude below 2^53');
    this.dv.setUint32(off, ((v % TWO32) + TWO32) % TWO32, true);
    this.dv.setInt32(off + 4, Math.floor(v / TWO32), true);
  }
}

/** The u64 at `off`, or a 'range' WireError at or beyond 2^53 (a Number could not hold it exactly). */
function u64(dv: DataView, off: number, field: string): number {
  const v = dv.getUint32(off + 4, true) * TWO32 + dv.getUint32(off, true);
  if (!Number.isSafeInteger(v)) throw new WireError('range', `${field} is at or beyond 2^53`);
  return v;
}

/** A time: the nearest Number (exact below 2^53). */
const time = (dv: DataView, off: number): number => dv.getUint32(off + 4, true) * TWO32 + dv.getUint32(off, true);

function i64(dv: DataView, off: number, field: string): number {
  const v = dv.getInt32(off + 4, true) * TWO32 + dv.getUint32(off, true);
  if (!Number.isSafeInteger(v)) throw new WireError('range', `${field} is of magnitude 2^53 or more`);
  return v;
}

function levels(dv: DataView, off: number, count: number): DecodedSide {
  const out = new Float64Array(count * 3);
  for (let i = 0; i < count; i++, off += LEVEL_BYTES) {
    out[i * 3] = i64(dv, off + LEVEL.price, 'a level price');
    out[i * 3 + 1] = u64(dv, off + LEVEL.size, 'a level size');
    out[i * 3 + 2] = dv.getUint32(off + LEVEL.orders, true);
  }
  return { count, levels: out };
}

/** The top line's side at `off`: size 0 is an empty side. */
function topSide(dv: DataView, price: number, size: number, field: string): DecodedSide {
  const levels = new Float64Array([i64(dv, price, `${field} price`), u64(dv, size, `${field} size`), 0]);
  return { count: levels[1] === 0 ? 0 : 1, levels };
}

/** The symbol: printable ASCII, then NULs only (the segment's padding). */
function symbolOf(data: Uint8Array): string {
  let symbol = '';
  let i = 0;
  for (; i < SYMBOL_BYTES; i++) {
    const c = data[HEAD.symbol + i]!;
    if (c === 0) break;
    if (c < 0x20 || c > 0x7e) throw new WireError('symbol', `symbol byte ${i} is 0x${c.toString(16)}`);
    symbol += String.fromCharCode(c);
  }
  for (; i < SYMBOL_BYTES; i++) if (data[HEAD.symbol + i] !== 0) throw new WireError('symbol', `symbol byte ${i} follows a NUL`);
  if (symbol === '') throw new WireError('symbol', 'an empty symbol');
  return symbol;
}

/** Decodes one record, or throws WireError naming what is wrong (never reads past `data`). */
/** Powers of ten up to the largest decimals a record may carry: exact doubles (10^22 is the last). */
const POW10 = Float64Array.from({ length: abi.MAX_DECIMALS + 1 }, (_, d) => 10 ** d);

/** A book or top price of the record `head` opens, in currency units: raw / 10^priceDecimals (5853300 at 4 -> 585.33). */
export const pxOf = (head: Head, price: number): number => price / POW10[head.priceDecimals]!;
/** A book, top or trade size of the record `head` opens, in the instrument's units: raw / 10^sizeDecimals. */
export const qtyOf = (head: Head, size: number): number => size / POW10[head.sizeDecimals]!;
/** A trade's price in currency units (the record's 1e-9 units, as the event ring's); NaN when it has none. */
export const tradePx = (trade: TradeBody): number => trade.price / abi.EVENT_PRICE_SCALE;

export function decode(data: Uint8Array): Decoded {
  if (data.length < HEAD_BYTES) throw new WireError('short', `${data.length} bytes, shorter than the ${HEAD_BYTES}-byte head`);
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const version = dv.getUint8(HEAD.version);
  if (version !== WIRE_VERSION) throw new WireError('version', `wire version ${version}, this mirror reads ${WIRE_VERSION} (bridge and mirror must be of one version)`);
  const type = dv.getUint8(HEAD.type) as MsgType;
  const priceDecimals = dv.getUint8(HEAD.priceDecimals);
  const sizeDecimals = dv.getUint8(HEAD.sizeDecimals);
  if (priceDecimals > abi.MAX_DECIMALS || sizeDecimals > abi.MAX_DECIMALS)
    throw new WireError('range', `decimals ${priceDecimals}/${sizeDecimals} (price/size), at most ${abi.MAX_DECIMALS}`);
  const head: Head = {
    type,
    flags: dv.getUint16(HEAD.flags, true),
    generation: dv.getUint32(HEAD.generation, true),
    session: dv.getUint32(HEAD.session, true),
    priceDecimals,
    sizeDecimals,
    seq: u64(dv, HEAD.seq, 'seq'),
    msgIndex: u64(dv, HEAD.msgIndex, 'msg_index'),
    exchangeTsNs: time(dv, HEAD.exchangeTsNs),
    publishTsNs: time(dv, HEAD.publishTsNs),
    bridgeTsNs: time(dv, HEAD.bridgeTsNs),
    symbol: symbolOf(data),
  };
  const need = (n: number): void => {
    if (data.length < n) throw new WireError('short', `${data.length} bytes, a ${TYPE_TOKENS[type]} record needs ${n}`);
  };
  // A record is exactly its type's length: trailing bytes are not ours to ignore.
  const exact = (n: number): void => {
    need(n);
    if (data.length !== n) throw new WireError('length', `${data.length} bytes, a ${TYPE_TOKENS[type]} record is ${n}`);
  };
  switch (type) {
    case MsgType.TOP:
      exact(TOP_BYTES);
      return { head, top: { bid: topSide(dv, TOP.bidPrice, TOP.bidSize, 'bid'), ask: topSide(dv, TOP.askPrice, TOP.askSize, 'ask') } };
    case MsgType.BOOK: {
      need(BOOK_LEVELS_OFFSET);
      const depth = dv.getUint16(BOOK_HEAD.levels, true);
      const bidCount = dv.getUint16(BOOK_HEAD.bidCount, true);
      const askCount = dv.getUint16(BOOK_HEAD.askCount, true);
      if (depth < 1 || depth > abi.MAX_LEVELS || bidCount > depth || askCount > depth)
        throw new WireError('levels', `levels ${depth} with ${bidCount} bids and ${askCount} asks (at most ${abi.MAX_LEVELS} levels)`);
      exact(BOOK_LEVELS_OFFSET + (bidCount + askCount) * LEVEL_BYTES);
      return {
        head,
        book: {
          levels: depth,
          feedId: dv.getUint32(BOOK_HEAD.feedId, true),
          maxInstruments: dv.getUint32(BOOK_HEAD.maxInstruments, true),
          bids: levels(dv, BOOK_LEVELS_OFFSET, bidCount),
          asks: levels(dv, BOOK_LEVELS_OFFSET + bidCount * LEVEL_BYTES, askCount),
        },
      };
    }
    case MsgType.TRADE: {
      exact(TRADE_BYTES);
      const has = dv.getUint8(TRADE.hasPrice) === 1;
      return {
        head,
        trade: {
          price: has ? i64(dv, TRADE.price, 'the trade price') : Number.NaN,
          size: u64(dv, TRADE.size, 'the trade size'),
          action: dv.getUint8(TRADE.action),
          side: dv.getUint8(TRADE.side),
          flags: dv.getUint8(TRADE.flags) & TradeFlag.NOT_PRINTABLE,
          orderRef: u64(dv, TRADE.orderRef, 'the order reference'),
        },
      };
    }
    case MsgType.STATUS:
      exact(STATUS_BYTES);
      return { head, status: { action: dv.getUint8(STATUS.action) } };
    default:
      throw new WireError('type', `record type ${type as number} is not one of ${Object.keys(TOKEN_TYPES).join(', ')}`);
  }
}
