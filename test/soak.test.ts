/**
 * `mdfan soak`, short: one turn of every phase (torture in threads, processes and C; kill -9
 * rounds with takeovers; ITCH, segment, MoldUDP64, scenario, control-plane and NATS-record fuzzing), a clean report, nothing
 * left behind. The long runs and their figures are in docs/RELIABILITY.md.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnMdfan } from '../lib/child.js';

const dir = mkdtempSync(join(tmpdir(), 'mdfan-soak-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('a short soak: every phase runs, nothing torn, no crash, no kill missed, nothing left behind', async () => {
  const json = join(dir, 'soak.json');
  const c = spawnMdfan('soak', ['soak', '--minutes', '0.05', '--seed', '7', '--json', json]);
  const e = await c.exited;
  assert.is(e.code, 0, c.stderr() + c.stdout.join('\n'));
  const r = JSON.parse(readFileSync(json, 'utf8'));
  assert.is(r.seed, 7);
  assert.ok(r.reads_by.torture_js_native >= 3_000_000, `torture reads ${r.reads_by.torture_js_native}`);
  assert.ok(r.reads_by.c_reader > 0 && r.reads_by.during_kills > 0, JSON.stringify(r.reads_by));
  assert.is(r.torn_returned, 0, r.first_torn);
  assert.ok(r.retries > 0, 'the readers raced the writer');
  assert.is(r.kill_rounds, 25);
  assert.is(r.takeovers, 24);
  assert.is(r.missed_deaths, 0);
  for (const k of ['itch', 'segment', 'mold', 'scenario', 'control', 'nats']) assert.ok(r.fuzz[k].cases > 0, k);
  assert.is(r.crashes, 0, r.first_crash);
  assert.equal(r.leaked_segments, []);
  assert.is(r.leaked_fds, 0);
  assert.equal(readdirSync('/dev/shm').filter((f) => f.startsWith(`mdfan-soak-${c.pid}-`)), []);
});

test.run();
