/**
 * The top-of-book lines and the synchronous loop: poll() and pollTops() report changes and the
 * writer's story (close, death, takeover) without a Promise; the top waits see top changes only;
 * the writer wakes top sleepers only after a message that changed a top; a writer without top
 * lines is refused by name.
 */
import { test } from 'uvu';
import { openSync } from 'node:fs';
import * as assert from 'uvu/assert';
import { BookReader, PollStatus, SegmentWriter, TopSnapshot, WaitResult, abi } from '../workers/index.js';
import { RegistryLine } from '../native/segment/registry.js';
import { segName, cleanupSegments, codeOf } from './helpers/segments.js';
import { startNode, killAll } from './helpers/procs.js';
import { waitUntil } from './helpers/wait.js';
import { ITCH_SPEC, specOf } from '../native/segment/directory.js';
import { SegmentReader } from '../native/segment/index.js';
import { topWord } from '../native/segment/tops.js';
import { Publisher } from '../feed/publish/publisher.js';
import { CounterSum, QualifiedSink } from '../feed/publish/qualified.js';

const proc = new URL('./helpers/writer-proc.js', import.meta.url);

test.after.each(() => {
  killAll();
  cleanupSegments();
});

const LEVELS = 3;
function book(bid0: number, bid1 = 900) {
  return {
    bidCount: 2,
    askCount: 1,
    bids: new Float64Array([bid0, 10, 1, bid1, 20, 2, 0, 0, 0]),
    asks: new Float64Array([2000, 30, 3, 0, 0, 0, 0, 0, 0]),
  };
}

test('poll() and pollTops(): changed slots, a change below the top only in poll(), then CLOSED', async () => {
  const name = segName('poll');
  const w = SegmentWriter.open({ name, maxInstruments: 4, levels: LEVELS });
  try {
    w.addInstrument('AAA', 1, ITCH_SPEC);
    w.addInstrument('BBB', 2, ITCH_SPEC);
    const r = await BookReader.attach(name, { wait: 'spin' });
    const out = new Int32Array(4);
    assert.is(r.poll(out), 0);
    assert.is(r.pollTops(out), 0);
    w.publish(1, book(1000), 1, 1);
    assert.is(r.poll(out), 1);
    assert.is(out[0], 1);
    assert.is(r.pollTops(out), 1);
    const top = new TopSnapshot();
    r.readTop(1, top);
    assert.equal([top.bidPrice, top.bidSize, top.askPrice, top.bidCount, top.askCount, top.msgIndex], [1000, 10, 2000, 2, 1, 1]);
    w.publish(1, book(1000, 901), 2, 2); // level 1 only
    assert.is(r.poll(out), 1, 'the book changed');
    assert.is(r.pollTops(out), 0, 'its top did not');
    w.publish(1, book(1001, 901), 3, 3);
    assert.is(r.pollTops(out), 1);
    w.close({ unlink: false });
    // The writer's story is noticed by poll() itself, not only by the async next().
    const status = await waitUntil(() => {
      const n = r.poll(out);
      return n < 0 ? n : null;
    }, 2000);
    assert.is(status, PollStatus.CLOSED);
    r.close();
  } finally {
    w.close({ unlink: true });
  }
});

test('poll(): WRITER_DEAD once after kill -9, then NEW_WRITER after a takeover, with the new top lines', async () => {
  const name = segName('polldeath');
  const first = startNode(proc, ['serve', name, String(LEVELS)]);
  await first.line(/^ready/);
  const r = await BookReader.attach(name, { wait: 'spin', heartbeatTimeoutMs: 200 });
  const out = new Int32Array(2);
  const top = new TopSnapshot();
  try {
    assert.is(r.pollTops(out), 1, 'the served book is there');
    r.readTop(0, top);
    assert.is(top.bidPrice, 1000);
    first.child.kill('SIGKILL');
    await first.exited;
    const seen: number[] = [];
    // A spinning loop's poll(): liveness is looked at every 256 calls (and at most every 5 ms).
    const spin = (calls: number, f: () => number): void => {
      for (let i = 0; i < calls; i++) {
        const n = f();
        if (n < 0) seen.push(n);
      }
    };
    await waitUntil(() => {
      spin(1024, () => r.poll(out));
      return seen.includes(PollStatus.WRITER_DEAD);
    }, 5000);
    spin(5000, () => r.poll(out));
    assert.equal(seen, [PollStatus.WRITER_DEAD], 'reported once per death');
    const second = startNode(proc, ['serve', name, String(LEVELS)]);
    assert.match(await second.line(/^ready/), 'ready 2 takeover');
    seen.length = 0;
    await waitUntil(() => {
      spin(1024, () => r.pollTops(out));
      return seen.includes(PollStatus.NEW_WRITER);
    }, 5000);
    // The new writer's top line (its takeover's empty STALE top first, then its book).
    await waitUntil(() => {
      r.readTop(0, top);
      return top.bidPrice === 1000 && !top.stale;
    }, 5000);
    assert.is(top.bidCount, LEVELS);
  } finally {
    r.close();
  }
});

test('nextTop() waits through changes below the top; next() does not', async () => {
  const name = segName('nexttop');
  const w = SegmentWriter.open({ name, maxInstruments: 1, levels: LEVELS });
  try {
    w.addInstrument('AAA', 1, ITCH_SPEC);
    w.publish(0, book(1000), 1, 1);
    const r = await BookReader.attach(name, { wait: 'yield' });
    const out = new Int32Array(1);
    r.changed(out);
    r.changedTops(out);
    const below = setTimeout(() => w.publish(0, book(1000, 905), 2, 2), 10);
    assert.is(await r.nextTop(150), WaitResult.TIMEOUT, 'a change below the top does not end a top wait');
    clearTimeout(below);
    assert.is(await r.next(10), WaitResult.UPDATED, 'the book did change');
    setTimeout(() => w.publish(0, book(1002, 905), 3, 3), 10);
    assert.is(await r.nextTop(2000), WaitResult.UPDATED);
    r.close();
  } finally {
    w.close({ unlink: true });
  }
});

test('the writer wakes top sleepers only after a message that changed a top', () => {
  const name = segName('topwake');
  const w = SegmentWriter.open({ name, maxInstruments: 1, levels: LEVELS });
  try {
    w.addInstrument('AAA', 1, ITCH_SPEC);
    w.publish(0, book(1000), 1, 1);
    w.wakeIfSleepers();
    // A reader's line, in this thread (the control socket answers from this very event loop).
    const line = RegistryLine.attach(openSync(`/proc/self/fd/${w.registry.fd}`, 'r+'))!;
    line.beginSleep(true);
    assert.is(w.registry.topSleepers(), 1);
    assert.is(w.registry.sleepers(), 0);
    const seq = (): number => Atomics.load(w.tops.map.u32, abi.STRUCTS.tops_header.notify_seq.offset >>> 2);
    const before = seq();
    w.publish(0, book(1000, 906), 2, 2);
    w.wakeIfSleepers();
    assert.is(seq(), before, 'no top changed: no top wake');
    w.publish(0, book(1003, 906), 3, 3);
    w.wakeIfSleepers();
    assert.is(seq(), before + 1, 'a top changed: the top futex word moved');
    line.endSleep();
    assert.is(w.registry.topSleepers(), 0);
    line.release();
  } finally {
    w.close({ unlink: true });
  }
});

test('a venue ticker through the publisher: the line runs ahead of the book (bbo, then a book commit that keeps it), its exchange time exact in ns; an empty side counts 0', () => {
  const name = segName('ticker');
  const w = SegmentWriter.open({ name, maxInstruments: 2, levels: 2 });
  try {
    const pub = new Publisher(w);
    // Two sources share the writer: the ticker path must survive the qualified sink too.
    const sink = new QualifiedSink(pub, 'binance-spot', new CounterSum(pub), 0);
    const slot = sink.instrument('BTCUSDT', 0, specOf(8, 8, 1e6));
    const ms = 1723161257465;
    const lv = (bid: number, ask: number) => ({ bidCount: 2, askCount: 2, bids: new Float64Array([bid, 5e8, 0, bid - 1e6, 7e8, 0]), asks: new Float64Array([ask, 6e8, 0, ask + 1e6, 8e8, 0]) });
    sink.book(slot, lv(6_183_763_000_000, 6_183_764_000_000), 1, ms);
    sink.bbo(slot, 6_183_770_000_000, 1e8, 6_183_771_000_000, 2e8, 2, ms + 1);
    sink.book(slot, lv(6_183_765_000_000, 6_183_766_000_000), 3, ms + 2, false, true); // older than the ticker: the line keeps it
    const r = SegmentReader.openSync(name);
    try {
      const top = new TopSnapshot();
      const b = r.newSnapshot();
      r.readTop(slot, top);
      r.read(slot, b);
      assert.equal([top.msgIndex, top.bidPrice, top.bidSize, top.askPrice, top.askSize, top.bidCount, top.askCount], [2, 6_183_770_000_000, 1e8, 6_183_771_000_000, 2e8, 2, 2]);
      assert.equal([b.msgIndex, b.bidPrice(0)], [3, 6_183_765_000_000], 'the slot has the newer book commit');
      const raw = new DataView(r.tops().buffer, topWord(slot) * 4);
      assert.is(raw.getBigUint64(abi.STRUCTS.top.exchange_ts_ns.offset, true), BigInt(ms + 1) * 1000000n, 'ms x 1e6 exact, above 2^53');
      sink.bbo(slot, 0, 0, 6_183_772_000_000, 3e8, 4, ms + 3); // the ticker's bid side empty
      r.readTop(slot, top);
      assert.equal([top.bidCount, top.bidPrice, top.bidSize, top.askCount], [0, 0, 0, 2], 'an empty side counts 0, whatever the book holds');
      sink.book(slot, lv(6_183_767_000_000, 6_183_768_000_000), 5, ms + 4); // newer than the ticker: the line follows the book
      r.readTop(slot, top);
      assert.equal([top.msgIndex, top.bidPrice, top.bidCount], [5, 6_183_767_000_000, 2]);
    } finally {
      r.close();
    }
  } finally {
    w.close({ unlink: true });
  }
});

test('a header that names no top lines is refused by name; a waitTopSync reader blocks on the top futex', async () => {
  const name = segName('notops');
  const w = SegmentWriter.open({ name, maxInstruments: 1, levels: LEVELS });
  try {
    w.addInstrument('AAA', 1, ITCH_SPEC);
    const r = await BookReader.attach(name, { wait: 'block' });
    assert.is(r.waitTopSync(20), WaitResult.TIMEOUT, 'nothing published: the synchronous top wait times out');
    w.publish(0, book(1000), 1, 1);
    assert.is(r.waitTopSync(1000), WaitResult.UPDATED);
    r.close();
    Atomics.and(w.map.u32, abi.W.hdrCompanions, ~abi.COMPANION_TOPS); // the lines are there, but not named: never opened
    const old = await BookReader.attach(name, { wait: 'spin' });
    assert.is(codeOf(() => old.readTop(0, new TopSnapshot())), 'MDFAN_ERR_NO_SEGMENT');
    old.close();
  } finally {
    w.close({ unlink: true });
  }
});

test.run();
