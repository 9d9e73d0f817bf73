/**
 * The faults a venue-replay injects into what its clients receive (the venue's own book and the
 * REST snapshots follow the capture whole: a fault is the network's, not the exchange's). Lines are
 * the capture's 0-based line numbers (its message indexes).
 */
import { ErrorCode, MdfanError } from '../../../native/segment/errors.js';

export interface FaultPlan {
  /** Lines never sent. */
  readonly drop: ReadonlySet<number>;
  /** Lines sent twice. */
  readonly duplicate: ReadonlySet<number>;
  /** After these lines, a text frame that is not JSON goes to every client. */
  readonly garbageAfter: ReadonlySet<number>;
  /** After these lines, every client's socket is cut (no close frame), once. */
  readonly disconnectAfter: ReadonlySet<number>;
  /** REST snapshots are answered this late (the book as it was when asked). */
  readonly snapshotDelayMs: number;
}

export const NO_FAULTS: FaultPlan = Object.freeze({ drop: new Set<number>(), duplicate: new Set<number>(), garbageAfter: new Set<number>(), disconnectAfter: new Set<number>(), snapshotDelayMs: 0 });

/** The text frame --garbage-after-line sends: not JSON, as a broken proxy or a cut frame might be. */
export const GARBAGE_FRAME = '{"stream":"garbage@depth","data":{"e":"depthUpdate","U":1,';

/** Line numbers of a repeatable flag (`--drop-line 5 --drop-line 9`), each a non-negative integer. */
export function lineSet(values: readonly string[] | undefined, flag: string): Set<number> {
  const out = new Set<number>();
  for (const v of values ?? []) {
    const n = /^\d+$/.test(v) ? Number(v) : Number.NaN;
    if (!Number.isSafeInteger(n)) throw new MdfanError(ErrorCode.OPTIONS, `${flag} takes a capture line number (0-based; got ${JSON.stringify(v)})`, { flag, found: v });
    out.add(n);
  }
  return out;
}
