/**
 * The one follow loop's synchronous core: next() hands out the next update of a segment (a book or
 * top that changed, an event, a turn of the writer's story) or null when nothing is pending, and
 * allocates nothing. It owns what every consumer used to write for itself:
 *  - the writer's story: closed (every book and event it left handed out first), dead (once per
 *    death), back (it beats again), replaced (the old ring drained with the old names, then the
 *    new ring opened, buffers re-allocated for the new layout, the directory re-read);
 *  - directory changes: each update carries its instrument from the directory as it was when the
 *    update was published;
 *  - slots left mid-commit (MDFAN_ERR_STALE: reported, never fatal), never-published slots
 *    (skipped), and the sample rule (only what was published after attach is a latency sample);
 *  - the event counts a reader tells the writer's control plane (for `mdfan stat`).
 * follow() and BookReader.updates() (follow.ts) drive it with the idle strategy.
 */
import { recordCorrected } from './histogram.js';
import type { Histogram } from 'hdr-histogram-js';
import type { Instrument } from '../../native/segment/directory.js';
import { ErrorCode, type MdfanError, isMdfanError } from '../../native/segment/errors.js';
import { EventBatch, type StartAt } from '../../native/segment/events.js';
import type { BookSnapshot } from '../../native/segment/seqlock.js';
import { TopSnapshot } from '../../native/segment/tops.js';
import { native } from '../../native/segment/binding.js';
import type { BookReader } from './book-reader.js';
import { READER_DEFAULTS } from './defaults.js';
import { EventReader, type EventKindFilter } from './event-reader.js';
import type { Update } from './update.js';
import { WaitResult } from './wait.js';

export interface FollowOptions {
  /** Follow the top-of-book lines (`top` updates) instead of whole books (`book` updates). */
  tops?: boolean;
  /** Books (or tops) at all; false: the event ring and the writer's story only. Default true. */
  books?: boolean;
  /**
   * Follow the event ring too: true, or which kinds (names such as 'trade', or letter codes) and where a new
   * reader starts. `optional`: a writer that keeps no ring is not an error (books only).
   */
  events?: boolean | { kinds?: readonly EventKindFilter[]; from?: StartAt; optional?: boolean };
  /** Record publish -> observe latency (ns) of every book or top published after attach. */
  latency?: Histogram;
  /** With `latency`: coordinated-omission correction for a writer publishing at this interval. */
  expectedIntervalNs?: number;
  /** Ends the loop ('aborted'). */
  signal?: AbortSignal;
  /** Ends the loop after this long ('duration'). */
  durationMs?: number;
  /** block only: a dedicated thread sleeps in the futex and takes an event-loop turn only this often. */
  turnEveryMs?: number;
}

/** The reused update objects, one per kind (an update of one kind never changes another's). */
interface Slots {
  book: { kind: 'book'; instrument: Instrument; book: BookSnapshot };
  top: { kind: 'top'; instrument: Instrument; top: TopSnapshot };
  event: { kind: 'event'; instrument: Instrument | undefined; event: EventBatch['records'][number] };
  lost: { kind: 'events-lost'; lost: number };
  stale: { kind: 'stale'; instrument: Instrument; error: MdfanError };
  dead: { kind: 'writer-dead'; error: MdfanError };
  back: { kind: 'writer-back'; pid: number };
  fresh: { kind: 'new-writer'; generation: number };
  closed: { kind: 'closed' };
}

const Stage = {
  RUNNING: 0,
  /** A new writer: the old ring is drained with the old names before anything of the new one. */
  SWITCHING: 1,
  /** The writer closed: what it left is handed out, then 'closed'. */
  CLOSING: 2,
  DONE: 3,
} as const;
type Stage = (typeof Stage)[keyof typeof Stage];

const EVENT_BATCH = 256;

export class Follower {
  readonly tops: boolean;
  private readonly books: boolean;
  private changed: Int32Array;
  private cursor = 0;
  private count = 0;
  private snap: BookSnapshot;
  private readonly top: TopSnapshot;
  private events: EventReader | null;
  private readonly batch = new EventBatch(EVENT_BATCH);
  private evCursor = 0;
  private evCount = 0;
  private stage: Stage = Stage.RUNNING;
  private closingBooks = false;
  /** A death was handed out and no new writer came since: a beat again is 'writer-back'. */
  private deadSeen = false;
  /** The directory the updates are named from, by slot, and the reader's list it was built from. */
  private bySlot: Array<Instrument | undefined> = [];
  private list: readonly Instrument[] | null = null;
  private readonly u: Slots;
  private nextReportMs = 0;

  constructor(
    readonly reader: BookReader,
    private readonly o: FollowOptions = {},
  ) {
    this.tops = o.tops === true;
    this.books = o.books !== false;
    this.snap = reader.newSnapshot();
    this.top = new TopSnapshot();
    if (this.tops && this.books) reader.seg.tops(); // a writer without top lines is refused now, by name
    this.changed = new Int32Array(reader.seg.layout.maxInstruments);
    this.events = this.openEvents();
    this.learn();
    const none = undefined as unknown as Instrument;
    const noError = null as unknown as MdfanError;
    this.u = {
      book: { kind: 'book', instrument: none, book: this.snap },
      top: { kind: 'top', instrument: none, top: this.top },
      event: { kind: 'event', instrument: undefined, event: this.batch.records[0]! },
      lost: { kind: 'events-lost', lost: 0 },
      stale: { kind: 'stale', instrument: none, error: noError },
      dead: { kind: 'writer-dead', error: noError },
      back: { kind: 'writer-back', pid: 0 },
      fresh: { kind: 'new-writer', generation: 0 },
      closed: { kind: 'closed' },
    };
  }

  /** True if the loop follows an event ring now. */
  get followsEvents(): boolean {
    return this.events !== null;
  }

  /** Events delivered and lost to lapping (null: no ring followed). */
  get eventCounts(): { delivered: number; lost: number } | null {
    return this.events === null ? null : { delivered: this.events.delivered, lost: this.events.lost };
  }

  /** True once 'closed' was handed out. */
  get done(): boolean {
    return this.stage === Stage.DONE;
  }

  /** The next update, or null when nothing is pending (the caller idles, then asks again). */
  next(): Update | null {
    for (;;) {
      if (this.evCursor < this.evCount) return this.event(this.evCursor++);
      if (this.cursor < this.count) {
        const u = this.book(this.changed[this.cursor++]!);
        if (u !== null) return u;
        continue;
      }
      if (this.events !== null && this.refillEvents()) {
        if (this.batch.lost > 0) {
          this.u.lost.lost = this.batch.lost;
          return this.u.lost;
        }
        continue;
      }
      switch (this.stage) {
        case Stage.SWITCHING:
          return this.switchWriter();
        case Stage.CLOSING:
          if (!this.closingBooks && this.books) {
            this.closingBooks = true; // the last look at the books, after the ring's end
            this.fill(this.tops ? this.reader.changedTops(this.changed) : this.reader.changed(this.changed));
            continue;
          }
          this.stage = Stage.DONE;
          return this.u.closed;
        case Stage.DONE:
          return this.u.closed;
        default:
      }
      if (this.pendingStory !== WaitResult.UPDATED) {
        const story = this.story(this.pendingStory);
        if (story !== null) return story;
        continue;
      }
      if (this.deadSeen && !this.reader.isWriterDead) {
        this.deadSeen = false;
        this.u.back.pid = this.reader.seg.writerStatus().pid;
        return this.u.back;
      }
      const n = this.books ? (this.tops ? this.reader.pollTops(this.changed) : this.reader.poll(this.changed)) : -this.reader.checkStory();
      if (n > 0) {
        this.fill(n);
        continue;
      }
      if (n === 0) return null;
      const story = this.story(-n as WaitResult);
      if (story !== null) return story;
    }
  }

  /**
   * The writer's story looked at now (poll() looks at liveness only every 256 calls): for a loop
   * that idles, so that a death is seen within the heartbeat timeout whatever the wait. Returns
   * true if there is something for next().
   */
  checkStory(): boolean {
    if (this.stage !== Stage.RUNNING) return true;
    const r = this.reader.checkStory();
    if (r === WaitResult.UPDATED) return this.deadSeen && !this.reader.isWriterDead;
    // The reader follows the new writer from now on: what is left of the old ring is named by the old directory.
    if (r === WaitResult.NEW_WRITER) this.stage = Stage.SWITCHING;
    else this.pendingStory = r;
    return true;
  }
  private pendingStory: WaitResult = WaitResult.UPDATED;

  /** True if something is there for next() (one or a few loads): the idle strategy's look. */
  ready(): boolean {
    if (this.evCursor < this.evCount || this.cursor < this.count || this.stage !== Stage.RUNNING || this.pendingStory !== WaitResult.UPDATED) return true;
    if (this.events !== null && this.events.backlog() > 0) return true;
    return this.books && this.reader.anyChanged(this.tops);
  }

  /** Tells the writer's control plane this reader's event counts, at most every eventsReportMs (idle path). */
  report(nowMs: number): void {
    if (this.events === null || nowMs < this.nextReportMs) return;
    this.nextReportMs = nowMs + READER_DEFAULTS.eventsReportMs;
    this.reader.reportEvents(this.events.delivered, this.events.lost);
  }

  close(): void {
    this.events?.close();
    this.events = null;
  }

  private fill(n: number): void {
    this.count = n;
    this.cursor = 0;
  }

  private refillEvents(): boolean {
    const n = this.events!.poll(this.batch);
    this.evCount = n;
    this.evCursor = 0;
    return n > 0 || this.batch.lost > 0;
  }

  private event(i: number): Update {
    const rec = this.batch.records[i]!;
    const e = this.u.event;
    e.event = rec;
    e.instrument = this.instrument(rec.instrumentIndex);
    return e;
  }

  /** The update for changed slot `slot`, or null if there is none to hand out (never published). */
  private book(slot: number): Update | null {
    const inst = this.instrument(slot);
    if (inst === undefined) return null; // not in the directory the reader knows (cannot happen: the scan reads it first)
    const got = this.tops ? this.top : this.snap;
    try {
      if (this.tops) this.reader.readTop(slot, this.top);
      else this.reader.read(slot, this.snap);
    } catch (e) {
      if (!isMdfanError(e, ErrorCode.STALE)) throw e;
      const s = this.u.stale;
      s.instrument = inst;
      s.error = e;
      return s;
    }
    if (got.seq === 0) return null; // announced, never published
    const h = this.o.latency;
    if (h !== undefined && this.reader.isSample(got)) {
      const ns = Math.max(1, Math.round(native.monotonicNs() - got.publishTsNs));
      if ((this.o.expectedIntervalNs ?? 0) > 0) recordCorrected(h, ns, this.o.expectedIntervalNs!);
      else h.recordValue(ns);
    }
    if (this.tops) {
      this.u.top.instrument = inst;
      return this.u.top;
    }
    this.u.book.instrument = inst;
    return this.u.book;
  }

  private story(r: WaitResult): Update | null {
    this.pendingStory = WaitResult.UPDATED;
    if (r === WaitResult.CLOSED) {
      this.stage = Stage.CLOSING;
      return this.next();
    }
    if (r === WaitResult.WRITER_DEAD) {
      this.deadSeen = true;
      this.u.dead.error = this.reader.lastDeath!;
      return this.u.dead;
    }
    if (r === WaitResult.NEW_WRITER) {
      this.stage = Stage.SWITCHING; // the old ring first, named by the old directory
      return this.next();
    }
    return null;
  }

  /** After the old ring's last event: the new writer's ring, buffers for its layout, its directory. */
  private switchWriter(): Update {
    this.stage = Stage.RUNNING;
    this.deadSeen = false;
    const r = this.reader;
    if (this.snap.levels !== r.levels) {
      this.snap = r.newSnapshot();
      this.u.book.book = this.snap;
    }
    if (this.changed.length !== r.seg.layout.maxInstruments) this.changed = new Int32Array(r.seg.layout.maxInstruments);
    this.count = this.cursor = 0;
    this.events?.close();
    this.events = this.openEvents();
    this.learn();
    this.u.fresh.generation = r.currentGeneration;
    return this.u.fresh;
  }

  private openEvents(): EventReader | null {
    const ev = this.o.events;
    if (ev === undefined || ev === false) return null;
    const opts: { kinds?: readonly EventKindFilter[]; from?: StartAt; optional?: boolean } = ev === true ? {} : ev;
    try {
      return EventReader.open(this.reader.name, { from: opts.from ?? 'oldest', kinds: opts.kinds, wait: this.reader.wait, writerUid: this.reader.seg.writerUid });
    } catch (e) {
      // A writer that keeps no ring: books only, when the caller said the ring is optional.
      if (opts.optional === true && isMdfanError(e, ErrorCode.NO_SEGMENT)) return null;
      throw e;
    }
  }

  /** The instrument of `slot` in the directory the updates are named from (re-read when the reader's changed). */
  private instrument(slot: number): Instrument | undefined {
    if (this.stage === Stage.SWITCHING) return this.bySlot[slot];
    if (this.reader.instruments !== this.list) this.learn();
    const inst = this.bySlot[slot];
    if (inst !== undefined || slot >= this.changed.length) return inst;
    // An event can name an instrument before the reader's next look at the directory: look now.
    this.reader.symbolOf(slot);
    if (this.reader.instruments !== this.list) this.learn();
    return this.bySlot[slot];
  }

  private learn(): void {
    this.list = this.reader.instruments;
    this.bySlot = [];
    for (const inst of this.list) this.bySlot[inst.slotIndex] = inst;
  }
}
