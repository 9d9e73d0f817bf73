/**
 * Seqlock torture: one writer thread commits self-checking payloads to one slot at full speed;
 * readers in worker threads (JavaScript and native read paths) and in a separate process read it
 * over a million times in all. Zero torn copies may be returned, and retries must be non-zero
 * (proof the readers really raced the writer).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tortureRound } from '../scenarios/soak/torture.js';
import { segName, cleanupSegments } from './helpers/segments.js';

test.after.each(cleanupSegments);

test('a million reads under a full-speed writer: zero torn copies, retries > 0', async () => {
  const name = segName('torture');
  const { commits, readers: results } = await tortureRound(name, [
    { host: 'thread', path: 'js', reads: 350_000 },
    { host: 'thread', path: 'native', reads: 300_000 },
    { host: 'process', path: 'js', reads: 250_000 },
    { host: 'process', path: 'native', reads: 150_000 },
  ]);
  const reads = results.reduce((a, r) => a + r.reads, 0);
  const retries = results.reduce((a, r) => a + r.retries, 0);
  for (const r of results) {
    assert.is(r.torn, 0, `${r.path} reader returned ${r.torn} torn copies; first: ${r.firstError}`);
    assert.is(r.backwards, 0, `${r.path} reader saw the slot go back in time`);
  }
  assert.ok(reads >= 1_000_000, `reads ${reads}`);
  assert.ok(retries > 0, `no retries in ${reads} reads: the test did not create contention`);
  assert.ok(commits > 10_000, `writer made only ${commits} commits`);
  assert.ok(results.every((r) => r.distinct >= 1000), `each reader must observe >= 1000 commits: ${results.map((r) => r.distinct)}`);
});

test('the check detects a torn copy (the torture test can fail)', async () => {
  const { check } = await import('../scenarios/soak/payload.js');
  const { BookSnapshot } = await import('../native/segment/index.js');
  const { fill, TORTURE_LEVELS } = await import('../scenarios/soak/payload.js');
  const s = new BookSnapshot(TORTURE_LEVELS);
  // Build commit 7 by hand in the snapshot's words, then tear one level from commit 8.
  const src = { bidCount: TORTURE_LEVELS, askCount: TORTURE_LEVELS, bids: new Float64Array(30), asks: new Float64Array(30) };
  fill(src, 7);
  s.words[0] = 14;
  s.words[2] = 7;
  s.words[4] = 21;
  s.words[8] = 10;
  s.words[9] = 10;
  s.words[10] = 7;
  s.words.set(src.bids, 16);
  s.words.set(src.asks, 16 + 30);
  assert.is(check(s), null);
  fill(src, 8);
  s.words[16 + 30 + 3] = src.asks[3];
  assert.match(String(check(s)), /ask level 1/);
});

test.run();
