/**
 * `mdfan bench false-sharing`: the same workload on the default layout (every slot on its own
 * 128-byte line pair) and on the packed layout (MDFAN_LAYOUT_PACKED: slots back to back, 304
 * bytes apart for 10 levels, so slot 1's seq shares a 64-byte line with slot 0's last ask
 * levels). The writer commits book A (slot 0) back to back and book B (slot 1) at a steady rate;
 * one reader process spins on B's seq only. Nothing is truly shared between A and B: every
 * difference between the two layouts is false sharing: the reader's polls pull A's line away
 * from the writer, and every A commit invalidates the line the reader polls.
 * Writer and reader are pinned to two different CPUs; runs alternate between the layouts.
 */
import { fileURLToPath } from 'node:url';
import * as abi from '../native/segment/abi.js';
import { native } from '../native/segment/binding.js';
import { SegmentWriter } from '../native/segment/writer.js';
import { median } from './machine.js';
import { type LatencyPercentiles, percentilesOf } from '../lib/percentiles.js';
import { LATENCY_COLUMNS, medianPercentiles } from './section.js';
import { newHistogram } from './shm-session.js';
import * as hdr from 'hdr-histogram-js';
import type { Curve, Section } from './report/types.js';
import { c2cBaselineEntry, type C2cResult } from './c2c.js';
import { onAbort } from './abort.js';
import { type Child, lastJson, logLine, spawnChild } from '../lib/child.js';
import { LogEvent } from '../lib/log.js';
import { ITCH_SPEC } from '../native/segment/directory.js';

const SLOT_READER = fileURLToPath(new URL('./slot-reader.js', import.meta.url));
const LEVELS = 10;
let counter = 0;

export interface FalseSharingOptions {
  runs: number;
  seconds: number;
  rate: number;
  log: (s: string) => void;
}

interface Once {
  hotPublishesPerS: number;
  cpuNsPerPublish: number;
  hist: hdr.Histogram;
}

async function once(packed: boolean, o: FalseSharingOptions, cpus: [number, number]): Promise<Once> {
  const name = `mdfan-bench-fs-${process.pid}-${++counter}`;
  const allowed = native.getAffinity();
  const w = SegmentWriter.open({ name, maxInstruments: 2, levels: LEVELS, packed });
  let child: Child | null = null;
  let closed = false;
  const off = onAbort(() => {
    child?.signal('SIGKILL');
    if (!closed) w.close({ unlink: true });
  });
  try {
    w.addInstrument('HOT', 1, ITCH_SPEC);
    w.addInstrument('WATCHED', 2, ITCH_SPEC);
    const intervalNs = 1e9 / o.rate;
    child = spawnChild('false-sharing reader', SLOT_READER, [name, '1', String(intervalNs), String(cpus[1])]);
    await logLine(child, (l) => l.event === LogEvent.READER_ATTACHED, 10_000);
    native.setAffinity([cpus[0]]);
    const src = { bidCount: LEVELS, askCount: LEVELS, bids: new Float64Array(LEVELS * 3), asks: new Float64Array(LEVELS * 3) };
    for (let l = 0; l < LEVELS; l++) {
      src.bids.set([1_000_000 - 100 * (l + 1), 100, 1], l * 3);
      src.asks.set([1_000_000 + 100 * (l + 1), 100, 1], l * 3);
    }
    const cpu0 = process.cpuUsage();
    const t0 = native.monotonicNs();
    const end = t0 + o.seconds * 1e9;
    let next = t0;
    let hot = 0;
    for (let k = 1; ; k++) {
      const now = native.monotonicNs();
      if (now >= end) break;
      if (now >= next) {
        w.publish(1, src, k, k); // the watched book, on schedule
        next += intervalNs;
        continue;
      }
      src.asks[27] = k & 1023; // A's last ask level: the bytes that share B's line when packed
      w.publish(0, src, k, k);
      hot++;
    }
    const cpu = process.cpuUsage(cpu0);
    native.setAffinity(allowed);
    w.close({ unlink: true });
    closed = true;
    if ((await child.exited).code !== 0) throw new Error(`false-sharing reader failed: ${child.describeExit()}`);
    const s = lastJson<{ hist: string }>(child);
    if (!s) throw new Error(`false-sharing reader printed no summary: ${child.describeExit()}`);
    return { hotPublishesPerS: hot / o.seconds, cpuNsPerPublish: ((cpu.user + cpu.system) * 1000) / Math.max(1, hot), hist: hdr.decodeFromCompressedBase64(s.hist) };
  } finally {
    off();
    native.setAffinity(allowed);
    if (!closed) w.close({ unlink: true });
    child?.signal('SIGKILL');
  }
}

export async function falseSharingBench(o: FalseSharingOptions, c2c: C2cResult): Promise<Section> {
  const allowed = native.getAffinity();
  const cpus: [number, number] = [allowed[0], allowed[1] ?? allowed[0]];
  const acc = { default: [] as Once[], packed: [] as Once[] };
  for (let r = 0; r < o.runs; r++) {
    acc.default.push(await once(false, o, cpus));
    acc.packed.push(await once(true, o, cpus));
  }
  const results: Array<Record<string, unknown>> = [];
  const curves: Curve[] = [];
  let base = NaN;
  for (const layout of ['default', 'packed'] as const) {
    const runs = acc[layout];
    const pps = median(runs.map((x) => x.hotPublishesPerS));
    if (layout === 'default') base = pps;
    const lat: LatencyPercentiles = medianPercentiles(runs.map((x) => percentilesOf(x.hist)));
    const merged = newHistogram();
    for (const x of runs) merged.add(x.hist);
    curves.push({ label: `${layout} layout`, histogram: merged });
    results.push({
      layout,
      slot_stride_bytes: abi.computeLayout(2, LEVELS, layout === 'packed').slotStride,
      hot_publishes_per_s: pps,
      hot_ratio_to_default: pps / base,
      cpu_ns_per_publish: median(runs.map((x) => x.cpuNsPerPublish)),
      latency_ns: lat,
      ratio_to_c2c_p50: lat.p50 / c2c.p50,
      runs: o.runs,
    });
    o.log(`  ${layout}: ${(pps / 1e6).toFixed(2)} M hot publishes/s, watched book p50 ${lat.p50} ns, p99 ${lat.p99} ns`);
  }
  return {
    benchmark: 'false-sharing',
    title: `False sharing: default (128-byte padded) vs packed slots, writer on CPU ${cpus[0]}, reader on CPU ${cpus[1]} (median of ${o.runs} runs)`,
    baseline: { ...c2cBaselineEntry(c2c), watched_rate_per_s: o.rate },
    results,
    columns: [
      { key: 'layout', label: 'layout' },
      { key: 'slot_stride_bytes', label: 'slot stride B' },
      { key: 'hot_publishes_per_s', label: 'hot publishes/s', digits: 0 },
      { key: 'hot_ratio_to_default', label: '× default', digits: 2 },
      { key: 'cpu_ns_per_publish', label: 'CPU ns/publish', digits: 0 },
      ...LATENCY_COLUMNS,
      { key: 'ratio_to_c2c_p50', label: '× c2c p50', digits: 1 },
    ],
    note: 'Hot publishes/s: how fast the writer commits book A while a reader polls book B in another process. Latency: that reader, for book B. In the packed layout the two books share a cache line though no byte is shared.',
    curves,
  };
}
