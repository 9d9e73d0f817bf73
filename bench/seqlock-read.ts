/**
 * `mdfan bench seqlock`: the cost of one 10-level snapshot read through the seqlock, JavaScript
 * path vs native path, uncontended and with a writer thread committing to the same slot at full
 * speed. Baseline in the same run: a plain typed-array copy of the same 76 words (no seqlock).
 */
import { Worker } from 'node:worker_threads';
import { native } from '../native/segment/binding.js';
import * as abi from '../native/segment/abi.js';
import { SegmentReader } from '../native/segment/reader.js';
import { SegmentWriter } from '../native/segment/writer.js';
import { unlinkSegment } from '../native/segment/mapping.js';
import { median } from './machine.js';
import { benchNative } from './bench-addon.js';
import { ITCH_SPEC } from '../native/segment/directory.js';

const LEVELS = 10;
const READS = 2_000_000;

export interface SeqlockRow {
  case: string;
  ns_per_read: number;
  retries_per_read: number;
  runs: number[];
}

function timeReads(r: SegmentReader, path: 'read' | 'plain' | 'native-c'): { ns: number; retries: number } {
  const snap = r.newSnapshot();
  const before = r.retries;
  if (path === 'native-c') {
    const b = benchNative().benchReadSlot(r.map.buffer, r.layout.slotsOffset, abi.slotPayloadBytes(LEVELS), READS);
    return { ns: b.nsPerRead, retries: b.retries / READS };
  }
  const view = r.slotView(0);
  const dst = snap.words;
  const t0 = native.monotonicNs();
  if (path === 'plain') {
    for (let k = 0; k < READS; k++) dst.set(view); // the same copy the JS read path makes
  } else {
    for (let k = 0; k < READS; k++) r.read(0, snap);
  }
  const ns = (native.monotonicNs() - t0) / READS;
  return { ns, retries: (r.retries - before) / READS };
}

export async function seqlockBench(runs: number, log: (s: string) => void): Promise<SeqlockRow[]> {
  const name = `mdfan-bench-seqlock-${process.pid}`;
  const w = SegmentWriter.open({ name, maxInstruments: 1, levels: LEVELS });
  try {
    w.addInstrument('BENCH', 1, ITCH_SPEC);
    const src = { bidCount: LEVELS, askCount: LEVELS, bids: new Float64Array(LEVELS * 3).fill(7), asks: new Float64Array(LEVELS * 3).fill(9) };
    w.publish(0, src, 1, 1);
    const js = SegmentReader.openSync(name, { readPath: 'js' });
    const nat = SegmentReader.openSync(name, { readPath: 'native' });
    const auto = SegmentReader.openSync(name, { readPath: 'auto' });
    const cases: Array<[string, () => { ns: number; retries: number }]> = [
      ['plain copy, no seqlock (baseline)', () => timeReads(js, 'plain')],
      ['js read, uncontended', () => timeReads(js, 'read')],
      ['auto read (default), uncontended', () => timeReads(auto, 'read')],
      ['native read via addon call, uncontended', () => timeReads(nat, 'read')],
      ['native read in C (no call), uncontended', () => timeReads(nat, 'native-c')],
    ];
    const rows: SeqlockRow[] = [];
    const measure = (label: string, f: () => { ns: number; retries: number }): void => {
      f(); // warm-up: JIT and caches
      const res = Array.from({ length: runs }, f);
      rows.push({ case: label, ns_per_read: median(res.map((x) => x.ns)), retries_per_read: median(res.map((x) => x.retries)), runs: res.map((x) => x.ns) });
      log(`  ${label}: ${median(res.map((x) => x.ns)).toFixed(1)} ns/read`);
    };
    for (const [label, f] of cases) measure(label, f);
    // Contended: a writer thread hammers the same slot while we read.
    w.close({ unlink: true });
    const stop = new Int32Array(new SharedArrayBuffer(4));
    const hammer = new Worker(new URL('./seqlock-hammer.js', import.meta.url), { workerData: { name: `${name}-c`, stop } });
    await new Promise((resolve, reject) => {
      hammer.once('message', resolve);
      hammer.once('error', reject);
    });
    const hammerExit = new Promise((resolve) => hammer.once('exit', resolve));
    const cjs = SegmentReader.openSync(`${name}-c`, { readPath: 'js' });
    const cnat = SegmentReader.openSync(`${name}-c`, { readPath: 'native' });
    const cauto = SegmentReader.openSync(`${name}-c`, { readPath: 'auto' });
    try {
      measure('js read, writer committing back to back', () => timeReads(cjs, 'read'));
      measure('auto read (default), writer committing back to back', () => timeReads(cauto, 'read'));
      measure('native read via addon call, writer committing back to back', () => timeReads(cnat, 'read'));
    } finally {
      Atomics.store(stop, 0, 1);
      await hammerExit;
      cjs.close();
      cnat.close();
      cauto.close();
    }
    js.close();
    nat.close();
    auto.close();
    return rows;
  } finally {
    if (!w.closed) w.close();
    unlinkSegment(name);
    unlinkSegment(`${name}-c`);
  }
}
