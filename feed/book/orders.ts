/**
 * Live orders by reference number: a Map from reference to a row of preallocated typed arrays
 * (instrument, side, price, shares), rows reused through a free list.
 */
export class OrderStore {
  private readonly rows = new Map<number, number>();
  private inst: Uint32Array;
  private side: Uint8Array;
  private price: Uint32Array;
  private shares: Uint32Array;
  private free: number[] = [];
  private used = 0;

  constructor(capacity = 1 << 16) {
    this.inst = new Uint32Array(capacity);
    this.side = new Uint8Array(capacity);
    this.price = new Uint32Array(capacity);
    this.shares = new Uint32Array(capacity);
  }

  get size(): number {
    return this.rows.size;
  }

  /** Row of `ref`, or -1. */
  row(ref: number): number {
    const r = this.rows.get(ref);
    return r === undefined ? -1 : r;
  }

  add(ref: number, instrument: number, side: number, price: number, shares: number): number {
    let r = this.free.pop();
    if (r === undefined) {
      if (this.used === this.inst.length) this.grow();
      r = this.used++;
    }
    this.rows.set(ref, r);
    this.inst[r] = instrument;
    this.side[r] = side;
    this.price[r] = price;
    this.shares[r] = shares;
    return r;
  }

  remove(ref: number, row: number): void {
    this.rows.delete(ref);
    this.free.push(row);
  }

  instrumentOf(row: number): number {
    return this.inst[row];
  }
  sideOf(row: number): number {
    return this.side[row];
  }
  priceOf(row: number): number {
    return this.price[row];
  }
  sharesOf(row: number): number {
    return this.shares[row];
  }
  setShares(row: number, shares: number): void {
    this.shares[row] = shares;
  }

  private grow(): void {
    const cap = this.inst.length * 2;
    const i = new Uint32Array(cap);
    i.set(this.inst);
    const s = new Uint8Array(cap);
    s.set(this.side);
    const p = new Uint32Array(cap);
    p.set(this.price);
    const n = new Uint32Array(cap);
    n.set(this.shares);
    this.inst = i;
    this.side = s;
    this.price = p;
    this.shares = n;
  }
}
