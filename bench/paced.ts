/**
 * Steady-rate pacing for latency benchmarks: calls `send(k, intendedNs)` every 1e9/rate ns for
 * `seconds`, spinning on CLOCK_MONOTONIC between sends (a timer would add its own jitter).
 * `intendedNs` is the scheduled send time, not the actual one: when the sender falls behind it
 * sends back to back until it catches up, so a stall is not hidden (coordinated omission); the
 * receivers record with hdr's recordValueWithExpectedInterval(value, intervalNs) as well.
 */
import { native } from '../native/segment/binding.js';

export interface PacedResult {
  sent: number;
  intervalNs: number;
  /** Sends that left more than one interval late. */
  late: number;
}

/** The schedule both forms share: due() spins until the next send is due and returns its intended time, or -1 at the end. */
class Schedule {
  readonly intervalNs: number;
  private next: number;
  private readonly end: number;
  sent = 0;
  late = 0;

  constructor(rate: number, seconds: number) {
    if (!(rate > 0) || !(seconds > 0)) throw new RangeError(`paced: rate and seconds must be > 0 (got ${rate}, ${seconds})`);
    this.intervalNs = 1e9 / rate;
    this.next = native.monotonicNs();
    this.end = this.next + seconds * 1e9;
  }

  due(): number {
    let now = native.monotonicNs();
    while (now < this.next) now = native.monotonicNs();
    if (now >= this.end) return -1;
    if (now - this.next > this.intervalNs) this.late++;
    const intended = this.next;
    this.next += this.intervalNs;
    this.sent++;
    return intended;
  }

  result(): PacedResult {
    return { sent: this.sent, intervalNs: this.intervalNs, late: this.late };
  }
}

export function paced(rate: number, seconds: number, send: (k: number, intendedNs: number) => void): PacedResult {
  const s = new Schedule(rate, seconds);
  for (let t = s.due(); t >= 0; t = s.due()) send(s.sent - 1, t);
  return s.result();
}

/** The async form: yields to the event loop every `yieldEvery` sends (sockets need it to flush). */
export async function pacedAsync(rate: number, seconds: number, send: (k: number, intendedNs: number) => void, yieldEvery = 64): Promise<PacedResult> {
  const s = new Schedule(rate, seconds);
  for (let t = s.due(); t >= 0; t = s.due()) {
    send(s.sent - 1, t);
    if (s.sent % yieldEvery === 0) await new Promise<void>((r) => setImmediate(r));
  }
  return s.result();
}
