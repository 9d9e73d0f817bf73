/**
 * The SDK as a strategy author meets it: the symbol and price scale of a changed slot without
 * searching (never stale: a slot poll() reports is in the directory), prices in currency units,
 * waiting for a symbol to appear; `mdfan read` says at once what it waits for, and names the
 * symbols a segment never listed.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SegmentWriter } from '../native/segment/index.js';
import { BookReader, WaitResult } from '../workers/index.js';
import { LogEvent } from '../lib/log.js';
import { binPath } from './helpers/paths.js';
import { killAll, startNode } from './helpers/procs.js';
import { cleanupSegments, segName } from './helpers/segments.js';
import { ITCH_SPEC, specOf } from '../native/segment/directory.js';

test.after.each(() => {
  killAll();
  cleanupSegments();
});

const book = (bid: number) => ({ bidCount: 1, askCount: 0, bids: new Float64Array([bid, 1, 1]), asks: new Float64Array(3) });

test('symbolOf / priceScaleOf / priceOf for a slot poll() reports, even one announced after the reader attached', async () => {
  const name = segName('ergo');
  const w = SegmentWriter.open({ name, maxInstruments: 4, levels: 1 });
  try {
    w.addInstrument('GOOG', 1, ITCH_SPEC);
    const r = await BookReader.attach(name, { wait: 'spin' });
    try {
      assert.is(r.symbolOf(0), 'GOOG');
      assert.is(r.symbolOf(3), undefined);
      // Announced and published between two polls: the directory is read before the slot is reported.
      const k = w.addInstrument('BRK.B', 2, specOf(2));
      w.publish(k, book(41_250), 1, 0);
      const out = new Int32Array(4);
      const n = r.poll(out);
      assert.equal([...out.subarray(0, n)], [k]);
      assert.is(r.symbolOf(k), 'BRK.B');
      assert.is(r.priceScaleOf(k), 100);
      assert.is(r.priceOf(k, 41_250), 412.5);
      assert.is(r.priceOf(0, 5_853_300), 585.33);
      assert.throws(() => r.priceOf(3, 1), (e: Error & { code?: string }) => e.code === "MDFAN_ERR_NO_INSTRUMENT", "no instrument there");
      // A crypto instrument: prices and sizes at 8 decimals, past 2^32 in the slot.
      const btc = w.addInstrument('binance-spot:BTCUSDT', 3, specOf(8, 8));
      w.publish(btc, { bidCount: 1, askCount: 0, bids: new Float64Array([6_183_763_000_000, 55_463_987_000, 0]), asks: new Float64Array(3) }, 2, 0);
      assert.is(r.symbolOf(btc), 'binance-spot:BTCUSDT');
      const b = r.newSnapshot();
      r.read(btc, b);
      assert.equal([b.bidPrice(0), b.bidSize(0)], [6_183_763_000_000, 55_463_987_000]);
      assert.is(r.priceOf(btc, b.bidPrice(0)), 61837.63);
      assert.is(r.sizeOf(btc, b.bidSize(0)), 554.63987);
      assert.is(r.sizeOf(0, 300), 300, 'whole shares stay whole');
    } finally {
      r.close();
    }
  } finally {
    w.close({ unlink: true });
  }
});

test('a reader watching symbols: poll(), changed() and next() see their slots only, one announced later included, and watch(null) sees all again', async () => {
  const name = segName('watch');
  const w = SegmentWriter.open({ name, maxInstruments: 8, levels: 1 });
  try {
    const a = w.addInstrument('AAA', 1, ITCH_SPEC);
    const b = w.addInstrument('BBB', 2, ITCH_SPEC);
    const r = await BookReader.attach(name, { wait: 'spin', symbols: ['BBB', 'LATE'] });
    try {
      const out = new Int32Array(8);
      assert.equal([...(r.watchedSymbols ?? [])], ['BBB', 'LATE']);
      w.publish(a, book(100), 1, 0);
      assert.is(r.poll(out), 0, 'a change of AAA is not seen');
      assert.is(await r.next(20), 1, 'next() times out (TIMEOUT) on AAA alone');
      w.publish(b, book(200), 2, 0);
      assert.is(r.poll(out), 1);
      assert.is(out[0], b);
      const late = w.addInstrument('LATE', 3, ITCH_SPEC);
      w.publish(late, book(300), 3, 0);
      w.publish(a, book(101), 4, 0);
      assert.is(r.changed(out), 1, 'the late symbol is watched once announced; AAA still is not');
      assert.is(out[0], late);
      r.watch(null);
      w.publish(a, book(102), 5, 0);
      assert.is(r.poll(out), 1, 'watching all again');
      assert.is(out[0], a);
    } finally {
      r.close();
    }
  } finally {
    w.close({ unlink: true });
  }
});

test('a reader watching one symbol waits on its slot\'s own seq: every book read, others change, next() times out', async () => {
  const name = segName('watch-own');
  const w = SegmentWriter.open({ name, maxInstruments: 4, levels: 1 });
  try {
    for (const sym of ['AAA', 'BBB', 'CCC', 'DDD']) w.addInstrument(sym, 1, ITCH_SPEC);
    // Slot k published k + 1 times: every slot's seq differs from every other's, so a wait that
    // compares the watched slot with another slot's remembered seq sees a change that is not there.
    let seqNo = 1;
    for (let k = 0; k < 4; k++) for (let n = 0; n <= k; n++) w.publish(k, book(100 + n), seqNo++, 0);
    const r = await BookReader.attach(name, { wait: 'spin', symbols: ['CCC'] });
    try {
      const watched = r.find('CCC');
      assert.is(watched, 2, 'the watched slot is not the first of the watch list\'s indices');
      const snap = r.newSnapshot();
      const seqs: number[] = [];
      for (let k = 0; k < 4; k++) {
        r.read(k, snap);
        seqs.push(snap.seq);
      }
      assert.is(new Set(seqs).size, 4, `every slot's seq differs: ${seqs}`);
      const out = new Int32Array(4);
      assert.is(r.changed(out), 0, 'nothing of CCC changed since it was read');
      // Only the other symbols change: the watched book does not.
      for (const k of [0, 1, 3]) w.publish(k, book(200 + k), seqNo++, 0);
      assert.is(await r.next(50), WaitResult.TIMEOUT, 'next() on CCC alone times out');
      assert.is(r.waitSync(20), WaitResult.TIMEOUT, 'waitSync() on CCC alone times out');
      w.publish(watched, book(300), seqNo++, 0);
      assert.is(await r.next(10_000), WaitResult.UPDATED, 'a change of CCC is seen');
      assert.is(r.changed(out), 1);
      assert.is(out[0], watched);
    } finally {
      r.close();
    }
  } finally {
    w.close({ unlink: true });
  }
});

test('waitFor(symbol) resolves with its slot once announced, and rejects naming the symbol after the timeout', async () => {
  const name = segName('waitfor');
  const w = SegmentWriter.open({ name, maxInstruments: 2, levels: 1 });
  try {
    const r = await BookReader.attach(name, { wait: 'yield' });
    try {
      const pending = r.waitFor('LATE', 10_000); // looks once now, finds nothing, then polls
      w.addInstrument('LATE', 7, ITCH_SPEC); // announced while the reader waits
      assert.is(await pending, 0);
      let err: unknown;
      try {
        await r.waitFor('NEVER', 30);
      } catch (e) {
        err = e;
      }
      assert.is((err as { code?: string })?.code, 'MDFAN_ERR_NOT_READY');
      assert.match(String((err as Error).message), 'symbol NEVER did not appear');
    } finally {
      r.close();
    }
  } finally {
    w.close({ unlink: true });
  }
});

test('mdfan read says at once that it waits for a segment and for how long; at the end it names the symbols never listed', async () => {
  const name = segName('waitmsg');
  const r = startNode(binPath, ['read', '--segment', name, '--timeout', '20', '--symbols', 'AAA,ZZZ', '--duration', '30']);
  const waiting = await r.event(LogEvent.READER_WAITING, 20_000);
  assert.is(waiting.segment, name);
  assert.is(waiting.timeoutS, 20);
  const w = SegmentWriter.open({ name, maxInstruments: 2, levels: 1 });
  try {
    w.addInstrument('AAA', 1, ITCH_SPEC);
    await r.event(LogEvent.READER_ATTACHED, 20_000);
    w.publish(0, book(100), 1, 0);
    w.close(); // CLOSED: the reader ends
    const unknown = await r.event(LogEvent.SYMBOLS_UNKNOWN, 20_000);
    assert.equal(unknown.symbols, ['ZZZ']);
    assert.is((await r.exited).code, 0, r.stderr());
  } finally {
    w.close({ unlink: true });
  }
});

test.run();
