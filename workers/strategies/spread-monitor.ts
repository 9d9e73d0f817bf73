/**
 * Spread and crossed-book monitor: the bid-ask spread per book (in the feed's price units), its
 * maximum, and every locked (bid == ask) or crossed (bid > ask) book — which a correct feed
 * handler never publishes for a single venue, so any count here is a bug worth a page.
 */
import type { BookSnapshot } from '../../native/segment/seqlock.js';
import type { Strategy, StrategyContext } from '../pool/strategy.js';

export class SpreadMonitor implements Strategy {
  books = 0;
  crossed = 0;
  locked = 0;
  oneSided = 0;
  maxSpread = 0;
  private spreadSum = 0;
  firstCrossed: string | null = null;

  onBook(s: BookSnapshot, ctx: StrategyContext): void {
    const slot = s.instrumentIndex;
    this.books++;
    if (s.bidCount === 0 || s.askCount === 0) {
      this.oneSided++;
      return;
    }
    const spread = s.askPrice(0) - s.bidPrice(0);
    if (spread < 0) {
      this.crossed++;
      this.firstCrossed ??= `${ctx.symbolOf(slot)} after message ${s.msgIndex}: bid ${s.bidPrice(0)} > ask ${s.askPrice(0)}`;
    } else if (spread === 0) this.locked++;
    else {
      this.spreadSum += spread;
      if (spread > this.maxSpread) this.maxSpread = spread;
    }
  }

  onStale(reason: string): void {
    this.staleEvents.push(reason);
  }
  staleEvents: string[] = [];

  onClose(): Record<string, unknown> {
    const normal = this.books - this.crossed - this.locked - this.oneSided;
    return { books: this.books, crossed: this.crossed, locked: this.locked, one_sided: this.oneSided, max_spread: this.maxSpread, mean_spread: normal ? this.spreadSum / normal : null, first_crossed: this.firstCrossed, stale_events: this.staleEvents.length };
  }
}

export default SpreadMonitor;
