/**
 * `mdfan bench feed`: messages/s through the feed handler on the GOOG day (157,217 ITCH
 * messages, in memory), at --speed max, in stages so the table says what bounds it:
 * framing + decode; + order books and top-N change detection; + publication into a segment;
 * + the event ring (every event of the input appended). The two Binance recordings: ./feed-binance.ts.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Frame, type LoadedFeed, ItchMessage, ItchReplay, ItchVenue, Publisher, decode, nextFrame, readInput } from '../feed/index.js';
import { SegmentWriter } from '../native/segment/writer.js';
import { SEGMENT_DEFAULTS } from '../native/segment/defaults.js';
import * as abi from '../native/segment/abi.js';
import { median } from './machine.js';

export const GOOG_FILE = join(fileURLToPath(new URL('../../', import.meta.url)), 'scenarios', 'data', 'itch', 'GOOG-2012-06-21.itch.gz');

export interface FeedRow {
  stage: string;
  msgs_per_s: number;
  runs: number[];
}

/** Messages/s of one pass over `feed`'s messages through `process` (in memory). */
function drive(feed: LoadedFeed, process: (off: number, len: number, i: number) => void): number {
  const buf = feed.bytes;
  const frame: Frame = { offset: 0, length: 0 };
  const t0 = performance.now();
  let i = 0;
  for (let pos = 0; pos < buf.length; i++) {
    pos = nextFrame(buf, buf.length, pos, i, feed.file, frame);
    process(frame.offset, frame.length, i);
  }
  return i / ((performance.now() - t0) / 1000);
}

/**
 * Messages/s of the whole feed handler on `feed` at --speed max: decode, books, top-10 change
 * detection and a seqlock commit per change into a fresh segment (with the event ring, or 2 MiB
 * pages, if asked).
 */
export function publicationRate(feed: LoadedFeed, ring: boolean, hugePages = false): number {
  const name = `mdfan-bench-feed-${ring ? 'ring-' : ''}${process.pid}`;
  const w = SegmentWriter.open({ name, maxInstruments: SEGMENT_DEFAULTS.maxInstruments, levels: SEGMENT_DEFAULTS.levels, hugePages, ...(ring ? { ringEvents: abi.EVENTS_DEFAULT_CAPACITY } : {}) });
  try {
    const venue = new ItchVenue(new Publisher(w), 10);
    return drive(feed, (o, l, i) => venue.process(feed.bytes, o, l, i));
  } finally {
    w.close({ unlink: true });
  }
}

/** A feed file in memory for the benchmarks: streamed in, refused past what a benchmark holds (a gzip bomb costs no more). */
export async function loadBenchFeed(file: string): Promise<LoadedFeed> {
  return { file, bytes: await readInput(file), gzipProblem: null };
}

export async function feedBench(runs: number, log: (s: string) => void, file = GOOG_FILE): Promise<FeedRow[]> {
  const feed = await loadBenchFeed(file);
  const buf = feed.bytes;
  const m = new ItchMessage();
  const stages: Array<[string, () => number]> = [
    ['framing + decode', () => drive(feed, (o, l) => decode(m, buf, o, l))],
    [
      '+ order books + top-10 change detection',
      () => {
        const r = new ItchReplay(10, { onTopChange() {} });
        return drive(feed, (o, l, i) => r.process(buf, o, l, i));
      },
    ],
    ['+ publication (seqlock commit per change, heartbeat, counters)', () => publicationRate(feed, false)],
    ['+ event ring (every trade, trading action and order event appended)', () => publicationRate(feed, true)],
  ];
  const rows: FeedRow[] = [];
  for (const [stage, f] of stages) {
    f(); // warm-up: JIT
    const res = Array.from({ length: runs }, f);
    rows.push({ stage, msgs_per_s: median(res), runs: res });
    log(`  ${stage}: ${(median(res) / 1e6).toFixed(2)} M msg/s`);
  }
  return rows;
}
