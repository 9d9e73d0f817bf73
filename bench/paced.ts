/**
 * Steady-rate pacing for latency benchmarks: calls `send(k, intendedNs)` every 1e9/rate ns for
 * `seconds`, spinning on CLOCK_MONOTONIC between sends (a timer would add its own jitter).
 * `intendedNs` is the scheduled send time, not the actual one: when the sender falls behind it
 * sends back to back until it catches up, so a stall is not hidden (coordinated omission); the
 * receivers record with hdr's recordValueWithExpectedInterval(value, intervalNs) as well.
 */
import { native } from '../native/ts/addon.js';

export interface PacedResult {
  sent: number;
  intervalNs: number;
  /** Sends that left more than one interval late. */
  late: number;
}

export function paced(rate: number, seconds: number, send: (k: number, intendedNs: number) => void): PacedResult {
  if (!(rate > 0) || !(seconds > 0)) throw new RangeError(`paced: rate and seconds must be > 0 (got ${rate}, ${seconds})`);
  const intervalNs = 1e9 / rate;
  const t0 = native.monotonicNs();
  const end = t0 + seconds * 1e9;
  let next = t0;
  let k = 0;
  let late = 0;
  for (;;) {
    let now = native.monotonicNs();
    while (now < next) now = native.monotonicNs();
    if (now >= end) break;
    if (now - next > intervalNs) late++;
    send(k++, next);
    next += intervalNs;
  }
  return { sent: k, intervalNs, late };
}

/** The async form: yields to the event loop every `yieldEvery` sends (sockets need it to flush). */
export async function pacedAsync(rate: number, seconds: number, send: (k: number, intendedNs: number) => void, yieldEvery = 64): Promise<PacedResult> {
  const intervalNs = 1e9 / rate;
  const t0 = native.monotonicNs();
  const end = t0 + seconds * 1e9;
  let next = t0;
  let k = 0;
  let late = 0;
  for (;;) {
    let now = native.monotonicNs();
    while (now < next) now = native.monotonicNs();
    if (now >= end) break;
    if (now - next > intervalNs) late++;
    send(k++, next);
    next += intervalNs;
    if (k % yieldEvery === 0) await new Promise<void>((r) => setImmediate(r));
  }
  return { sent: k, intervalNs, late };
}
