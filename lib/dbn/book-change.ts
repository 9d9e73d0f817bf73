/**
 * What an MBP record's own price, size, side, depth and action say: the change from the book last
 * recorded for the instrument to this one, within the levels the record carries. A reader sees
 * books, not the orders that moved them, so this is the first level that differs (lowest depth;
 * bid before ask at equal depth):
 *   A  that level's price was not on the side before (a new level; price and size: the new one)
 *   C  otherwise, the level that stood there is gone (price and size: the removed level)
 *   M  otherwise (the price was there and still is: its size or order count moved)
 * The first book of an instrument is an A at its best level (bid first), or N if both sides are
 * empty; a book equal to the last one (a reader may see a book again) is N, side N, no price.
 */
import { ACTION, SIDE } from './enums.js';

/** A book as the snapshots give it: [price, size, orders] per level, best first. */
export interface BookLevels {
  readonly bids: Float64Array;
  readonly asks: Float64Array;
  readonly bidCount: number;
  readonly askCount: number;
}

/** The change, in the feed's units; price NaN: none (UNDEF_PRICE). */
export interface BookChange {
  action: number;
  side: number;
  depth: number;
  price: number;
  size: number;
}

export const newBookChange = (): BookChange => ({ action: ACTION.NONE, side: SIDE.NONE, depth: 0, price: Number.NaN, size: 0 });

/** A copy of the last book recorded for one instrument, `depth` levels deep. */
export class BookMemory implements BookLevels {
  readonly bids: Float64Array;
  readonly asks: Float64Array;
  bidCount = 0;
  askCount = 0;
  /** False until the first book is kept. */
  seen = false;

  constructor(readonly depth: number) {
    this.bids = new Float64Array(depth * 3);
    this.asks = new Float64Array(depth * 3);
  }

  keep(b: BookLevels): void {
    this.bidCount = Math.min(b.bidCount, this.depth);
    this.askCount = Math.min(b.askCount, this.depth);
    const n = this.depth * 3;
    for (let i = 0; i < n; i++) {
      this.bids[i] = i < this.bidCount * 3 ? b.bids[i]! : 0;
      this.asks[i] = i < this.askCount * 3 ? b.asks[i]! : 0;
    }
    this.seen = true;
  }
}

function hasPrice(lv: Float64Array, count: number, price: number): boolean {
  for (let i = 0; i < count; i++) if (lv[i * 3] === price) return true;
  return false;
}

function sameLevel(a: Float64Array, an: number, b: Float64Array, bn: number, d: number): boolean {
  if (d < an !== d < bn) return false;
  if (d >= an) return true;
  const k = d * 3;
  return a[k] === b[k] && a[k + 1] === b[k + 1] && a[k + 2] === b[k + 2];
}

function set(out: BookChange, action: number, side: number, depth: number, lv: Float64Array | null, d: number): BookChange {
  out.action = action;
  out.side = side;
  out.depth = depth;
  out.price = lv === null ? Number.NaN : lv[d * 3]!;
  out.size = lv === null ? 0 : lv[d * 3 + 1]!;
  return out;
}

/** One side's level `d` differs: A, C or M as the header says. */
function describe(out: BookChange, side: number, prev: Float64Array, pn: number, next: Float64Array, nn: number, d: number): BookChange {
  if (d < nn && !hasPrice(prev, pn, next[d * 3]!)) return set(out, ACTION.ADD, side, d, next, d);
  if (d < pn && !hasPrice(next, nn, prev[d * 3]!)) return set(out, ACTION.CANCEL, side, d, prev, d);
  return d < nn ? set(out, ACTION.MODIFY, side, d, next, d) : set(out, ACTION.CANCEL, side, d, prev, d);
}

/** The change from `prev` (null or unseen: the first book) to `next` over their first `depth` levels, into `out`. */
export function bookChange(prev: BookMemory | null, next: BookLevels, depth: number, out: BookChange): BookChange {
  const nb = Math.min(next.bidCount, depth);
  const na = Math.min(next.askCount, depth);
  if (prev === null || !prev.seen) {
    if (nb > 0) return set(out, ACTION.ADD, SIDE.BID, 0, next.bids, 0);
    if (na > 0) return set(out, ACTION.ADD, SIDE.ASK, 0, next.asks, 0);
    return set(out, ACTION.NONE, SIDE.NONE, 0, null, 0);
  }
  const pb = Math.min(prev.bidCount, depth);
  const pa = Math.min(prev.askCount, depth);
  const deepest = Math.max(nb, na, pb, pa);
  for (let d = 0; d < deepest; d++) {
    if (!sameLevel(prev.bids, pb, next.bids, nb, d)) return describe(out, SIDE.BID, prev.bids, pb, next.bids, nb, d);
    if (!sameLevel(prev.asks, pa, next.asks, na, d)) return describe(out, SIDE.ASK, prev.asks, pa, next.asks, na, d);
  }
  return set(out, ACTION.NONE, SIDE.NONE, 0, null, 0);
}
