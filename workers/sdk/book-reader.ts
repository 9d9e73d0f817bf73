/**
 * The reader SDK: what a strategy process uses. Attach by name (waiting for READY), find
 * instruments, read consistent snapshots into preallocated objects, learn which books changed,
 * wait for updates in the way that suits the caller, and hear at once when the writer dies,
 * is replaced, or closes. Built on SegmentReader (native/segment/reader.ts), which does the seqlock.
 *
 * Two ways to wait (docs/READERS.md):
 *  poll() / pollTops()      synchronous, no Promise: a spinning strategy's hot loop. Each call is
 *                           one load per slot (and two header loads); close, takeover and writer
 *                           death come back as negative PollStatus values.
 *  next() / nextTop()       async, with a wait strategy:
 *    spin   poll the seq words without pause: the lowest latency, one core per reader
 *    yield  spin a while, then yield to the event loop, then park for growing, capped periods
 *           (an idle strategy after Agrona's BackoffIdleStrategy): near spin under a steady feed
 *    block  sleep on the futex word; the writer wakes sleepers only (registry.ts)
 *  waitSync() / waitTopSync()  block, for a dedicated strategy thread: the thread sleeps in the
 *                           futex itself and returns without an event-loop turn.
 * The Top variants watch the top-of-book lines (1.2): they see only changes of a best price, size
 * or order count, and readTop() copies one 64-byte line.
 */
import { setImmediate as yieldNow, setTimeout as sleep } from 'node:timers/promises';
import * as abi from '../../native/segment/abi.js';
import { native } from '../../native/segment/binding.js';
import { ErrorCode, MdfanError, isMdfanError } from '../../native/segment/errors.js';
import type { Instrument } from '../../native/segment/directory.js';
import { SegmentReader, type AttachOptions } from '../../native/segment/reader.js';
import { announceAttach } from '../../native/segment/control.js';
import type { Socket } from 'node:net';
import type { BookSnapshot } from '../../native/segment/seqlock.js';
import type { TopSnapshot } from '../../native/segment/tops.js';
import { READER_DEFAULTS } from './defaults.js';
import { ChangeScan } from './change-scan.js';
import { BLOCK_SLICE_MS, IdleStrategy } from './idle.js';
import { Sleeper } from './sleeper.js';
import { type FollowEnd, follow, updates } from './follow.js';
import type { FollowOptions } from './follower.js';
import type { FollowHandler, Update } from './update.js';
import { WriterStory } from './writer-story.js';
import { PollStatus, WAIT_STRATEGIES, WaitResult, type WaitStrategy, checkWait } from './wait.js';

export { PollStatus, WAIT_STRATEGIES, WaitResult, type WaitStrategy };

/** Validates a `--wait` option (undefined: `dflt`). */
export function parseWait(value: string | undefined, dflt: WaitStrategy = READER_DEFAULTS.wait): WaitStrategy {
  return checkWait(value ?? dflt, '--wait');
}

export interface BookReaderOptions extends AttachOptions {
  wait?: WaitStrategy;
  /** A writer whose heartbeat is older than this is dead (READER_DEFAULTS.heartbeatTimeoutMs). */
  heartbeatTimeoutMs?: number;
  /**
   * Watch only these symbols: changed(), poll() and the waits look at their slots alone, so their
   * cost follows what the reader watches, not the market's size (see watch()).
   */
  symbols?: readonly string[];
  /**
   * false: not announced to the writer's control plane (not listed among its readers, no event
   * counts reported): an operator's view such as `mdfan top`. Default true.
   */
  announce?: boolean;
}

/** poll() looks at writer liveness (lock, heartbeat: a syscall and a clock read) once per this many calls, a power of two. */
const POLLS_PER_HEALTH_CHECK = 256;

export class BookReader {
  /** The writer's story, and the segment followed (story.seg: a re-created segment replaces it). */
  private readonly story: WriterStory;
  get seg(): SegmentReader {
    return this.story.seg;
  }
  readonly wait: WaitStrategy;
  private readonly opts: BookReaderOptions;
  /** Which books changed since the last look (change-scan.ts). */
  private readonly scan: ChangeScan;
  private polls = 0;

  /** True from a WRITER_DEAD result until a new writer (or close): a spinning loop backs off meanwhile. */
  get isWriterDead(): boolean {
    return this.story.writerDead;
  }
  /** Instruments, refreshed on a new generation or a new announcement. */
  instruments: Instrument[] = [];
  private knownCount = 0;

  /** CLOCK_MONOTONIC when this reader attached. */
  readonly attachedNs = native.monotonicNs();

  /**
   * Whether `snap` (just read) is a latency sample: published after this reader attached. A book
   * already there at attach, or left by a dead writer, says nothing about delivery.
   */
  isSample(snap: BookSnapshot | TopSnapshot): boolean {
    return snap.publishTsNs >= this.attachedNs;
  }

  private constructor(seg: SegmentReader, opts: BookReaderOptions) {
    this.story = new WriterStory(seg, opts);
    this.opts = opts;
    this.wait = checkWait(opts.wait ?? READER_DEFAULTS.wait);
    this.scan = new ChangeScan(seg.layout.maxInstruments, opts.symbols);
    this.setInstruments(seg.instruments());
    this.idleBooks = this.idleFor(false);
    this.idleTops = this.idleFor(true);
    this.announce();
  }

  /** The block strategy's registry line and futex sleep. */
  private readonly sleeper = new Sleeper();
  /** next()'s and nextTop()'s idle strategies (one state machine each, made once). */
  private readonly idleBooks: IdleStrategy;
  private readonly idleTops: IdleStrategy;

  /** Nothing changed and the writer's story has not moved on: the look a sleeper makes once counted asleep. */
  private readonly busyBooks = (): boolean => this.anyChanged(false) || this.storyMoved();
  private readonly busyTops = (): boolean => this.anyChanged(true) || this.storyMoved();

  /**
   * A story a sleeper's look found (WRITER_DEAD and NEW_WRITER come once): the look can only say
   * "wake up", so the story is kept for the next health() caller, never lost.
   */
  private heldStory: WaitResult = WaitResult.UPDATED;
  private storyMoved(): boolean {
    if (this.heldStory === WaitResult.UPDATED) this.heldStory = this.health();
    return this.heldStory !== WaitResult.UPDATED;
  }

  private idleFor(tops: boolean): IdleStrategy {
    const busy = tops ? this.busyTops : this.busyBooks;
    return new IdleStrategy(this.wait, { ready: () => this.anyChanged(tops), sleep: (ms) => this.sleeper.sleep(this.seg, tops, busy, ms) });
  }

  /**
   * Sleeps this thread until the writer's next wake (block), or ms pass, unless `ready()` finds
   * work once counted asleep: on the segment's futex word, bumped after every message that
   * published anything (books or events), or with `tops` on the top lines' word (top changes only).
   */
  sleepUntilWoken(ready: () => boolean, ms: number, tops = false): void {
    this.wokenReady = ready;
    this.sleeper.sleep(this.seg, tops, this.busyWoken, ms);
  }
  private wokenReady: () => boolean = () => false;
  private readonly busyWoken = (): boolean => this.wokenReady() || this.storyMoved();

  /**
   * Every update as an async iterator, the one follow loop (follow.ts): books or tops, events, and
   * the writer's story, until the writer closes the segment, `signal` aborts or `durationMs` passes.
   * `for await (const u of reader.updates({ signal })) if (u.kind === 'book') ...`
   */
  updates(o: FollowOptions = {}): AsyncIterableIterator<Update> {
    return updates(this, o);
  }

  /** The one follow loop with callbacks (follow.ts): resolves with how it ended. */
  follow(handler: FollowHandler, o: FollowOptions = {}): Promise<FollowEnd> {
    return follow(this, handler, o);
  }

  /** The writer generation this reader follows (a takeover moves it; the SegmentReader's stays its attach's). */
  get currentGeneration(): number {
    return this.story.generation;
  }

  private control: Socket | null = null;

  /**
   * Tells the writer's control plane how many events this reader has read and lost (shown by
   * `mdfan stat`). Best effort, like every control-plane message.
   */
  reportEvents(read: number, lost: number): void {
    const c = this.control;
    if (c && !c.destroyed && c.writable && !c.connecting) c.write(`${JSON.stringify({ type: 'events', read, lost })}\n`);
  }

  /** Tells the writer's control plane we are here (best effort; the data plane does not need it). */
  private announce(): void {
    if (this.opts.announce === false) return;
    this.control?.destroy();
    this.control = announceAttach(this.seg.header().controlSocketPath, this.wait);
  }

  /** Attaches to segment `name`, waiting for it to exist and be READY (options.timeoutMs). */
  static async attach(name: string, opts: BookReaderOptions = {}): Promise<BookReader> {
    return new BookReader(await SegmentReader.attach(name, opts), opts);
  }

  get name(): string {
    return this.seg.name;
  }
  get levels(): number {
    return this.seg.layout.levels;
  }
  get retries(): number {
    return this.seg.retries;
  }
  newSnapshot(): BookSnapshot {
    return this.seg.newSnapshot();
  }
  /** Slot of `symbol`, or -1. */
  find(symbol: string): number {
    this.refreshDirectory();
    const inst = this.instruments.find((i) => i.symbol === symbol);
    return inst ? inst.slotIndex : -1;
  }
  /**
   * Copies slot `index` through the seqlock (retries inside; see SegmentReader.read) and
   * remembers the seq the copy was validated at. A spinning reader usually sees a commit first
   * by its odd seq (the writer's first store): changed() reports the slot, this read waits the
   * commit out, and without this the even seq would report the same commit a second time.
   */
  read(index: number, snap: BookSnapshot): number {
    const r = this.seg.read(index, snap);
    this.scan.sawBook(index, snap.seq);
    const inst = this.bySlot[index] ?? this.instrumentOf(index);
    snap.priceScale = inst === undefined ? Number.NaN : inst.priceScale;
    snap.sizeScale = inst === undefined ? Number.NaN : inst.sizeScale;
    return r;
  }

  /**
   * Copies top line `index` (best bid and ask, 64 bytes) into `top` through its seqlock, and
   * remembers its seq (as read() does for books). Throws MDFAN_ERR_NO_SEGMENT for a writer of
   * ABI 1.0 or 1.1, which has no top lines.
   */
  readTop(index: number, top: TopSnapshot): number {
    const r = this.seg.readTop(index, top);
    this.scan.sawTop(index, top.seq);
    const inst = this.bySlot[index] ?? this.instrumentOf(index);
    top.priceScale = inst === undefined ? Number.NaN : inst.priceScale;
    top.sizeScale = inst === undefined ? Number.NaN : inst.sizeScale;
    return r;
  }

  /**
   * Fills `out` with the slots whose seq moved since the last call (one Atomics.load per slot, no
   * allocation) and returns how many. A slot mid-commit counts as changed: read() waits it out.
   */
  changed(out: Int32Array): number {
    if (this.seg.map.isClosed) throw this.closedError();
    return this.collect(out, false);
  }

  /** changed() for the top lines: the slots whose best bid or ask changed. */
  changedTops(out: Int32Array): number {
    if (this.seg.map.isClosed) throw this.closedError();
    return this.collect(out, true);
  }

  /**
   * The synchronous hot loop's call: changed() (or changedTops()) plus a cheap look at the writer's
   * story. Returns the number of changed slots in `out` (0: nothing new), or a negative PollStatus
   * (CLOSED, WRITER_DEAD once per death, NEW_WRITER). State and generation are two loads of a
   * line the writer rarely stores; liveness (lock and heartbeat) is checked every
   * POLLS_PER_HEALTH_CHECK calls and at most every 5 ms. Allocates nothing.
   */
  poll(out: Int32Array): number {
    const h = this.pollHealth();
    return h === WaitResult.UPDATED ? this.collect(out, false) : -h;
  }

  /** poll() over the top lines: wakes on top changes only. */
  pollTops(out: Int32Array): number {
    const h = this.pollHealth();
    return h === WaitResult.UPDATED ? this.collect(out, true) : -h;
  }

  private pollHealth(): WaitResult {
    if (this.seg.map.isClosed) throw this.closedError();
    const u32 = this.seg.map.u32;
    if (
      (++this.polls & (POLLS_PER_HEALTH_CHECK - 1)) !== 0 &&
      Atomics.load(u32, abi.W.hdrState) === abi.STATE_READY &&
      Atomics.load(u32, abi.W.hdrGeneration) === this.story.generation
    )
      return WaitResult.UPDATED;
    return this.health();
  }

  /** The seq words watched: the slots', or the top lines' (null while a new writer makes them). */
  private watched(tops: boolean): Uint32Array | null {
    if (!tops) return this.seg.map.u32;
    try {
      return this.seg.tops().u32;
    } catch (e) {
      if (isMdfanError(e, ErrorCode.NOT_READY)) return null; // a new generation's lines are not made yet
      throw e;
    }
  }

  /** The callers look at isClosed first (changed() here, poll() in pollHealth()): once per call. */
  private collect(out: Int32Array, tops: boolean): number {
    const words = this.watched(tops);
    return words === null ? 0 : this.scan.collect(this.seg, words, this.announced(), tops, out);
  }

  /** True if any watched book (or top line, for `tops`) changed since it was last reported: one load per slot, nothing read. */
  anyChanged(tops: boolean): boolean {
    if (this.seg.map.isClosed) throw this.closedError();
    const words = this.watched(tops);
    return words !== null && this.scan.any(this.seg, words, this.announced(), tops);
  }

  /** The directory's count (one load); an instrument announced since is read first, so every slot reported is in it (cold). */
  private announced(): number {
    const n = Atomics.load(this.seg.map.u32, abi.W.hdrInstrumentCount);
    if (n > this.knownCount) this.refreshDirectory();
    return n;
  }

  /**
   * Watches only `symbols` from now on (null: every instrument again). Symbols not announced yet
   * are watched from the moment the directory lists them. The cost of changed(), poll() and the
   * waits is then one load per watched slot, whatever the number of instruments; the directory
   * count is still looked at (one load) to learn of new announcements.
   */
  watch(symbols: readonly string[] | null): void {
    this.scan.setWatch(symbols);
    this.setInstruments(this.seg.instruments());
  }

  /** The symbols watched, or null for all. */
  get watchedSymbols(): ReadonlySet<string> | null {
    return this.scan.watched;
  }

  private refreshDirectory(): void {
    const n = Atomics.load(this.seg.map.u32, abi.W.hdrInstrumentCount);
    if (n !== this.knownCount) this.setInstruments(this.seg.instruments());
  }

  /** The directory as read, and its by-slot index for symbolOf()/priceScaleOf(). */
  private setInstruments(list: Instrument[]): void {
    this.instruments = list;
    this.knownCount = list.length;
    this.scan.follow(list);
    this.bySlot = [];
    for (const inst of list) this.bySlot[inst.slotIndex] = inst;
  }
  private bySlot: Array<Instrument | undefined> = [];

  /** The symbol of the instrument in `slot`; undefined if the directory has none there. A slot that changed()/poll() reported is always known. */
  symbolOf(slot: number): string | undefined {
    return this.instrumentOf(slot)?.symbol;
  }

  /** The directory entry of `slot` (symbol, price scale, feed id), reading the directory again if it is not known yet. */
  instrumentOf(slot: number): Instrument | undefined {
    if (this.bySlot[slot] === undefined) this.refreshDirectory();
    return this.bySlot[slot];
  }

  /** The price scale of `slot`: a book's prices are integers, price / scale is currency units (ITCH: 10000). */
  priceScaleOf(slot: number): number | undefined {
    return this.instrumentOf(slot)?.priceScale;
  }

  /**
   * `price` (one of slot's book or top prices, the feed's integer) in currency units, e.g. 5853300
   * -> 585.33 for ITCH. Throws MDFAN_ERR_NO_INSTRUMENT for a slot with no instrument.
   */
  priceOf(slot: number, price: number): number {
    return price / this.knownInstrument(slot).priceScale;
  }

  /** `size` (one of slot's book or top sizes, the feed's integer) in the instrument's units, e.g. 55463987000 -> 554.63987 BTC at 8 decimals; ITCH shares stay as they are. */
  sizeOf(slot: number, size: number): number {
    return size / this.knownInstrument(slot).sizeScale;
  }

  private knownInstrument(slot: number): Instrument {
    const inst = this.instrumentOf(slot);
    if (inst !== undefined) return inst;
    throw new MdfanError(ErrorCode.NO_INSTRUMENT, `segment ${this.seg.name} has no instrument in slot ${slot} (${this.instruments.length} instruments listed): no scale to convert by`, {
      segment: this.seg.name,
      field: 'slot',
      found: slot,
    });
  }

  /**
   * The slot of `symbol`, once the writer has announced it (polling the directory every 10 ms).
   * Rejects with MDFAN_ERR_NOT_READY naming the symbol after `timeoutMs`.
   */
  async waitFor(symbol: string, timeoutMs: number = READER_DEFAULTS.attachTimeoutMs): Promise<number> {
    const end = performance.now() + timeoutMs;
    for (;;) {
      const slot = this.find(symbol);
      if (slot >= 0) return slot;
      if (performance.now() >= end)
        throw new MdfanError(ErrorCode.NOT_READY, `symbol ${symbol} did not appear in segment ${this.seg.name} within ${timeoutMs} ms (${this.instruments.length} instruments)`, {
          segment: this.seg.name,
          symbol,
          timeoutMs,
        });
      await sleep(Math.min(10, Math.max(0, end - performance.now())));
    }
  }

  /**
   * Waits until a book changed (UPDATED), timeoutMs passed (TIMEOUT), or the writer's story
   * changed (CLOSED, WRITER_DEAD once per death, NEW_WRITER). Never hangs on a dead writer.
   */
  async next(timeoutMs: number = READER_DEFAULTS.nextTimeoutMs): Promise<WaitResult> {
    return this.waitNext(timeoutMs, false);
  }

  /** next() over the top lines: returns UPDATED only when a best bid or ask changed. */
  async nextTop(timeoutMs: number = READER_DEFAULTS.nextTimeoutMs): Promise<WaitResult> {
    return this.waitNext(timeoutMs, true);
  }

  private async waitNext(timeoutMs: number, tops: boolean): Promise<WaitResult> {
    const end = performance.now() + timeoutMs;
    const idle = tops ? this.idleTops : this.idleBooks;
    idle.reset();
    for (;;) {
      const health = this.health();
      if (health !== WaitResult.UPDATED) return health;
      if (this.anyChanged(tops)) return WaitResult.UPDATED;
      const left = end - performance.now();
      if (left <= 0) return WaitResult.TIMEOUT;
      if (idle.idle(left, this.story.writerDead)) await yieldNow();
    }
  }

  /**
   * The writer's story, looked at now (at most every 5 ms): UPDATED means "carry on"; otherwise
   * CLOSED, WRITER_DEAD (once per death) or NEW_WRITER, as poll() would say. For loops that idle:
   * poll() alone looks at liveness only every 256 calls.
   */
  checkStory(): WaitResult {
    return this.health();
  }

  /**
   * Blocks this thread on the futex until a book changed (UPDATED), timeoutMs passed (TIMEOUT), or
   * the writer's story changed (as next()). No Promise and no event-loop turn: for a dedicated
   * strategy thread (a worker whose loop is only this), whatever its wait strategy.
   */
  waitSync(timeoutMs: number = READER_DEFAULTS.nextTimeoutMs): WaitResult {
    return this.waitSyncFor(timeoutMs, false);
  }

  /** waitSync() over the top lines: sleeps on the top futex, woken by top changes only. */
  waitTopSync(timeoutMs: number = READER_DEFAULTS.nextTimeoutMs): WaitResult {
    return this.waitSyncFor(timeoutMs, true);
  }

  private waitSyncFor(timeoutMs: number, tops: boolean): WaitResult {
    const end = performance.now() + timeoutMs;
    for (;;) {
      const health = this.health();
      if (health !== WaitResult.UPDATED) return health;
      if (this.anyChanged(tops)) return WaitResult.UPDATED;
      const now = performance.now();
      if (now >= end) return WaitResult.TIMEOUT;
      // wakes at least every BLOCK_SLICE_MS for the health check
      this.sleeper.sleep(this.seg, tops, tops ? this.busyTops : this.busyBooks, Math.min(end - now, BLOCK_SLICE_MS));
    }
  }

  /**
   * UPDATED means "carry on". Checked at most every 5 ms (writer-story.ts): state, generation,
   * writer liveness, and a new object under the name (a re-created segment).
   */
  private health(): WaitResult {
    if (this.seg.map.isClosed) throw this.closedError();
    const held = this.heldStory;
    if (held !== WaitResult.UPDATED) {
      this.heldStory = WaitResult.UPDATED;
      return held;
    }
    const r = this.story.look();
    if (r === null) return WaitResult.UPDATED;
    if (r === WaitResult.NEW_WRITER) return this.newWriter();
    if (r !== WaitResult.UPDATED) return r;
    this.refreshDirectory();
    // Attached before the writer's control socket listened: announce once it does.
    if (this.control === null && this.opts.announce !== false && (++this.announceChecks & 15) === 0) this.announce();
    return WaitResult.UPDATED;
  }
  private announceChecks = 0;

  /** The error that reported the last writer death (code MDFAN_ERR_WRITER_DEAD, pid, heartbeat). */
  get lastDeath(): MdfanError | null {
    return this.story.lastDeath;
  }

  /** The story moved to a new writer (its segment is story.seg): everything of the old one goes. */
  private newWriter(): WaitResult {
    // Every writer makes its own registry: a line in the old one would never be seen asleep.
    this.sleeper.release();
    const seg = this.story.seg;
    this.scan.reset(seg.layout.maxInstruments);
    this.setInstruments(seg.instruments());
    this.announce(); // to the new writer's control plane
    return WaitResult.NEW_WRITER;
  }

  private closedError(): MdfanError {
    return new MdfanError(ErrorCode.CLOSED, `this BookReader of ${this.seg.name} was closed: attach a new one to read again`, { segment: this.seg.name });
  }

  close(): void {
    this.control?.destroy(); // the writer counts this as a detach
    this.control = null;
    this.sleeper.release();
    this.seg.close();
  }
}

/** Publish -> observe latency of a snapshot (book or top) just read, ns (same host, CLOCK_MONOTONIC). */
export const latencyNs = (snap: BookSnapshot | TopSnapshot): number => native.monotonicNs() - snap.publishTsNs;
