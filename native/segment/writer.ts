/**
 * The single writer's side of a segment: create or take over, hold the writer lock, initialise,
 * publish, heartbeat, count, close.
 *
 * Who initialises: whoever holds the segment lock (/NAME.lock, writer-lock.ts: an OFD lock the
 * kernel drops when the holder dies, on an object only this user can open) and then the writer
 * lock on the data segment's byte 0 (the one readers query). Two writers racing: exactly one gets
 * the segment lock; the loser reports MDFAN_ERR_WRITER_ALIVE. The winner finds the object new or
 * empty and initialises it, or finds a dead writer's segment and takes it over, or, when a reader's
 * read lock keeps it from the dead writer's byte 0, replaces it by a new object under the name.
 */
import * as abi from './abi.js';
import { native } from './binding.js';
import { ErrorCode, MdfanError } from './errors.js';
import { type CounterName, layoutOf } from './header.js';
import { type Mapping, segmentPath, storeU64, unlinkSegment } from './mapping.js';
import { segmentObjects } from './objects.js';
import { eventsName } from './events.js';
import { releaseSegmentLock, takeSegmentLock } from './writer-lock.js';
import { type LevelSource, SlotWriter } from './seqlock.js';
import { type InstrumentSpec, writeDirEntry } from './directory.js';
import { RegistryOwner } from './registry.js';
import { type ControlLimits, ControlServer, controlPath, writeControlPath } from './control.js';
import { EventRingWriter, type EventFields, newEventFields } from './events.js';
import { TopsOwner } from './tops.js';
import { type ValidOptions, type WriterOptions, validated } from './writer-options.js';
import { processStartTicks } from './writer-identity.js';
import { checkHugePages } from './huge-pages.js';
import { type OpenOutcome, findSegment, initialiseSegment, lockedOut } from './writer-open.js';


export type { WriterOptions } from './writer-options.js';
export { processStartTicks } from './writer-identity.js';

export type { OpenOutcome } from './writer-open.js';

/** How often a publishing writer stores its heartbeat (readers' default timeout is 1 s). */
export const HEARTBEAT_EVERY_NS = abi.HEARTBEAT_INTERVAL_MS * 1e6;

export class SegmentWriter {
  readonly name: string;
  readonly layout: abi.Layout;
  readonly map: Mapping;
  readonly slots: SlotWriter;
  readonly outcome: OpenOutcome;
  private instrumentCount = 0;
  /** Each slot's exchange-time unit in ns (InstrumentSpec.tsUnitNs): commits and events multiply by it. */
  private readonly tsUnitNs: Float64Array;
  /** Each slot's time origin in ns (InstrumentSpec.tsBaseNs), added after the unit. */
  private readonly tsBaseNs: Float64Array;
  private closedState = false;
  private lastBeatNs = 0;
  private ticks = 0;
  private idleTimer: NodeJS.Timeout | null = null;
  /** The reader registry beside the segment (sleepers, attached readers). */
  readonly registry: RegistryOwner;
  /** futex wake-ups made (tests prove a writer with no sleepers makes none). */
  wakeups = 0;
  /** The control plane, once startControl() has run (null: none, or it could not listen). */
  control: ControlServer | null = null;
  private readonly mode: number;
  private readonly gid: number | undefined;
  /** The segment lock (/NAME.lock), held until close. */
  private readonly lockFd: number;
  /** Counters kept in JavaScript and flushed to the segment by flushCounters(). */
  messages = 0;
  publishes = 0;
  inputBytes = 0;
  /** The event ring `/NAME.events`, null if this writer keeps none. */
  readonly ring: EventRingWriter | null;
  /** The top-of-book lines `/NAME.tops` (a new object per generation). */
  readonly tops: TopsOwner;
  /** Top commits as of the last wake check: a message that changed no top wakes no top sleeper. */
  private wakeTopCommits = 0;
  /** A private word: an Atomics.store to it is the writer's StoreLoad fence (XCHG on x86-64). */
  private readonly fence = new Int32Array(new SharedArrayBuffer(4));

  private constructor(name: string, map: Mapping, outcome: OpenOutcome, lockFd: number, gid: number | undefined, ringEvents: number) {
    this.name = name;
    this.map = map;
    this.layout = layoutOf(map);
    this.tsUnitNs = new Float64Array(this.layout.maxInstruments).fill(1);
    this.tsBaseNs = new Float64Array(this.layout.maxInstruments);
    this.outcome = outcome;
    this.lockFd = lockFd;
    // The objects beside the segment get the data segment's own mode (a takeover keeps a mode
    // narrower than asked): readers refuse a companion with a permission bit the segment lacks.
    const mode = native.fstat(map.fd).mode & 0o777;
    this.mode = mode;
    this.gid = gid;
    this.registry = RegistryOwner.create(name);
    // A new ring and new top lines for every generation, before READY: a reader that attaches finds them.
    const generation = Atomics.load(map.u32, abi.W.hdrGeneration);
    this.tops = TopsOwner.create(name, this.layout.maxInstruments, generation, mode, gid);
    this.slots = new SlotWriter(map.buffer, this.layout, this.tops.map.buffer);
    this.ring = ringEvents > 0 ? EventRingWriter.create(name, ringEvents, generation, mode, gid) : null;
    if (this.ring === null) {
      try {
        unlinkSegment(eventsName(name)); // a dead writer's ring is nobody's now
      } catch {
        /* another user's planted file: readers never open a ring the header does not name */
      }
    }
    // Which companions this generation has, before READY: readers open only these.
    Atomics.store(map.u32, abi.W.hdrCompanions, abi.COMPANION_TOPS | (this.ring ? abi.COMPANION_EVENTS : 0));
    // A takeover or re-creation starts a new generation: its ring opens with a clear event, so a
    // reader that kept state from the old writer's events knows to drop it.
    if (this.ring && outcome !== 'created') {
      const clear = newEventFields();
      clear.kind = abi.EVENT_KIND_CLEAR;
      clear.action = 0x47; // 'G': a new generation
      clear.orderRef = generation;
      this.ring.append(clear, native.monotonicNs());
    }
    writeControlPath(map, null); // a dead writer's path is stale until ours listens
  }

  /**
   * Starts the control plane (a Unix socket; best effort: on failure the segment works without
   * it) and records its path in the header for readers and `mdfan stat`. `limits`: the plane's
   * caps (connections in total and per uid, unread bytes), each defaulting to SEGMENT_DEFAULTS.
   */
  async startControl(limits: Partial<ControlLimits> = {}): Promise<boolean> {
    const path = controlPath(this.name);
    if (path === null || this.closedState) return false;
    this.control = await ControlServer.start(
      path,
      this.mode,
      this.gid,
      () => ({ generation: this.closedState ? 0 : this.generation }),
      this.registry.fd,
      (attached) => {
        if (!this.closedState) this.addCounter(attached ? 'reader_attaches' : 'reader_detaches'); // the mapping is gone after close
      },
      limits,
    );
    if (this.control && this.closedState) this.control.close(); // closed while we were listening
    if (this.control && !this.closedState) writeControlPath(this.map, path);
    return this.control !== null;
  }

  /**
   * Creates the segment, or takes over a dead writer's segment with the same layout (generation
   * + 1), or replaces a dead writer's segment of another layout with a new object (generation +
   * 1). Refuses with MDFAN_ERR_WRITER_ALIVE if a live writer holds it.
   */
  static open(options: WriterOptions): SegmentWriter {
    const o = validated(options);
    const path = segmentPath(o.name);
    const want = abi.computeLayout(o.maxInstruments, o.levels, o.packed, o.hugePages);
    if (o.hugePages) checkHugePages(o.name);
    const lockFd = takeSegmentLock(o.name);
    if (lockFd === null) throw lockedOut(o.name, path);
    try {
      const found = findSegment(o, path, want);
      if (found.kind === 'takeover') return SegmentWriter.takeOver(o, found.map, lockFd);
      const w = SegmentWriter.construct(o, initialiseSegment(o, found.fd, want, found.generation), found.outcome, lockFd);
      w.claim();
      w.ready();
      return w;
    } catch (e) {
      // Nothing of ours stays: the lock object goes too (a live writer's segment is left as it is).
      releaseSegmentLock(o.name, lockFd, true);
      throw e;
    }
  }

  /**
   * The writer over a mapped, initialised segment, with its objects beside it. If one cannot be
   * made (no space, a planted file, a name too long), every object of this name that this call
   * made is removed, and the segment itself too when it was new: a failed start leaves nothing.
   */
  private static construct(o: ValidOptions, m: Mapping, outcome: OpenOutcome, lockFd: number): SegmentWriter {
    try {
      return new SegmentWriter(o.name, m, outcome, lockFd, o.gid, o.ringEvents);
    } catch (e) {
      const [, ...beside] = segmentObjects(o.name);
      for (const n of beside) {
        try {
          unlinkSegment(n);
        } catch {
          /* not ours to remove (a planted object we could not replace): the error says why */
        }
      }
      if (outcome === 'takeover') Atomics.store(m.u32, abi.W.hdrState, abi.STATE_BROKEN); // readers stop waiting for it
      else unlinkSegment(o.name);
      m.close();
      throw e;
    }
  }

  private static takeOver(o: ValidOptions, m: Mapping, lockFd: number): SegmentWriter {
    // Order matters to readers of the directory (directory.ts): leave READY, empty the directory,
    // and only then bump the generation, so an entry rewritten later is always caught by a
    // reader's generation bracket.
    Atomics.store(m.u32, abi.W.hdrState, abi.STATE_INITIALIZING);
    Atomics.store(m.u32, abi.W.hdrInstrumentCount, 0);
    Atomics.add(m.u32, abi.W.hdrGeneration, 1);
    const w = SegmentWriter.construct(o, m, 'takeover', lockFd);
    w.claim();
    // Every slot gets an empty STALE book until this writer publishes that book again. A slot a
    // writer killed between W1 and W2 left odd is committed from its odd seq
    // (mdfan_seqlock_write_open), so readers never see the dead writer's half-written payload.
    for (let i = 0; i < w.layout.maxInstruments; i++) w.markStale(i);
    w.addCounter('takeovers');
    w.ready();
    // Readers asleep on the futex since the dead writer's time were counted in its registry, which
    // is gone: wake them once, so they see the new generation and claim a line in the new one.
    w.notifyReaders();
    return w;
  }

  /** Records this process as the writer. */
  private claim(): void {
    const m = this.map;
    Atomics.store(m.u32, abi.HDR.writer_pid.offset >>> 2, process.pid);
    storeU64(m, abi.HDR.writer_start_realtime_ns.offset, native.realtimeNs());
    storeU64(m, abi.HDR.writer_start_ticks.offset, processStartTicks(process.pid));
    this.heartbeat();
  }

  private ready(): void {
    Atomics.store(this.map.u32, abi.W.hdrState, abi.STATE_READY); // seq_cst, so a release: pairs with attach's acquire
  }

  get generation(): number {
    return Atomics.load(this.map.u32, abi.W.hdrGeneration);
  }

  get instruments(): number {
    return this.instrumentCount;
  }

  /**
   * Announces an instrument; returns its index (== its slot). The entry is written before the
   * count is published (a seq_cst store, so a release), so a reader that sees the count sees the
   * entry.
   */
  addInstrument(symbol: string, feedId: number, spec: InstrumentSpec): number {
    const index = this.instrumentCount;
    if (index >= this.layout.maxInstruments)
      throw new MdfanError(ErrorCode.FULL, `segment ${this.name} is full: ${this.layout.maxInstruments} instruments (raise --max-instruments)`, {
        max: this.layout.maxInstruments,
        symbol,
      });
    writeDirEntry(this.map, this.layout, index, symbol, feedId, spec);
    this.tsUnitNs[index] = spec.tsUnitNs;
    this.tsBaseNs[index] = spec.tsBaseNs ?? 0;
    this.instrumentCount = index + 1;
    Atomics.store(this.map.u32, abi.W.hdrInstrumentCount, this.instrumentCount);
    return index;
  }

  /**
   * Commits a book to slot `index` and counts it. Every HEARTBEAT_EVERY_NS of publishing it also
   * stores the heartbeat and flushes the counters, reusing the clock read the commit needs.
   */
  publish(index: number, src: LevelSource, msgIndex: number, exchangeTs: number, flags = 0, mode: number = abi.COMMIT_BOOK_AND_TOP): void {
    const now = this.slots.commit(index, src, msgIndex, exchangeTs, flags, this.tsUnitNs[index], mode, this.tsBaseNs[index]);
    this.clockNs = now;
    this.clockMsgIndex = msgIndex;
    this.publishes++;
    if (now - this.lastBeatNs > HEARTBEAT_EVERY_NS) this.beat(now);
  }

  /**
   * Commits top line `index` alone: a venue's best bid/offer newer than its book (size 0: an empty
   * side). The book is untouched. exchangeTs in the instrument's time unit.
   */
  publishTop(index: number, bidPrice: number, bidSize: number, askPrice: number, askSize: number, msgIndex: number, exchangeTs: number): void {
    const now = this.slots.commitTop(index, bidPrice, bidSize, askPrice, askSize, msgIndex, exchangeTs, this.tsUnitNs[index], this.tsBaseNs[index]);
    this.clockNs = now;
    this.clockMsgIndex = msgIndex;
    if (now - this.lastBeatNs > HEARTBEAT_EVERY_NS) this.beat(now);
  }

  /** When the next heartbeat falls due (CLOCK_MONOTONIC ns): an engine in the addon stops there for beatIfDue. */
  get beatDueNs(): number {
    return this.lastBeatNs + HEARTBEAT_EVERY_NS;
  }

  /**
   * An engine in the addon committed `publishes` books and appended records up to `ringHead` as
   * this writer: they are counted as its own; the heartbeat goes out if due at `nowNs` (its last
   * clock read, 0 for none).
   */
  adoptNative(publishes: number, ringHead: number, nowNs: number): void {
    this.publishes += publishes;
    this.ring?.adoptHead(ringHead);
    if (nowNs > 0 && nowNs - this.lastBeatNs > HEARTBEAT_EVERY_NS) this.beat(nowNs);
  }

  /**
   * Heartbeat and counters together, for writer loops: cheap to call per message (one clock
   * read only every 256 calls).
   */
  tick(): void {
    if ((++this.ticks & 255) === 0) {
      const now = native.monotonicNs();
      if (now - this.lastBeatNs > HEARTBEAT_EVERY_NS) this.beat(now);
    }
  }

  private beat(now: number): void {
    this.heartbeat(now);
    this.flushCounters();
    this.registry.sweep();
  }

  /**
   * After an input message's commits: wakes readers sleeping on the futex, if any, and readers
   * asleep on the top futex if a top changed. One fence and one or two loads when nobody sleeps
   * (no syscall); pairs with RegistryLine.beginSleep (registry.ts).
   */
  wakeIfSleepers(): void {
    // StoreLoad: the commits' stores (W2 is a release store, not a fence) before the sleeper
    // loads; the reader's side is its seq_cst increment before its last look at the slots
    // (mdfan_abi.h, the registry). A seq_cst store to a word nobody reads is a fence only through
    // the CPU: an XCHG on x86-64, which drains the store buffer before the loads that follow.
    Atomics.store(this.fence, 0, 0);
    if (this.registry.sleepers() > 0) {
      this.wakeups++;
      this.notifyReaders();
    }
    const topCommits = this.slots.topCommits;
    if (topCommits !== this.wakeTopCommits) {
      this.wakeTopCommits = topCommits;
      if (this.registry.topSleepers() > 0) {
        this.wakeups++;
        this.tops.notify();
      }
    }
  }

  /**
   * Keeps the heartbeat going while the writer's event loop is idle (a live feed between
   * packets). A writer stuck in a loop that neither publishes nor ticks stops beating: readers
   * then report it dead, which is the truth.
   */
  startIdleHeartbeat(intervalMs: number = abi.HEARTBEAT_INTERVAL_MS): void {
    if (this.idleTimer) return;
    this.idleTimer = setInterval(() => this.beat(native.monotonicNs()), intervalMs);
    this.idleTimer.unref();
  }

  private static readonly emptyLevels: LevelSource = {
    bidCount: 0,
    askCount: 0,
    bids: new Float64Array(0),
    asks: new Float64Array(0),
  };

  /** Publishes an empty book flagged STALE (the writer no longer vouches for it). */
  markStale(index: number, msgIndex = 0): void {
    this.slots.commit(index, SegmentWriter.emptyLevels, msgIndex, 0, abi.SLOT_STALE);
  }

  /**
   * Marks slot `index`'s book with `flags` (e.g. MDFAN_SLOT_STALE after a feed gap), keeping
   * the book readable; counts a publish.
   */
  flagSlot(index: number, flags: number, msgIndex: number): void {
    this.slots.commitFlags(index, flags, msgIndex);
    this.publishes++;
  }

  /** The clock as read for the input message being published (one read per message, not per record). */
  private clockNs = 0;
  private clockMsgIndex = -1;

  /**
   * Appends one event to the ring. Its publish time is the clock read once for its input message
   * (by that message's book commit, or by its first event): the moment the writer began
   * publishing what the message produced. Allocates nothing. The writer must keep a ring.
   */
  appendEvent(e: EventFields): void {
    if (e.msgIndex !== this.clockMsgIndex) {
      this.clockNs = native.monotonicNs();
      this.clockMsgIndex = e.msgIndex;
    }
    const ii = e.instrumentIndex;
    const known = ii < this.layout.maxInstruments;
    this.ring!.append(e, this.clockNs, known ? this.tsUnitNs[ii]! : 1, known ? this.tsBaseNs[ii]! : 0);
  }

  /** Stores the heartbeat (CLOCK_MONOTONIC), one 64-bit atomic store. */
  heartbeat(nowNs = native.monotonicNs()): void {
    this.lastBeatNs = nowNs;
    storeU64(this.map, abi.HDR.heartbeat_ns.offset, nowNs);
  }

  /** Flushes the JavaScript-side counters into the segment's hot-counter line. */
  flushCounters(): void {
    storeU64(this.map, abi.HDR.messages.offset, this.messages);
    storeU64(this.map, abi.HDR.publishes.offset, this.publishes);
    storeU64(this.map, abi.HDR.input_bytes.offset, this.inputBytes);
    if (this.ring) storeU64(this.map, abi.HDR.events.offset, this.ring.appended);
  }

  /** A counter as the segment holds it (hot counters as of the last flush); relaxed. */
  counter(field: CounterName): number {
    return Number(Atomics.load(this.map.u64, abi.HDR[field].offset >>> 3));
  }

  /** Adds to a cold counter (e.g. unknown_order_refs); relaxed, for stat. */
  addCounter(field: Exclude<CounterName, 'messages' | 'publishes' | 'input_bytes' | 'events'>, n = 1): void {
    const i = abi.HDR[field].offset >>> 3;
    Atomics.store(this.map.u64, i, Atomics.load(this.map.u64, i) + BigInt(n));
  }

  setLastError(code: number): void {
    Atomics.store(this.map.u32, abi.HDR.last_error_code.offset >>> 2, code);
  }

  /** Wakes readers sleeping on the futex word (bumps it first so a late sleeper does not sleep). */
  notifyReaders(): number {
    Atomics.add(this.map.u32, abi.W.hdrNotifySeq, 1);
    return native.futexWake(this.map.buffer, abi.HDR.notify_seq.offset, 0x7fffffff);
  }

  get closed(): boolean {
    return this.closedState;
  }

  /**
   * Graceful shutdown: flush counters, set CLOSED, wake sleepers, release the lock (by closing
   * the fd). unlink=true also removes the name (readers that have it mapped keep reading).
   */
  close(opts: { unlink?: boolean; state?: number } = {}): void {
    if (this.closedState) return;
    this.closedState = true;
    if (this.idleTimer) clearInterval(this.idleTimer);
    this.flushCounters();
    this.heartbeat();
    Atomics.store(this.map.u32, abi.W.hdrState, opts.state ?? abi.STATE_CLOSED);
    this.notifyReaders();
    this.tops.notify();
    this.slots.unbind(); // before the mapping goes: a commit after close throws, never touches it
    this.control?.close(); // announces the shutdown, removes the socket
    writeControlPath(this.map, null);
    if (opts.unlink) unlinkSegment(this.name);
    this.registry.close();
    this.ring?.close(opts.unlink ?? false);
    this.tops.close(opts.unlink ?? false);
    this.map.close();
    releaseSegmentLock(this.name, this.lockFd, true); // made on demand: a closed writer leaves none
  }
}
