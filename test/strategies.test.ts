/** The strategy pool (`mdfan strategies`): merged report; a throwing and a hanging strategy. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { statSegment } from '../native/segment/stat.js';
import { GOOG_EVENTS, GOOG_ITCH } from './helpers/oracle.js';
import { gunzipSync } from 'node:zlib';
import { binPath } from './helpers/paths.js';
import { startNode, killAll, addonLoaded } from './helpers/procs.js';
import { segName, cleanupSegments } from './helpers/segments.js';
import { waitUntil } from './helpers/wait.js';
import { POOL_DEFAULTS, runPool } from '../workers/index.js';
import { resolveStrategy } from '../workers/pool/strategy.js';

const dir = mkdtempSync(join(tmpdir(), 'mdfan-pool-'));
const writerProc = new URL('./helpers/writer-proc.js', import.meta.url);
test.after.each(() => {
  killAll();
  cleanupSegments();
});
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('a pool of 2 spread monitors over the GOOG replay: merged histograms, per-worker counts, no crossed book', async () => {
  const name = segName('pool');
  const json = join(dir, 'pool.json');
  // block: two spinning workers plus the feed would be three busy threads on 2 cores.
  const pool = startNode(binPath, ['strategies', '--segment', name, '--workers', '2', '--strategy', 'spread-monitor', '--wait', 'block', '--json', json]);
  // The pool starts first and waits for the segment the feed creates. Its workers poll from
  // their own threads, which nothing outside the pool can see before they attach: wait for the
  // pool process to be loaded; its threads start while the feed (a new process) starts up, and a
  // worker that attached late would fail the updates check below.
  await waitUntil(() => addonLoaded(pool.child.pid), 20_000, { what: 'the pool process to load' });
  // Paced to ~1 s (not max speed: on 2 cores a spinning worker can be descheduled for the whole
  // 0.1 s of a max-speed replay, and this test is about the pool, not about the burst).
  const feed = startNode(binPath, ['feed', '--source', `itch:${GOOG_ITCH}`, '--segment', name, '--speed', '25000', '--max-gap', '0.01']);
  assert.is((await feed.exited).code, 0, feed.stderr());
  assert.is((await pool.exited).code, 0, pool.stderr());
  const r = JSON.parse(readFileSync(json, 'utf8'));
  assert.is(r.workers.length, 2);
  for (const w of r.workers) {
    assert.is(w.status, 'ok');
    assert.ok(w.updates > 1000, `worker ${w.worker}: ${w.updates} updates`);
    assert.is(w.summary.crossed, 0);
    assert.is(w.summary.books, w.updates);
    for (const k of ['p50', 'p90', 'p99', 'p999', 'max']) assert.ok(w.latency_ns[k] > 0, k);
  }
  assert.is(r.merged.updates, r.workers[0].updates + r.workers[1].updates);
  // Every book published after a worker attached is a latency sample; books already there when
  // it attached are read but are no sample.
  assert.ok(r.merged.latency_ns.count <= r.merged.updates && r.merged.latency_ns.count > 1000, `${r.merged.latency_ns.count} samples of ${r.merged.updates} updates`);
  assert.ok(r.merged.latency_ns.p50 <= r.merged.latency_ns.p99 && r.merged.latency_ns.p99 <= r.merged.latency_ns.max);
});

test('strategies that take events: every worker sees every trade of the GOOG day (onTrade) and every event (onEvent), none lost', async () => {
  const name = segName('pool-events');
  const json = join(dir, 'events.json');
  const strategy = fileURLToPath(new URL('./helpers/trade-strategy.js', import.meta.url));
  const pool = startNode(binPath, ['strategies', '--segment', name, '--workers', '2', '--strategy', strategy, '--wait', 'yield', '--json', json, '--timeout', '30']);
  await waitUntil(() => addonLoaded(pool.child.pid), 20_000, { what: 'the pool process to load' });
  const feed = startNode(binPath, ['feed', '--source', `itch:${GOOG_ITCH}`, '--segment', name]);
  assert.is((await feed.exited).code, 0, feed.stderr());
  const published = Number(/, (\d+) events/.exec(feed.run.stdout.join('\n'))?.[1]);
  assert.ok(published > 150_000, `${published} events published`);
  assert.is((await pool.exited).code, 0, pool.stderr());
  // The oracle's trades: every trade of the file, from an independent decoder.
  const oracleTrades = gunzipSync(readFileSync(GOOG_EVENTS)).toString('latin1').trim().split('\n').filter((l) => l.split(',')[2] === 'T');
  const oracleShares = oracleTrades.reduce((a, l) => a + Number(l.split(',')[4]), 0);
  const r = JSON.parse(readFileSync(json, 'utf8'));
  for (const w of r.workers) {
    assert.is(w.status, 'ok', JSON.stringify(w));
    // A worker may attach after the first events; it starts at the oldest one, still in the ring.
    assert.equal(w.events, { delivered: published, lost: 0 }, `worker ${w.worker}`);
    assert.equal({ trades: w.summary.trades, shares: w.summary.shares, events: w.summary.events, lost: w.summary.lost }, { trades: oracleTrades.length, shares: oracleShares, events: published, lost: 0 });
  }
});

test('a strategy that throws and one that hangs are reported; the other worker and the writer go on', async () => {
  const name = segName('badpool');
  const json = join(dir, 'bad.json');
  const bad = fileURLToPath(new URL('./helpers/bad-strategy.js', import.meta.url));
  // The writer first, publishing only when told: the workers attach (each announces itself on its
  // control socket) before the first book, so each sees the books it misbehaves at.
  const w = startNode(writerProc, ['gated-ticker', name, '2', '1']);
  await w.line(/^ready/);
  const pool = startNode(binPath, ['strategies', '--segment', name, '--workers', '3', '--strategy', bad, '--wait', 'yield', '--hang-ms', '500', '--json', json]);
  await waitUntil(() => statSegment(name).counters.reader_attaches >= 3, 20_000, { what: 'the three pool workers to attach' });
  w.child.kill('SIGUSR2');
  await w.line(/^closed/); // the writer published all 50 books, unaffected
  assert.is((await pool.exited).code, 1, 'a failed strategy makes the run fail');
  const r = JSON.parse(readFileSync(json, 'utf8'));
  const byWorker = new Map(r.workers.map((x: { worker: number }) => [x.worker, x]));
  const w0 = byWorker.get(0) as { status: string; error: string };
  const w1 = byWorker.get(1) as { status: string; error: string };
  const w2 = byWorker.get(2) as { status: string; updates: number; summary: { books: number } };
  assert.is(w0.status, 'error');
  assert.match(w0.error, 'boom: strategy bug');
  assert.is(w1.status, 'hung');
  assert.match(w1.error, 'no progress for 500 ms');
  assert.is(w2.status, 'ok');
  assert.ok(w2.updates >= 5, `the healthy worker saw ${w2.updates} updates`);
});

test('the pool survives a writer death: reported per worker, then a new writer (takeover) is read to its close', async () => {
  const name = segName('pooldeath');
  const json = join(dir, 'death.json');
  const w1 = startNode(writerProc, ['serve', name, '2', '1']);
  await w1.line(/^ready 1/);
  // The spread monitor, saying on stdout when a worker has attached and when it hears of a death.
  const probe = fileURLToPath(new URL('./helpers/probe-strategy.js', import.meta.url));
  const pool = startNode(binPath, ['strategies', '--segment', name, '--workers', '2', '--strategy', probe, '--wait', 'block', '--json', json]);
  const said = (line: string): number => pool.run.stdout.filter((l) => l === line).length;
  await waitUntil(() => said('probe attached') >= 2, 20_000, { what: 'both pool workers to attach' });
  w1.child.kill('SIGKILL');
  await w1.exited;
  // Both workers report the death (lock free, or heartbeat silent) before a new writer takes over.
  await waitUntil(() => said('probe stale 0') > 0 && said('probe stale 1') > 0, 20_000, { what: 'both pool workers to report the dead writer' });
  const w2 = startNode(writerProc, ['ticker', name, '2', '1']);
  assert.match(await w2.line(/^ready/), 'ready 2 takeover');
  await w2.line(/^closed/);
  const code = (await pool.exited).code;
  const r = JSON.parse(readFileSync(json, 'utf8'));
  assert.is(code, 0, JSON.stringify(r.workers.map((w: { status: string; error?: string }) => [w.status, w.error])) + pool.stderr());
  for (const w of r.workers) {
    assert.is(w.status, 'ok');
    assert.is(w.writer_deaths, 1);
    assert.is(w.summary.stale_events, 1, 'onStale was called once');
    assert.ok(w.updates >= 5, `worker ${w.worker} read ${w.updates} books of the new writer`);
  }
});

test('an error in a worker keeps its stable code and facts across the thread boundary', async () => {
  const absent = segName('pool-absent');
  const report = await runPool(
    { segment: absent, workers: 2, strategyUrl: resolveStrategy('imbalance'), wait: 'yield', durationMs: 5000, timeoutMs: 200, hangMs: POOL_DEFAULTS.hangMs, pin: false, cpus: [0] },
    { requested: false },
  );
  assert.is(report.workers.length, 2);
  for (const w of report.workers) {
    assert.is(w.status, 'error', JSON.stringify(w));
    assert.is(w.error_code, 'MDFAN_ERR_NO_SEGMENT', JSON.stringify(w));
    assert.is(w.error_details?.segment, absent);
    assert.match(w.error ?? '', `MDFAN_ERR_NO_SEGMENT: segment ${absent} did not appear within 200 ms`);
  }
});

test.run();
