/**
 * `mdfan bench rates`' mechanics with short sessions: the rows the contract names ({rate_per_s,
 * reader, latency_ns {p50, p99}}), top and book readers at each rate, a slow rate run long enough
 * for its minimum of publishes, the ratios computed as stated, nothing left in /dev/shm. No timing
 * is asserted.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync } from 'node:fs';
import { RATES_DEFAULTS, type RateRow, ratesBench } from '../bench/rates.js';

test('rows {rate_per_s, reader, latency_ns {p50, p99}} for each reader and rate; ratios as stated; no segment left', async () => {
  const c2c = { p50: 50, p99: 100, p999: 200, cpus: [0, 1], runs: 1, pinned: true } as never;
  const rates = [1_000, 20_000];
  const section = await ratesBench({ runs: 1, seconds: 0.2, log: () => {}, rates }, c2c);
  const rows = section.results as RateRow[];
  assert.equal(rows.map((r) => [r.reader, r.rate_per_s]), [['top', 1_000], ['top', 20_000], ['book', 1_000], ['book', 20_000]]);
  for (const r of rows) {
    assert.ok(r.count > 0, `${r.reader} at ${r.rate_per_s}/s observed something`);
    assert.ok(r.latency_ns.p50 > 0 && r.latency_ns.p99 >= r.latency_ns.p50, JSON.stringify(r.latency_ns));
    assert.ok(r.c2c_p50_ns > 0);
    assert.ok(Math.abs(r.ratio_to_c2c_p50 - r.latency_ns.p50 / r.c2c_p50_ns) < 1e-9, 'one run: p50 over that run\'s handoff');
    assert.is(r.seconds, Math.max(0.2, RATES_DEFAULTS.minSamples / r.rate_per_s), 'a slow rate runs for its minimum of publishes');
  }
  for (const reader of ['top', 'book']) {
    const mine = rows.filter((r) => r.reader === reader);
    const best = Math.min(...mine.map((r) => r.latency_ns.p50));
    for (const r of mine) assert.is(r.ratio_to_best_p50, r.latency_ns.p50 / best);
  }
  assert.equal(readdirSync('/dev/shm').filter((f) => f.startsWith(`mdfan-bench-shm-${process.pid}`)), []);
});

test.run();
