/**
 * Lifecycle: readers that start first, graceful close, a writer killed (also mid-update), the
 * takeover that follows, a new layout under the same name, and the futex wake-up across processes.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { SegmentReader, SegmentWriter, type MdfanError, abi } from '../native/segment/index.js';
import { statSegment } from '../native/segment/stat.js';
import { segName, cleanupSegments, codeOf } from './helpers/segments.js';
import { startNode, killAll, inFutexWait } from './helpers/procs.js';
import { waitUntil } from './helpers/wait.js';
import { ITCH_SPEC } from '../native/segment/directory.js';

const proc = new URL('./helpers/writer-proc.js', import.meta.url);

test.after.each(() => {
  killAll();
  cleanupSegments();
});

test('a reader started before the writer waits, then attaches when READY', async () => {
  const name = segName('early');
  const attaching = SegmentReader.attach(name, { timeoutMs: 10_000 });
  let settled = false;
  void attaching.then(
    () => (settled = true),
    () => (settled = true),
  );
  await nextTurn(); // attach() has looked once (synchronously) and found no segment
  assert.is(settled, false, 'the reader waits for the segment');
  const p = startNode(proc, ['serve', name]);
  const r = await attaching;
  try {
    assert.is(r.state, abi.STATE_READY);
    await p.line(/^ready/);
    assert.is(r.find('AAA'), 0);
    const s = r.newSnapshot();
    r.read(0, s);
    assert.is(s.bidPrice(0), 1000);
    assert.is(s.askSize(1), 40);
  } finally {
    r.close();
  }
});

test('SIGTERM: the writer sets CLOSED, releases its lock and exits 0', async () => {
  const name = segName('term');
  const p = startNode(proc, ['serve', name]);
  await p.line(/^ready 1 created/);
  const r = SegmentReader.openSync(name);
  try {
    assert.ok(r.writerStatus().lockHeld);
    p.child.kill('SIGTERM');
    const { code } = await p.exited;
    assert.is(code, 0);
    assert.is(r.state, abi.STATE_CLOSED);
    assert.is(r.writerStatus().lockHeld, false);
    r.checkWriter(); // CLOSED is not death: no throw
    assert.is(statSegment(name).state, 'CLOSED');
  } finally {
    r.close();
  }
});

test('SIGKILL: readers see MDFAN_ERR_WRITER_DEAD (lock free); stat shows the writer dead', async () => {
  const name = segName('kill');
  const p = startNode(proc, ['serve', name]);
  await p.line(/^ready/);
  const r = SegmentReader.openSync(name);
  try {
    r.checkWriter();
    assert.ok(statSegment(name).writer_alive);
    p.child.kill('SIGKILL');
    await p.exited;
    assert.is(codeOf(() => r.checkWriter()), 'MDFAN_ERR_WRITER_DEAD');
    const st = statSegment(name);
    assert.is(st.writer_alive, false);
    assert.is(st.writer_lock_held, false);
    assert.is(st.state, 'READY'); // it died without closing: READY with no writer
  } finally {
    r.close();
  }
});

test('a silent writer (lock held, heartbeat old) is reported dead after the timeout', async () => {
  const name = segName('silent');
  const w = SegmentWriter.open({ name, maxInstruments: 1, levels: 1 });
  const r = SegmentReader.openSync(name);
  try {
    w.heartbeat();
    r.checkWriter(1000);
    // No more heartbeats: once the last one is older than 10 ms, checkWriter(10) reports the writer.
    const err = await waitUntil(
      () => {
        try {
          r.checkWriter(10);
          return null;
        } catch (e) {
          return e as MdfanError;
        }
      },
      10_000,
      { what: 'checkWriter(10) to report the silent writer' },
    );
    assert.is(err?.code, 'MDFAN_ERR_WRITER_DEAD');
    assert.is(err?.details.lockHeld, true);
    assert.match(err!.message, 'silent');
  } finally {
    r.close();
    w.close();
  }
});

test('killed mid-update: readers get MDFAN_ERR_STALE (bounded), then a takeover bumps the generation and heals the slot', async () => {
  const name = segName('midupdate');
  const p = startNode(proc, ['half-commit', name]);
  await p.line(/^ready/);
  const r = SegmentReader.openSync(name, { staleAfterMs: 30 });
  try {
    const s = r.newSnapshot();
    assert.is(codeOf(() => r.read(0, s)), 'MDFAN_ERR_STALE');
    p.child.kill('SIGKILL');
    await p.exited;
    assert.is(codeOf(() => r.checkWriter()), 'MDFAN_ERR_WRITER_DEAD');
    const w = SegmentWriter.open({ name, maxInstruments: 2, levels: 10 });
    try {
      assert.is(w.outcome, 'takeover');
      assert.is(w.generation, 2);
      assert.is(r.currentGeneration, 2);
      assert.is(r.generation, 1); // what this reader attached to: it can tell it changed
      r.read(0, s); // even again: no STALE error
      assert.ok(s.stale, 'the slot is flagged stale until the new writer publishes it');
      assert.is(s.bidCount, 0);
      w.addInstrument('AAA', 1, ITCH_SPEC);
      w.publish(0, { bidCount: 1, askCount: 0, bids: new Float64Array([7, 8, 9]), asks: new Float64Array(0) }, 5, 5);
      r.read(0, s);
      assert.is(s.stale, false);
      assert.is(s.bidPrice(0), 7);
      r.checkWriter();
      assert.is(statSegment(name).counters.takeovers, 1);
    } finally {
      w.close();
    }
  } finally {
    r.close();
  }
});

test('a dead writer and a new layout: a new segment under the same name, generation + 1; the old one reads CLOSED', async () => {
  const name = segName('relayout');
  const p = startNode(proc, ['serve', name, '10', '2']);
  await p.line(/^ready/);
  const old = SegmentReader.openSync(name);
  p.child.kill('SIGKILL');
  await p.exited;
  const w = SegmentWriter.open({ name, maxInstruments: 8, levels: 5 });
  try {
    assert.is(w.outcome, 'recreated');
    assert.is(w.generation, 2);
    assert.is(old.state, abi.STATE_CLOSED);
    const fresh = SegmentReader.openSync(name);
    assert.is(fresh.layout.maxInstruments, 8);
    assert.is(fresh.layout.levels, 5);
    assert.is(fresh.generation, 2);
    fresh.close();
  } finally {
    old.close();
    w.close();
  }
});

test('futex: a reader process sleeping on the notify word is woken by the writer', async () => {
  const name = segName('futex');
  const w = SegmentWriter.open({ name, maxInstruments: 1, levels: 1 });
  try {
    const p = startNode(proc, ['futex-wait', name]);
    await p.line(/^waiting/);
    // Wake it once it sleeps in the kernel on the notify word (the case under test: code 0). A
    // FUTEX_WAIT that came late would see the bumped word and return at once (code 2): either way
    // it must not time out.
    await waitUntil(() => inFutexWait(p.child.pid, name, abi.HDR.notify_seq.offset), 10_000, { what: 'the reader asleep in FUTEX_WAIT on the notify word' });
    w.notifyReaders();
    const res = JSON.parse(await p.line(/^\{/));
    assert.ok(res.code === 0 || res.code === 2, JSON.stringify(res));
    assert.is(res.seq, 1);
    await p.exited;
  } finally {
    w.close();
  }
});

test('futex: waiting with the wrong expected value returns at once; a timeout returns 1', () => {
  const name = segName('futex2');
  const w = SegmentWriter.open({ name, maxInstruments: 1, levels: 1 });
  const r = SegmentReader.openSync(name);
  try {
    assert.is(r.waitForNotify(r.notifySeq() + 1, 1e9), 2);
    assert.is(r.waitForNotify(r.notifySeq(), 1e6), 1);
  } finally {
    r.close();
    w.close();
  }
});

test('a closed reader refuses reads with MDFAN_ERR_CLOSED instead of touching unmapped memory', () => {
  const name = segName('closedreader');
  const w = SegmentWriter.open({ name, maxInstruments: 1, levels: 1 });
  const r = SegmentReader.openSync(name);
  const s = r.newSnapshot();
  r.close();
  assert.is(r.map.u32.length, 0);
  assert.is(codeOf(() => r.read(0, s)), 'MDFAN_ERR_CLOSED');
  w.close();
});

test.run();
