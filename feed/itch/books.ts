/**
 * Order-by-order books for every instrument of an ITCH feed, keyed by stock locate and
 * aggregated to price levels. apply() returns the instrument a message touched and leaves in
 * `touchedRank` the best (smallest) rank of a level it changed *by value* (size or order count):
 * the two possible no-ops (0 shares taken off a resting order; a replace at the same price and
 * size) touch nothing. So "the top N changed" is exactly "touchedRank < N", with no comparison.
 */
import type { ItchMessage } from './message.js';
import { T } from './layout.js';
import { Ladder } from '../book/ladder.js';
import { OrderStore } from '../book/orders.js';

const BUY = 0x42; // 'B'
export const NO_RANK = 0x7fffffff;

export class InstrumentBook {
  readonly bids = new Ladder(false);
  readonly asks = new Ladder(true);
  constructor(
    readonly locate: number,
    public symbol: string,
  ) {}
  side(isAsk: boolean): Ladder {
    return isAsk ? this.asks : this.bids;
  }
}

export interface BookCounters {
  unknownOrderRefs: number;
  duplicateOrderRefs: number;
  overExecutions: number;
}

export class ItchBooks {
  readonly orders = new OrderStore();
  /** Books by stock locate (0..65535). */
  readonly byLocate: Array<InstrumentBook | undefined> = [];
  readonly counters: BookCounters = { unknownOrderRefs: 0, duplicateOrderRefs: 0, overExecutions: 0 };
  /** Smallest rank of a level the last apply() changed (NO_RANK: none). */
  touchedRank = NO_RANK;

  /** The book of `locate`, created on first use (named LOCATE<n> until a directory names it). */
  book(locate: number): InstrumentBook {
    let b = this.byLocate[locate];
    if (b === undefined) {
      b = new InstrumentBook(locate, `LOCATE${locate}`);
      this.byLocate[locate] = b;
    }
    return b;
  }

  /** Stock directory: names the instrument behind a locate. Returns its book. */
  name(locate: number, symbol: string): InstrumentBook {
    const b = this.book(locate);
    b.symbol = symbol;
    return b;
  }

  /**
   * Applies an order message (A F E C X D U; others are ignored). Returns the locate of the
   * instrument whose book changed, or -1.
   */
  apply(m: ItchMessage): number {
    this.touchedRank = NO_RANK;
    switch (m.type) {
      case T.ADD_ORDER:
      case T.ADD_ORDER_MPID:
        return this.add(m.ref, m.locate, m.side !== BUY, m.price, m.shares);
      case T.ORDER_EXECUTED:
      case T.ORDER_EXECUTED_WITH_PRICE: // the execution price does not move the resting order
      case T.ORDER_CANCEL:
        return this.reduce(m.ref, m.shares);
      case T.ORDER_DELETE:
        return this.reduce(m.ref, -1);
      case T.ORDER_REPLACE:
        return this.replace(m.ref, m.newRef, m.shares, m.price);
      default:
        return -1;
    }
  }

  private add(ref: number, locate: number, isAsk: boolean, price: number, shares: number): number {
    if (this.orders.row(ref) >= 0) {
      this.counters.duplicateOrderRefs++;
      return -1;
    }
    this.orders.add(ref, locate, isAsk ? 1 : 0, price, shares);
    const rank = this.book(locate).side(isAsk).add(price, shares);
    if (rank < this.touchedRank) this.touchedRank = rank;
    return locate;
  }

  /** Takes `shares` off order `ref` (-1: all of it, a delete). */
  private reduce(ref: number, shares: number): number {
    const row = this.orders.row(ref);
    if (row < 0) {
      this.counters.unknownOrderRefs++;
      return -1;
    }
    const locate = this.orders.instrumentOf(row);
    const left = this.orders.sharesOf(row);
    let take = shares < 0 ? left : shares;
    if (take > left) {
      this.counters.overExecutions++;
      take = left;
    }
    const gone = take === left;
    if (take === 0 && !gone) return locate; // no level changes by value: nothing touched
    const rank = this.book(locate).side(this.orders.sideOf(row) === 1).reduce(this.orders.priceOf(row), take, gone);
    if (rank >= 0 && rank < this.touchedRank) this.touchedRank = rank;
    if (gone) this.orders.remove(ref, row);
    else this.orders.setShares(row, left - take);
    return locate;
  }

  private replace(ref: number, newRef: number, shares: number, price: number): number {
    const row = this.orders.row(ref);
    if (row < 0) {
      this.counters.unknownOrderRefs++;
      return -1;
    }
    const locate = this.orders.instrumentOf(row);
    const isAsk = this.orders.sideOf(row) === 1;
    if (this.orders.priceOf(row) === price && this.orders.sharesOf(row) === shares) {
      // Same price, same size: the level is unchanged by value (one order out, one in). Only
      // the reference changes, so nothing is touched and nothing is published.
      if (this.orders.row(newRef) >= 0) {
        this.counters.duplicateOrderRefs++;
        return -1;
      }
      this.orders.remove(ref, row);
      this.orders.add(newRef, locate, isAsk ? 1 : 0, price, shares);
      return locate;
    }
    this.reduce(ref, -1);
    const best = this.touchedRank;
    this.add(newRef, locate, isAsk, price, shares);
    if (best < this.touchedRank) this.touchedRank = best;
    return locate;
  }
}
