/** --top: the top-of-book lines, once, followed, ahead of the book, asleep on their futex word, gone, and across a takeover. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ChildProcess } from 'node:child_process';
import { ITCH_SPEC, SegmentWriter, abi, specOf, topsName, unlinkSegment } from '../../native/segment/index.js';
import { cleanupSegments, segName } from '../helpers/segments.js';
import { waitUntil } from '../helpers/wait.js';
import { type Side, asleep, buildReader, childWriter, children, dumpLine, errorLine, killChildren, levelSource, runReader } from './reader.js';
test.before(buildReader);
test.after.each(() => {
  cleanupSegments();
});
test.after(killChildren);

test('--top prints level 0 of every book from the top lines (both sides, one side, never published), and --symbol', async () => {
  const name = segName('ctop');
  const levels = 5;
  const w = SegmentWriter.open({ name, maxInstruments: 4, levels });
  try {
    const books: Array<{ symbol: string; msgIndex: number; bids: Side; asks: Side }> = [
      // past u32 up to 2^53 - 1, and a negative price
      { symbol: 'AAPL', msgIndex: 2 ** 40 + 7, bids: [[-6200012345678, Number.MAX_SAFE_INTEGER, 1], [-6200012345679, 5, 5]], asks: [[Number.MAX_SAFE_INTEGER, 55463987000, 2], [Number.MAX_SAFE_INTEGER, 11, 1]] },
      { symbol: 'GOOG', msgIndex: 3, bids: [[5794000, 496, 4], [5787000, 400, 2]], asks: [] },
      { symbol: 'IBM', msgIndex: 99, bids: [], asks: [[1450000, 300, 1]] },
    ];
    const index = new Map<string, number>();
    for (const b of books) index.set(b.symbol, w.addInstrument(b.symbol, index.size + 1, ITCH_SPEC));
    w.addInstrument('NEVER', 9, ITCH_SPEC);
    w.publish(index.get('AAPL')!, levelSource(levels, [[1, 1, 1]], [[2, 2, 2]]), 1, 0); // replaced below
    for (const b of books) w.publish(index.get(b.symbol)!, levelSource(levels, b.bids, b.asks), b.msgIndex, 5);
    const expected = [...books.map((b) => dumpLine(b.msgIndex, b.symbol, 1, b.bids, b.asks)), dumpLine(0, 'NEVER', 1, [], [])];
    const all = await runReader([name, '--top']);
    assert.is(all.code, 0, all.stderr);
    assert.equal(all.lines, expected);
    assert.match(all.stderr, /^retries=0 reads=4$/m);
    const one = await runReader([name, '--top', '--symbol', 'IBM']);
    assert.is(one.code, 0, one.stderr);
    assert.equal(one.lines, [expected[2]]);
  } finally {
    w.close({ unlink: true });
  }
});

test('--top --follow --wait block: asleep on the tops futex word (SLEEPING_TOP), a change below the top prints nothing, a top change wakes it; exits at CLOSED', async () => {
  const name = segName('ctopblock');
  const w = SegmentWriter.open({ name, maxInstruments: 1, levels: 2 });
  assert.ok(await w.startControl()); // readers get the registry's descriptor over it
  let child: ChildProcess | undefined;
  const lines: string[] = [];
  try {
    const k = w.addInstrument('AAPL', 1, ITCH_SPEC);
    w.publish(k, levelSource(2, [[100, 1, 1], [99, 1, 1]], [[101, 2, 1]]), 1, 0);
    w.wakeIfSleepers(); // as the feed after each message: this top change is accounted for
    // A sleep of up to 60 s: only the top wake-up can bring the next line before CLOSED.
    const run = runReader([name, '--top', '--follow', '5', '--wait', 'block', '--sleep-ms', '60000'], {
      onLine: (line) => lines.push(line),
      onSpawn: (c) => (child = c),
    });
    await waitUntil(() => lines.length === 1, 10_000, { what: 'the first top' });
    const pid = child!.pid!;
    await waitUntil(() => w.registry.topSleepers() === 1 && w.registry.sleepers() === 0 && asleep(pid), 10_000, {
      what: 'the reader asleep on the top word (registry top_sleepers 1, process state S)',
    });
    w.publish(k, levelSource(2, [[100, 1, 1], [98, 7, 1]], [[101, 2, 1]]), 2, 0); // below the top only
    w.wakeIfSleepers();
    assert.is(w.wakeups, 0); // no top changed: the top sleeper is left asleep
    w.publish(k, levelSource(2, [[100, 5, 2], [98, 7, 1]], [[101, 2, 1]]), 3, 0); // the top's size
    w.wakeIfSleepers();
    assert.is(w.wakeups, 1);
    await waitUntil(() => lines.length === 2, 10_000, { what: 'the changed top, after the wake-up' });
    await waitUntil(() => w.registry.topSleepers() === 1 && asleep(pid), 10_000, { what: 'the reader asleep again' });
    w.close(); // CLOSED wakes every sleeper
    const r = await run;
    assert.is(r.code, 0, r.stderr);
    assert.equal(r.lines, ['1,AAPL,101,2,100,1', '3,AAPL,101,2,100,5']);
  } finally {
    child?.kill('SIGKILL');
    w.close({ unlink: true });
  }
});

test('--top shows a best bid/offer committed alone, newer than the book: the line runs ahead of the slot until a newer book commits both', async () => {
  const name = segName('ctopahead');
  const w = SegmentWriter.open({ name, maxInstruments: 1, levels: 2 });
  try {
    const k = w.addInstrument('BTCUSDT', 1, specOf(8, 8, 1e6));
    const bids: Side = [[6200000000000, 100000000, 0], [6199900000000, 2, 0]];
    const asks: Side = [[6200100000000, 55463987000, 0]];
    w.publish(k, levelSource(2, bids, asks), 1, 1_700_000_000_000);
    w.publishTop(k, 6200050000000, 7, 6200060000000, 8, 2, 1_700_000_000_001); // a faster ticker: the book untouched
    const ahead = ['2,BTCUSDT,6200060000000,8,6200050000000,7'];
    const book = [dumpLine(1, 'BTCUSDT', 2, bids, asks)];
    assert.equal((await runReader([name, '--top'])).lines, ahead);
    assert.equal((await runReader([name])).lines, book);
    // A depth update older than the ticker shown: the book only, the line keeps the newer top.
    const older: Side = [[6200000000000, 3, 0]];
    w.publish(k, levelSource(2, older, asks), 3, 1_700_000_000_000, 0, abi.COMMIT_BOOK_ONLY);
    assert.equal((await runReader([name, '--top'])).lines, ahead);
    assert.equal((await runReader([name])).lines, [dumpLine(3, 'BTCUSDT', 2, older, asks)]);
    // A newer one: both, the line from the book again.
    w.publish(k, levelSource(2, bids, asks), 4, 1_700_000_000_002);
    assert.equal((await runReader([name, '--top'])).lines, [dumpLine(4, 'BTCUSDT', 1, bids, asks)]);
  } finally {
    w.close({ unlink: true });
  }
});

test('--top on a segment whose top lines are gone: MDFAN_ERR_NO_SEGMENT "were removed" (the header names them), "has no top-of-book lines" when the header names none, exit 2', async () => {
  const name = segName('ctopnone');
  const w = SegmentWriter.open({ name, maxInstruments: 1, levels: 1 });
  try {
    w.addInstrument('AAPL', 1, ITCH_SPEC);
    unlinkSegment(topsName(name));
    const gone = await runReader([name, '--top', '--timeout-ms', '0']);
    assert.is(gone.code, 2, gone.stderr);
    assert.match(errorLine(gone), new RegExp(`^MDFAN_ERR_NO_SEGMENT: segment ${name}'s top-of-book lines \\(${name}\\.tops\\) were removed`));
    const companions = w.map.dv.getUint32(abi.HDR.companions.offset, true);
    w.map.dv.setUint32(abi.HDR.companions.offset, companions & ~abi.COMPANION_TOPS, true); // a header that names no lines
    const r = await runReader([name, '--top', '--timeout-ms', '0']);
    assert.is(r.code, 2, r.stderr);
    assert.match(errorLine(r), new RegExp(`^MDFAN_ERR_NO_SEGMENT: segment ${name} has no top-of-book lines \\(${name}\\.tops\\): its writer keeps none`));
    assert.equal(r.lines, []);
    const both = await runReader([name, '--top', '--events', '1']);
    assert.is(both.code, 2, both.stderr);
    assert.match(errorLine(both), /^MDFAN_ERR_OPTIONS: --top and --events exclude each other$/);
  } finally {
    w.close({ unlink: true });
  }
});

test('--top --follow follows a takeover: the dead writer\'s top, then the new writer\'s lines', async () => {
  const name = segName('ctoptake');
  const writer = childWriter(name, { maxInstruments: 2, symbol: 'OLD', msgIndex: 9 });
  const lines: string[] = [];
  let w: SegmentWriter | undefined;
  try {
    await writer.line(/^ready$/, 20_000);
    const run = runReader([name, '--top', '--follow', '2', '--timeout-ms', '30000'], { onLine: (l) => lines.push(l) });
    await waitUntil(() => lines.length === 1, 10_000, { what: 'the first writer\'s top' });
    await writer.kill(); // SIGKILL: its lock is dropped, the segment stays READY
    children.delete(writer);
    w = SegmentWriter.open({ name, maxInstruments: 2, levels: 1 });
    assert.is(w.outcome, 'takeover');
    const k = w.addInstrument('NEW', 2, specOf(2));
    w.publish(k, levelSource(1, [], [[7, 3, 1]]), 10, 0);
    const r = await run;
    assert.is(r.code, 0, r.stderr);
    assert.equal(r.lines, ['9,OLD,9999999999,0,100,1', '10,NEW,7,3,-9999999999,0']);
  } finally {
    await writer.kill();
    w?.close({ unlink: true });
  }
});


test.run();
