/**
 * Order-by-order books by DBN's MBO rules (Databento's "Order book events"): `A` adds an order,
 * `C` takes `size` off it (the amount removed; the order leaves at 0), `M` changes its price or
 * size (an unknown order is added, as Databento's own book does), `R` clears the instrument's book;
 * `T`, `F` and `N` never change it. Books are aggregated to price levels; each instrument keeps the
 * best (smallest) rank changed by value since it was last looked at, so "the top N changed" is
 * `dirtyRank < N`. Prices are DBN's integers at 1e-9 (exact doubles), sizes u32.
 */
import { Ladder } from '../book/ladder.js';
import { OrderStore } from '../book/orders.js';

export const NO_RANK = 0x7fffffff;

export class DbnBook {
  readonly bids = new Ladder(false);
  readonly asks = new Ladder(true);
  /** Smallest rank changed by value since the venue last looked. */
  dirtyRank = NO_RANK;
  /** A record since the last look said the book may be wrong (F_MAYBE_BAD_BOOK). */
  doubtful = false;
  /** The slot this book publishes to (the venue's). */
  slot = -2;
  constructor(
    /** Dense index in DbnBooks.books (the order table's instrument). */
    readonly index: number,
    readonly instrumentId: number,
  ) {}
  side(isAsk: boolean): Ladder {
    return isAsk ? this.asks : this.bids;
  }
  touch(rank: number): void {
    if (rank >= 0 && rank < this.dirtyRank) this.dirtyRank = rank;
  }
}

export interface DbnBookCounters {
  unknownOrderRefs: number;
  duplicateOrderRefs: number;
  /** C records for more than the order had (the order leaves; the rest is ignored). */
  overCancels: number;
  /** M records for orders never added: taken as adds. */
  modifiesAsAdds: number;
  /** A and M records with no price or no side: not in the book. */
  unpriced: number;
  clears: number;
}

export class DbnBooks {
  readonly orders = new OrderStore();
  readonly books: DbnBook[] = [];
  private readonly byId = new Map<number, DbnBook>();
  private last: DbnBook | null = null;
  readonly counters: DbnBookCounters = { unknownOrderRefs: 0, duplicateOrderRefs: 0, overCancels: 0, modifiesAsAdds: 0, unpriced: 0, clears: 0 };

  /** The book of `instrumentId`, created on first use. */
  book(instrumentId: number): DbnBook {
    const l = this.last;
    if (l !== null && l.instrumentId === instrumentId) return l;
    let b = this.byId.get(instrumentId);
    if (b === undefined) {
      b = new DbnBook(this.books.length, instrumentId);
      this.books.push(b);
      this.byId.set(instrumentId, b);
    }
    this.last = b;
    return b;
  }

  /** `A`: a new order. price NaN (UNDEF_PRICE) or no side: not a book order, counted. */
  add(b: DbnBook, key: number, isAsk: boolean | null, price: number, size: number): void {
    if (isAsk === null || Number.isNaN(price)) {
      this.counters.unpriced++;
      return;
    }
    if (this.orders.row(key) >= 0) {
      this.counters.duplicateOrderRefs++;
      return;
    }
    this.orders.add(key, b.index, isAsk ? 1 : 0, price, size);
    b.touch(b.side(isAsk).add(price, size));
  }

  /** `C`: takes `size` off the order (the whole of what is left at most). */
  cancel(key: number, size: number): DbnBook | null {
    const row = this.orders.row(key);
    if (row < 0) {
      this.counters.unknownOrderRefs++;
      return null;
    }
    const b = this.books[this.orders.instrumentOf(row)]!;
    const left = this.orders.sharesOf(row);
    let take = size;
    if (take > left) {
      this.counters.overCancels++;
      take = left;
    }
    const gone = take === left;
    if (take === 0 && !gone) return b; // nothing changes by value
    b.touch(b.side(this.orders.sideOf(row) === 1).reduce(this.orders.priceOf(row), take, gone));
    if (gone) this.orders.remove(key, row);
    else this.orders.setShares(row, left - take);
    return b;
  }

  /** `M`: the order now has this price and size (and side); an order never added is added. */
  modify(b: DbnBook, key: number, isAsk: boolean | null, price: number, size: number): void {
    const row = this.orders.row(key);
    if (row < 0) {
      this.counters.modifiesAsAdds++;
      this.add(b, key, isAsk, price, size);
      return;
    }
    const owner = this.books[this.orders.instrumentOf(row)]!;
    const wasAsk = this.orders.sideOf(row) === 1;
    const oldPrice = this.orders.priceOf(row);
    const oldSize = this.orders.sharesOf(row);
    if (isAsk === null || Number.isNaN(price)) {
      this.counters.unpriced++;
      return;
    }
    if (owner === b && wasAsk === isAsk && oldPrice === price) {
      if (oldSize === size) return; // unchanged by value
      b.touch(b.side(isAsk).resize(price, size - oldSize)); // same level: same order count
      this.orders.setShares(row, size);
      return;
    }
    owner.touch(owner.side(wasAsk).reduce(oldPrice, oldSize, true));
    this.orders.remove(key, row);
    this.orders.add(key, b.index, isAsk ? 1 : 0, price, size);
    b.touch(b.side(isAsk).add(price, size));
  }

  /** `R`: the instrument's book is empty (its orders leave the table). */
  clear(b: DbnBook): void {
    this.counters.clears++;
    if (b.bids.n > 0 || b.asks.n > 0) b.touch(0);
    b.bids.clear();
    b.asks.clear();
    this.orders.removeInstrument(b.index);
  }
}
