/**
 * The SDK's event reader: every event of a segment's ring, in order, filtered by kind and
 * instrument, with losses to lapping reported as a count, never skipped silently. poll() is
 * synchronous and fills a preallocated batch (nothing allocated per event); a new writer
 * generation is followed with reopen() (a BookReader on the same segment says when: NEW_WRITER).
 */
import { abi, type EventBatch, type EventRecord, EventRingReader, type StartAt } from '../../native/segment/index.js';

export interface EventReaderOptions {
  /** Where a new reader starts: the oldest event still in the ring (default) or after the newest. */
  from?: StartAt;
  /** Kinds to deliver (MDFAN_EVENT_KIND_* letters); all when absent. */
  kinds?: readonly number[];
  /** Instruments (slots) to deliver; all when absent. Events without an instrument always pass. */
  instruments?: readonly number[];
}

export class EventReader {
  private ring: EventRingReader;
  private readonly kindMask = new Uint8Array(256);
  /** The filter, or undefined when every event is wanted (no call per event). */
  private readonly accept: ((rec: EventRecord) => boolean) | undefined;
  /** Events delivered, and lost to lapping, since open (across reopens). */
  delivered = 0;
  lost = 0;

  private constructor(
    readonly segment: string,
    opts: EventReaderOptions,
  ) {
    this.ring = EventRingReader.open(segment, opts.from ?? 'oldest');
    if (opts.kinds) for (const k of opts.kinds) this.kindMask[k] = 1;
    else this.kindMask.fill(1);
    const slots = opts.instruments;
    const mask = slots ? new Uint8Array(Math.max(0, ...slots) + 1) : null;
    if (mask && slots) for (const s of slots) mask[s] = 1;
    this.accept =
      opts.kinds === undefined && mask === null
        ? undefined
        : (rec) => this.kindMask[rec.kind] === 1 && (mask === null || rec.instrumentIndex === abi.EVENT_NO_INSTRUMENT || mask[rec.instrumentIndex] === 1);
  }

  /** Opens the ring of `segment` (MDFAN_ERR_NO_SEGMENT when its writer keeps none). */
  static open(segment: string, opts: EventReaderOptions = {}): EventReader {
    return new EventReader(segment, opts);
  }

  /** The writer generation whose ring this reads. */
  get generation(): number {
    return this.ring.generation;
  }

  /** Events published and not yet read (lapped ones included). */
  backlog(): number {
    return this.ring.backlog();
  }

  /**
   * Fills `batch` with the next wanted events; returns how many (0: nothing new). batch.lost is
   * the number of events (of every kind) lost to lapping just before batch.records[0].
   */
  poll(batch: EventBatch): number {
    const n = this.ring.poll(batch, this.accept);
    this.delivered += n;
    this.lost += batch.lost;
    return n;
  }

  /** Follows a new writer generation: the old ring stopped; the new one is read from its start. */
  reopen(): void {
    this.ring.close();
    this.ring = EventRingReader.open(this.segment, 'oldest');
  }

  close(): void {
    this.ring.close();
  }
}
