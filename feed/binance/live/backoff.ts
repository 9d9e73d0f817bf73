/**
 * Waits between attempts at a remote service (a WebSocket reconnect, a REST retry): doubling from
 * minMs to maxMs with random jitter (half to all of the step), so many clients that lost the same
 * venue at once do not come back in step; reset() after a success. The readers' idle strategy
 * (workers/sdk/idle.ts) parks the thread and cannot serve here: a wait for a network peer must
 * leave the event loop free, so this one only computes delays and the caller sets its timer.
 */
import { randomInt } from 'node:crypto';

export interface BackoffLimits {
  /** The wait after the first failure, ms (> 0). */
  minMs: number;
  /** The longest wait, ms. */
  maxMs: number;
}

export class Backoff {
  /** Failures since the last reset(). */
  failures = 0;

  constructor(private readonly limits: BackoffLimits) {}

  /** The wait before the next attempt, ms: minMs doubled per failure since reset(), at most maxMs, jittered to half..all of it. */
  nextMs(): number {
    const base = Math.min(this.limits.maxMs, this.limits.minMs * 2 ** Math.min(this.failures, 30));
    this.failures++;
    const half = Math.floor(base / 2);
    return half + randomInt(base - half + 1);
  }

  /** A success: the next failure waits about minMs again. */
  reset(): void {
    this.failures = 0;
  }
}
