/**
 * One side of a price-level book: levels sorted so the best is at the END of the arrays
 * (insertions and removals near the top — most of them — shift few elements). Bids use the
 * price as the sort key, asks its negation, so one ascending order serves both sides. Prices are
 * integers below 2^53 (ITCH's 32-bit ones, DBN's at 1e-9), held exactly in doubles.
 * Storage grows by doubling (rare); no allocation per message otherwise.
 */
export class Ladder {
  private keys: Float64Array;
  private sizes: Float64Array;
  private orders: Uint32Array;
  /** Levels in use. */
  n = 0;
  private readonly ask: boolean;

  constructor(ask: boolean, capacity = 64) {
    this.ask = ask;
    this.keys = new Float64Array(capacity);
    this.sizes = new Float64Array(capacity);
    this.orders = new Uint32Array(capacity);
  }

  private key(price: number): number {
    return this.ask ? -price : price;
  }

  /** Index of `key`, or -(insertion point) - 1. */
  private find(key: number): number {
    let lo = 0;
    let hi = this.n - 1;
    const keys = this.keys;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const k = keys[mid];
      if (k < key) lo = mid + 1;
      else if (k > key) hi = mid - 1;
      else return mid;
    }
    return -lo - 1;
  }

  private grow(): void {
    const cap = this.keys.length * 2;
    const k = new Float64Array(cap);
    k.set(this.keys);
    const s = new Float64Array(cap);
    s.set(this.sizes);
    const o = new Uint32Array(cap);
    o.set(this.orders);
    this.keys = k;
    this.sizes = s;
    this.orders = o;
  }

  /** Adds one order of `shares` at `price`; returns the level's rank from the best (0 = best). */
  add(price: number, shares: number): number {
    const key = this.key(price);
    let i = this.find(key);
    if (i < 0) {
      i = -i - 1;
      if (this.n === this.keys.length) this.grow();
      this.keys.copyWithin(i + 1, i, this.n);
      this.sizes.copyWithin(i + 1, i, this.n);
      this.orders.copyWithin(i + 1, i, this.n);
      this.keys[i] = key;
      this.sizes[i] = 0;
      this.orders[i] = 0;
      this.n++;
    }
    this.sizes[i] += shares;
    this.orders[i]++;
    return this.n - 1 - i;
  }

  /**
   * Takes `shares` off the level at `price`, and one order if `orderGone`; the level goes when
   * it has no order left. Returns its rank before the change, or -1 if there is no such level.
   */
  reduce(price: number, shares: number, orderGone: boolean): number {
    const i = this.find(this.key(price));
    if (i < 0) return -1;
    const rank = this.n - 1 - i;
    this.sizes[i] -= shares;
    if (orderGone) this.orders[i]--;
    if (this.orders[i] === 0) {
      this.keys.copyWithin(i, i + 1, this.n);
      this.sizes.copyWithin(i, i + 1, this.n);
      this.orders.copyWithin(i, i + 1, this.n);
      this.n--;
    }
    return rank;
  }

  /** An order at `price` changed size in place by `delta`: returns the level's rank, or -1 if there is no such level. */
  resize(price: number, delta: number): number {
    const i = this.find(this.key(price));
    if (i < 0) return -1;
    this.sizes[i] += delta;
    return this.n - 1 - i;
  }

  /** Writes the best `levels` levels as [price, size, orders] into dst; returns how many. */
  fillTop(dst: Float64Array, levels: number): number {
    const count = this.n < levels ? this.n : levels;
    for (let r = 0; r < count; r++) {
      const i = this.n - 1 - r;
      const k = this.keys[i];
      dst[r * 3] = this.ask ? -k : k;
      dst[r * 3 + 1] = this.sizes[i]!;
      dst[r * 3 + 2] = this.orders[i];
    }
    return count;
  }

  clear(): void {
    this.n = 0;
  }
}
