/**
 * `mdfan bench stall`: the writer's throughput replaying the GOOG day (decode, books,
 * publication) with no reader, with a spinning reader process, and with that reader stopped
 * (SIGSTOP), interleaved within each run. The seqlock promises the writer never waits for a
 * reader: stopped should be within noise of none; a running spinning reader costs the writer the
 * slot lines it keeps pulling (and CPU, on a 2-core machine).
 */
import { type Frame, ItchVenue, Publisher, nextFrame } from '../feed/index.js';
import { SegmentWriter } from '../native/segment/writer.js';
import { GOOG_FILE, loadBenchFeed } from './feed.js';
import { median } from './machine.js';
import { onAbort } from './abort.js';
import { type Child, logLine, spawnMdfan } from '../lib/child.js';
import { LogEvent } from '../lib/log.js';


export interface StallRow {
  reader: string;
  msgs_per_s: number;
  runs: number[];
}

export async function stallBench(runs: number, log: (s: string) => void): Promise<StallRow[]> {
  const feed = await loadBenchFeed(GOOG_FILE);
  const buf = feed.bytes;
  const name = `mdfan-bench-stall-${process.pid}`;
  const w = SegmentWriter.open({ name, maxInstruments: 64, levels: 10 });
  const frame: Frame = { offset: 0, length: 0 };
  const replay = (): number => {
    const venue = new ItchVenue(new Publisher(w), 10);
    const t0 = performance.now();
    let i = 0;
    for (let pos = 0; pos < buf.length; i++) {
      pos = nextFrame(buf, buf.length, pos, i, feed.file, frame);
      venue.process(buf, frame.offset, frame.length, i);
    }
    return i / ((performance.now() - t0) / 1000);
  };
  // The three cases are interleaved within each run (no reader, a running reader, that reader
  // stopped), with a fresh reader process per run: measured one after another instead, this
  // machine's drift between phases would read as a cost of the reader.
  const labels = ['no reader', 'one spinning reader process', 'that reader stopped (SIGSTOP)'];
  const res: number[][] = [[], [], []];
  const rows: StallRow[] = [];
  let reader: Child | null = null;
  const off = onAbort(() => {
    reader?.signal('SIGKILL');
    w.close({ unlink: true });
  });
  try {
    replay(); // warm-up
    for (let r = 0; r < runs; r++) {
      res[0].push(replay());
      reader = spawnMdfan('spinning reader', ['read', '--segment', name, '--wait', 'spin']);
      try {
        await logLine(reader, (l) => l.event === LogEvent.READER_ATTACHED, 20_000);
        res[1].push(replay());
        reader.signal('SIGSTOP');
        res[2].push(replay());
      } finally {
        await reader.kill();
      }
    }
  } finally {
    off();
    w.close({ unlink: true });
  }
  labels.forEach((label, i) => {
    rows.push({ reader: label, msgs_per_s: median(res[i]), runs: res[i] });
    log(`  ${label}: ${(median(res[i]) / 1e6).toFixed(2)} M msg/s`);
  });
  return rows;
}
