/**
 * Replay pacing by exchange timestamps: `max` (no waiting), `1` (as recorded), `N` (N times
 * faster). The replay loop asks `delayNs(exchangeTsNs)` per message: a compare and a subtraction,
 * no clock read unless the message is due in the future of the last clock read.
 */
import { native } from '../../native/segment/binding.js';
import { ErrorCode, MdfanError } from '../../native/segment/errors.js';

export type Speed = 'max' | number;

/** Parses `--speed max|1|N` (N > 0, e.g. 100 or 0.5). */
/** The slowest and fastest pace a replay may ask for (times the recorded pace). */
export const SPEED_RANGE = Object.freeze({ min: 0.001, max: 1e9 });

export function parseSpeed(text: string | undefined): Speed {
  if (text === undefined || text === 'max') return 'max';
  const n = Number(text);
  if (!Number.isFinite(n) || n < SPEED_RANGE.min || n > SPEED_RANGE.max)
    throw new MdfanError(ErrorCode.OPTIONS, `--speed must be max or a number > 0, ${SPEED_RANGE.min}..${SPEED_RANGE.max} (got ${JSON.stringify(text)})`, {
      flag: '--speed',
      expected: `${SPEED_RANGE.min}..${SPEED_RANGE.max}`,
      found: String(text),
    });
  return n;
}

export class Pacer {
  private readonly speed: Speed;
  private readonly maxGapNs: number;
  private lastExchangeNs = 0;
  private baseExchangeNs = -1;
  private baseWallNs = 0;
  /** The wall clock as last read: a message due before it needs no new read. */
  private wallNs = 0;

  /**
   * maxGapNs caps a stretch of exchange time with no message (e.g. from the pre-open to the
   * session): pacing inside the session stays as recorded, the idle stretch is cut short.
   */
  constructor(
    speed: Speed,
    maxGapNs = Infinity,
    private readonly now: () => number = native.monotonicNs,
  ) {
    this.speed = speed;
    this.maxGapNs = maxGapNs;
  }

  get paced(): boolean {
    return this.speed !== 'max';
  }

  /**
   * ns to wait before processing a message stamped `exchangeTsNs` (<= 0: go now). Timestamps
   * that go backwards (a new day, or a feed's disorder) never make it wait.
   */
  delayNs(exchangeTsNs: number): number {
    if (this.speed === 'max') return 0;
    if (this.baseExchangeNs < 0) {
      this.baseExchangeNs = this.lastExchangeNs = exchangeTsNs;
      this.baseWallNs = this.wallNs = this.now();
      return 0;
    }
    const gap = exchangeTsNs - this.lastExchangeNs;
    if (gap > this.maxGapNs) this.baseExchangeNs += gap - this.maxGapNs; // skip the idle stretch
    if (gap > 0) this.lastExchangeNs = exchangeTsNs;
    const due = this.baseWallNs + (exchangeTsNs - this.baseExchangeNs) / this.speed;
    if (due <= this.wallNs) return 0;
    this.wallNs = this.now();
    return due - this.wallNs;
  }
}
