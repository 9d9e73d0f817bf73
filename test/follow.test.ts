/**
 * The one follow loop (workers/sdk/follow.ts, follower.ts, idle.ts): every turn of the writer's
 * story in order, the old ring drained under the old names before a new writer's updates, buffers
 * re-allocated for a new layout, the sample rule, slots left mid-commit, the async iterator with an
 * AbortSignal, and the idle strategy's phases. The Follower is stepped by hand where a race would
 * otherwise decide the order.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BookReader, SegmentWriter, WaitResult, abi, newEventFields, newLatencyHistogram, type Update } from '../workers/index.js';
import { Follower } from '../workers/sdk/follower.js';
import { IdleStrategy } from '../workers/sdk/idle.js';
import { READER_DEFAULTS } from '../workers/sdk/defaults.js';
import { cleanupSegments, segName } from './helpers/segments.js';
import { killAll, startNode } from './helpers/procs.js';
import { waitUntil } from './helpers/wait.js';
import { specOf } from '../native/segment/directory.js';

test.after.each(() => {
  killAll();
  cleanupSegments();
});

const writerProc = new URL('./helpers/writer-proc.js', import.meta.url);

const book = (levels: number, bid: number) => {
  const bids = new Float64Array(levels * 3);
  const asks = new Float64Array(levels * 3);
  bids.set([bid, 10, 1]);
  asks.set([bid + 1, 20, 2]);
  return { bidCount: 1, askCount: 1, bids, asks };
};

/** A short description of an update, for comparing sequences. */
function describe(u: Update): string {
  switch (u.kind) {
    case 'book':
      return `book ${u.instrument.symbol} ${u.book.bidPrice(0)} levels=${u.book.levels}`;
    case 'top':
      return `top ${u.instrument.symbol} ${u.top.bidPrice}`;
    case 'event':
      return `event ${u.instrument?.symbol ?? '-'} ${String.fromCharCode(u.event.kind)} #${u.event.msgIndex}`;
    case 'events-lost':
      return `lost ${u.lost}`;
    case 'new-writer':
      return `new-writer ${u.generation}`;
    case 'writer-back':
      return 'writer-back';
    case 'writer-dead':
      return `writer-dead ${u.error.code}`;
    default:
      return u.kind;
  }
}

/** Steps the Follower until it has nothing (or `max` updates), collecting their descriptions. */
function drain(f: Follower, max = 100): string[] {
  const out: string[] = [];
  for (let u = f.next(); u !== null && out.length < max; u = f.next()) {
    out.push(describe(u));
    if (u.kind === 'closed') break;
  }
  return out;
}

test('a SIGKILLed writer and a takeover: dead once, the old ring drained under the old names, then new-writer, the new layout, the new names, closed last', async () => {
  const name = segName('follow-story');
  const w1 = startNode(writerProc, ['market', name]); // GOOG slot 0, BRK.B slot 1; a status and a trade in the ring
  await w1.line(/^ready$/);
  const reader = await BookReader.attach(name, { wait: 'yield', heartbeatTimeoutMs: 200 });
  const f = new Follower(reader, { events: true });
  try {
    // Nothing read yet: the old ring still holds the status and the trade when the writer dies.
    w1.child.kill('SIGKILL');
    await w1.exited;
    const seen0: string[] = [];
    const died = await waitUntil(() => {
      f.checkStory();
      seen0.push(...drain(f));
      return seen0.includes('writer-dead MDFAN_ERR_WRITER_DEAD') ? seen0.join('\n') : null;
    }, 10_000, { what: 'the death' });
    assert.ok(died.includes('book GOOG 5853300 levels=1'), died);
    assert.ok(died.includes('event GOOG T #3'), died);
    assert.equal(drain(f), [], 'the death is said once');

    // A new writer of another layout takes over and names slot 0 otherwise before its first look.
    const w2 = SegmentWriter.open({ name, levels: 3, maxInstruments: 8, ringEvents: 256 });
    try {
      const nw = w2.addInstrument('NEW0', 7, specOf(2));
      w2.publish(nw, book(3, 4242), 10, 10);
      const e = newEventFields();
      Object.assign(e, { kind: abi.EVENT_KIND_TRADE, action: 'E'.charCodeAt(0), instrumentIndex: nw, msgIndex: 11, price: 42 * abi.EVENT_PRICE_SCALE, size: 1 });
      w2.appendEvent(e);
      const seen = await waitUntil(() => {
        f.checkStory();
        return drain(f).join('\n') || null;
      }, 10_000, { what: 'the new writer' });
      // A takeover's ring opens with its clear event (kind R): drop what earlier events built.
      assert.equal(seen.split('\n'), ['new-writer 2', 'event - R #0', 'event NEW0 T #11', 'book NEW0 4242 levels=3'], seen);
      w2.close({ unlink: false });
      const end = await waitUntil(() => {
        f.checkStory();
        return drain(f).join('\n') || null;
      }, 10_000, { what: 'the close' });
      assert.equal(end, 'closed');
      assert.is(f.done, true);
    } finally {
      w2.close({ unlink: false });
    }
  } finally {
    f.close();
    reader.close();
  }
});

test("a death first seen by a sleeper's look (block) is not lost: the loop's next look at the story still says writer-dead", async () => {
  const name = segName('follow-sleeper-death');
  const w1 = startNode(writerProc, ['market', name]);
  await w1.line(/^ready$/);
  const reader = await BookReader.attach(name, { wait: 'block', heartbeatTimeoutMs: 200 });
  try {
    reader.sleepUntilWoken(() => false, 1); // its registry line, from the live writer: a sleeper without one only parks
    w1.child.kill('SIGKILL');
    await w1.exited;
    // Only sleeps: the sleeper's look (counted asleep, nothing changed) is what sees the death.
    await waitUntil(() => {
      reader.sleepUntilWoken(() => false, 20);
      return reader.isWriterDead;
    }, 10_000, { what: "the sleeper's look to see the death" });
    assert.is(reader.checkStory(), WaitResult.WRITER_DEAD, 'the death is reported once, to the loop');
    assert.is(reader.checkStory(), WaitResult.UPDATED, 'and only once');
  } finally {
    reader.close();
  }
});

test('events of the dead writer still in its ring come out named by its directory, before new-writer', async () => {
  const name = segName('follow-oldring');
  const w1 = startNode(writerProc, ['market', name]);
  await w1.line(/^ready$/);
  const reader = await BookReader.attach(name, { wait: 'yield', heartbeatTimeoutMs: 200 });
  const f = new Follower(reader, { events: true, books: true });
  try {
    w1.child.kill('SIGKILL');
    await w1.exited;
    // The takeover before any look: poll() reports NEW_WRITER at once; the old ring must come first.
    const w2 = SegmentWriter.open({ name, levels: 1, maxInstruments: 4, ringEvents: 256 });
    try {
      w2.addInstrument('ZZZ', 9, specOf(2)); // slot 0, where GOOG was
      const seen = await waitUntil(() => {
        f.checkStory();
        return drain(f).join('\n') || null;
      }, 10_000, { what: 'the takeover' });
      const lines = seen.split('\n');
      const fresh = lines.indexOf('new-writer 2');
      assert.ok(fresh > 0, seen);
      assert.equal(
        lines.slice(0, fresh).filter((l) => l.startsWith('event')),
        ['event BRK.B H #2', 'event GOOG T #3'],
        'the old ring, old names',
      );
    } finally {
      w2.close({ unlink: false });
    }
  } finally {
    f.close();
    reader.close();
  }
});

test('a writer that stops beating is dead once, then back when it beats again; the sample rule counts only what was published after attach', async () => {
  const name = segName('follow-back');
  const w = SegmentWriter.open({ name, levels: 2, maxInstruments: 2 });
  try {
    const slot = w.addInstrument('AAA', 1, specOf(2));
    w.publish(slot, book(2, 100), 1, 1); // before attach: not a latency sample
    w.heartbeat();
    const reader = await BookReader.attach(name, { wait: 'spin', heartbeatTimeoutMs: 50 });
    const latency = newLatencyHistogram();
    const f = new Follower(reader, { latency });
    try {
      assert.equal(drain(f), ['book AAA 100 levels=2']);
      assert.is(latency.totalCount, 0, 'a book published before attach is no sample');
      w.publish(slot, book(2, 101), 2, 2);
      w.heartbeat();
      assert.equal(drain(f), ['book AAA 101 levels=2']);
      assert.is(latency.totalCount, 1);
      // Silent: dead within the heartbeat timeout, said once.
      const dead = await waitUntil(() => {
        f.checkStory();
        return drain(f).join('\n') || null;
      }, 10_000, { what: 'the death' });
      assert.is(dead, 'writer-dead MDFAN_ERR_WRITER_DEAD');
      w.heartbeat();
      const back = await waitUntil(() => {
        w.heartbeat();
        f.checkStory();
        return drain(f).join('\n') || null;
      }, 10_000, { what: 'the writer back' });
      assert.is(back, 'writer-back');
    } finally {
      f.close();
      reader.close();
    }
  } finally {
    w.close();
  }
});

test('a writer that closes right after its last book: the book comes out before closed', async () => {
  const name = segName('follow-close');
  const w = SegmentWriter.open({ name, levels: 1, maxInstruments: 2 });
  try {
    const slot = w.addInstrument('AAA', 1, specOf(2));
    const reader = await BookReader.attach(name, { wait: 'spin' });
    w.publish(slot, book(1, 55), 1, 1);
    w.close({ unlink: false });
    // The first look finds the segment CLOSED: what the writer left must still be handed out.
    const f = new Follower(reader);
    try {
      assert.equal(drain(f), ['book AAA 55 levels=1', 'closed']);
      assert.equal(drain(f), ['closed'], 'closed stays closed');
    } finally {
      f.close();
      reader.close();
    }
  } finally {
    w.close();
  }
});

test('a slot left mid-commit is a stale update, never an exception; never-published slots are skipped', async () => {
  const name = segName('follow-stale');
  const w = SegmentWriter.open({ name, levels: 1, maxInstruments: 4 });
  try {
    w.startIdleHeartbeat();
    w.addInstrument('NEVER', 1, specOf(2)); // announced, never published
    const s = w.addInstrument('HALF', 2, specOf(2));
    w.publish(s, book(1, 7), 1, 1);
    const reader = await BookReader.attach(name, { wait: 'spin', staleAfterMs: 5 });
    const f = new Follower(reader);
    try {
      w.slots.beginOnlyForTest(s); // the writer stops inside the slot
      const u = await waitUntil(() => f.next(), 10_000, { what: 'an update' });
      assert.is(u.kind, 'stale');
      if (u.kind === 'stale') {
        assert.is(u.instrument.symbol, 'HALF');
        assert.is(u.error.code, 'MDFAN_ERR_STALE');
      }
    } finally {
      f.close();
      reader.close();
    }
  } finally {
    w.close();
  }
});

test('updates() is an async iterator: books as they come, ends when the signal aborts; follow() ends on close with every book handed out', async () => {
  const name = segName('follow-iter');
  const w = SegmentWriter.open({ name, levels: 1, maxInstruments: 2 });
  try {
    w.startIdleHeartbeat();
    const slot = w.addInstrument('AAA', 1, specOf(2));
    const reader = await BookReader.attach(name, { wait: 'yield' });
    const ac = new AbortController();
    const seen: number[] = [];
    let k = 0;
    const publish = (): void => {
      k++;
      w.publish(slot, book(1, 1000 + k), k, k);
      w.wakeIfSleepers();
    };
    publish();
    for await (const u of reader.updates({ signal: ac.signal })) {
      if (u.kind !== 'book') continue;
      seen.push(u.book.bidPrice(0));
      if (u.book.bidPrice(0) === 1003) ac.abort();
      else setImmediate(publish); // the next book only once this one was seen: none conflated
    }
    assert.equal(seen, [1001, 1002, 1003]);
    // follow(): the writer publishes and closes; the last book comes before onClosed.
    const order: string[] = [];
    const ended = reader.follow(
      {
        onBook: (b) => order.push(`book ${b.bidPrice(0)}`),
        onClosed: () => order.push('closed'),
      },
      {},
    );
    publish();
    w.close({ unlink: false });
    assert.is(await ended, 'closed');
    assert.equal(order.slice(-2), ['book 1004', 'closed']);
    reader.close();
  } finally {
    w.close();
  }
});

test('the idle strategy: yield spins, then turns, then parks; reset starts again; block sleeps until woken for the whole slice; a dead writer parks', () => {
  let looks = 0;
  const sleeps: number[] = [];
  const target = {
    ready: () => {
      looks++;
      return false;
    },
    sleep: (ms: number) => sleeps.push(ms),
  };
  const y = new IdleStrategy('yield', target);
  let spinSteps = 0;
  while (!y.idle(1000)) spinSteps++; // spins (no turn asked) until yieldSpinUs passed
  assert.ok(looks > 0, 'the spin looked for work');
  assert.ok(spinSteps > 0, 'spun before the first turn');
  for (let i = 1; i < READER_DEFAULTS.yieldTurns; i++) assert.ok(y.idle(1000), 'a turn per call');
  const t0 = performance.now();
  assert.ok(y.idle(1000), 'a park asks for a turn after it');
  assert.ok(performance.now() - t0 >= READER_DEFAULTS.yieldParkMinUs / 1000 / 2, 'it parked');
  y.reset();
  assert.not.ok(y.idle(1000), 'after work, spinning again');
  // A look that finds work ends the spin step at once.
  const found = new IdleStrategy('yield', { ready: () => true, sleep: () => assert.unreachable('no sleep') });
  assert.not.ok(found.idle(1000));
  // block: the sleep asked for is the slice or the deadline, never a polling period.
  const b = new IdleStrategy('block', target);
  assert.ok(b.idle(1000));
  assert.ok(b.idle(7));
  assert.equal(sleeps, [100, 7]);
  // A dedicated thread: a turn only every turnEveryMs.
  const sync = new IdleStrategy('block', target, 60_000);
  assert.ok(sync.idle(1000), 'the first turn');
  assert.not.ok(sync.idle(1000), 'no turn before turnEveryMs');
  // Dormant (the writer is dead): no spin, a park and a turn, whatever the wait.
  looks = 0;
  assert.ok(new IdleStrategy('spin', target).idle(1000, true));
  assert.is(looks, 0);
});

test.run();
