/**
 * Microprice from the top of book alone: (bid * askSize + ask * bidSize) / (bidSize + askSize),
 * the size-weighted mid that leans toward the side about to be taken. A top-of-book strategy
 * (onTop): it reads one 64-byte line per change, the lowest-latency path a strategy has.
 */
import type { TopSnapshot } from '../../native/segment/tops.js';
import type { Strategy, StrategyContext } from '../pool/strategy.js';

export class Microprice implements Strategy {
  tops = 0;
  oneSided = 0;
  /** Per slot: the last microprice, in the feed's price units. */
  private readonly last: number[] = [];

  onTop(top: TopSnapshot, slot: number): void {
    this.tops++;
    const bs = top.bidSize;
    const as = top.askSize;
    if (top.bidCount === 0 || top.askCount === 0 || bs + as === 0) {
      this.oneSided++;
      return;
    }
    this.last[slot] = (top.bidPrice * as + top.askPrice * bs) / (bs + as);
  }

  onClose(ctx: StrategyContext): Record<string, unknown> {
    const micro: Record<string, number> = {};
    this.last.forEach((m, slot) => {
      if (m !== undefined) micro[ctx.symbolOf(slot)] = Math.round((m / ctx.priceScaleOf(slot)) * 1e4) / 1e4;
    });
    return { tops: this.tops, oneSided: this.oneSided, microprice: micro };
  }
}

export default Microprice;
