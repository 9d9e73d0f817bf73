/**
 * The SDK's event reader: every event of a segment's ring, in order, filtered by kind and
 * instrument, with losses to lapping reported as a count, never skipped silently. poll() is
 * synchronous and fills a preallocated batch (nothing allocated per event); a new writer
 * generation is followed with reopen() (a BookReader on the same segment says when: NEW_WRITER).
 */
import { setImmediate as yieldNow } from 'node:timers/promises';
import { SegmentReader, abi, type EventBatch, type EventRecord, EventRingReader, type StartAt } from '../../native/segment/index.js';
import { READER_DEFAULTS } from './defaults.js';
import { IdleStrategy } from './idle.js';
import { Sleeper } from './sleeper.js';
import { type WaitStrategy, checkWait } from './wait.js';

export interface EventReaderOptions {
  /** Where a new reader starts: the oldest event still in the ring (default) or after the newest. */
  from?: StartAt;
  /** Kinds to deliver (MDFAN_EVENT_KIND_* letters); all when absent. */
  kinds?: readonly number[];
  /** Instruments (slots) to deliver; all when absent. Events without an instrument always pass. */
  instruments?: readonly number[];
  /** How wait() waits (READER_DEFAULTS.wait when absent): as the BookReader's waits. */
  wait?: WaitStrategy;
  /** The uid the segment's writer runs as, when it is another user (as the BookReader's option). */
  writerUid?: number;
}

export class EventReader {
  private ring: EventRingReader;
  private readonly kindMask = new Uint8Array(256);
  /** The filter, or undefined when every event is wanted (no call per event). */
  private readonly accept: ((rec: EventRecord) => boolean) | undefined;
  /** Events delivered, and lost to lapping, since open (across reopens). */
  delivered = 0;
  lost = 0;
  readonly wait: WaitStrategy;
  /** For the block wait: the data segment (its futex word) and a line in the reader registry. */
  private seg: SegmentReader | null = null;
  private readonly sleeper = new Sleeper();
  /** waitForEvents' idle strategy: the same state machine as every reader's. */
  private readonly idle: IdleStrategy;
  private readonly writerUid: number | undefined;

  private constructor(
    readonly segment: string,
    opts: EventReaderOptions,
  ) {
    this.writerUid = opts.writerUid;
    this.ring = EventRingReader.open(segment, opts.from ?? 'oldest', { writerUid: this.writerUid });
    this.wait = checkWait(opts.wait ?? READER_DEFAULTS.wait);
    const ready = (): boolean => this.ring.backlog() > 0;
    this.idle = new IdleStrategy(this.wait, {
      ready,
      sleep: (ms) => {
        this.seg ??= SegmentReader.openSync(this.segment, { anyState: true });
        this.sleeper.sleep(this.seg, false, ready, ms);
      },
    });
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

  /**
   * Reads every event published so far through `batch`, calling `each` with each record that names
   * an instrument (its slot is `rec.instrumentIndex`); returns the events lost to lapping
   * meanwhile. `each` is called synchronously; the record is reused after it returns.
   */
  drainInstrumentEvents(batch: EventBatch, each: (rec: EventRecord) => void): number {
    let lost = 0;
    for (;;) {
      const n = this.poll(batch);
      lost += batch.lost;
      if (n === 0 && batch.lost === 0) return lost;
      for (let i = 0; i < n; i++) {
        const rec = batch.records[i]!;
        if (rec.instrumentIndex !== abi.EVENT_NO_INSTRUMENT) each(rec);
      }
    }
  }

  /**
   * Waits until an event is there to poll (true) or timeoutMs passed (false), as `wait` says (the
   * one idle strategy, idle.ts): block sleeps on the segment's futex word, counted in the reader
   * registry, and the writer wakes it after the events of each input message.
   */
  async waitForEvents(timeoutMs: number = READER_DEFAULTS.nextTimeoutMs): Promise<boolean> {
    const end = performance.now() + timeoutMs;
    this.idle.reset();
    for (;;) {
      if (this.ring.backlog() > 0) return true;
      const left = end - performance.now();
      if (left <= 0) return false;
      if (this.idle.idle(left)) await yieldNow();
    }
  }

  /** Follows a new writer generation: the old ring stopped; the new one is read from its start. */
  reopen(): void {
    this.sleeper.release(); // the new writer made its own registry
    this.ring.close();
    this.seg?.close(); // the block wait maps the new generation's segment when it next sleeps
    this.seg = null;
    this.ring = EventRingReader.open(this.segment, 'oldest', { writerUid: this.writerUid });
  }

  close(): void {
    this.ring.close();
    this.sleeper.release();
    this.seg?.close();
  }
}
