/**
 * Replay pacing by exchange timestamps: `max` (no waiting), `1` (as recorded), `N` (N times
 * faster). The replay loop asks `delayNs(exchangeTsNs)` per message: a compare and a subtraction,
 * no clock read unless the message is due in the future of the last clock read.
 */
import { native } from '../../native/ts/addon.js';
import { ErrorCode, MdfanError } from '../../native/ts/errors.js';

export type Speed = 'max' | number;

/** Parses `--speed max|1|N` (N > 0, e.g. 100 or 0.5). */
export function parseSpeed(text: string | undefined): Speed {
  if (text === undefined || text === 'max') return 'max';
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0 || n > 1e9) throw new MdfanError(ErrorCode.OPTIONS, `--speed must be max or a number > 0 (got ${JSON.stringify(text)})`);
  return n;
}

export class Pacer {
  private readonly speed: Speed;
  private baseExchangeNs = -1;
  private baseWallNs = 0;
  /** The wall clock as last read: a message due before it needs no new read. */
  private wallNs = 0;

  constructor(speed: Speed) {
    this.speed = speed;
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
      this.baseExchangeNs = exchangeTsNs;
      this.baseWallNs = this.wallNs = native.monotonicNs();
      return 0;
    }
    const due = this.baseWallNs + (exchangeTsNs - this.baseExchangeNs) / this.speed;
    if (due <= this.wallNs) return 0;
    this.wallNs = native.monotonicNs();
    return due - this.wallNs;
  }
}
