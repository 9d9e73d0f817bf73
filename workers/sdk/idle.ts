/**
 * The one idle strategy every reader loop takes (after Agrona's BackoffIdleStrategy): a loop that
 * found no work calls idle(), one that found some calls reset(). What idle() does depends on the
 * wait strategy and on how long nothing has come:
 *   spin   look for work without pause (SPIN_CHECKS times per call, or none for a caller whose
 *          own look is the poll); an event-loop turn every SPIN_LOOKS_PER_TURN looks (timers,
 *          signals): the lowest latency, one core per reader
 *   yield  spin for yieldSpinUs, then ask for yieldTurns event-loop turns, then park the thread
 *          for a period that doubles from yieldParkMinUs to yieldParkMaxUs, a turn after each
 *   block  sleep on the futex until the writer's wake (the Sleeper), at most BLOCK_SLICE_MS, then
 *          a turn (or, for a dedicated thread, a turn only every turnEveryMs)
 * While the writer is dead (`dormant`) every strategy parks deadBackoffMs per call: nothing comes
 * until the writer beats again or a new one takes over, and no core is burnt on it.
 * idle() is synchronous and allocates nothing; it returns true when the caller should give the
 * event loop a turn before it looks again (`if (idle.idle(...)) await yieldNow()`).
 */
import { READER_DEFAULTS } from './defaults.js';
import type { WaitStrategy } from './wait.js';

/** What idle() waits for: a cheap look for work, and (block) a sleep until the writer's wake. */
export interface IdleTarget {
  /** True when there is work (a slot's seq moved, an event is in the ring). One or a few loads. */
  ready(): boolean;
  /** Sleeps this thread until the writer wakes sleepers or ms pass (the block strategy only). */
  sleep(ms: number): void;
}

/** spin: looks for work per idle() call (a caller whose own look is costly), and looks per event-loop turn (a power of two). */
export const SPIN_CHECKS = 1024;
const SPIN_LOOKS_PER_TURN = 1 << 16;
/**
 * The longest a block sleep lasts before the loop looks at the writer's story again. Tests make it
 * long (MDFAN_TEST_BLOCK_SLICE_MS, read once): a lost wake-up then shows as a sleep that does not
 * end, not as one the slice cuts short.
 */
export const BLOCK_SLICE_MS = Number(process.env.MDFAN_TEST_BLOCK_SLICE_MS) || 100;
/** Looks for work per clock read while yield spins. */
const YIELD_SPIN_CHECKS = 64;

const Phase = {
  SPINNING: 0,
  TURNING: 1,
  PARKING: 2,
} as const;
type Phase = (typeof Phase)[keyof typeof Phase];

export class IdleStrategy {
  private phase: Phase = Phase.SPINNING;
  private spins = 0;
  private turns = 0;
  private parkUs = 0;
  /** yield: when the spin phase ends (set by the first idle() after work). */
  private spinEndMs = -1;
  private nextTurnMs = 0;

  /**
   * `turnEveryMs` (block only): a dedicated thread that sleeps in the futex and wants an event-loop
   * turn only this often (0: after every sleep).
   */
  /**
   * `spinChecks` (spin only): how many times idle() looks for work itself before it returns; 0
   * for a caller whose own look is as cheap (the follow loop's poll), so that an update found is
   * read at once rather than found twice.
   */
  constructor(
    readonly wait: WaitStrategy,
    private readonly target: IdleTarget,
    private readonly turnEveryMs = 0,
    private readonly spinChecks = SPIN_CHECKS,
  ) {}

  /** Work was found: the next idle() starts from the first phase again. */
  reset(): void {
    this.phase = Phase.SPINNING;
    this.spinEndMs = -1;
    this.turns = 0;
    this.parkUs = 0;
  }

  /**
   * One idle step, bounded by `maxMs` (the caller's deadline). Returns true when the caller
   * should let the event loop turn before it looks for work again.
   */
  idle(maxMs: number, dormant = false): boolean {
    if (dormant) {
      park(Math.min(maxMs, READER_DEFAULTS.deadBackoffMs));
      return true;
    }
    if (this.wait === 'spin') {
      for (let i = 0; i < this.spinChecks; i++) if (this.target.ready()) return false;
      this.spins += Math.max(1, this.spinChecks);
      if (this.spins < SPIN_LOOKS_PER_TURN) return false;
      this.spins = 0;
      return true;
    }
    if (this.wait === 'block') return this.sleep(maxMs);
    switch (this.phase) {
      case Phase.SPINNING: {
        const now = performance.now();
        if (this.spinEndMs < 0) this.spinEndMs = now + READER_DEFAULTS.yieldSpinUs / 1000;
        if (now < this.spinEndMs) {
          for (let i = 0; i < YIELD_SPIN_CHECKS; i++) if (this.target.ready()) return false;
          return false;
        }
        // This call's turn is the first of yieldTurns.
        this.turns = 1;
        this.phase = this.turns >= READER_DEFAULTS.yieldTurns ? Phase.PARKING : Phase.TURNING;
        return true;
      }
      case Phase.TURNING:
        if (++this.turns >= READER_DEFAULTS.yieldTurns) this.phase = Phase.PARKING;
        return true;
      default:
        this.parkUs = this.parkUs === 0 ? READER_DEFAULTS.yieldParkMinUs : Math.min(this.parkUs * 2, READER_DEFAULTS.yieldParkMaxUs);
        park(Math.min(this.parkUs / 1000, maxMs));
        return true;
    }
  }

  private sleep(maxMs: number): boolean {
    this.target.sleep(Math.max(0, Math.min(maxMs, BLOCK_SLICE_MS)));
    if (this.turnEveryMs <= 0) return true;
    const now = performance.now();
    if (now < this.nextTurnMs) return false;
    this.nextTurnMs = now + this.turnEveryMs;
    return true;
  }
}

/** A private word to park on: Atomics.wait with a timeout is a futex sleep of that length. */
const parkWord = new Int32Array(new SharedArrayBuffer(4));
/** Sleeps this thread for ms (fractional: the kernel's timer slack rounds it up). */
export const park = (ms: number): void => {
  if (ms > 0) Atomics.wait(parkWord, 0, 0, ms);
};
