/** A sink that keeps what a DBN venue hands it (books, stale marks, events, instruments), for in-process tests. */
import { NullSink } from '../../feed/sink.js';
import type { InstrumentSpec } from '../../native/segment/directory.js';
import type { EventFields } from '../../native/segment/events.js';
import type { LevelSource } from '../../native/segment/seqlock.js';
import { DbnReader, type RecordView } from '../../feed/dbn/reader.js';
import { DbnVenue } from '../../feed/dbn/venue.js';
import { probeInputFile } from '../../feed/input-stream.js';

export interface SeenBook {
  slot: number;
  msgIndex: number;
  exchangeTs: number;
  doubtful: boolean;
  /** [price, size, orders] per level, best first. */
  bids: number[][];
  asks: number[][];
}

const levelsOf = (a: Float64Array, n: number): number[][] => Array.from({ length: n }, (_, i) => [a[i * 3]!, a[i * 3 + 1]!, a[i * 3 + 2]!]);

export class CaptureSink extends NullSink {
  override readonly wantsEvents: boolean = true;
  readonly instruments: { symbol: string; feedId: number; spec: InstrumentSpec }[] = [];
  readonly books: SeenBook[] = [];
  readonly stale: { slot: number; msgIndex: number }[] = [];
  readonly events: EventFields[] = [];
  override instrument(symbol: string, feedId: number, spec: InstrumentSpec): number {
    this.instruments.push({ symbol, feedId, spec });
    return this.instruments.length - 1;
  }
  override book(slot: number, top: LevelSource, msgIndex: number, exchangeTs: number, doubtful?: boolean): void {
    this.books.push({ slot, msgIndex, exchangeTs, doubtful: doubtful === true, bids: levelsOf(top.bids, top.bidCount), asks: levelsOf(top.asks, top.askCount) });
  }
  override bookStale(slot: number, msgIndex: number): void {
    this.stale.push({ slot, msgIndex });
  }
  override event(e: EventFields): void {
    this.events.push({ ...e });
  }
}

/** Replays a DBN file through a DbnVenue into a CaptureSink (in-process, no segment). */
export async function replayDbn(file: string, levels = 10, opts: { fragmentVersion?: number } = {}): Promise<{ sink: CaptureSink; venue: DbnVenue; reader: DbnReader }> {
  const sink = new CaptureSink();
  const reader = new DbnReader(probeInputFile(file), opts);
  const meta = await reader.open();
  const venue = new DbnVenue(sink, levels, meta, reader.version, (i, field, why) => {
    throw new Error(`record ${i} ${field}: ${why}`);
  });
  const v: RecordView = { buf: Buffer.alloc(0), at: 0, bytes: 0, rtype: 0 };
  let i = 0;
  try {
    for (;;) {
      while (reader.next(v)) venue.process(v, i++);
      if (!(await reader.fill())) break;
    }
  } finally {
    reader.close();
  }
  return { sink, venue, reader };
}
