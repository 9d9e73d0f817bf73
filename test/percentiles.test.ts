/**
 * The one latency record (lib/percentiles.ts): its field names and order are what every command
 * prints, the same from a histogram and from samples, zeros when empty, and the replay's
 * configurable percentiles keyed as docs/SCENARIOS.md says.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { recordCorrected, uncorrectedCount } from '../workers/sdk/histogram.js';
import { newLatencyHistogram } from '../workers/index.js';
import { percentileKey, percentilesOf } from '../lib/percentiles.js';

const shuffled = (n: number): number[] => Array.from({ length: n }, (_, i) => ((i * 7919) % n) + 1);

test('from a histogram: p50, p90, p99, p999, max, in that order, as the histogram reads them', () => {
  const h = newLatencyHistogram();
  for (const v of shuffled(1000)) h.recordValue(v);
  const p = percentilesOf(h);
  assert.equal(Object.keys(p), ['p50', 'p90', 'p99', 'p999', 'max']);
  assert.equal(p, { p50: h.getValueAtPercentile(50), p90: h.getValueAtPercentile(90), p99: h.getValueAtPercentile(99), p999: h.getValueAtPercentile(99.9), max: h.maxValue });
});

test('from samples in any order: the nearest rank, fractions kept', () => {
  const samples = Float64Array.from(shuffled(1000), (v) => v + 0.5);
  assert.equal(percentilesOf(samples), { p50: 501.5, p90: 901.5, p99: 991.5, p999: 1000.5, max: 1000.5 });
  assert.is(samples[1], 920.5, 'the caller\'s samples are not reordered');
});

test('no percentile passes max: a bucket\'s highest equivalent value is cut to the largest value recorded', () => {
  const h = newLatencyHistogram();
  h.recordValue(100);
  h.recordValue(121_625); // shares a bucket with values up to 121,663 at the histogram's precision
  assert.ok(h.getValueAtPercentile(99.9) > h.maxValue, 'the histogram itself reads past max here');
  const p = percentilesOf(h);
  assert.is(p.max, h.maxValue);
  assert.is(p.p999, p.max);
  assert.ok(p.p50 <= p.p90 && p.p90 <= p.p99 && p.p99 <= p.p999 && p.p999 <= p.max, JSON.stringify(p));
});

test('empty: zeros, from a histogram and from samples', () => {
  const zeros = { p50: 0, p90: 0, p99: 0, p999: 0, max: 0 };
  assert.equal(percentilesOf(newLatencyHistogram()), zeros);
  assert.equal(percentilesOf([]), zeros);
});

test('chosen percentiles are keyed p50, p999, p9999, then max', () => {
  assert.is(percentileKey(99.99), 'p9999');
  const h = newLatencyHistogram();
  for (const v of shuffled(100_000)) h.recordValue(v);
  const p = percentilesOf(h, [50, 99.9, 99.99]);
  assert.equal(Object.keys(p), ['p50', 'p999', 'p9999', 'max']);
  assert.is(p.p9999, Math.min(h.getValueAtPercentile(99.99), h.maxValue));
});

test('coordinated-omission correction within its budget: as hdr corrects; past it, the latency alone, counted', () => {
  const a = newLatencyHistogram();
  const b = newLatencyHistogram();
  recordCorrected(a, 1000, 10, 150); // 99 values added: within the budget
  b.recordValueWithExpectedInterval(1000, 10);
  assert.is(a.totalCount, b.totalCount);
  assert.is(a.totalCount, 100);
  recordCorrected(a, 1000, 10, 150); // 99 more would pass the 51 left
  assert.is(a.totalCount, 101, 'recorded alone');
  assert.is(uncorrectedCount(a), 1);
  recordCorrected(a, 500, 10, 150); // 49: still within what is left
  assert.is(a.totalCount, 151);
  assert.is(uncorrectedCount(a), 1);
  assert.is(uncorrectedCount(b), 0, 'a histogram never given to recordCorrected');
});

test.run();
