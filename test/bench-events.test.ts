/**
 * `mdfan bench events`' mechanics with short sessions: a max-rate row per reader count, and the
 * paced rows with their ratio to the handoff, the TypeScript writer's and the addon engine's (a
 * trade message a call), each having delivered every event it appended to its reader. No timing
 * is asserted.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync } from 'node:fs';
import { eventsBench } from '../bench/events.js';

test('max-rate rows per reader count; paced rows with ratio_to_c2c_p50, the addon engine as a writer too; nothing left in /dev/shm', async () => {
  const c2c = { p50: 50, p99: 100, p999: 200, cpus: [0, 1], runs: 1, pinned: true } as never;
  const section = await eventsBench({ runs: 1, seconds: 0.3, rate: 2_000, log: () => {}, readerCounts: [0, 1] }, c2c);
  const rows = section.results as Array<Record<string, unknown> & { latency_ns?: { p50: number; p99: number } }>;
  assert.equal(
    rows.map((r) => [r.mode, r.readers]),
    [
      ['max rate', 0],
      ['max rate', 1],
      ['2000/s', 1],
      ['2000/s, addon engine', 1],
    ],
  );
  for (const r of rows.slice(2)) {
    assert.ok(r.latency_ns!.p50 > 0 && r.latency_ns!.p99 >= r.latency_ns!.p50, JSON.stringify(r.latency_ns));
    assert.is(r.ratio_to_c2c_p50, r.latency_ns!.p50 / 50);
    assert.is(r.lost, 0, `${r.mode}: a paced reader is never lapped`);
    assert.ok((r.read as number) >= 500, `${r.mode}: the reader read what was appended (${r.read})`);
  }
  assert.is(rows[3]!.writer, 'addon');
  assert.equal(readdirSync('/dev/shm').filter((f) => f.startsWith(`mdfan-bench-events-${process.pid}`)), []);
});

test.run();
