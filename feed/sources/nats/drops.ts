/**
 * Every record the mirror does not apply, counted by reason and said in the log at most once a
 * second per reason (a flood of one kind hides no other). Malformed reasons (the record is not
 * what a bridge sends) also count in the segment's malformed_messages and log `wire_malformed`;
 * the others (an older book, a symbol with no slot, the start queue full) log `mirror_dropped`.
 */
import { LogEvent, type Logger, rateLimit } from '../../../lib/log.js';
import type { WireErrorReason } from '../../../lib/wire/wire.js';
import type { SourceCounters } from '../../sink.js';

export type DropReason =
  | WireErrorReason
  /** A subject under the prefix the bridge does not send, or a bucket key that is not a symbol. */
  | 'subject'
  /** A bridge session ahead of our clock by more than the allowed skew. */
  | 'session'
  /** A book that does not fit the segment (depth, instrument count, levels' sizes and order). */
  | 'shape'
  /** A book older than the one held. */
  | 'older'
  /** A symbol the segment has no slot for (not among --symbols, or the directory full). */
  | 'refused'
  /** The start queue's byte cap was reached. */
  | 'queue';

const MALFORMED: ReadonlySet<DropReason> = new Set<DropReason>(['short', 'length', 'version', 'type', 'levels', 'symbol', 'range', 'subject', 'session', 'shape']);

const TEXT: Readonly<Record<DropReason, string>> = Object.freeze({
  short: 'a short record',
  length: 'a record longer than its type',
  version: 'another wire version',
  type: 'a record of an unknown type',
  levels: 'a book of an impossible depth',
  symbol: 'a bad symbol',
  range: 'a number outside what the wire carries',
  subject: 'a subject the bridge does not send',
  session: 'a bridge session in the future',
  shape: 'a book that does not fit the segment',
  older: 'a book older than the one held',
  refused: 'a record of a symbol that has no slot',
  queue: 'the queue before READY is full',
});

export class Drops {
  /** Per reason, since the start; `total` is their sum. */
  readonly byReason: Record<DropReason, number> = { short: 0, length: 0, version: 0, type: 0, levels: 0, symbol: 0, range: 0, subject: 0, session: 0, shape: 0, older: 0, refused: 0, queue: 0 };
  total = 0;
  private readonly due = new Map<DropReason, () => boolean>();

  constructor(
    private readonly counters: SourceCounters,
    private readonly stats: { malformed: number },
    private log: Logger | null = null,
  ) {}

  setLog(log: Logger): void {
    this.log = log;
  }

  /** Counts a dropped record; `detail` (built by the caller only for hostile input) says more than the reason. */
  drop(reason: DropReason, where: string, detail?: string): void {
    this.byReason[reason]++;
    this.total++;
    const malformed = MALFORMED.has(reason);
    if (malformed) {
      this.stats.malformed++;
      this.counters.malformed++;
    }
    let due = this.due.get(reason);
    if (due === undefined) {
      due = rateLimit(1000);
      this.due.set(reason, due);
    }
    if (!due() || this.log === null) return;
    const fields = { event: malformed ? LogEvent.WIRE_MALFORMED : LogEvent.MIRROR_DROPPED, subject: where, reason, count: this.byReason[reason], dropped: this.total };
    if (malformed) this.log.warn(fields, `${where}: ${detail ?? TEXT[reason]}`);
    else this.log.info(fields, `${where}: ${detail ?? TEXT[reason]} (${this.byReason[reason]} so far)`);
  }

  /** The counts for a summary: only the reasons that happened. */
  summary(): Partial<Record<DropReason, number>> {
    const out: Partial<Record<DropReason, number>> = {};
    for (const [k, v] of Object.entries(this.byReason) as Array<[DropReason, number]>) if (v > 0) out[k] = v;
    return out;
  }
}
