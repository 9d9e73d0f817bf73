/**
 * The rhythm every bounded source keeps: a batch of messages at a time, yielding to the event
 * loop between batches (signals, timers, the idle heartbeat) and sleeping when pacing says the
 * next message is not due yet.
 */
import { setImmediate as yieldNow, setTimeout as sleep } from 'node:timers/promises';

/** Messages per batch: long enough to amortise the yield, short enough for a prompt Ctrl-C. */
export const BATCH_MESSAGES = 4096;
/** Waits shorter than this yield instead of sleeping (a timer's granularity is ~1 ms). */
const SLEEP_MIN_NS = 2e6;
/** Sleeps are cut to this, so a stop request is seen promptly. */
const SLEEP_MAX_NS = 250e6;

/** Between batches: sleeps until the next message is due (cut to SLEEP_MAX_NS), or yields a turn. */
export async function pause(waitNs: number): Promise<void> {
  if (waitNs > SLEEP_MIN_NS) await sleep(Math.min(waitNs, SLEEP_MAX_NS) / 1e6);
  else await yieldNow();
}

