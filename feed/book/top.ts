/** A preallocated top-N book in the slot's layout ([price, size, orders] per level, best first). */
import type { LevelSource } from '../../native/segment/seqlock.js';

/** A book's two sides, each able to copy its best levels (Ladder, a LOBSTER side). */
export interface BookSides {
  readonly bids: { fillTop(dst: Float64Array, levels: number): number };
  readonly asks: { fillTop(dst: Float64Array, levels: number): number };
}

export class TopOfBook implements LevelSource {
  bidCount = 0;
  askCount = 0;
  readonly bids: Float64Array;
  readonly asks: Float64Array;
  /** `over`: fill these arrays (a writer's stage, committed without a copy) if they have this depth. */
  constructor(
    readonly levels: number,
    over?: { bids: Float64Array; asks: Float64Array },
  ) {
    const fits = over !== undefined && over.bids.length === levels * 3 && over.asks.length === levels * 3;
    this.bids = fits ? over.bids : new Float64Array(levels * 3);
    this.asks = fits ? over.asks : new Float64Array(levels * 3);
  }

  /**
   * Fills from a book. Words past the counts are left as they were: a commit zeroes the slot's
   * tail itself and the dump reads only the counted levels. (differsFrom compares whole arrays,
   * so its users fill tails themselves: LobsterBook.fillTop does.)
   */
  fill(book: BookSides): void {
    this.bidCount = book.bids.fillTop(this.bids, this.levels);
    this.askCount = book.asks.fillTop(this.asks, this.levels);
  }

  /** True if `last` (a copy made by saveTo) differs from this top. */
  differsFrom(last: Float64Array): boolean {
    const n = this.levels * 3;
    if (last[0] !== this.bidCount || last[1] !== this.askCount) return true;
    for (let i = 0; i < n; i++) if (last[2 + i] !== this.bids[i] || last[2 + n + i] !== this.asks[i]) return true;
    return false;
  }

  saveTo(last: Float64Array): void {
    const n = this.levels * 3;
    last[0] = this.bidCount;
    last[1] = this.askCount;
    last.set(this.bids, 2);
    last.set(this.asks, 2 + n);
  }
}
