/**
 * `mdfan soak`, short: one turn of every phase (torture in threads, processes and C; kill -9
 * rounds with standby writers and takeovers; ITCH, segment, MoldUDP64, scenario, control-plane,
 * NATS-record, Binance payload and capture, and DBN fuzzing in the fuzz workers), a clean report,
 * where the time went, nothing left behind. The long runs and their figures are in docs/RELIABILITY.md.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { hasNatsServer } from '../bench/nats-server.js';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnMdfan } from '../lib/child.js';
import { KILL_ROUNDS_PER_TURN } from '../scenarios/soak/phase-kills.js';
import { FUZZERS } from '../scenarios/soak/totals.js';

const dir = mkdtempSync(join(tmpdir(), 'mdfan-soak-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('a short soak: every phase runs, nothing torn, no crash, no kill missed, nothing left behind', async () => {
  const json = join(dir, 'soak.json');
  const c = spawnMdfan('soak', ['soak', '--minutes', '0.05', '--seed', '7', '--json', json]);
  const e = await c.exited;
  assert.is(e.code, 0, c.stderr() + c.stdout.join('\n'));
  const r = JSON.parse(readFileSync(json, 'utf8'));
  assert.is(r.seed, 7);
  assert.is(r.turns, 1);
  assert.ok(r.reads_by.torture_js_native >= 3_000_000, `torture reads ${r.reads_by.torture_js_native}`);
  assert.ok(r.reads_by.c_reader > 0 && r.reads_by.during_kills > 0, JSON.stringify(r.reads_by));
  assert.is(r.torn_returned, 0, r.first_torn);
  assert.ok(r.retries > 0, 'the readers raced the writer');
  assert.is(r.kill_rounds, KILL_ROUNDS_PER_TURN);
  assert.is(r.takeovers, KILL_ROUNDS_PER_TURN - 1);
  assert.is(r.missed_deaths, 0);
  assert.equal(r.fuzz_skipped, {}, 'the shared Binance and DBN data are there');
  for (const k of FUZZERS) assert.ok(r.fuzz[k].cases > 0 && r.fuzz[k].us_per_case > 0, k);
  // The new venues' fuzzers reached every kind of outcome: payloads decoded and refused, capture
  // files clean, cut and refused with a line named, DBN files clean and refused.
  const binance = r.fuzz.binance.outcomes;
  for (const k of ['accepted', 'snapshot', 'malformed_not_json', 'malformed_bad_field', 'capture_clean', 'capture_cut', 'MDFAN_ERR_FEED_CORRUPT']) assert.ok(binance[k] > 0, `binance ${k}: ${JSON.stringify(binance)}`);
  for (const k of ['clean', 'MDFAN_ERR_FEED_CORRUPT']) assert.ok(r.fuzz.dbn.outcomes[k] > 0, `dbn ${k}: ${JSON.stringify(r.fuzz.dbn.outcomes)}`);
  assert.is(r.crashes, 0, r.first_crash);
  assert.is(r.hangs, 0);
  if (hasNatsServer) {
    // The first turn runs a bridge round: the server and the origin killed and restarted, the mirror stale in between and equal after.
    assert.equal([r.bridge.rounds, r.bridge.server_restarts, r.bridge.origin_restarts, r.bridge.stale_seen, r.bridge.equal_after, r.bridge.failures], [1, 1, 1, 1, 1, 0], JSON.stringify(r.bridge));
  } else console.log('  (skipped: the bridge round; nats-server is not installed)');
  for (const p of ['torture', 'c_reader', 'kills', 'fuzz']) assert.ok(r.phases[p].seconds > 0 && r.phases[p].cpu_seconds >= 0, `phase ${p}: ${JSON.stringify(r.phases)}`);
  assert.ok(r.per_hour.kill_rounds > 0 && r.cores_used > 0, JSON.stringify(r.per_hour));
  assert.equal(r.leaked_segments, []);
  assert.is(r.leaked_fds, 0);
  assert.equal(readdirSync('/dev/shm').filter((f) => f.startsWith(`mdfan-soak-${c.pid}-`)), []);
});

test.run();
