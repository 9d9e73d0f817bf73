/** An empty key slot: no reference is negative. */
const EMPTY = -1;

/**
 * Live orders by reference number: an open-addressing hash table (linear probing, backward-shift
 * deletion, so no tombstones pile up in a long day) from reference to a row of preallocated typed
 * arrays (instrument, side, price, shares), rows reused through a free list. References are
 * doubles up to 2^53 (a generated market's are, and DBN's order ids below it) held in a Float64Array: nothing is allocated per
 * order, and no Map keyed by doubles sits on the hot path. The table stays at most half full.
 */
export class OrderStore {
  private keys: Float64Array;
  private vals: Int32Array;
  private mask: number;
  private count = 0;
  private inst: Uint32Array;
  private side: Uint8Array;
  private price: Float64Array;
  private shares: Uint32Array;
  private free: number[] = [];
  private used = 0;

  constructor(capacity = 1 << 16) {
    const slots = 1 << Math.ceil(Math.log2(Math.max(16, capacity * 2)));
    this.keys = new Float64Array(slots).fill(EMPTY);
    this.vals = new Int32Array(slots);
    this.mask = slots - 1;
    this.inst = new Uint32Array(capacity);
    this.side = new Uint8Array(capacity);
    this.price = new Float64Array(capacity);
    this.shares = new Uint32Array(capacity);
  }

  get size(): number {
    return this.count;
  }

  /** The table slot a reference hashes to: its two 32-bit halves mixed (murmur3's finaliser). */
  private home(ref: number): number {
    const lo = ref >>> 0; // ToUint32: ref mod 2^32, exact for any integer double
    const hi = (ref / 4294967296) >>> 0;
    let h = Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    return h & this.mask;
  }

  /** The table slot holding `ref`, or -1. */
  private find(ref: number): number {
    const keys = this.keys;
    for (let i = this.home(ref); ; i = (i + 1) & this.mask) {
      const k = keys[i]!;
      if (k === ref) return i;
      if (k === EMPTY) return -1;
    }
  }

  /** Row of `ref`, or -1. */
  row(ref: number): number {
    const i = this.find(ref);
    return i < 0 ? -1 : this.vals[i]!;
  }

  private put(ref: number, row: number): void {
    if ((this.count + 1) * 2 > this.keys.length) this.rehash(this.keys.length * 2);
    const keys = this.keys;
    let i = this.home(ref);
    while (keys[i] !== EMPTY && keys[i] !== ref) i = (i + 1) & this.mask;
    if (keys[i] === EMPTY) this.count++;
    keys[i] = ref;
    this.vals[i] = row;
  }

  /** Removes the key in slot i, shifting later entries of its run back (no tombstone). */
  private unset(i: number): void {
    const keys = this.keys;
    const mask = this.mask;
    for (let j = i; ; ) {
      j = (j + 1) & mask;
      const k = keys[j]!;
      if (k === EMPTY) break;
      const h = this.home(k);
      // The entry at j may move to i unless its home lies cyclically in (i, j].
      if (i <= j ? i < h && h <= j : i < h || h <= j) continue;
      keys[i] = k;
      this.vals[i] = this.vals[j]!;
      i = j;
    }
    keys[i] = EMPTY;
    this.count--;
  }

  private rehash(slots: number): void {
    const oldKeys = this.keys;
    const oldVals = this.vals;
    this.keys = new Float64Array(slots).fill(EMPTY);
    this.vals = new Int32Array(slots);
    this.mask = slots - 1;
    this.count = 0;
    for (let i = 0; i < oldKeys.length; i++) if (oldKeys[i] !== EMPTY) this.put(oldKeys[i]!, oldVals[i]!);
  }

  add(ref: number, instrument: number, side: number, price: number, shares: number): number {
    let r = this.free.pop();
    if (r === undefined) {
      if (this.used === this.inst.length) this.grow();
      r = this.used++;
    }
    this.put(ref, r);
    this.inst[r] = instrument;
    this.side[r] = side;
    this.price[r] = price;
    this.shares[r] = shares;
    return r;
  }

  remove(ref: number, row: number): void {
    const i = this.find(ref);
    if (i >= 0) this.unset(i);
    this.free.push(row);
  }

  /** Removes every order of `instrument` (a venue's clear of one book; rare, so it scans the table). */
  removeInstrument(instrument: number): void {
    const gone: number[] = [];
    const keys = this.keys;
    for (let i = 0; i < keys.length; i++) if (keys[i] !== EMPTY && this.inst[this.vals[i]!] === instrument) gone.push(keys[i]!);
    for (const ref of gone) this.remove(ref, this.row(ref));
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
    const p = new Float64Array(cap);
    p.set(this.price);
    const n = new Uint32Array(cap);
    n.set(this.shares);
    this.inst = i;
    this.side = s;
    this.price = p;
    this.shares = n;
  }
}
