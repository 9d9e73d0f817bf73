/**
 * The block wait's lost wake-up, made certain: a reader that looked for work a last time and
 * found none is stopped (MDFAN_TEST_PAUSE_SLEEP) before its futex wait; the writer publishes and
 * wakes in that window. The writer wakes only when the registry counts a sleeper, so the reader
 * must have counted itself before that look, and its futex wait, on the word's value from before
 * the look, must then return at once. The sleep slice is made long (MDFAN_TEST_BLOCK_SLICE_MS):
 * a lost wake-up is a reader found asleep on the futex word with the update there, not a slow one.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SegmentWriter, abi, newEventFields } from '../native/segment/index.js';
import { COMPANION_SUFFIXES } from '../native/segment/mapping.js';
import { ITCH_SPEC } from '../native/segment/directory.js';
import { fillEvent } from './helpers/ring-payload.js';
import { type Proc, inFutexWait, killAll, startNode } from './helpers/procs.js';
import { cleanupSegments, segName } from './helpers/segments.js';
import { waitUntil } from './helpers/wait.js';
import { pauseReached, releasePause } from './helpers/test-pause.js';
import { makeFifo, removeFifo } from './helpers/fifo.js';

const proc = new URL('./helpers/wake-proc.js', import.meta.url);
/** Far beyond any test's deadline: a reader that missed its wake-up stays asleep while we look. */
const LONG_SLICE_MS = '600000';
const ANSWER_MS = 30_000;

test.after.each(() => {
  killAll();
  cleanupSegments();
});

const pausedEnv = (fifo: string): NodeJS.ProcessEnv => ({ ...process.env, MDFAN_TEST_PAUSE_SLEEP: fifo, MDFAN_TEST_BLOCK_SLICE_MS: LONG_SLICE_MS });

/**
 * The reader's "woke ..." line, or "LOST WAKE-UP" as soon as the reader is seen asleep in
 * FUTEX_WAIT on the word at `byteOffset` of /dev/shm/`shm` (the update is already published: a
 * reader woken or never asleep is never seen there).
 */
async function wokeOrAsleep(r: Proc, shm: string, byteOffset: number): Promise<string> {
  let answered = false;
  const woke = r.line(/^woke/, ANSWER_MS);
  const asleep = waitUntil(() => answered || inFutexWait(r.child.pid, shm, byteOffset), ANSWER_MS, { what: 'the reader to answer' }).then(() =>
    answered ? '' : `LOST WAKE-UP: the reader sleeps on ${shm}+${byteOffset} with the update published`,
  );
  woke.catch(() => {});
  asleep.catch(() => {});
  try {
    return await Promise.race([woke, asleep]);
  } finally {
    answered = true;
  }
}

test('an event appended (and the wake made) between a block reader\'s last look at the ring and its futex wait wakes it at once', async () => {
  const w = SegmentWriter.open({ name: segName('wake-events'), maxInstruments: 1, levels: 1, ringEvents: 64 });
  const fifo = makeFifo('wake-events');
  try {
    assert.ok(await w.startControl()); // the reader's registry line comes over it
    w.startIdleHeartbeat();
    const e = newEventFields();
    for (let k = 1; k <= 5; k++) {
      fillEvent(e, k);
      w.appendEvent(e);
    }
    const r = startNode(proc, ['events', w.name], { env: pausedEnv(fifo) });
    await pauseReached(fifo, 'the reader to find the ring empty and stop before its futex wait');
    fillEvent(e, 6);
    w.appendEvent(e);
    w.wakeIfSleepers(); // as the publisher does after each input message
    await releasePause(fifo, 'the reader to go on to its futex wait');
    assert.is(await wokeOrAsleep(r, w.name, abi.HDR.notify_seq.offset), 'woke true 6');
    assert.is((await r.exited).code, 0, r.stderr());
  } finally {
    w.close({ unlink: true });
    removeFifo(fifo);
  }
});

test('a top change published (and the top wake made) between a block top reader\'s last look and its futex wait wakes it at once', async () => {
  const w = SegmentWriter.open({ name: segName('wake-top'), maxInstruments: 1, levels: 2 });
  const fifo = makeFifo('wake-top');
  const book = (bid: number) => ({ bidCount: 1, askCount: 1, bids: new Float64Array([bid, 10, 1, 0, 0, 0]), asks: new Float64Array([2000, 20, 1, 0, 0, 0]) });
  try {
    assert.ok(await w.startControl());
    w.startIdleHeartbeat();
    w.addInstrument('AAA', 1, ITCH_SPEC);
    w.publish(0, book(1000), 1, 1);
    w.wakeIfSleepers();
    const r = startNode(proc, ['top', w.name], { env: pausedEnv(fifo) });
    await pauseReached(fifo, 'the reader to find no top change and stop before its futex wait');
    w.publish(0, book(1001), 2, 2);
    w.wakeIfSleepers();
    await releasePause(fifo, 'the reader to go on to its futex wait');
    const topsWord = abi.STRUCTS.tops_header.notify_seq.offset;
    assert.is(await wokeOrAsleep(r, `${w.name}${COMPANION_SUFFIXES.tops}`, topsWord), 'woke UPDATED 1001');
    assert.is((await r.exited).code, 0, r.stderr());
  } finally {
    w.close({ unlink: true });
    removeFifo(fifo);
  }
});

test.run();
