/**
 * Binance's rules for keeping a local book from a REST snapshot and the diff-depth stream ("How
 * to manage a local order book correctly"), for one symbol. L is the snapshot's lastUpdateId;
 * an event carries U (its first update id), u (its last) and, on the futures markets, pu (the
 * previous event's u).
 *
 * futures: drop events with u < L; the first applied has U <= L <= u; every later one has
 *   pu == the previous applied u, otherwise the book is lost until a new snapshot.
 * spot: drop events with u <= L; the first applied has U <= L+1 <= u; every later one has
 *   U <= previous u + 1 (normally equal; a larger U is a gap).
 * On both, an event whose u was already applied (u <= the last applied u) is a duplicate: dropped.
 *
 * Only the verdict is decided here; the market holds the books and the buffer. Update ids pass
 * 2^32 but stay far below 2^53: plain numbers.
 */
import type { Sequencing } from './venues.js';

export const Verdict = Object.freeze({
  /** Apply the event to the book. */
  APPLY: 0,
  /** No snapshot yet (or the book was lost): keep the event for the next snapshot. */
  BUFFER: 1,
  /** Older than the snapshot: its changes are in the snapshot already. */
  DROP_OLD: 2,
  /** Its u was applied already. */
  DROP_DUPLICATE: 3,
  /** Events are missing between the book and this one: the book is lost until a new snapshot. */
  GAP: 4,
} as const);
export type Verdict = (typeof Verdict)[keyof typeof Verdict];

export const SyncState = Object.freeze({
  /** No usable snapshot: events are buffered. */
  WAITING: 0,
  /** A snapshot is loaded; the first event to apply must bridge it. */
  BRIDGING: 1,
  /** Applying events in sequence. */
  LIVE: 2,
} as const);
export type SyncState = (typeof SyncState)[keyof typeof SyncState];

export class Sequencer {
  state: SyncState = SyncState.WAITING;
  /** The loaded snapshot's lastUpdateId. */
  snapshotId = -1;
  /** u of the last applied event (-1: none since the snapshot). */
  lastId = -1;
  private readonly futures: boolean;

  constructor(sequencing: Sequencing) {
    this.futures = sequencing === 'futures';
  }

  /** A snapshot with lastUpdateId L was loaded into the book. */
  snapshot(lastUpdateId: number): void {
    this.snapshotId = lastUpdateId;
    this.lastId = -1;
    this.state = SyncState.BRIDGING;
  }

  /** The book was lost (a gap, a disconnect): wait for a new snapshot. */
  lose(): void {
    this.state = SyncState.WAITING;
  }

  /**
   * The verdict on an event (U, u, pu; pu -1 on spot). APPLY moves the sequence on; GAP puts the
   * sequencer in WAITING (the caller marks the book lost and asks for a snapshot).
   */
  check(firstId: number, lastId: number, prevId: number): Verdict {
    switch (this.state) {
      case SyncState.WAITING:
        return Verdict.BUFFER;
      case SyncState.BRIDGING: {
        const L = this.snapshotId;
        if (this.futures) {
          if (lastId < L) return Verdict.DROP_OLD;
          if (firstId > L) return this.gap();
        } else {
          if (lastId <= L) return Verdict.DROP_OLD;
          if (firstId > L + 1) return this.gap();
        }
        this.state = SyncState.LIVE;
        this.lastId = lastId;
        return Verdict.APPLY;
      }
      default: {
        const last = this.lastId;
        if (lastId <= last) return Verdict.DROP_DUPLICATE;
        if (this.futures ? prevId !== last : firstId > last + 1) return this.gap();
        this.lastId = lastId;
        return Verdict.APPLY;
      }
    }
  }

  /** Whether an event ending at u (lastId) is older than a snapshot with lastUpdateId L: dropped on it. */
  older(lastUpdateId: number, lastId: number): boolean {
    return this.futures ? lastId < lastUpdateId : lastId <= lastUpdateId;
  }

  /**
   * The book in sync was re-anchored on a snapshot with lastUpdateId L no newer than the last
   * applied u, and the applied events after L were applied again: the chain goes on from that u.
   */
  reanchor(lastUpdateId: number): void {
    this.snapshotId = lastUpdateId;
    this.state = SyncState.LIVE;
  }

  /**
   * Whether an event (U, u) would be the first applied on a snapshot with lastUpdateId L: how a
   * snapshot body that does not name its symbol is matched to the symbol whose events it bridges.
   */
  bridges(lastUpdateId: number, firstId: number, lastId: number): boolean {
    const L = lastUpdateId;
    return this.futures ? firstId <= L && L <= lastId : firstId <= L + 1 && L + 1 <= lastId;
  }

  private gap(): Verdict {
    this.state = SyncState.WAITING;
    return Verdict.GAP;
  }
}
