/**
 * DBN's 64-bit fields as exact JavaScript numbers, read from two little-endian 32-bit words with no
 * allocation (no BigInt on the hot path). A price is exact below 2^53 units (±9,007,199 at 1e-9);
 * a time is held as ns after a base the reader picks (a UTC midnight), exact for 104 days after it.
 */
import { UNDEF_PRICE } from '../../lib/dbn/enums.js';

const TWO32 = 4294967296;
/** 2^53 / 2^32: the high word's bound for an exact double. */
const HI_EXACT = 2097152;

export const u32At = (b: Uint8Array, p: number): number => (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
export const i32At = (b: Uint8Array, p: number): number => b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24);
export const u16At = (b: Uint8Array, p: number): number => b[p]! | (b[p + 1]! << 8);

/** NaN: UNDEF_PRICE (no price). Infinity: a price a double cannot hold exactly (|p| >= 2^53). */
export function priceAt(b: Uint8Array, p: number): number {
  const lo = u32At(b, p);
  const hi = i32At(b, p + 4);
  if (lo === UNDEF_PRICE.lo && hi === UNDEF_PRICE.hi) return Number.NaN;
  if (hi >= HI_EXACT || hi < -HI_EXACT) return Number.POSITIVE_INFINITY;
  return hi * TWO32 + lo;
}

/**
 * An order id as a key for the order table: itself below 2^53; a wider id is folded into 53 bits
 * (its high word mixed into 21), distinct ids then collide with a chance of one in 2^53 per pair.
 */
export function orderKeyAt(b: Uint8Array, p: number): number {
  const hi = u32At(b, p + 4);
  const lo = u32At(b, p);
  if (hi < HI_EXACT) return hi * TWO32 + lo;
  return (Math.imul(hi, 0x9e3779b1) >>> 11) * TWO32 + lo; // 21 bits of the high word, mixed
}

/** True if the u64 at p is 2^53 or more (a wide order id, counted). */
export const isWide = (b: Uint8Array, p: number): boolean => u32At(b, p + 4) >= HI_EXACT;

/**
 * ns after `base` of the u64 time at p (base = baseHi * 2^32 + baseLo), exact when the result is
 * below 2^53; NaN for UNDEF_TIMESTAMP (u64::MAX), a time before the base, or one 2^53 ns or more after it.
 */
export function tsSince(b: Uint8Array, p: number, baseHi: number, baseLo: number): number {
  const lo = u32At(b, p);
  const hi = u32At(b, p + 4);
  if (hi === 0xffffffff && lo === 0xffffffff) return Number.NaN;
  const d = (hi - baseHi) * TWO32 + (lo - baseLo);
  return d >= 0 && d < 2 ** 53 ? d : Number.NaN;
}

/** True for UNDEF_TIMESTAMP (u64::MAX): no time. */
export const isUndefTime = (b: Uint8Array, p: number): boolean => u32At(b, p) === 0xffffffff && u32At(b, p + 4) === 0xffffffff;
