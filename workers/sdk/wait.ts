/** How a reader waits for the writer: the one definition, with its validation. */
import { ErrorCode, MdfanError } from '../../native/segment/errors.js';

export type WaitStrategy = 'spin' | 'yield' | 'block';
export const WAIT_STRATEGIES: readonly WaitStrategy[] = ['spin', 'yield', 'block'];

/** Validates a wait strategy given as an option (`what` names it in the error: '--wait', 'wait'). */
export function checkWait(value: unknown, what = 'wait'): WaitStrategy {
  if (!WAIT_STRATEGIES.includes(value as WaitStrategy))
    throw new MdfanError(ErrorCode.OPTIONS, `${what} must be spin, yield or block (got ${JSON.stringify(value)})`, { flag: what, found: String(value) });
  return value as WaitStrategy;
}

/** What next() saw. */
export const WaitResult = {
  UPDATED: 0,
  TIMEOUT: 1,
  /** The writer closed the segment (graceful end). */
  CLOSED: 2,
  /** The writer died (lock free, or heartbeat silent); reported once per death. */
  WRITER_DEAD: 3,
  /** A new writer took over or re-created the segment: directory re-read, books re-announced. */
  NEW_WRITER: 4,
} as const;
export type WaitResult = (typeof WaitResult)[keyof typeof WaitResult];

/**
 * poll()'s answers other than a count of changed slots: the WaitResult, negated (so a loop tests
 * `n < 0` once).
 */
export const PollStatus = {
  CLOSED: -WaitResult.CLOSED,
  WRITER_DEAD: -WaitResult.WRITER_DEAD,
  NEW_WRITER: -WaitResult.NEW_WRITER,
} as const;
