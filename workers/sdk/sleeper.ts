/**
 * The block strategy's sleep, for every reader: a line in the writer's reader registry (its
 * descriptor comes over the control socket), counted asleep before the futex word is read, so the
 * writer, which looks at the count after its commits, wakes us (registry.ts states the handshake).
 * Without a line (an old writer, a full registry, no control plane yet) the reader polls every
 * millisecond instead of sleeping unheard.
 */
import { isMainThread } from 'node:worker_threads';
import { ErrorCode, isMdfanError } from '../../native/segment/errors.js';
import type { SegmentReader } from '../../native/segment/reader.js';
import { RegistryLine } from '../../native/segment/registry.js';
import { testPause } from '../../native/segment/test-pause.js';
import { park } from './idle.js';

/**
 * Tests: the first sleeper that found nothing in its last look stops there, before its futex wait
 * (the writer publishes and wakes in that window: it must see this sleeper counted).
 */
const pauseAfterLastLook = testPause('MDFAN_TEST_PAUSE_SLEEP');

/** How soon a claim is tried again: the control plane not listening yet, or no answer / full (a claim may have waited 500 ms). */
const RECLAIM_SOON_MS = 10;
const RECLAIM_LATER_MS = 1000;

export class Sleeper {
  private line: RegistryLine | null = null;
  private nextClaimMs = 0;

  /**
   * Sleeps this thread on `seg`'s futex word (the top lines' word for `tops`: woken by top changes
   * only) until the writer bumps it or ms pass, unless `ready()` finds work once we are counted.
   */
  sleep(seg: SegmentReader, tops: boolean, ready: () => boolean, ms: number): void {
    if (this.line === null) this.line = this.claim(seg);
    if (this.line === null) {
      park(Math.min(ms, 1));
      return;
    }
    this.line.beginSleep(tops); // counted first (seq_cst): pairs with the writer's wakeIfSleepers
    const v = tops ? topNotifySeq(seg) : seg.notifySeq();
    if (v < 0) park(Math.min(ms, 1)); // a new writer is making its top lines: look again shortly
    else if (!ready()) {
      pauseAfterLastLook();
      const ns = Math.max(0, ms) * 1e6;
      if (tops) seg.waitForTopNotify(v, ns);
      else seg.waitForNotify(v, ns);
    }
    this.line.endSleep();
  }

  /** Leaves the registry (a new writer makes its own: a line in the old one is never seen asleep). */
  release(): void {
    this.line?.release();
    this.line = null;
    this.nextClaimMs = 0;
  }

  private claim(seg: SegmentReader): RegistryLine | null {
    const now = performance.now();
    if (now < this.nextClaimMs) return null;
    const h = seg.header();
    // The writer's own event loop answers the request: from its thread it never can.
    if (h.writerPid === process.pid && isMainThread) return null;
    const line = RegistryLine.claim(h.controlSocketPath);
    if (line === null) this.nextClaimMs = performance.now() + (h.controlSocketPath ? RECLAIM_LATER_MS : RECLAIM_SOON_MS);
    return line;
  }
}

/** The top lines' futex word, or -1 while a new writer makes them. */
function topNotifySeq(seg: SegmentReader): number {
  try {
    return seg.topNotifySeq();
  } catch (e) {
    if (isMdfanError(e, ErrorCode.NOT_READY)) return -1;
    throw e;
  }
}
