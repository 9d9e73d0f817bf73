/**
 * The bridge's wire format, version 1 (docs/BRIDGE.md has it byte by byte, with a decoder in a
 * few lines of any language). Little-endian; one NATS message is one record: a 64-byte head
 * (version, type, flags, provenance, the subject's own sequence number) and a body by type.
 * 64-bit fields are two u32 words (low first), so JavaScript reads them without BigInt; values
 * stay below 2^53. Encoding writes into one reused buffer per bridge; the bridge sends a copy (the
 * client holds what it is given until it flushes).
 */
import * as abi from '../../native/segment/abi.js';

export const WIRE_VERSION = 1;

export const MsgType = Object.freeze({ TOP: 1, BOOK: 2, TRADE: 3, STATUS: 4 });
export type MsgType = (typeof MsgType)[keyof typeof MsgType];
/** The subject's last token for each type: `md.GOOG.top`. */
export const TYPE_TOKENS: Readonly<Record<MsgType, string>> = Object.freeze({ 1: 'top', 2: 'book', 3: 'trade', 4: 'status' });
export const TOKEN_TYPES: Readonly<Record<string, MsgType>> = Object.freeze({ top: 1, book: 2, trade: 3, status: 4 });

/** Head flags. */
export const WireFlag = Object.freeze({ STALE: 1 });

/** Byte offsets of the head, in order; HEAD_BYTES follows from the last field. */
export const HEAD = Object.freeze({
  version: 0, // u8
  type: 1, // u8
  flags: 2, // u16
  generation: 4, // u32: the origin segment's generation
  session: 8, // u32: the bridge run's start, s since the epoch: sequences restart with it, a later run is newer
  priceScale: 12, // u32: price / priceScale is currency units
  seq: 16, // u64: this subject's sequence number, from 1 per session
  msgIndex: 24, // u64: the input message that produced it
  exchangeTsNs: 32, // u64: the exchange's timestamp (ns after midnight for ITCH)
  publishTsNs: 40, // u64: when the origin writer published it (its CLOCK_MONOTONIC)
  bridgeTsNs: 48, // u64: when the bridge sent it (its CLOCK_MONOTONIC)
  symbol: 56, // 8 bytes ASCII, space padded
});
export const HEAD_BYTES = HEAD.symbol + 8;
/** TOP body: bid price, size, orders, ask price, size, orders (u32 each); size 0: that side is empty. */
export const TOP_BYTES = HEAD_BYTES + 6 * 4;
/** BOOK body head: levels (u16), bid count (u16), ask count (u16), reserved (u16), feed id (u32), max instruments (u32); then the levels. */
export const BOOK_HEAD = Object.freeze({ levels: HEAD_BYTES, bidCount: HEAD_BYTES + 2, askCount: HEAD_BYTES + 4, feedId: HEAD_BYTES + 8, maxInstruments: HEAD_BYTES + 12 });
export const BOOK_LEVELS_OFFSET = HEAD_BYTES + 16;
/** Bytes of one level: price, size, orders (u32 each). */
export const LEVEL_BYTES = 12;
/** TRADE body: price in 1/EVENT_PRICE_SCALE units (u64), shares (u32), action, side, aux, has price (u8 each), order reference (u64). */
export const TRADE = Object.freeze({ price: HEAD_BYTES, shares: HEAD_BYTES + 8, action: HEAD_BYTES + 12, side: HEAD_BYTES + 13, aux: HEAD_BYTES + 14, hasPrice: HEAD_BYTES + 15, orderRef: HEAD_BYTES + 16 });
export const TRADE_BYTES = HEAD_BYTES + 24;
/** STATUS body: the trading action letter (u8), 3 reserved bytes. */
export const STATUS_BYTES = HEAD_BYTES + 4;
export const MAX_BOOK_BYTES = BOOK_LEVELS_OFFSET + 2 * abi.MAX_LEVELS * LEVEL_BYTES;

const TWO32 = 4294967296;

/** Provenance every record carries. */
export interface Head {
  type: MsgType;
  flags: number;
  generation: number;
  session: number;
  priceScale: number;
  seq: number;
  msgIndex: number;
  exchangeTsNs: number;
  publishTsNs: number;
  bridgeTsNs: number;
  symbol: string;
}
export interface Side {
  count: number;
  /** count*3 numbers: price, size, orders, best first (u32 each on the wire). */
  levels: Float64Array | Uint32Array;
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
  shares: number;
  action: number;
  side: number;
  aux: number;
  orderRef: number;
}
export type Decoded =
  | { head: Head; top: { bid: Side; ask: Side } }
  | { head: Head; book: BookBody }
  | { head: Head; trade: TradeBody }
  | { head: Head; status: { action: number } };

/** Why a record was refused: a stable reason for the counters and the log. */
export type WireErrorReason = 'short' | 'length' | 'version' | 'type' | 'levels' | 'symbol';

export class WireError extends Error {
  constructor(
    readonly reason: WireErrorReason,
    message: string,
  ) {
    super(message);
  }
}

/** One reusable record buffer with typed writers: encode into it, then publish `bytes(length)`. */
export class WireWriter {
  readonly buf = new Uint8Array(MAX_BOOK_BYTES);
  private readonly dv = new DataView(this.buf.buffer);

  head(h: Head): void {
    const dv = this.dv;
    dv.setUint8(HEAD.version, WIRE_VERSION);
    dv.setUint8(HEAD.type, h.type);
    dv.setUint16(HEAD.flags, h.flags, true);
    dv.setUint32(HEAD.generation, h.generation, true);
    dv.setUint32(HEAD.session, h.session, true);
    dv.setUint32(HEAD.priceScale, h.priceScale, true);
    this.u64(HEAD.seq, h.seq);
    this.u64(HEAD.msgIndex, h.msgIndex);
    this.u64(HEAD.exchangeTsNs, h.exchangeTsNs);
    this.u64(HEAD.publishTsNs, h.publishTsNs);
    this.u64(HEAD.bridgeTsNs, h.bridgeTsNs);
    for (let i = 0; i < 8; i++) this.buf[HEAD.symbol + i] = i < h.symbol.length ? h.symbol.charCodeAt(i) & 0x7f : 0x20;
  }

  /** A TOP record's body; returns the record's length. */
  top(bid: Side, ask: Side): number {
    this.level(HEAD_BYTES, bid.count > 0 ? bid.levels : null);
    this.level(HEAD_BYTES + 12, ask.count > 0 ? ask.levels : null);
    return TOP_BYTES;
  }

  /** A BOOK record's body; returns the record's length. */
  book(b: BookBody): number {
    const dv = this.dv;
    dv.setUint16(BOOK_HEAD.levels, b.levels, true);
    dv.setUint16(BOOK_HEAD.bidCount, b.bids.count, true);
    dv.setUint16(BOOK_HEAD.askCount, b.asks.count, true);
    dv.setUint16(BOOK_HEAD.bidCount + 4, 0, true);
    dv.setUint32(BOOK_HEAD.feedId, b.feedId, true);
    dv.setUint32(BOOK_HEAD.maxInstruments, b.maxInstruments, true);
    const off = this.levels(BOOK_LEVELS_OFFSET, b.bids);
    return this.levels(off, b.asks);
  }

  /** A side's levels from `off`; returns the offset after them. */
  private levels(off: number, side: Side): number {
    for (let i = 0; i < side.count * 3; i++, off += 4) this.dv.setUint32(off, side.levels[i] ?? 0, true);
    return off;
  }

  trade(t: TradeBody): number {
    const dv = this.dv;
    const has = !Number.isNaN(t.price);
    this.u64(TRADE.price, has ? t.price : 0);
    dv.setUint32(TRADE.shares, t.shares, true);
    dv.setUint8(TRADE.action, t.action);
    dv.setUint8(TRADE.side, t.side);
    dv.setUint8(TRADE.aux, t.aux);
    dv.setUint8(TRADE.hasPrice, has ? 1 : 0);
    this.u64(TRADE.orderRef, t.orderRef);
    return TRADE_BYTES;
  }

  status(action: number): number {
    this.dv.setUint32(HEAD_BYTES, action & 0xff, true);
    return STATUS_BYTES;
  }

  private level(off: number, lv: Float64Array | Uint32Array | null): void {
    for (let i = 0; i < 3; i++) this.dv.setUint32(off + i * 4, lv ? (lv[i] ?? 0) : 0, true);
  }

  private u64(off: number, v: number): void {
    this.dv.setUint32(off, v % TWO32, true);
    this.dv.setUint32(off + 4, Math.floor(v / TWO32), true);
  }
}

const u64 = (dv: DataView, off: number): number => dv.getUint32(off + 4, true) * TWO32 + dv.getUint32(off, true);

function levels(dv: DataView, off: number, count: number): Side {
  const out = new Uint32Array(count * 3);
  for (let i = 0; i < out.length; i++) out[i] = dv.getUint32(off + i * 4, true);
  return { count, levels: out };
}

/** Decodes one record, or throws WireError naming what is wrong (never reads past `data`). */
export function decode(data: Uint8Array): Decoded {
  if (data.length < HEAD_BYTES) throw new WireError('short', `${data.length} bytes, shorter than the ${HEAD_BYTES}-byte head`);
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const version = dv.getUint8(HEAD.version);
  if (version !== WIRE_VERSION) throw new WireError('version', `wire version ${version}, this mirror reads ${WIRE_VERSION}`);
  const type = dv.getUint8(HEAD.type) as MsgType;
  let symbol = '';
  for (let i = 0; i < 8; i++) {
    const c = data[HEAD.symbol + i] ?? 0;
    if (c < 0x20 || c > 0x7e) throw new WireError('symbol', `symbol byte ${i} is 0x${c.toString(16)}`);
    symbol += String.fromCharCode(c);
  }
  const head: Head = {
    type,
    flags: dv.getUint16(HEAD.flags, true),
    generation: dv.getUint32(HEAD.generation, true),
    session: dv.getUint32(HEAD.session, true),
    priceScale: dv.getUint32(HEAD.priceScale, true),
    seq: u64(dv, HEAD.seq),
    msgIndex: u64(dv, HEAD.msgIndex),
    exchangeTsNs: u64(dv, HEAD.exchangeTsNs),
    publishTsNs: u64(dv, HEAD.publishTsNs),
    bridgeTsNs: u64(dv, HEAD.bridgeTsNs),
    symbol: symbol.trimEnd(),
  };
  if (head.symbol === '') throw new WireError('symbol', 'an empty symbol');
  const need = (n: number): void => {
    if (data.length < n) throw new WireError('short', `${data.length} bytes, a ${TYPE_TOKENS[type]} record needs ${n}`);
  };
  // A version-1 record is exactly its type's length: trailing bytes are not ours to ignore.
  const exact = (n: number): void => {
    need(n);
    if (data.length !== n) throw new WireError('length', `${data.length} bytes, a ${TYPE_TOKENS[type]} record is ${n}`);
  };
  switch (type) {
    case MsgType.TOP: {
      exact(TOP_BYTES);
      const bid = levels(dv, HEAD_BYTES, 1);
      const ask = levels(dv, HEAD_BYTES + 12, 1);
      bid.count = bid.levels[1] === 0 ? 0 : 1;
      ask.count = ask.levels[1] === 0 ? 0 : 1;
      return { head, top: { bid, ask } };
    }
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
          price: has ? u64(dv, TRADE.price) : Number.NaN,
          shares: dv.getUint32(TRADE.shares, true),
          action: dv.getUint8(TRADE.action),
          side: dv.getUint8(TRADE.side),
          aux: dv.getUint8(TRADE.aux),
          orderRef: u64(dv, TRADE.orderRef),
        },
      };
    }
    case MsgType.STATUS:
      exact(STATUS_BYTES);
      return { head, status: { action: dv.getUint8(HEAD_BYTES) } };
    default:
      throw new WireError('type', `record type ${type as number} is not one of ${Object.keys(TOKEN_TYPES).join(', ')}`);
  }
}
