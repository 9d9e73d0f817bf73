/**
 * `mdfan bench scale`'s mechanics on a small market (1 and 50 instruments, 20,000 messages, short
 * sessions): the rows the issue's contract names, both readers per size, the single-symbol reader
 * seeing a tenth of the publishes, and nothing left in /dev/shm. No timing is asserted.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync } from 'node:fs';
import { scaleBench } from '../bench/scale.js';

test('rows {instruments, feed_msgs_per_s, feed_ring_msgs_per_s, reader, latency_ns {p50, p99}, cpu_ns_per_update} for each size and reader; no segment left', async () => {
  const c2c = { p50: 50, p99: 100, p999: 200, cpus: [0, 1], runs: 1, pinned: true } as never;
  const section = await scaleBench({ runs: 1, seconds: 0.3, rate: 20_000, log: () => {}, instruments: [1, 50], messages: 20_000 }, c2c);
  const results = section.results as Array<Record<string, unknown> & { latency_ns: { p50: number; p99: number } }>;
  const rows = results.filter((r) => r.pages === '4 KiB');
  assert.equal(rows.map((r) => [r.instruments, r.reader]), [[1, 'one'], [1, 'all'], [50, 'one'], [50, 'all']]);
  const huge = results.filter((r) => r.pages === '2 MiB').map((r) => [r.instruments, r.reader]);
  assert.ok(huge.length === 0 || JSON.stringify(huge) === JSON.stringify([[50, 'one'], [50, 'all']]), `2 MiB rows only at the largest size, where /dev/shm allows them: ${JSON.stringify(huge)}`);
  for (const r of rows) {
    assert.ok((r.feed_books_msgs_per_s as number) > 0 && (r.feed_msgs_per_s as number) > 0 && (r.feed_ring_msgs_per_s as number) > 0 && (r.feed_ts_ring_msgs_per_s as number) > 0, 'feed throughput, with the ring, and the TypeScript engine\'s');
    assert.is(r.ring_cost, 1 - (r.feed_ring_msgs_per_s as number) / (r.feed_msgs_per_s as number), 'the ring\'s cost as stated');
    assert.ok(r.latency_ns.p50 > 0 && r.latency_ns.p99 >= r.latency_ns.p50, JSON.stringify(r.latency_ns));
    assert.ok((r.cpu_ns_per_update as number) > 0);
    assert.ok((r.segment_bytes as number) > 0 && (r.writer_rss_bytes as number) > 0);
  }
  const one = rows[2]!.updates as number;
  const all = rows[3]!.updates as number;
  assert.ok(one > 0 && all > 5 * one, `the one-symbol reader sees a tenth of the publishes (${one} of ${all})`);
  assert.equal(readdirSync('/dev/shm').filter((f) => f.startsWith(`mdfan-bench-scale-${process.pid}`)), []);
});

test.run();
