/**
 * The SDK's event reader: every event of a segment's ring, in order, filtered by kind and
 * instrument, with losses to lapping reported as a count, never skipped silently. poll() is
 * synchronous and fills a preallocated batch (nothing allocated per event); a new writer
 * generation is followed with reopen() (a BookReader on the same segment says when: NEW_WRITER).
 */
import { isMainThread } from 'node:worker_threads';
import { setImmediate as yieldNow, setTimeout as sleep } from 'node:timers/promises';
import { ErrorCode, MdfanError, SegmentReader, abi, type EventBatch, type EventRecord, EventRingReader, type StartAt } from '../../native/segment/index.js';
import { RegistryLine } from '../../native/segment/registry.js';
import { WAIT_STRATEGIES, type WaitStrategy } from './book-reader.js';
import { READER_DEFAULTS } from './defaults.js';

export interface EventReaderOptions {
  /** Where a new reader starts: the oldest event still in the ring (default) or after the newest. */
  from?: StartAt;
  /** Kinds to deliver (MDFAN_EVENT_KIND_* letters); all when absent. */
  kinds?: readonly number[];
  /** Instruments (slots) to deliver; all when absent. Events without an instrument always pass. */
  instruments?: readonly number[];
  /** How wait() waits (READER_DEFAULTS.wait when absent): as the BookReader's waits. */
  wait?: WaitStrategy;
}

/** Ring checks between two looks at the clock or the event loop, for the spin and yield waits. */
const SPIN_CHECKS = 4096;
const YIELD_CHECKS = 256;

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
  private line: RegistryLine | null = null;
  private nextClaimMs = 0;

  private constructor(
    readonly segment: string,
    opts: EventReaderOptions,
  ) {
    this.ring = EventRingReader.open(segment, opts.from ?? 'oldest');
    this.wait = opts.wait ?? READER_DEFAULTS.wait;
    if (!WAIT_STRATEGIES.includes(this.wait)) throw new MdfanError(ErrorCode.OPTIONS, `wait must be one of ${WAIT_STRATEGIES.join(', ')} (got ${JSON.stringify(this.wait)})`);
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
   * Waits until an event is there to poll (true) or timeoutMs passed (false), as `wait` says:
   * spin polls the ring's head, yield gives the event loop back in growing steps, block sleeps on
   * the segment's futex word, counted in the reader registry so that the writer wakes it (the
   * writer bumps the word after the events of each input message when someone sleeps).
   */
  async waitForEvents(timeoutMs: number = READER_DEFAULTS.nextTimeoutMs): Promise<boolean> {
    const end = performance.now() + timeoutMs;
    for (let round = 0; ; round++) {
      if (this.ring.backlog() > 0) return true;
      const now = performance.now();
      if (now >= end) return false;
      if (this.wait === 'spin') {
        for (let i = 0; i < SPIN_CHECKS; i++) if (this.ring.backlog() > 0) return true;
        if ((round & 63) === 63) await yieldNow(); // let timers and signals in, rarely
      } else if (this.wait === 'yield') {
        for (let i = 0; i < YIELD_CHECKS; i++) if (this.ring.backlog() > 0) return true;
        if (round < 16) await yieldNow();
        else await sleep(Math.min(1 + (round >> 4), 10, end - now));
      } else {
        this.block(Math.min(end - now, 100));
        await yieldNow(); // the futex wait blocked this thread: let the event loop turn
      }
    }
  }

  private block(ms: number): void {
    this.seg ??= SegmentReader.openSync(this.segment, { anyState: true });
    const h = this.seg.header();
    // The registry's descriptor comes over the writer's control socket (tried again once a second),
    // answered by the writer's event loop: from the writer's own thread it never can be.
    if (this.line === null && performance.now() >= this.nextClaimMs && !(h.writerPid === process.pid && isMainThread)) {
      this.line = RegistryLine.claim(h.controlSocketPath);
      // Not listening yet: look again soon; no answer or full: a claim may have waited 500 ms.
      if (this.line === null) this.nextClaimMs = performance.now() + (h.controlSocketPath ? 1000 : 10);
    }
    if (this.line === null) {
      // No registry line (full, or the writer keeps none): poll slowly instead of sleeping unheard.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Math.min(ms, 1));
      return;
    }
    this.line.beginSleep(); // counted first: pairs with the writer's wakeIfSleepers after it appends
    const v = this.seg.notifySeq();
    if (this.ring.backlog() === 0) this.seg.waitForNotify(v, Math.max(0, ms) * 1e6);
    this.line.endSleep();
  }

  /** Follows a new writer generation: the old ring stopped; the new one is read from its start. */
  reopen(): void {
    this.line?.release(); // the new writer made its own registry
    this.line = null;
    this.ring.close();
    this.seg?.close(); // the block wait maps the new generation's segment when it next sleeps
    this.seg = null;
    this.ring = EventRingReader.open(this.segment, 'oldest');
  }

  close(): void {
    this.ring.close();
    this.line?.release();
    this.seg?.close();
  }
}
