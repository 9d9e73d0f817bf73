/**
 * LOBSTER replay and verification. A LOBSTER day is a message file (one event per line: time,
 * type, order id, size, price, direction) and an orderbook file (the top N levels after each
 * event). The messages alone cannot rebuild the book (data README): the book is seeded from
 * orderbook row 0, and for each later row the previous row plus the message must equal the row,
 * except for levels entering from below the previous row's window, which only the row knows
 * ("reveals"). Any other disagreement is MDFAN_ERR_FEED_CORRUPT naming the row, side and level.
 *
 * LOBSTER carries no order counts: levels are published with orders = 0 (unknown).
 */
import { ErrorCode, MdfanError } from '../../native/segment/errors.js';

export const LOBSTER_EMPTY_ASK = 9999999999;
export const LOBSTER_EMPTY_BID = -9999999999;

/** One side of the window: prices and sizes, best first; n levels in use. */
class SideWindow {
  readonly price: Float64Array;
  readonly size: Float64Array;
  n = 0;
  constructor(levels: number) {
    this.price = new Float64Array(levels + 1);
    this.size = new Float64Array(levels + 1);
  }
}

export class LobsterBook {
  /** Window after the last verified row. */
  private readonly bids: SideWindow;
  private readonly asks: SideWindow;
  /** Scratch: the window after applying a message, before verification (one extra level). */
  private readonly work: SideWindow;
  reveals = 0;

  constructor(
    readonly levels: number,
    readonly file: string,
  ) {
    this.bids = new SideWindow(levels);
    this.asks = new SideWindow(levels);
    this.work = new SideWindow(levels + 1);
  }

  /** Sets the window from an orderbook row (4 values per level: ask px, ask size, bid px, bid size). */
  seed(row: Float64Array): void {
    this.load(this.asks, row, 0);
    this.load(this.bids, row, 2);
  }

  private load(w: SideWindow, row: Float64Array, col: number): void {
    w.n = 0;
    for (let l = 0; l < this.levels; l++) {
      const px = row[l * 4 + col];
      if (px === LOBSTER_EMPTY_ASK || px === LOBSTER_EMPTY_BID) break;
      w.price[w.n] = px;
      w.size[w.n] = row[l * 4 + col + 1];
      w.n++;
    }
  }

  /**
   * Applies message `type` (1 add, 2 partial cancel, 3 delete, 4 visible execution; 5 hidden
   * execution and 7 halt change nothing) of `size` at `price` on side `direction` (1 buy, -1
   * sell) to the window, verifies the result against `row` (message index `index`, for errors),
   * and makes the row the new window.
   */
  apply(index: number, type: number, size: number, price: number, direction: number, row: Float64Array): void {
    const isAsk = direction === -1;
    if (type >= 1 && type <= 4) {
      const side = isAsk ? this.asks : this.bids;
      this.change(side, isAsk, type === 1 ? size : -size, price, index);
      this.verify(isAsk ? this.asks : this.bids, isAsk, row, index, true);
      this.verify(isAsk ? this.bids : this.asks, !isAsk, row, index, false);
    } else if (type === 5 || type === 7) {
      this.verify(this.asks, true, row, index, false);
      this.verify(this.bids, false, row, index, false);
    } else {
      throw new MdfanError(ErrorCode.FEED_CORRUPT, `${this.file}: message ${index}: unknown LOBSTER event type ${type}`, { file: this.file, msgIndex: index, field: 'type', found: type });
    }
    this.seed(row);
  }

  /** work := side with `delta` shares at `price` (a new level inserted in price order). */
  private change(side: SideWindow, isAsk: boolean, delta: number, price: number, index: number): void {
    const w = this.work;
    w.n = 0;
    let placed = false;
    for (let i = 0; i < side.n; i++) {
      const p = side.price[i];
      if (!placed && (p === price || (isAsk ? p > price : p < price))) {
        placed = true;
        if (p === price) {
          const s = side.size[i] + delta;
          if (s < 0)
            throw new MdfanError(ErrorCode.FEED_CORRUPT, `${this.file}: message ${index}: removes ${-delta} shares at ${price} where the book has ${side.size[i]}`, {
              file: this.file,
              msgIndex: index,
              field: 'size',
            });
          if (s > 0) this.push(w, p, s);
          continue;
        }
        this.pushNew(w, price, delta, index);
      }
      this.push(w, p, side.size[i]);
    }
    if (!placed) this.pushNew(w, price, delta, index);
  }

  private pushNew(w: SideWindow, price: number, delta: number, index: number): void {
    if (delta <= 0)
      throw new MdfanError(ErrorCode.FEED_CORRUPT, `${this.file}: message ${index}: removes shares at ${price}, a price the book does not show`, {
        file: this.file,
        msgIndex: index,
        field: 'price',
      });
    this.push(w, price, delta);
  }

  private push(w: SideWindow, price: number, size: number): void {
    if (w.n < w.price.length) {
      w.price[w.n] = price;
      w.size[w.n] = size;
      w.n++;
    }
  }

  /**
   * Checks the row's side against the expected window (`changed`: the work window, else the
   * unchanged side). Levels better than or at the previous window's last price must match;
   * deeper ones — only if the previous window was full — are reveals.
   */
  private verify(prev: SideWindow, isAsk: boolean, row: Float64Array, index: number, changed: boolean): void {
    const exp = changed ? this.work : prev;
    const col = isAsk ? 0 : 2;
    const full = prev.n === this.levels;
    const boundary = full ? prev.price[this.levels - 1] : 0;
    for (let l = 0; l < this.levels; l++) {
      const px = row[l * 4 + col];
      const sz = row[l * 4 + col + 1];
      const empty = px === LOBSTER_EMPTY_ASK || px === LOBSTER_EMPTY_BID;
      const beyond = full && !empty && (isAsk ? px > boundary : px < boundary);
      if (beyond && !(l < exp.n && exp.price[l] === px && exp.size[l] === sz)) {
        this.reveals++;
        continue;
      }
      const have = l < exp.n;
      if (empty && !have) continue;
      if (!empty && have && exp.price[l] === px && exp.size[l] === sz) continue;
      const side = isAsk ? 'ask' : 'bid';
      throw new MdfanError(
        ErrorCode.FEED_CORRUPT,
        `${this.file}: row ${index}, ${side} level ${l + 1}: the orderbook file says ${empty ? 'empty' : `${sz} @ ${px}`}, the previous row plus message ${index} give ${have ? `${exp.size[l]} @ ${exp.price[l]}` : 'empty'}`,
        { file: this.file, msgIndex: index, field: `${side}${l + 1}` },
      );
    }
  }

  /** The window as a top-N book ([price, size, orders=0] per level). */
  fillTop(top: { bidCount: number; askCount: number; bids: Float64Array; asks: Float64Array }): void {
    top.askCount = this.copy(this.asks, top.asks);
    top.bidCount = this.copy(this.bids, top.bids);
  }

  private copy(w: SideWindow, dst: Float64Array): number {
    dst.fill(0);
    for (let l = 0; l < w.n; l++) {
      dst[l * 3] = w.price[l];
      dst[l * 3 + 1] = w.size[l];
    }
    return w.n;
  }
}
