/**
 * The loop every bounded source runs: a batch of messages at a time, yielding to the event loop
 * between batches (signals, timers, the idle heartbeat) and sleeping when pacing says the next
 * message is not due yet.
 */
import { setImmediate as yieldNow, setTimeout as sleep } from 'node:timers/promises';
import type { StopFlag } from '../sources/source.js';

/** Messages per batch: long enough to amortise the yield, short enough for a prompt Ctrl-C. */
export const BATCH_MESSAGES = 4096;
/** batch()'s answer when the input is done. */
export const DONE = -1;
/** Waits shorter than this yield instead of sleeping (a timer's granularity is ~1 ms). */
const SLEEP_MIN_NS = 2e6;
/** Sleeps are cut to this, so a stop request is seen promptly. */
const SLEEP_MAX_NS = 250e6;

/** Calls batch() (ns until the next message is due, 0 to go on, DONE at the end) until done or stopped. */
export async function drive(batch: () => number, stop: StopFlag): Promise<void> {
  while (!stop.requested) {
    const waitNs = batch();
    if (waitNs === DONE) return;
    if (waitNs > SLEEP_MIN_NS) await sleep(Math.min(waitNs, SLEEP_MAX_NS) / 1e6);
    else await yieldNow();
  }
}
