/**
 * One decoded ITCH message, reused for every message (the hot path allocates nothing). Numeric
 * fields are filled by decode(); text fields (symbols, codes) are read on demand from the bytes
 * the message still points at, so only cold paths (directory, tests) pay for strings.
 *
 * u64 fields (order references, match numbers, share counts of Q/I) are Numbers: exact below
 * 2^53. Nasdaq's reference numbers are day-unique counters far below that; a larger one is
 * still decoded (rounded) and would only alias another order in the book.
 */
import { OFF, T } from './layout.js';

export class ItchMessage {
  type = 0;
  locate = 0;
  tracking = 0;
  timestampNs = 0;
  /** Order reference (A F E C X D P; U: the original). */
  ref = 0;
  /** U: the new reference. */
  newRef = 0;
  /** 'B' (0x42) or 'S' (0x53) for A F P. */
  side = 0;
  /** Shares: added (A F P), executed (E C), cancelled (X), new (U). */
  shares = 0;
  /** Price(4): A F P add price, C execution price, U new price. */
  price = 0;
  matchNumber = 0;
  /** The bytes the message was decoded from, for on-demand text fields. */
  buf: Uint8Array = new Uint8Array(0);
  offset = 0;
  length = 0;

  /** Space-padded ASCII at `at` (relative to the message), trimmed. Cold path: allocates. */
  text(at: number, len: number): string {
    let s = '';
    for (let i = 0; i < len; i++) s += String.fromCharCode(this.buf[this.offset + at + i]);
    return s.trimEnd();
  }

  /** Stock symbol of R H Y h K J N O (at 11) and A F P (at 24); '' for other types. */
  stock(): string {
    switch (this.type) {
      case T.ADD_ORDER:
      case T.ADD_ORDER_MPID:
      case T.TRADE:
        return this.text(OFF.addStock, 8);
      case T.CROSS_TRADE:
        return this.text(19, 8);
      case T.NOII:
        return this.text(28, 8);
      case T.MARKET_PARTICIPANT_POSITION:
        return this.text(15, 8);
      case T.STOCK_DIRECTORY:
      case T.TRADING_ACTION:
      case T.REG_SHO:
      case T.OPERATIONAL_HALT:
      case T.IPO_QUOTING_PERIOD:
      case T.LULD_AUCTION_COLLAR:
      case T.RPII:
      case T.DIRECT_LISTING_PRICE_DISCOVERY:
        return this.text(OFF.stock, 8);
      default:
        return '';
    }
  }

  u8(at: number): number {
    return this.buf[this.offset + at];
  }
  u16(at: number): number {
    const b = this.buf;
    const o = this.offset + at;
    return (b[o] << 8) | b[o + 1];
  }
  u32(at: number): number {
    const b = this.buf;
    const o = this.offset + at;
    return ((b[o] << 24) >>> 0) + ((b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]);
  }
  u64(at: number): number {
    return this.u32(at) * 4294967296 + this.u32(at + 4);
  }
}

/**
 * Decodes the message at buf[offset, offset+length) into `m`. The caller has checked that
 * `length` equals the type's fixed length (framing.ts). Returns the type byte.
 */
export function decode(m: ItchMessage, buf: Uint8Array, offset: number, length: number): number {
  m.buf = buf;
  m.offset = offset;
  m.length = length;
  const t = buf[offset];
  m.type = t;
  m.locate = (buf[offset + 1] << 8) | buf[offset + 2];
  m.tracking = (buf[offset + 3] << 8) | buf[offset + 4];
  m.timestampNs = ((buf[offset + 5] << 8) | buf[offset + 6]) * 4294967296 + m.u32(7);
  switch (t) {
    case T.ADD_ORDER:
    case T.ADD_ORDER_MPID:
    case T.TRADE:
      m.ref = m.u64(OFF.ref);
      m.side = buf[offset + OFF.side];
      m.shares = m.u32(OFF.addShares);
      m.price = m.u32(OFF.addPrice);
      m.matchNumber = t === T.TRADE ? m.u64(OFF.tradeMatch) : 0;
      break;
    case T.ORDER_EXECUTED:
    case T.ORDER_EXECUTED_WITH_PRICE:
      m.ref = m.u64(OFF.ref);
      m.shares = m.u32(OFF.execShares);
      m.matchNumber = m.u64(OFF.matchNumber);
      m.price = t === T.ORDER_EXECUTED_WITH_PRICE ? m.u32(OFF.execPrice) : 0;
      break;
    case T.ORDER_CANCEL:
      m.ref = m.u64(OFF.ref);
      m.shares = m.u32(OFF.execShares);
      break;
    case T.ORDER_DELETE:
      m.ref = m.u64(OFF.ref);
      break;
    case T.ORDER_REPLACE:
      m.ref = m.u64(OFF.ref);
      m.newRef = m.u64(OFF.newRef);
      m.shares = m.u32(OFF.replaceShares);
      m.price = m.u32(OFF.replacePrice);
      break;
    case T.CROSS_TRADE:
      m.shares = m.u64(11);
      m.price = m.u32(27);
      m.matchNumber = m.u64(31);
      break;
    case T.BROKEN_TRADE:
      m.matchNumber = m.u64(11);
      break;
    default:
      break;
  }
  return t;
}
