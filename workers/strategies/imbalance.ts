/**
 * Micro-price and order-book imbalance: for each book, imbalance = (bidSize - askSize) /
 * (bidSize + askSize) at the top of book, and the micro-price (ask * bidSize + bid * askSize) /
 * (bidSize + askSize) — the size-weighted fair value a market maker would quote around. Counts
 * signals where |imbalance| exceeds a threshold, and how often the next mid moved the way the
 * signal pointed (a crude but real predictive check).
 */
import type { BookSnapshot } from '../../native/segment/seqlock.js';
import type { Strategy, StrategyContext } from '../pool/strategy.js';

const THRESHOLD = 0.6;

export class Imbalance implements Strategy {
  books = 0;
  signals = 0;
  hits = 0;
  private lastMid = new Float64Array(65536);
  private lastSignal = new Int8Array(65536);
  private microSum = 0;

  onBook(s: BookSnapshot, ctx: StrategyContext): void {
    const slot = s.instrumentIndex;
    if (s.bidCount === 0 || s.askCount === 0) return;
    this.books++;
    const bid = s.bidPrice(0);
    const ask = s.askPrice(0);
    const bs = s.bidSize(0);
    const as = s.askSize(0);
    const imbalance = (bs - as) / (bs + as);
    const micro = (ask * bs + bid * as) / (bs + as) / ctx.priceScaleOf(slot);
    this.microSum += micro;
    const mid = (bid + ask) / 2;
    const prev = this.lastSignal[slot];
    if (prev !== 0 && mid !== this.lastMid[slot]) {
      if (Math.sign(mid - this.lastMid[slot]) === prev) this.hits++;
      this.lastSignal[slot] = 0;
    }
    if (Math.abs(imbalance) > THRESHOLD) {
      this.signals++;
      this.lastSignal[slot] = imbalance > 0 ? 1 : -1;
    }
    this.lastMid[slot] = mid;
  }

  onClose(): Record<string, unknown> {
    return { books: this.books, signals: this.signals, signal_hit_rate: this.signals ? this.hits / this.signals : null, mean_micro_price: this.books ? this.microSum / this.books : null };
  }
}

export default Imbalance;
