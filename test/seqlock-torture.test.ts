/**
 * Seqlock torture: one writer thread commits self-checking payloads to one slot at full speed;
 * readers in worker threads (JavaScript and native read paths) and in a separate process read it
 * over a million times in all. Zero torn copies may be returned, and retries must be non-zero
 * (proof the readers really raced the writer).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tortureRound } from '../scenarios/soak/torture.js';
import { abi } from '../native/segment/index.js';
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
  // Build commit 7 by hand in the snapshot's words (the slot's 2.0 layout), then tear one level from commit 8.
  const src = { bidCount: TORTURE_LEVELS, askCount: TORTURE_LEVELS, bids: new Float64Array(30), asks: new Float64Array(30) };
  const dv = new DataView(s.words.buffer);
  const put = (at: number, lv: Float64Array, l: number): void => {
    dv.setBigInt64(at + abi.LEVEL.price.offset, BigInt(lv[l * 3]!), true);
    dv.setBigUint64(at + abi.LEVEL.size.offset, BigInt(lv[l * 3 + 1]!), true);
    dv.setUint32(at + abi.LEVEL.orders.offset, lv[l * 3 + 2]!, true);
  };
  fill(src, 7);
  dv.setUint32(abi.SLOT.seq.offset, 14, true);
  dv.setBigUint64(abi.SLOT.msg_index.offset, 7n, true);
  dv.setBigUint64(abi.SLOT.exchange_ts_ns.offset, 21n, true);
  dv.setUint32(abi.SLOT.bid_count.offset, 10, true);
  dv.setUint32(abi.SLOT.ask_count.offset, 10, true);
  dv.setBigUint64(abi.SLOT.update_count.offset, 7n, true);
  for (let l = 0; l < TORTURE_LEVELS; l++) {
    put(abi.SLOT_HEADER_BYTES + l * abi.LEVEL_BYTES, src.bids, l);
    put(abi.asksOffset(TORTURE_LEVELS) + l * abi.LEVEL_BYTES, src.asks, l);
  }
  s.decode();
  assert.is(check(s), null);
  fill(src, 8);
  // Only the high word of ask level 1's size from commit 8: a torn 64-bit field shows too.
  dv.setUint32(abi.asksOffset(TORTURE_LEVELS) + abi.LEVEL_BYTES + abi.LEVEL.size.offset + 4, Math.floor(src.asks[4]! / 2 ** 32), true);
  s.decode();
  assert.match(String(check(s)), /ask level 1/);
});

test.run();
