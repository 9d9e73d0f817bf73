/**
 * Wall-clock nanoseconds (CLOCK_REALTIME) for stamping records: the realtime clock is read once,
 * and every later time is that base plus the monotonic clock's advance, in BigInt (an epoch time
 * in ns is past 2^53). So stamps never go backwards when NTP steps the wall clock, and cost one
 * monotonic read each. The base is a double's worth of ns (a 256 ns step at today's epoch).
 */
import { native } from '../native/segment/binding.js';

export class RealtimeClock {
  /** realtime - monotonic, at construction. */
  private readonly offset: bigint;

  constructor() {
    const before = process.hrtime.bigint();
    const real = BigInt(Math.round(native.realtimeNs()));
    const after = process.hrtime.bigint();
    // The realtime read is taken as halfway between the two monotonic reads around it.
    this.offset = real - (before + (after - before) / 2n);
  }

  /** Now, in ns since the epoch. */
  nowNs(): bigint {
    return this.offset + process.hrtime.bigint();
  }
}

/** YYYY-MM-DD (UTC) of an epoch time in ns, `days` later. */
export function utcDate(ns: bigint, days = 0): string {
  const d = new Date(Number(ns / 1_000_000n));
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}
