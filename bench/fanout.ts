/**
 * `mdfan bench fanout`: what readers cost the writer. For 0, 1, 2, 4 and 8 reader processes
 * (spinning: the readers that press hardest on the slot's cache lines), the writer publishes
 * back to back for a few seconds (its wall and CPU ns per publish, and publishes/s), then at a
 * steady rate while the readers' publish -> observe latency is recorded. The seqlock promises
 * the writer never waits for a reader; on a machine with fewer cores than readers, readers still
 * take CPU time from the writer, which the wall figures show and the CPU figures do not.
 */
import { cpus } from 'node:os';
import type { WaitStrategy } from '../workers/index.js';
import { median } from './machine.js';
import { type LatencyPercentiles, percentilesOf } from '../lib/percentiles.js';
import { LATENCY_COLUMNS, medianPercentiles } from './section.js';
import { newHistogram, shmSession } from './shm-session.js';
import type { Curve, Section } from './report/types.js';
import { c2cBaselineEntry, type C2cResult } from './c2c.js';

export interface FanoutOptions {
  runs: number;
  seconds: number;
  rate: number;
  readerCounts: readonly number[];
  wait: WaitStrategy;
  log: (s: string) => void;
}

export const FANOUT_DEFAULTS = Object.freeze({ readerCounts: Object.freeze([0, 1, 2, 4, 8]), wait: 'spin' as WaitStrategy });

export async function fanoutBench(o: FanoutOptions, c2c: C2cResult): Promise<Section> {
  const results: Array<Record<string, unknown>> = [];
  const curves: Curve[] = [];
  let wall0 = NaN;
  for (const readers of o.readerCounts) {
    const wall: number[] = [];
    const cpu: number[] = [];
    const lat: LatencyPercentiles[] = [];
    const pub: LatencyPercentiles[] = [];
    const merged = newHistogram();
    for (let r = 0; r < o.runs; r++) {
      const burst = await shmSession({ readers, wait: o.wait, host: 'process', rate: 'max', seconds: o.seconds });
      wall.push(burst.publish_wall_ns);
      cpu.push(burst.publish_cpu_ns);
      const steady = await shmSession({ readers, wait: o.wait, host: 'process', rate: o.rate, seconds: o.seconds });
      pub.push(percentilesOf(steady.publishHistogram));
      if (readers > 0) {
        lat.push(percentilesOf(steady.histogram));
        merged.add(steady.histogram);
      }
    }
    const wallNs = median(wall);
    if (readers === 0) wall0 = wallNs;
    const row: Record<string, unknown> = {
      readers,
      wait: o.wait,
      publish_wall_ns: wallNs,
      publish_cpu_ns: median(cpu),
      steady_publish_ns: medianPercentiles(pub),
      publishes_per_s: 1e9 / wallNs,
      wall_ratio_to_0_readers: wallNs / wall0,
      ...(readers > 0 ? { latency_ns: medianPercentiles(lat), ratio_to_c2c_p50: medianPercentiles(lat).p50 / c2c.p50 } : {}),
      runs: o.runs,
    };
    results.push(row);
    if (readers > 0) curves.push({ label: `${readers} ${o.wait} readers`, histogram: merged });
    o.log(`  ${readers} readers: ${wallNs.toFixed(0)} ns/publish wall, ${median(cpu).toFixed(0)} ns CPU, steady publish p50 ${medianPercentiles(pub).p50} ns${readers > 0 ? `, p50 ${medianPercentiles(lat).p50} ns` : ''}`);
  }
  return {
    benchmark: 'fanout',
    title: `Fan-out: writer cost and reader latency with 0–${Math.max(...o.readerCounts)} ${o.wait} readers (median of ${o.runs} runs)`,
    baseline: { ...c2cBaselineEntry(c2c), cores: cpus().length, rate_per_s: o.rate },
    results,
    columns: [
      { key: 'readers', label: 'readers' },
      { key: 'publish_wall_ns', label: 'publish ns (wall)', digits: 0 },
      { key: 'publish_cpu_ns', label: 'publish ns (CPU)', digits: 0 },
      { key: 'wall_ratio_to_0_readers', label: '× 0 readers', digits: 2 },
      { key: 'publishes_per_s', label: 'publishes/s', digits: 0 },
      { key: 'steady_publish_ns.p50', label: 'steady publish p50 ns' },
      { key: 'steady_publish_ns.p99', label: 'steady publish p99 ns' },
      ...LATENCY_COLUMNS,
      { key: 'ratio_to_c2c_p50', label: '× c2c p50', digits: 1 },
    ],
    note: 'Writer cost: back-to-back publishing for the set time (wall and CPU time per publish), and each publish() timed on its own at the steady rate (two clock reads around it, ~50 ns of it the clock). Latency: at the steady rate, coordinated-omission corrected. Readers never write the segment, so up to the core count the writer pays only for the cache lines its readers pull; past it, spinning readers also take its CPU.',
    curves,
  };
}
