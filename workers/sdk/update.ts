/**
 * What following a segment hands out, as one discriminated union: a book, a top of book or an
 * event with its instrument, and every turn of the writer's story. The objects are reused (one per
 * kind): read what you need before the next update, copy what you keep.
 */
import type { Instrument } from '../../native/segment/directory.js';
import type { MdfanError } from '../../native/segment/errors.js';
import type { EventRecord } from '../../native/segment/events.js';
import type { BookSnapshot } from '../../native/segment/seqlock.js';
import type { TopSnapshot } from '../../native/segment/tops.js';

export type Update =
  /** A book changed (whole book, `levels` deep). */
  | { readonly kind: 'book'; readonly instrument: Instrument; readonly book: BookSnapshot }
  /** A top of book changed (best bid or ask: price, size or order count). */
  | { readonly kind: 'top'; readonly instrument: Instrument; readonly top: TopSnapshot }
  /** An event of the ring (a trade, a trading action, an order event); `instrument` undefined for a system event. */
  | { readonly kind: 'event'; readonly instrument: Instrument | undefined; readonly event: EventRecord }
  /** This reader fell more than the ring's capacity behind: `lost` events were lost, exactly. */
  | { readonly kind: 'events-lost'; readonly lost: number }
  /** A slot stayed mid-commit past the stale bound (a writer stopped while committing): not read this time. */
  | { readonly kind: 'stale'; readonly instrument: Instrument; readonly error: MdfanError }
  /** The writer died (its lock is free, or its heartbeat went silent); once per death. */
  | { readonly kind: 'writer-dead'; readonly error: MdfanError }
  /** The writer that was reported dead beats again (it had stopped, not died). */
  | { readonly kind: 'writer-back'; readonly pid: number }
  /** A new writer took over (a new generation, maybe a new layout): everything is re-read. */
  | { readonly kind: 'new-writer'; readonly generation: number }
  /** The writer closed the segment: every book and event it left has been handed out. */
  | { readonly kind: 'closed' };

export type UpdateKind = Update['kind'];

/** The callbacks of follow(): each optional; an update without its callback is passed over. */
export interface FollowHandler {
  onBook?(book: BookSnapshot, instrument: Instrument): void;
  onTop?(top: TopSnapshot, instrument: Instrument): void;
  onEvent?(event: EventRecord, instrument: Instrument | undefined): void;
  onEventsLost?(lost: number): void;
  onStale?(instrument: Instrument, error: MdfanError): void;
  onWriterDead?(error: MdfanError): void;
  onWriterBack?(pid: number): void;
  onNewWriter?(generation: number): void;
  onClosed?(): void;
  /** Called at each event-loop turn the loop takes (progress, periodic reports). */
  onTurn?(): void;
}
