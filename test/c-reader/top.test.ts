/** --top: the top-of-book lines (ABI 1.2), once, followed, asleep on their futex word, gone, and across a takeover. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ChildProcess } from 'node:child_process';
import { SegmentWriter, abi, topsName, unlinkSegment } from '../../native/segment/index.js';
import { cleanupSegments, segName } from '../helpers/segments.js';
import { waitUntil } from '../helpers/wait.js';
import { type Side, asleep, buildReader, childWriter, children, dumpLine, errorLine, killChildren, levelSource, runReader } from './reader.js';
import { ITCH_SPEC, specOf } from '../../native/segment/directory.js';
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
      { symbol: 'AAPL', msgIndex: 2 ** 40 + 7, bids: [[4294967295, 4294967295, 1], [5, 5, 5]], asks: [[4294967294, 10, 2], [4294967295, 11, 1]] },
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

test('--top on a segment whose top lines are gone: MDFAN_ERR_NO_SEGMENT "were removed" (the header names them), "has no top-of-book lines" for a 1.1 header, exit 2', async () => {
  const name = segName('ctopnone');
  const w = SegmentWriter.open({ name, maxInstruments: 1, levels: 1 });
  try {
    w.addInstrument('AAPL', 1, ITCH_SPEC);
    unlinkSegment(topsName(name));
    const gone = await runReader([name, '--top', '--timeout-ms', '0']);
    assert.is(gone.code, 2, gone.stderr);
    assert.match(errorLine(gone), new RegExp(`^MDFAN_ERR_NO_SEGMENT: segment ${name}'s top-of-book lines \\(${name}\\.tops\\) were removed`));
    w.map.dv.setUint16(abi.HDR.abi_minor.offset, 1, true); // as a 1.1 writer would leave it
    const r = await runReader([name, '--top', '--timeout-ms', '0']);
    assert.is(r.code, 2, r.stderr);
    assert.match(errorLine(r), new RegExp(`^MDFAN_ERR_NO_SEGMENT: segment ${name} has no top-of-book lines \\(${name}\\.tops\\)`));
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
