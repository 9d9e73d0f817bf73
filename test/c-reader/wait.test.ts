/** --wait block: asleep on the futex word with a line of the reader registry, woken by publishes and by CLOSED; without a registry it says so and spins. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ChildProcess } from 'node:child_process';
import { ITCH_SPEC, SegmentWriter } from '../../native/segment/index.js';
import { cleanupSegments, segName } from '../helpers/segments.js';
import { waitUntil } from '../helpers/wait.js';
import { asleep, buildReader, dumpLine, errorLine, killChildren, levelSource, runReader } from './reader.js';
test.before(buildReader);
test.after.each(() => {
  cleanupSegments();
});
test.after(killChildren);


test('--wait needs spin or block; the usage names the header constants behind the defaults', async () => {
  const r = await runReader(['whatever', '--wait', 'nap']);
  assert.is(r.code, 2, r.stderr);
  assert.match(errorLine(r), /^MDFAN_ERR_OPTIONS: --wait needs spin or block$/);
  assert.match(r.stderr, /--stale-ms defaults to MDFAN_STALE_AFTER_MS \(100\)/);
  assert.match(r.stderr, /--sleep-ms to MDFAN_HEARTBEAT_TIMEOUT_MS \(1000\)/);
});

test('--wait block: asleep on the futex, counted in the registry, woken by the next publish; its line is freed at exit', async () => {
  const name = segName('cblock');
  const w = SegmentWriter.open({ name, maxInstruments: 1, levels: 2 });
  assert.ok(await w.startControl()); // readers get the registry's descriptor over it
  let child: ChildProcess | undefined;
  const lines: string[] = [];
  try {
    const k = w.addInstrument('AAPL', 1, ITCH_SPEC);
    w.publish(k, levelSource(2, [[100, 1, 1]], [[101, 2, 1]]), 1, 0);
    // The reader's futex sleep lasts up to 60 s, far past every deadline below: only the wake-up
    // can bring the second book in time.
    const run = runReader([name, '--follow', '2', '--wait', 'block', '--sleep-ms', '60000'], {
      onLine: (line) => lines.push(line),
      onSpawn: (c) => (child = c),
    });
    await waitUntil(() => lines.length === 1, 10_000, { what: 'the first book' });
    const pid = child!.pid!;
    await waitUntil(() => w.registry.sleepers() === 1 && asleep(pid), 10_000, { what: 'the reader asleep (registry sleepers 1, process state S)' });
    assert.equal(w.registry.readers().filter((x) => x.pid === pid), [{ pid, sleeping: true }]);
    w.publish(k, levelSource(2, [[102, 3, 1]], [[103, 4, 1]]), 2, 0);
    w.wakeIfSleepers(); // as the feed does after each input message
    assert.is(w.wakeups, 1); // the writer saw the sleeper
    await waitUntil(() => lines.length === 2, 10_000, { what: 'the second book, after the wake-up' });
    const r = await run;
    assert.is(r.code, 0, r.stderr);
    assert.equal(r.lines, [dumpLine(1, 'AAPL', 2, [[100, 1, 1]], [[101, 2, 1]]), dumpLine(2, 'AAPL', 2, [[102, 3, 1]], [[103, 4, 1]])]);
    assert.not.match(r.stderr, /spinning instead/);
    // Released at exit: no sleeper counted, no line left for its pid.
    assert.is(w.registry.sleepers(), 0);
    assert.equal(w.registry.readers().filter((x) => x.pid === pid), []);
  } finally {
    child?.kill('SIGKILL');
    w.close({ unlink: true });
  }
});

test('--wait block: a reader asleep wakes at CLOSED and exits 0', async () => {
  const name = segName('cblockclose');
  const w = SegmentWriter.open({ name, maxInstruments: 1, levels: 1 });
  assert.ok(await w.startControl()); // readers get the registry's descriptor over it
  let child: ChildProcess | undefined;
  const lines: string[] = [];
  try {
    const k = w.addInstrument('AAPL', 1, ITCH_SPEC);
    w.publish(k, levelSource(1, [[100, 1, 1]], []), 1, 0);
    const run = runReader([name, '--follow', '1000', '--wait', 'block', '--sleep-ms', '60000'], {
      onLine: (line) => lines.push(line),
      onSpawn: (c) => (child = c),
    });
    await waitUntil(() => lines.length === 1, 10_000, { what: 'the first book' });
    await waitUntil(() => w.registry.sleepers() === 1 && asleep(child!.pid!), 10_000, { what: 'the reader asleep' });
    let exited = false;
    void run.then(() => (exited = true));
    w.close(); // CLOSED, then notify_seq bumped and every sleeper woken
    await waitUntil(() => exited, 10_000, { what: 'the reader to wake and exit after CLOSED' });
    const r = await run;
    assert.is(r.code, 0, r.stderr);
    assert.equal(r.lines, ['1,AAPL,9999999999,0,100,1']);
  } finally {
    child?.kill('SIGKILL');
    w.close({ unlink: true });
  }
});

test('--wait block without a reader registry says so on stderr, spins instead, and still follows', async () => {
  const name = segName('cnoreg');
  const w = SegmentWriter.open({ name, maxInstruments: 1, levels: 1 });
  try {
    // No control plane (as a writer whose socket path is too long): the
    // registry's descriptor cannot be had.
    const k = w.addInstrument('AAPL', 1, ITCH_SPEC);
    w.publish(k, levelSource(1, [[100, 1, 1]], []), 1, 0);
    const r = await runReader([name, '--follow', '2', '--wait', 'block'], {
      onLine: (line) => {
        if (line.startsWith('1,')) {
          w.publish(k, levelSource(1, [], [[101, 1, 1]]), 2, 0);
          w.wakeIfSleepers(); // nobody is counted: no wake-up, the spinning reader sees the commit
        }
      },
    });
    assert.is(r.code, 0, r.stderr);
    assert.equal(r.lines, ['1,AAPL,9999999999,0,100,1', '2,AAPL,101,1,-9999999999,0']);
    assert.match(r.stderr, new RegExp(`^mdfan_c_reader: --wait block: no reader registry for segment ${name}: its writer's control socket is not listening; spinning instead$`, 'm'));
    assert.is(w.wakeups, 0);
  } finally {
    w.close({ unlink: true });
  }
});

// ---- --events: the event ring /NAME.events ----------------------------------------------------


test.run();
