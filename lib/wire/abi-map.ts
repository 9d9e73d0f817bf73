/**
 * How the segment's ABI 2.0 numbers cross the bridge's wire, version 1 (32-bit levels, a u32
 * price scale, trades with an `aux` byte). Both directions live here, so the bridge and the mirror
 * cannot disagree:
 * - an instrument's price decimals are the wire's price scale, 10^decimals (sizes whole: decimals 0);
 * - an ITCH execution with a price (action 'C') carries printable-ness in aux ('Y'/'N'), the
 *   segment as MDFAN_EVENT_FLAG_NOT_PRINTABLE; a cross (action 'Q') carries its type in aux, the
 *   segment in `side`;
 * - a level, size or trade that does not fit the wire's 32 bits is not sent (the bridge counts it).
 */
import * as abi from '../../native/segment/abi.js';
import type { InstrumentSpec } from '../../native/segment/directory.js';
import type { EventFields, EventRecord } from '../../native/segment/events.js';
import type { TradeBody } from './wire.js';

const EXEC_WITH_PRICE = 0x43; // 'C'
const CROSS = 0x51; // 'Q'
const PRINTABLE = 0x59; // 'Y'
const NOT_PRINTABLE = 0x4e; // 'N'
const U32_MAX = 0xffffffff;

/** The spec of a wire price scale (10^k, k <= MAX_DECIMALS), or null for any other scale. */
export function specOfWire(priceScale: number): InstrumentSpec | null {
  const scale = priceScale || 1;
  for (let k = 0, p = 1; k <= abi.MAX_DECIMALS; k++, p *= 10) if (p === scale) return { priceDecimals: k, sizeDecimals: 0, tsUnitNs: 1 };
  return null;
}

/** The wire price scale of an instrument's decimals, or 0 when the wire cannot carry it (above u32, or fractional sizes). */
export const wireScaleOf = (priceDecimals: number, sizeDecimals: number): number => {
  const scale = 10 ** priceDecimals;
  return sizeDecimals === 0 && scale <= U32_MAX ? scale : 0;
};

/** Whether `count` levels of [price, size, orders] fit the wire's u32 fields. */
export function levelsFitWire(levels: ArrayLike<number>, count: number): boolean {
  for (let i = 0; i < count * 3; i++) {
    const v = levels[i]!;
    if (v < 0 || v > U32_MAX) return false;
  }
  return true;
}

/** A segment trade's side and aux on the wire; false when its size does not fit. */
export function tradeToWire(rec: EventRecord, t: TradeBody): boolean {
  if (rec.size > U32_MAX) return false;
  t.shares = rec.size;
  t.side = rec.action === CROSS ? 0 : rec.side;
  t.aux = rec.action === EXEC_WITH_PRICE ? (rec.flags & abi.EVENT_FLAG_NOT_PRINTABLE ? NOT_PRINTABLE : PRINTABLE) : rec.action === CROSS ? rec.side : 0;
  return true;
}

/** A wire trade's side and printable flag in the segment's terms (flags are OR-ed in). */
export function tradeFromWire(t: TradeBody, e: EventFields): void {
  e.side = t.action === CROSS ? t.aux : t.side;
  if (t.action === EXEC_WITH_PRICE && t.aux === NOT_PRINTABLE) e.flags |= abi.EVENT_FLAG_NOT_PRINTABLE;
}
