/**
 * An EventReader on its own knows its writer's story: a trades-only strategy is told of the
 * writer's death (once), of a new writer (whose ring it re-opens by itself, after every event of
 * the old ring was handed out) and of the close (after the last event), never left quiet for ever.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EventBatch } from '../native/segment/index.js';
import * as abi from '../native/segment/abi.js';
import { EventReader } from '../workers/sdk/event-reader.js';
import { WaitResult } from '../workers/sdk/wait.js';
import { killAll, type Proc, startNode } from './helpers/procs.js';
import { cleanupSegments, segName } from './helpers/segments.js';

test.after.each(() => {
  killAll();
  cleanupSegments();
});

const originProc = new URL('./helpers/origin-proc.js', import.meta.url);
const WAIT_MS = 30_000;

interface Origin {
  proc: Proc;
  send(line: string): Promise<number>;
}
async function startOrigin(name: string): Promise<Origin> {
  const proc = startNode(originProc, [name], { stdin: 'pipe' });
  await proc.line(/^ready /, WAIT_MS);
  return {
    proc,
    async send(line) {
      proc.child.stdin!.write(`${line}\n`);
      return Number((await proc.line(/^ok /)).split(' ')[1]);
    },
  };
}

/** Polls every event there is now: the trades' order references (the K each trade line gave). */
function drainTrades(r: EventReader, batch: EventBatch): number[] {
  const refs: number[] = [];
  for (;;) {
    const n = r.poll(batch);
    if (n === 0) return refs;
    for (let i = 0; i < n; i++) if (batch.records[i]!.kind === abi.EVENT_KIND_TRADE) refs.push(batch.records[i]!.orderRef);
  }
}

const names: Record<number, string> = Object.fromEntries(Object.entries(WaitResult).map(([k, v]) => [v, k]));
async function expectNext(r: EventReader, want: WaitResult, what: string): Promise<void> {
  const got = await r.next(WAIT_MS);
  assert.is(names[got], names[want], what);
}

for (const wait of ['block', 'yield', 'spin'] as const) {
  test(`${wait}: a death, a new writer (the old ring's events first), a close: each told once, in order`, async () => {
    const name = segName(`evstory-${wait}`);
    let origin = await startOrigin(name);
    const r = EventReader.open(name, { wait, heartbeatTimeoutMs: 1000 });
    const batch = new EventBatch(16);
    try {
      await origin.send('trade AAA 1');
      await expectNext(r, WaitResult.UPDATED, 'a trade to poll');
      assert.equal(drainTrades(r, batch), [1]);
      // Two more trades the reader has not polled when the writer dies.
      await origin.send('trade AAA 2');
      await origin.send('trade BBB 3');
      origin.proc.child.kill('SIGKILL');
      await origin.proc.exited;
      assert.equal(drainTrades(r, batch), [2, 3], "the dead writer's last events are read");
      await expectNext(r, WaitResult.WRITER_DEAD, 'the death, told');
      assert.ok(r.isWriterDead);
      assert.is(await r.next(300), WaitResult.TIMEOUT, 'a death is told once');
      // A new writer takes over; it publishes before the reader looks again.
      origin = await startOrigin(name);
      await origin.send('trade AAA 4');
      await expectNext(r, WaitResult.NEW_WRITER, 'the new writer, told');
      assert.not.ok(r.isWriterDead);
      assert.is(r.generation, 2, "the new writer's ring is open");
      await expectNext(r, WaitResult.UPDATED, "the new writer's events");
      assert.equal(drainTrades(r, batch), [4], "the new ring from its start: its trade, once");
      // Events, then a close: the events first.
      await origin.send('trade AAA 5');
      origin.proc.child.kill('SIGTERM');
      assert.is((await origin.proc.exited).code, 0, origin.proc.stderr());
      await expectNext(r, WaitResult.UPDATED, 'the last event before the close');
      assert.equal(drainTrades(r, batch), [5]);
      await expectNext(r, WaitResult.CLOSED, 'the close, after the last event');
    } finally {
      r.close();
    }
  });
}

test('a new writer while the old ring still holds events: they are handed out first, then NEW_WRITER', async () => {
  const name = segName('evstory-drain');
  let origin = await startOrigin(name);
  const r = EventReader.open(name, { wait: 'yield' });
  const batch = new EventBatch(1);
  try {
    await origin.send('trade AAA 1');
    await origin.send('trade AAA 2');
    origin.proc.child.kill('SIGKILL');
    await origin.proc.exited;
    origin = await startOrigin(name);
    await origin.send('trade AAA 7');
    // checkStory() and poll() alone (a loop of the caller's own): the story waits for the old ring's end.
    const seen: Array<string | number> = [];
    const end = performance.now() + WAIT_MS;
    while (!seen.includes('NEW_WRITER') && performance.now() < end) {
      const got = r.checkStory();
      if (got !== WaitResult.UPDATED) seen.push(names[got]!);
      else if (r.backlog() > 0) seen.push(...drainOne(r, batch));
      else await new Promise((res) => setImmediate(res));
    }
    const afterNew = drainTrades(r, batch);
    assert.equal(seen.filter((x) => x !== 'WRITER_DEAD'), [1, 2, 'NEW_WRITER'], 'the old ring to its end, then the new writer');
    assert.equal(afterNew, [7]);
  } finally {
    r.close();
  }
});

/** One poll of a one-record batch: the trade's reference, if it is a trade. */
function drainOne(r: EventReader, batch: EventBatch): number[] {
  const n = r.poll(batch);
  return n === 1 && batch.records[0]!.kind === abi.EVENT_KIND_TRADE ? [batch.records[0]!.orderRef] : [];
}

test.run();
