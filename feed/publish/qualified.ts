/**
 * Several venues into one segment (`mdfan feed --source A --source B`): each source drives its own
 * QualifiedSink over the one publisher. Symbols stay unique because each is qualified by its
 * source's scheme (`binance-spot:BTCUSDT` beside `binance-usdm:BTCUSDT`: the same name on two
 * markets); the directory holds 32 bytes, room for the longest Binance name so qualified. The
 * publisher's counters are the sum of every source's.
 */
import type { InstrumentSpec } from '../../native/segment/directory.js';
import type { EventFields } from '../../native/segment/events.js';
import type { LevelSource } from '../../native/segment/seqlock.js';
import { type BookSink, type SourceCounters, newCounters } from '../sink.js';

/** The name a symbol of source `scheme` has in a segment several sources share. */
export const qualifiedSymbol = (scheme: string, symbol: string): string => `${scheme}:${symbol}`;

/** Sums the counters of several sources for the one publisher. */
export class CounterSum {
  private readonly parts: SourceCounters[] = [];
  private readonly total: SourceCounters = newCounters();

  constructor(private readonly target: BookSink) {}

  /** The sink source `index` flushes through: its counters become its part of the sum. */
  part(index: number): SourceCounters {
    this.parts[index] ??= newCounters();
    return this.parts[index]!;
  }

  flush(index: number, c: SourceCounters): void {
    Object.assign(this.part(index), c);
    const t = this.total;
    for (const k of Object.keys(t) as Array<keyof SourceCounters>) {
      let sum = 0;
      for (const p of this.parts) if (p !== undefined) sum += p[k];
      t[k] = sum;
    }
    this.target.flush(t);
  }
}

/** One source's view of the shared publisher: its symbols qualified, its counters summed. */
export class QualifiedSink implements BookSink {
  constructor(
    private readonly target: BookSink,
    private readonly scheme: string,
    private readonly sum: CounterSum,
    private readonly index: number,
  ) {}

  instrument(symbol: string, feedId: number, spec: InstrumentSpec): number {
    return this.target.instrument(qualifiedSymbol(this.scheme, symbol), feedId, spec);
  }
  book(slot: number, top: LevelSource, msgIndex: number, exchangeTs: number, doubtful?: boolean, keepTop?: boolean): void {
    this.target.book(slot, top, msgIndex, exchangeTs, doubtful, keepTop);
  }
  bbo(slot: number, bidPrice: number, bidSize: number, askPrice: number, askSize: number, msgIndex: number, exchangeTs: number): void {
    this.target.bbo(slot, bidPrice, bidSize, askPrice, askSize, msgIndex, exchangeTs);
  }
  bookStale(slot: number, msgIndex: number): void {
    this.target.bookStale(slot, msgIndex);
  }
  get scratch(): { bids: Float64Array; asks: Float64Array } | undefined {
    return this.target.scratch;
  }
  get wantsEvents(): boolean {
    return this.target.wantsEvents;
  }
  event(e: EventFields): void {
    this.target.event(e);
  }
  gap(msgIndex: number, lostMessages: number): void {
    this.target.gap(msgIndex, lostMessages);
  }
  recovered(msgIndex: number): void {
    this.target.recovered(msgIndex);
  }
  lost(msgIndex: number, lostMessages: number): void {
    this.target.lost(msgIndex, lostMessages);
  }
  tick(): void {
    this.target.tick();
  }
  flush(counters: SourceCounters): void {
    this.sum.flush(this.index, counters);
  }
}
