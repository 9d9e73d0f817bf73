/**
 * DBN record encoders (no I/O): each fills `buf[at, at + bytes)` with one record of the newest DBN
 * version and returns its size. Every offset comes from the layouts of fields.ts; the header's
 * length byte is the size in 4-byte words. The field objects are the caller's and reused: nothing
 * is allocated per record. A 64-bit field is a Number when it is a safe integer (written as two
 * 32-bit words, exact) and a BigInt otherwise (epoch nanoseconds, prices beyond 2^53 units).
 */
import { HEADER, LENGTH_UNIT_BYTES, type Layout, RTYPE, layoutOfStruct } from './fields.js';
import { ACTION, SIDE } from './enums.js';

/** A 64-bit integer field: a Number while exact, else a BigInt. */
export type Int64 = number | bigint;

/** i64::MAX: DBN's "no price". */
export const UNDEF_PRICE_I64 = 0x7fffffffffffffffn;
/** u64::MAX: DBN's "no time" (an unbounded end). */
export const UNDEF_TS_U64 = 0xffffffffffffffffn;
/** The largest size or order count a record holds. */
export const U32_MAX = 0xffffffff;

/** The record header: every record starts with it (length and rtype are the encoder's). */
export interface HeaderFields {
  publisherId: number;
  instrumentId: number;
  tsEvent: Int64;
}

/** A TradeMsg (rtype 0x00), and the head every MBP record shares with it. */
export interface TradeFields extends HeaderFields {
  price: Int64;
  size: number;
  /** ACTION.* (an ASCII letter). */
  action: number;
  /** SIDE.* (an ASCII letter). */
  side: number;
  flags: number;
  depth: number;
  tsRecv: Int64;
  tsInDelta: number;
  sequence: number;
}

/** One BidAskPair. */
export interface LevelFields {
  bidPx: Int64;
  askPx: Int64;
  bidSz: number;
  askSz: number;
  bidCt: number;
  askCt: number;
}

/** An Mbp1Msg or Mbp10Msg: `levels` holds at least as many pairs as the record. */
export interface MbpFields extends TradeFields {
  levels: LevelFields[];
}

/** A SymbolMappingMsg (v2/v3 layout). */
export interface SymbolMappingFields extends HeaderFields {
  stypeIn: number;
  stypeInSymbol: string;
  stypeOut: number;
  stypeOutSymbol: string;
  startTs: Int64;
  endTs: Int64;
}

export const emptyLevel = (): LevelFields => ({ bidPx: UNDEF_PRICE_I64, askPx: UNDEF_PRICE_I64, bidSz: 0, askSz: 0, bidCt: 0, askCt: 0 });

/** Field objects to fill and reuse: a trade, or an MBP record with `levels` pairs (empty). */
export function newMbpFields(levels: number): MbpFields {
  return {
    publisherId: 0,
    instrumentId: 0,
    tsEvent: 0,
    price: UNDEF_PRICE_I64,
    size: 0,
    action: ACTION.NONE,
    side: SIDE.NONE,
    flags: 0,
    depth: 0,
    tsRecv: 0,
    tsInDelta: 0,
    sequence: 0,
    levels: Array.from({ length: levels }, emptyLevel),
  };
}

const TWO32 = 2 ** 32;

/** A 64-bit integer as two 32-bit words while it is an exact number (no BigInt on the way), as itself when it is one. */
function put64(buf: Buffer, at: number, v: Int64, signed: boolean): void {
  if (typeof v === 'bigint') {
    if (signed) buf.writeBigInt64LE(v, at);
    else buf.writeBigUInt64LE(v, at);
    return;
  }
  const hi = Math.floor(v / TWO32);
  buf.writeUInt32LE(v - hi * TWO32, at);
  if (signed) buf.writeInt32LE(hi, at + 4);
  else buf.writeUInt32LE(hi, at + 4);
}

const putI64 = (buf: Buffer, at: number, v: Int64): void => put64(buf, at, v, true);
const putU64 = (buf: Buffer, at: number, v: Int64): void => put64(buf, at, v, false);

/** A fixed C string: the bytes, then NULs; one that does not leave room for its NUL is refused. */
function putCstr(buf: Buffer, at: number, n: number, s: string, field: string): void {
  const len = buf.write(s, at, n, 'utf8');
  if (len >= n || Buffer.byteLength(s, 'utf8') !== len) throw new RangeError(`DBN ${field} ${JSON.stringify(s)} is longer than ${n - 1} bytes`);
}

function putHeader(buf: Buffer, at: number, layout: Layout, rtype: number, h: HeaderFields): void {
  buf.fill(0, at, at + layout.bytes);
  buf[at + HEADER.length] = layout.bytes / LENGTH_UNIT_BYTES;
  buf[at + HEADER.rtype] = rtype;
  buf.writeUInt16LE(h.publisherId, at + HEADER.publisherId);
  buf.writeUInt32LE(h.instrumentId, at + HEADER.instrumentId);
  putU64(buf, at + HEADER.tsEvent, h.tsEvent);
}

/** The offsets of the fields TradeMsg, Mbp1Msg and Mbp10Msg share (the same in all three; checked below). */
function headOffsets(l: Layout) {
  return {
    price: l.at('price'),
    size: l.at('size'),
    action: l.at('action'),
    side: l.at('side'),
    flags: l.at('flags'),
    depth: l.at('depth'),
    tsRecv: l.at('ts_recv'),
    tsInDelta: l.at('ts_in_delta'),
    sequence: l.at('sequence'),
  };
}

const TRADE = layoutOfStruct('TradeMsg');
const MBP1 = layoutOfStruct('Mbp1Msg');
const MBP10 = layoutOfStruct('Mbp10Msg');
const PAIR = layoutOfStruct('BidAskPair');
const MAP = layoutOfStruct('SymbolMappingMsg');
const H = headOffsets(TRADE);
for (const l of [MBP1, MBP10]) {
  const o = headOffsets(l);
  for (const k of Object.keys(H) as (keyof typeof H)[]) if (o[k] !== H[k]) throw new Error(`DBN ${l.struct}.${k} is not where TradeMsg has it`);
}
const P = {
  bidPx: PAIR.at('bid_px'),
  askPx: PAIR.at('ask_px'),
  bidSz: PAIR.at('bid_sz'),
  askSz: PAIR.at('ask_sz'),
  bidCt: PAIR.at('bid_ct'),
  askCt: PAIR.at('ask_ct'),
  bytes: PAIR.bytes,
};
const M = {
  stypeIn: MAP.at('stype_in'),
  stypeInSymbol: MAP.at('stype_in_symbol'),
  stypeOut: MAP.at('stype_out'),
  stypeOutSymbol: MAP.at('stype_out_symbol'),
  startTs: MAP.at('start_ts'),
  endTs: MAP.at('end_ts'),
  symbolBytes: MAP.fields.find((f) => f.name === 'stype_in_symbol')!.bytes,
};

const LEVELS_AT = { mbp1: MBP1.at('levels'), mbp10: MBP10.at('levels') };

/** Record sizes, in bytes. */
export const RECORD_SIZE = Object.freeze({ trade: TRADE.bytes, mbp1: MBP1.bytes, mbp10: MBP10.bytes, symbolMapping: MAP.bytes });

function putHead(buf: Buffer, at: number, r: TradeFields): void {
  putI64(buf, at + H.price, r.price);
  buf.writeUInt32LE(r.size, at + H.size);
  buf[at + H.action] = r.action;
  buf[at + H.side] = r.side;
  buf[at + H.flags] = r.flags;
  buf[at + H.depth] = r.depth;
  putU64(buf, at + H.tsRecv, r.tsRecv);
  buf.writeInt32LE(r.tsInDelta, at + H.tsInDelta);
  buf.writeUInt32LE(r.sequence, at + H.sequence);
}

/** One TradeMsg (rtype 0x00) at buf[at]; returns its size. */
export function encodeTrade(buf: Buffer, at: number, r: TradeFields): number {
  putHeader(buf, at, TRADE, RTYPE.MBP_0, r);
  putHead(buf, at, r);
  return TRADE.bytes;
}

/** One Mbp1Msg (depth 1, rtype 0x01) or Mbp10Msg (depth 10, rtype 0x0A) at buf[at]; returns its size. */
export function encodeMbp(buf: Buffer, at: number, r: MbpFields, depth: 1 | 10): number {
  const layout = depth === 1 ? MBP1 : MBP10;
  putHeader(buf, at, layout, depth === 1 ? RTYPE.MBP_1 : RTYPE.MBP_10, r);
  putHead(buf, at, r);
  let p = at + (depth === 1 ? LEVELS_AT.mbp1 : LEVELS_AT.mbp10);
  for (let i = 0; i < depth; i++, p += P.bytes) {
    const l = r.levels[i]!;
    putI64(buf, p + P.bidPx, l.bidPx);
    putI64(buf, p + P.askPx, l.askPx);
    buf.writeUInt32LE(l.bidSz, p + P.bidSz);
    buf.writeUInt32LE(l.askSz, p + P.askSz);
    buf.writeUInt32LE(l.bidCt, p + P.bidCt);
    buf.writeUInt32LE(l.askCt, p + P.askCt);
  }
  return layout.bytes;
}

/** One SymbolMappingMsg (rtype 0x16, DBN v2/v3 layout) at buf[at]; returns its size. */
export function encodeSymbolMapping(buf: Buffer, at: number, r: SymbolMappingFields): number {
  putHeader(buf, at, MAP, RTYPE.SYMBOL_MAPPING, r);
  buf[at + M.stypeIn] = r.stypeIn;
  putCstr(buf, at + M.stypeInSymbol, M.symbolBytes, r.stypeInSymbol, 'stype_in_symbol');
  buf[at + M.stypeOut] = r.stypeOut;
  putCstr(buf, at + M.stypeOutSymbol, M.symbolBytes, r.stypeOutSymbol, 'stype_out_symbol');
  putU64(buf, at + M.startTs, r.startTs);
  putU64(buf, at + M.endTs, r.endTs);
  return MAP.bytes;
}
