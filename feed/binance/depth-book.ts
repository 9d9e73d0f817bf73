/**
 * One side of a full-depth book kept from absolute levels: set(price, qty) makes the level's
 * quantity qty, 0 removes it (removing a level that is not there is normal on Binance). Levels
 * are sorted so the best is at the END of the arrays (most changes are near the top and shift few
 * elements); bids sort by price, asks by its negation, so one ascending order serves both.
 * Every level is kept (a snapshot brings 1000 a side); storage grows by doubling, nothing is
 * allocated per change otherwise.
 *
 * The snapshot's edge. A snapshot holds only the best `limit` levels a side: past its worst price
 * the book is unknown. Updates later add levels there (real ones), but the levels between the edge
 * and them that never changed are missing, so a side that shows a level past the edge may show a
 * hole. Such levels are kept (they are what the venue said) and each fillTop() that publishes one
 * says so (`lastTopPastEdge`); the market counts these publications. A snapshot with fewer levels
 * than the limit is the whole side: it has no edge.
 */
export class DepthSide {
  private keys: Float64Array;
  private sizes: Float64Array;
  /** Levels in use. */
  n = 0;
  /** Key of the snapshot's worst level: a level with a smaller key is past the edge (-Infinity: no edge). */
  private edgeKey = Number.NEGATIVE_INFINITY;
  /** The last fillTop() wrote a level past the snapshot's edge. */
  lastTopPastEdge = false;

  constructor(
    readonly ask: boolean,
    capacity = 1024,
  ) {
    this.keys = new Float64Array(capacity);
    this.sizes = new Float64Array(capacity);
  }

  /** Bids: the price; asks: its negation (so the best, the lowest ask, sorts last). */
  private key(price: number): number {
    return this.ask ? -price : price;
  }

  /** Index of `key`, or -(insertion point) - 1. */
  private find(key: number): number {
    const keys = this.keys;
    let lo = 0;
    let hi = this.n - 1;
    // Most changes are near the best: look there first.
    if (hi >= 0 && keys[hi] === key) return hi;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const k = keys[mid]!;
      if (k < key) lo = mid + 1;
      else if (k > key) hi = mid - 1;
      else return mid;
    }
    return -lo - 1;
  }

  private grow(): void {
    const k = new Float64Array(this.keys.length * 2);
    k.set(this.keys);
    const s = new Float64Array(this.sizes.length * 2);
    s.set(this.sizes);
    this.keys = k;
    this.sizes = s;
  }

  /** The level at `price` now holds `qty` (0: removed). */
  set(price: number, qty: number): void {
    const key = this.key(price);
    let i = this.find(key);
    if (i >= 0) {
      if (qty !== 0) this.sizes[i] = qty;
      else {
        this.keys.copyWithin(i, i + 1, this.n);
        this.sizes.copyWithin(i, i + 1, this.n);
        this.n--;
      }
      return;
    }
    if (qty === 0) return;
    i = -i - 1;
    if (this.n === this.keys.length) this.grow();
    if (i < this.n) {
      this.keys.copyWithin(i + 1, i, this.n);
      this.sizes.copyWithin(i + 1, i, this.n);
    }
    this.keys[i] = key;
    this.sizes[i] = qty;
    this.n++;
  }

  /**
   * Replaces the side with a snapshot's `count` levels. `complete`: the snapshot holds the whole
   * side (fewer levels than asked for): no edge. Otherwise the edge is its worst level.
   */
  load(prices: Float64Array, sizes: Float64Array, count: number, complete: boolean): void {
    this.n = 0;
    // Snapshots list the best first: worst first appends at the end, no shifting.
    for (let i = count - 1; i >= 0; i--) this.set(prices[i]!, sizes[i]!);
    this.edgeKey = complete || this.n === 0 ? Number.NEGATIVE_INFINITY : this.keys[0]!;
  }

  clear(): void {
    this.n = 0;
    this.edgeKey = Number.NEGATIVE_INFINITY;
  }

  /** Writes the best `levels` levels as [price, size, 0] triples, best first; returns how many. */
  fillTop(dst: Float64Array, levels: number): number {
    const count = this.n < levels ? this.n : levels;
    const keys = this.keys;
    const sizes = this.sizes;
    const top = this.n - 1;
    for (let r = 0; r < count; r++) {
      const k = keys[top - r]!;
      dst[r * 3] = this.ask ? -k : k;
      dst[r * 3 + 1] = sizes[top - r]!;
      dst[r * 3 + 2] = 0;
    }
    // Sorted: the published worst level is past the edge iff any published level is.
    this.lastTopPastEdge = count > 0 && keys[top - count + 1]! < this.edgeKey;
    return count;
  }

  /** Best price, or NaN for an empty side. */
  best(): number {
    if (this.n === 0) return Number.NaN;
    const k = this.keys[this.n - 1]!;
    return this.ask ? -k : k;
  }

  /** Size at the best price (0 for an empty side). */
  bestSize(): number {
    return this.n === 0 ? 0 : this.sizes[this.n - 1]!;
  }
}
