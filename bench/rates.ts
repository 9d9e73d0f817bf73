/**
 * `mdfan bench rates`: does latency depend on how often a symbol changes? One writer publishes a
 * 10-level book to one instrument at 100, 1,000, 10,000 and 100,000 updates/s; one spinning
 * `mdfan read` follows it, as a top-of-book reader (`--top`) and as a whole-book reader. Each
 * point is the per-percentile median of K runs, each run after its own core-to-core handoff
 * baseline; a slow point runs long enough for MIN_SAMPLES publishes. `ratio_to_best_p50` is each
 * point's p50 over the best p50 of the same reader: the aim is every point within 1.5.
 */
import { type LatencyPercentiles, percentilesOf } from '../lib/percentiles.js';
import { c2cBaseline, c2cBaselineEntry, type C2cResult } from './c2c.js';
import { median } from './machine.js';
import type { Curve, Section } from './report/types.js';
import { LATENCY_COLUMNS, medianPercentiles } from './section.js';
import { newHistogram, shmSession } from './shm-session.js';

export const RATES_DEFAULTS = Object.freeze({
  rates: Object.freeze([100, 1_000, 10_000, 100_000]),
  /** Publishes a point measures at least (a slow rate runs longer than --seconds for them). */
  minSamples: 500,
});

export interface RateRow {
  rate_per_s: number;
  reader: 'top' | 'book';
  latency_ns: LatencyPercentiles;
  count: number;
  seconds: number;
  c2c_p50_ns: number;
  ratio_to_c2c_p50: number;
  ratio_to_best_p50: number;
  /**
   * The writer's own publish() p50 at this rate (median of the runs): the call around the commit,
   * timed by the writer. It shows how cold the writer's path is when commits are rare (the same
   * code takes ~0.3 µs at 10,000/s and 10-20 µs at 100/s here); the part of it after the commit's
   * clock read is in every reader's latency.
   */
  writer_publish_p50_ns: number;
  runs: number;
  [k: string]: unknown;
}

export async function ratesBench(o: { runs: number; seconds: number; log: (s: string) => void; rates?: readonly number[] }, c2c: C2cResult): Promise<Section> {
  const rates = o.rates ?? RATES_DEFAULTS.rates;
  const results: RateRow[] = [];
  const curves: Curve[] = [];
  for (const reader of ['top', 'book'] as const) {
    const rows: RateRow[] = [];
    for (const rate of rates) {
      const seconds = Math.max(o.seconds, RATES_DEFAULTS.minSamples / rate);
      const pcts: LatencyPercentiles[] = [];
      const handoffs: number[] = [];
      const counts: number[] = [];
      const publishes: number[] = [];
      const merged = newHistogram();
      for (let r = 0; r < o.runs; r++) {
        handoffs.push(c2cBaseline(1, 50_000).p50);
        const s = await shmSession({ readers: 1, wait: 'spin', host: 'process', rate, seconds, top: reader === 'top' });
        pcts.push(percentilesOf(s.histogram));
        counts.push(s.observed);
        publishes.push(percentilesOf(s.publishHistogram).p50);
        merged.add(s.histogram);
      }
      const pct = medianPercentiles(pcts);
      const row: RateRow = {
        rate_per_s: rate,
        reader,
        latency_ns: pct,
        count: median(counts),
        seconds,
        c2c_p50_ns: median(handoffs),
        ratio_to_c2c_p50: median(pcts.map((p, i) => p.p50 / handoffs[i]!)),
        ratio_to_best_p50: 0,
        writer_publish_p50_ns: median(publishes),
        runs: o.runs,
      };
      rows.push(row);
      curves.push({ label: `rates ${reader} ${rate}/s`, histogram: merged, plot: true });
      o.log(`  ${reader} at ${rate}/s: p50 ${pct.p50} ns, p99 ${pct.p99} ns (${row.ratio_to_c2c_p50.toFixed(1)}x c2c), ${row.count} observed; writer publish p50 ${row.writer_publish_p50_ns} ns`);
    }
    const best = Math.min(...rows.map((r) => r.latency_ns.p50));
    for (const r of rows) r.ratio_to_best_p50 = best > 0 ? r.latency_ns.p50 / best : 0;
    results.push(...rows);
  }
  return {
    benchmark: 'rates',
    title: `Publish→observe latency by update rate of the watched symbol, one spinning reader (median of ${o.runs} runs)`,
    baseline: { ...c2cBaselineEntry(c2c), min_samples: RATES_DEFAULTS.minSamples },
    results,
    columns: [
      { key: 'reader', label: 'reader' },
      { key: 'rate_per_s', label: 'updates/s' },
      ...LATENCY_COLUMNS,
      { key: 'ratio_to_c2c_p50', label: '× c2c p50', digits: 1 },
      { key: 'ratio_to_best_p50', label: '× best p50', digits: 2 },
      { key: 'c2c_p50_ns', label: 'c2c p50 ns', digits: 0 },
      { key: 'writer_publish_p50_ns', label: 'writer publish p50 ns', digits: 0 },
      { key: 'seconds', label: 's', digits: 1 },
      { key: 'count', label: 'observed' },
    ],
    note: 'A slow point runs for at least min_samples publishes. ×best: p50 over the best p50 of the same reader (aim: every point within 1.5). Readers record with coordinated-omission correction at the publish interval.',
    curves,
  };
}
