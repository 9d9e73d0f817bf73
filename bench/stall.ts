/**
 * `mdfan bench stall`: the writer's throughput replaying the GOOG day (decode, books,
 * publication) with no reader, with a spinning reader process, and with that reader stopped
 * (SIGSTOP). The seqlock promises the writer never waits for a reader: the three should be within
 * noise, apart from the CPU a running reader takes from a 2-core machine.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Frame, loadFeed, nextFrame } from '../feed/itch/framing.js';
import { Publisher } from '../feed/handler/publisher.js';
import { SegmentWriter } from '../native/ts/writer.js';
import { GOOG_FILE } from './feed.js';
import { median } from './machine.js';

const BIN = fileURLToPath(new URL('../../bin/mdfan.js', import.meta.url));

export interface StallRow {
  reader: string;
  msgs_per_s: number;
  runs: number[];
}

export async function stallBench(runs: number, log: (s: string) => void): Promise<StallRow[]> {
  const feed = loadFeed(GOOG_FILE);
  const buf = feed.bytes;
  const name = `mdfan-bench-stall-${process.pid}`;
  const w = SegmentWriter.open({ name, maxInstruments: 64, levels: 10 });
  const frame: Frame = { offset: 0, length: 0 };
  const replay = (): number => {
    const pub = new Publisher(w, 10, null, null);
    const t0 = performance.now();
    let i = 0;
    for (let pos = 0; pos < buf.length; i++) {
      pos = nextFrame(buf, buf.length, pos, i, feed.file, frame);
      pub.replay.process(buf, frame.offset, frame.length, i);
      w.tick();
    }
    return i / ((performance.now() - t0) / 1000);
  };
  const measure = (label: string): StallRow => {
    replay(); // warm-up
    const res = Array.from({ length: runs }, replay);
    log(`  ${label}: ${(median(res) / 1e6).toFixed(2)} M msg/s`);
    return { reader: label, msgs_per_s: median(res), runs: res };
  };
  const rows: StallRow[] = [];
  try {
    rows.push(measure('no reader'));
    const reader = spawn(process.execPath, [BIN, 'read', '--segment', name, '--wait', 'spin'], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 500));
    rows.push(measure('one spinning reader process'));
    reader.kill('SIGSTOP');
    rows.push(measure('that reader stopped (SIGSTOP)'));
    reader.kill('SIGCONT');
    reader.kill('SIGTERM');
  } finally {
    w.close({ unlink: true });
  }
  return rows;
}
