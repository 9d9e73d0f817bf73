/**
 * The SDK's event reader: every event of a segment's ring, in order, filtered by kind and
 * instrument, with losses to lapping reported as a count, never skipped silently. poll() is
 * synchronous and fills a preallocated batch (nothing allocated per event). It knows its writer's
 * story on its own (writer-story.ts, as the BookReader): next() and checkStory() report a death
 * (once), a close and a new writer, whose ring it re-opens by itself once every event of the old
 * ring has been polled.
 */
import { setImmediate as yieldNow } from 'node:timers/promises';
import { ErrorCode, type EventType, MdfanError, SegmentReader, abi, eventKindOf, type EventBatch, type EventRecord, EventRingReader, type StartAt } from '../../native/segment/index.js';
import { READER_DEFAULTS } from './defaults.js';
import { IdleStrategy } from './idle.js';
import { Sleeper } from './sleeper.js';
import { WaitResult, type WaitStrategy, checkWait } from './wait.js';
import { WriterStory } from './writer-story.js';
import { BLOCK_SLICE_MS } from './idle.js';

export interface EventReaderOptions {
  /** Where a new reader starts: the oldest event still in the ring (default) or after the newest. */
  from?: StartAt;
  /** Kinds to deliver, by name ('trade', 'status', 'order', 'system', 'clear') or MDFAN_EVENT_KIND_* letter; all when absent. */
  kinds?: readonly EventKindFilter[];
  /** Instruments (slots) to deliver; all when absent. Events without an instrument always pass. */
  instruments?: readonly number[];
  /** How wait() waits (READER_DEFAULTS.wait when absent): as the BookReader's waits. */
  wait?: WaitStrategy;
  /** The uid the segment's writer runs as, when it is another user (as the BookReader's option). */
  writerUid?: number;
  /** A writer whose heartbeat is older than this is dead (READER_DEFAULTS.heartbeatTimeoutMs when absent). */
  heartbeatTimeoutMs?: number;
}

/** An entry of a kinds filter: the event type's name, or the ABI's letter code. */
export type EventKindFilter = Exclude<EventType, 'unknown'> | number;

function kindCode(k: EventKindFilter): number {
  const code = eventKindOf(k);
  if (code === undefined || !Number.isInteger(code) || code < 0 || code > 0xff)
    throw new MdfanError(ErrorCode.OPTIONS, `kinds: ${JSON.stringify(k)} is not an event kind (trade, status, order, system, clear, or a letter code 0..255)`, { field: 'kinds', found: String(k) });
  return code;
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
  /** The writer's story, and the data segment (its futex word for the block wait), opened when first needed. */
  private story: WriterStory | null = null;
  /** A close or a new writer seen while the old ring still held events: reported once they are polled. */
  private heldStory: WaitResult = WaitResult.UPDATED;
  private readonly heartbeatTimeoutMs: number | undefined;
  /** For the block wait: a line in the reader registry. */
  private readonly sleeper = new Sleeper();
  /** waitForEvents' idle strategy: the same state machine as every reader's. */
  private readonly idle: IdleStrategy;
  private readonly writerUid: number | undefined;

  private constructor(
    readonly segment: string,
    opts: EventReaderOptions,
  ) {
    this.writerUid = opts.writerUid;
    this.heartbeatTimeoutMs = opts.heartbeatTimeoutMs;
    this.ring = EventRingReader.open(segment, opts.from ?? 'oldest', { writerUid: this.writerUid });
    this.wait = checkWait(opts.wait ?? READER_DEFAULTS.wait);
    const ready = (): boolean => this.ring.backlog() > 0;
    this.idle = new IdleStrategy(this.wait, {
      ready,
      sleep: (ms) => this.sleeper.sleep(this.writerStory().seg, false, ready, ms),
    });
    if (opts.kinds) for (const k of opts.kinds) this.kindMask[kindCode(k)] = 1;
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
    this.checkOpen();
    return this.ring.backlog();
  }

  /**
   * Fills `batch` with the next wanted events; returns how many (0: nothing new). batch.lost is
   * the number of events (of every kind) lost to lapping just before batch.records[0].
   */
  poll(batch: EventBatch): number {
    this.checkOpen();
    const n = this.ring.poll(batch, this.accept);
    for (let i = 0; i < n; i++) {
      const rec = batch.records[i]!;
      rec.sizeScale = this.sizeScaleOf(rec.instrumentIndex);
    }
    this.delivered += n;
    this.lost += batch.lost;
    return n;
  }

  /** Size scales by slot, from the data segment's directory, read again when a record names a slot not seen yet. */
  private sizeScales: number[] = [];
  private sizeScaleOf(slot: number): number {
    if (slot === abi.EVENT_NO_INSTRUMENT) return Number.NaN;
    const known = this.sizeScales[slot];
    if (known !== undefined) return known;
    try {
      for (const inst of this.writerStory().seg.instruments()) this.sizeScales[inst.slotIndex] = inst.sizeScale;
    } catch {
      // The data segment is gone (its writer closed and removed it): its events keep no scale.
    }
    return this.sizeScales[slot] ?? Number.NaN;
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
   * registry, and the writer wakes it after the events of each input message. It does not look at
   * the writer's story: next() does.
   */
  async waitForEvents(timeoutMs: number = READER_DEFAULTS.nextTimeoutMs): Promise<boolean> {
    this.checkOpen();
    const end = performance.now() + timeoutMs;
    this.idle.reset();
    for (;;) {
      if (this.ring.backlog() > 0) return true;
      const left = end - performance.now();
      if (left <= 0) return false;
      if (this.idle.idle(left)) await yieldNow();
    }
  }

  /**
   * Waits for events or a turn of the writer's story, as `wait` says: UPDATED (events to poll),
   * TIMEOUT, WRITER_DEAD (once per death; the ring stays readable), NEW_WRITER (the old ring was
   * polled to its end and the new writer's is open: poll reads it from its start) or CLOSED (the
   * writer closed the segment and every event it left was polled).
   */
  async next(timeoutMs: number = READER_DEFAULTS.nextTimeoutMs): Promise<WaitResult> {
    this.checkOpen();
    const end = performance.now() + timeoutMs;
    this.idle.reset();
    for (;;) {
      if (this.ring.backlog() > 0) return WaitResult.UPDATED;
      const story = this.checkStory();
      if (story !== WaitResult.UPDATED) return story;
      const left = end - performance.now();
      if (left <= 0) return WaitResult.TIMEOUT;
      // A sleep ends at least every slice, for the story's next look; a dead writer's reader backs off.
      if (this.idle.idle(Math.min(left, BLOCK_SLICE_MS), this.isWriterDead)) await yieldNow();
    }
  }

  /**
   * The writer's story, looked at now (at most every 5 ms): UPDATED means "carry on" (also while
   * the old ring still holds events after a close or a new writer: poll them, then ask again);
   * otherwise WRITER_DEAD (once per death), NEW_WRITER (re-opened: the new ring is polled from its
   * start) or CLOSED.
   */
  checkStory(): WaitResult {
    this.checkOpen();
    let r = this.heldStory;
    if (r === WaitResult.UPDATED) r = this.writerStory().look() ?? WaitResult.UPDATED;
    if (r === WaitResult.UPDATED || r === WaitResult.WRITER_DEAD) return r;
    // The old ring first: a close or a new writer is told once its last event was polled.
    if (this.ring.backlog() > 0) {
      this.heldStory = r;
      return WaitResult.UPDATED;
    }
    this.heldStory = WaitResult.UPDATED;
    if (r === WaitResult.NEW_WRITER) this.openRing();
    return r;
  }

  /** True from a WRITER_DEAD until a new writer or a beat (as the story was last looked at). */
  get isWriterDead(): boolean {
    return this.story?.writerDead ?? false;
  }

  /**
   * Follows the new writer generation now (a BookReader on the same segment said NEW_WRITER): the
   * old ring stopped; the new one is read from its start. next() and checkStory() do this by
   * themselves.
   */
  reopen(): void {
    this.checkOpen();
    this.story?.catchUp();
    this.heldStory = WaitResult.UPDATED;
    this.openRing();
  }

  private openRing(): void {
    this.sleeper.release(); // the new writer made its own registry
    this.sizeScales = []; // and maybe its own directory
    this.ring.close();
    this.ring = EventRingReader.open(this.segment, 'oldest', { writerUid: this.writerUid });
  }

  /** The story (and the data segment), opened on first need: a reader that only polls maps no more than its ring. */
  private writerStory(): WriterStory {
    if (this.story === null) {
      this.story = new WriterStory(SegmentReader.openSync(this.segment, { anyState: true, writerUid: this.writerUid }), { heartbeatTimeoutMs: this.heartbeatTimeoutMs, writerUid: this.writerUid });
      // The story starts from the ring's writer: one that took over since the open is a new writer.
      this.story.generation = this.ring.generation;
    }
    return this.story;
  }

  private closed = false;
  private checkOpen(): void {
    if (this.closed) throw new MdfanError(ErrorCode.CLOSED, `this EventReader of ${this.segment} was closed: open a new one to read again`, { segment: this.segment });
  }

  close(): void {
    this.closed = true;
    this.ring.close();
    this.sleeper.release();
    this.story?.close();
  }
}
