/**
 * `mdfan bench readers`: publish -> observe latency for one reader process per wait strategy.
 * This process publishes a 10-level book at a steady rate (paced by spinning on the clock) for a
 * few seconds while a `mdfan read --wait W` process follows it; the reader's summary gives the
 * percentiles. Median over runs of each percentile, with the core-to-core baseline of the same run.
 */
import { native } from '../native/segment/binding.js';
import { SegmentWriter } from '../native/segment/writer.js';
import { median } from './machine.js';
import type { LatencyPercentiles } from '../lib/percentiles.js';
import { medianPercentiles } from './section.js';
import { lastJson, logLine, spawnMdfan } from '../lib/child.js';
import { LogEvent } from '../lib/log.js';
import { until } from './until.js';
import { BENCH_DEFAULTS } from './defaults.js';
import { WAIT_STRATEGIES } from '../workers/index.js';
import { ITCH_SPEC } from '../native/segment/directory.js';

/** How long a reader process may take to start and attach. */
const ATTACH_TIMEOUT_MS = BENCH_DEFAULTS.readyTimeoutMs;


export interface ReaderLatencyRow {
  wait: string;
  latency_ns: LatencyPercentiles;
  updates: number;
  reader_cpu_ms: number;
  runs: number;
}

interface Summary {
  updates: number;
  latency_ns: LatencyPercentiles;
  cpu_ms: number;
}

async function once(wait: string, rate: number, seconds: number): Promise<Summary> {
  const name = `mdfan-bench-readers-${process.pid}`;
  const w = SegmentWriter.open({ name, maxInstruments: 1, levels: 10 });
  const reader = spawnMdfan(`reader (${wait})`, ['read', '--segment', name, '--wait', wait]);
  try {
    w.addInstrument('BENCH', 1, ITCH_SPEC);
    await logLine(reader, (l) => l.event === LogEvent.READER_ATTACHED, ATTACH_TIMEOUT_MS);
    // A block reader then registers as a sleeper before its first wait.
    if (wait === 'block') await until(() => w.registry.sleepers() > 0, ATTACH_TIMEOUT_MS);
    const src = { bidCount: 10, askCount: 10, bids: new Float64Array(30), asks: new Float64Array(30) };
    const gap = 1e9 / rate;
    const end = native.monotonicNs() + seconds * 1e9;
    let next = native.monotonicNs();
    for (let k = 1; ; k++) {
      let now = native.monotonicNs();
      while (now < next) now = native.monotonicNs();
      if (now >= end) break;
      next += gap;
      src.bids[0] = 5000 + (k % 100);
      src.asks[0] = 5200 + (k % 100);
      w.publish(0, src, k, k);
      w.wakeIfSleepers();
    }
  } finally {
    w.close({ unlink: true });
  }
  await reader.exited;
  const s = lastJson<Summary>(reader);
  if (!s) throw new Error(`bench readers: no summary: ${reader.describeExit()}`);
  return s;
}

export async function readersBench(runs: number, log: (s: string) => void, rate: number = BENCH_DEFAULTS.rate, seconds: number = BENCH_DEFAULTS.seconds): Promise<ReaderLatencyRow[]> {
  const rows: ReaderLatencyRow[] = [];
  for (const wait of WAIT_STRATEGIES) {
    const res: Summary[] = [];
    for (let r = 0; r < runs; r++) res.push(await once(wait, rate, seconds));
    const m = (f: (s: Summary) => number): number => median(res.map(f));
    const row = {
      wait,
      latency_ns: medianPercentiles(res.map((s) => s.latency_ns)),
      updates: m((s) => s.updates),
      reader_cpu_ms: m((s) => s.cpu_ms),
      runs,
    };
    rows.push(row);
    log(`  ${wait}: p50 ${row.latency_ns.p50} ns, p99 ${row.latency_ns.p99} ns, reader CPU ${row.reader_cpu_ms} ms over ${seconds} s`);
  }
  return rows;
}
