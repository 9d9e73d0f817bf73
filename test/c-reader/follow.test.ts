/** --follow: a reader that waits for its writer, stops at CLOSED, notices a dead writer, and follows takeovers and replaced objects. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ChildProcess } from 'node:child_process';
import { ITCH_SPEC, SegmentWriter } from '../../native/segment/index.js';
import { cleanupSegments, segName, shmExists } from '../helpers/segments.js';
import { waitUntil } from '../helpers/wait.js';
import { asleep, buildReader, childWriter, children, dumpLine, errorLine, killChildren, levelSource, runReader } from './reader.js';
test.before(buildReader);
test.after.each(() => {
  cleanupSegments();
});
test.after(killChildren);

test('a reader started before the writer waits for it, then prints its first commit', async () => {
  const name = segName('cwait');
  const run = runReader([name, '--symbol', 'AAPL', '--follow', '1', '--timeout-ms', '30000']);
  const w = SegmentWriter.open({ name, maxInstruments: 1, levels: 2 });
  try {
    const k = w.addInstrument('AAPL', 1, ITCH_SPEC);
    w.publish(k, levelSource(2, [[100, 1, 1]], [[101, 2, 1]]), 77, 0);
    const r = await run;
    assert.is(r.code, 0, r.stderr);
    assert.equal(r.lines, [dumpLine(77, 'AAPL', 2, [[100, 1, 1]], [[101, 2, 1]])]);
  } finally {
    w.close({ unlink: true });
  }
});

test('--follow stops at CLOSED after printing every commit made before it', async () => {
  const name = segName('cclose');
  const w = SegmentWriter.open({ name, maxInstruments: 1, levels: 1 });
  const k = w.addInstrument('AAPL', 1, ITCH_SPEC);
  try {
    w.publish(k, levelSource(1, [[100, 1, 1]], []), 1, 0);
    const r = await runReader([name, '--follow', '1000'], {
      onLine: (line) => {
        if (line.startsWith('1,') && !w.closed) {
          w.publish(k, levelSource(1, [], [[101, 1, 1]]), 2, 0);
          w.close(); // CLOSED after the second commit: the reader must print it, then stop
        }
      },
    });
    assert.is(r.code, 0, r.stderr);
    assert.equal(r.lines, ['1,AAPL,9999999999,0,100,1', '2,AAPL,101,1,-9999999999,0']);
    assert.match(r.stderr, /^retries=\d+ reads=2$/m);
  } finally {
    w.close({ unlink: true });
  }
});

test('--follow reports MDFAN_ERR_WRITER_DEAD when the writer dies without closing', async () => {
  const name = segName('cdead');
  // A writer in its own process, killed with SIGKILL: the kernel drops its lock, state stays READY.
  const writer = childWriter(name, { maxInstruments: 1, symbol: 'AAPL', msgIndex: 9 });
  await writer.line(/^ready$/, 20_000);
  await writer.kill();
  children.delete(writer);
  assert.ok(shmExists(name)); // the dead writer's segment is still there, READY
  const r = await runReader([name, '--follow', '5', '--timeout-ms', '100']);
  assert.is(r.code, 3, r.stderr);
  assert.equal(r.lines, ['9,AAPL,9999999999,0,100,1']); // what was published stays readable
  assert.match(errorLine(r), new RegExp(`^MDFAN_ERR_WRITER_DEAD: segment ${name}: writer pid ${writer.pid} is gone`));
});

// ---- --top: the top-of-book lines (mdfan_tops.h) ------------------------------------------------

test('--follow --wait block across a takeover: the reader claims a line in the new writer\'s registry and is woken by it', async () => {
  const name = segName('cblocktake');
  const writer = childWriter(name, { maxInstruments: 1, symbol: 'AAA', msgIndex: 1, control: true });
  const lines: string[] = [];
  let child: ChildProcess | undefined;
  let w: SegmentWriter | undefined;
  try {
    await writer.line(/^ready$/, 20_000);
    // A futex sleep of up to 60 s: only the new writer's wake-up brings the second line in time.
    const run = runReader([name, '--follow', '5', '--wait', 'block', '--sleep-ms', '60000', '--timeout-ms', '60000'], { onLine: (l) => lines.push(l), onSpawn: (c) => (child = c) });
    await waitUntil(() => lines.length === 1, 10_000, { what: 'the first writer\'s book' });
    await writer.kill();
    children.delete(writer);
    w = SegmentWriter.open({ name, maxInstruments: 1, levels: 1 });
    assert.is(w.outcome, 'takeover');
    assert.ok(await w.startControl());
    const k = w.addInstrument('AAA', 1, ITCH_SPEC);
    w.wakeIfSleepers(); // the takeover's own commits
    const pid = child!.pid!;
    await waitUntil(() => w!.registry.sleepers() === 1 && asleep(pid), 20_000, { what: 'the reader asleep in the new writer\'s registry' });
    w.publish(k, levelSource(1, [[200, 2, 1]], []), 7, 0);
    w.wakeIfSleepers();
    await waitUntil(() => lines.includes('7,AAA,9999999999,0,200,2'), 10_000, { what: 'the new writer\'s book, after its wake-up' });
    w.close(); // CLOSED ends the reader
    const r = await run;
    assert.is(r.code, 0, r.stderr);
    assert.is(r.lines[0], '1,AAA,9999999999,0,100,1');
    assert.is(r.lines[r.lines.length - 1], '7,AAA,9999999999,0,200,2');
    // Between them at most the takeover's empty placeholder book.
    for (const l of r.lines.slice(1, -1)) assert.match(l, /^\d+,AAA,9999999999,0,-9999999999,0$/);
  } finally {
    child?.kill('SIGKILL');
    await writer.kill();
    w?.close({ unlink: true });
  }
});

test('--follow follows the name when a new writer replaced the object by one of another layout (MDFAN_HEADER_REPLACED)', async () => {
  const name = segName('creplaced');
  const writer = childWriter(name, { maxInstruments: 1, symbol: 'AAA', msgIndex: 1 });
  const lines: string[] = [];
  let w: SegmentWriter | undefined;
  try {
    await writer.line(/^ready$/, 20_000);
    const run = runReader([name, '--follow', '2', '--timeout-ms', '30000'], { onLine: (l) => lines.push(l) });
    await waitUntil(() => lines.length === 1, 10_000, { what: 'the first writer\'s book' });
    await writer.kill();
    children.delete(writer);
    w = SegmentWriter.open({ name, maxInstruments: 2, levels: 2 }); // another layout: a new object
    assert.is(w.outcome, 'recreated');
    const k = w.addInstrument('BBB', 2, ITCH_SPEC);
    w.publish(k, levelSource(2, [[300, 3, 1], [299, 4, 1]], [[301, 5, 1]]), 9, 0);
    const r = await run;
    assert.is(r.code, 0, r.stderr);
    assert.equal(r.lines, ['1,AAA,9999999999,0,100,1', dumpLine(9, 'BBB', 2, [[300, 3, 1], [299, 4, 1]], [[301, 5, 1]])]);
  } finally {
    await writer.kill();
    w?.close({ unlink: true });
  }
});

// ---- --wait block: the reader registry and the futex word ------------------------------------


test.run();
