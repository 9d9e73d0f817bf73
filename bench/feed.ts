/**
 * `mdfan bench feed`: messages/s through the feed handler on the GOOG day (157,217 ITCH
 * messages, in memory), at --speed max, in stages so the table says what bounds it:
 * framing + decode; + order books and top-N change detection; + publication into a segment;
 * + the event ring (every event of the input appended); the same through the addon's engine (the
 * path `mdfan feed` takes at full speed), the TypeScript rows being its reference. The two Binance
 * recordings: ./feed-binance.ts.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Frame, type LoadedFeed, ItchMessage, ItchReplay, ItchVenue, NativeItchVenue, Publisher, decode, nextFrame, readInput } from '../feed/index.js';
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

/** Which engine applies ITCH: the addon's (the product's path at full speed) or the TypeScript reference. */
export type ItchEngineKind = 'addon' | 'ts';

/**
 * Messages/s of the whole feed handler on `feed` at --speed max: decode, books, top-10 change
 * detection and a seqlock commit per change into a fresh segment (with the event ring, or 2 MiB
 * pages, if asked), through `engine`. `publish: false`: no instrument is given a slot (the
 * engine's books alone, for the split).
 */
export function publicationRate(feed: LoadedFeed, ring: boolean, hugePages = false, engine: ItchEngineKind = 'ts', publish = true): number {
  const name = `mdfan-bench-feed-${ring ? 'ring-' : ''}${process.pid}`;
  const w = SegmentWriter.open({ name, maxInstruments: SEGMENT_DEFAULTS.maxInstruments, levels: SEGMENT_DEFAULTS.levels, hugePages, ...(ring ? { ringEvents: abi.EVENTS_DEFAULT_CAPACITY } : {}) });
  const publisher = new Publisher(w, publish ? {} : { symbols: new Set() });
  try {
    if (engine === 'ts') {
      const venue = new ItchVenue(publisher, 10);
      return drive(feed, (o, l, i) => venue.process(feed.bytes, o, l, i));
    }
    const venue = NativeItchVenue.for(publisher, 10)!;
    try {
      const t0 = performance.now();
      const r = venue.run(feed.bytes, 0, feed.bytes.length, 0, Number.MAX_SAFE_INTEGER);
      const rate = r.msgIndex / ((performance.now() - t0) / 1000);
      if (r.pos !== feed.bytes.length) throw new Error(`${feed.file}: the engine stopped at byte ${r.pos} of ${feed.bytes.length} (stop ${r.stop})`);
      return rate;
    } finally {
      venue.free();
    }
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
    // The addon's engine (the product's path at full speed): the same work, a batch per call.
    ['addon engine: framing + decode + order books + top-10 change detection', () => publicationRate(feed, false, false, 'addon', false)],
    ['addon engine: + publication', () => publicationRate(feed, false, false, 'addon')],
    ['addon engine: + event ring', () => publicationRate(feed, true, false, 'addon')],
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
