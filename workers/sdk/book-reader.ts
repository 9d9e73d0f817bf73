/**
 * The reader SDK: what a strategy process uses. Attach by name (waiting for READY), find
 * instruments, read consistent snapshots into preallocated objects, learn which books changed,
 * wait for updates in the way that suits the caller, and hear at once when the writer dies,
 * is replaced, or closes. Built on SegmentReader (native/segment/reader.ts), which does the seqlock.
 *
 * Wait strategies (docs/READERS.md):
 *  spin   poll the slots' seq words without pause: the lowest latency, one core per reader
 *  yield  spin a while, then give the event loop and the CPU back in growing steps
 *  block  sleep on the futex word; the writer wakes sleepers only (registry.ts)
 */
import { setImmediate as yieldNow, setTimeout as sleep } from 'node:timers/promises';
import * as abi from '../../native/segment/abi.js';
import { native } from '../../native/segment/binding.js';
import { ErrorCode, MdfanError, isMdfanError } from '../../native/segment/errors.js';
import type { Instrument } from '../../native/segment/directory.js';
import { SegmentReader, type AttachOptions } from '../../native/segment/reader.js';
import { RegistryLine } from '../../native/segment/registry.js';
import { announceAttach } from '../../native/segment/control.js';
import type { Socket } from 'node:net';
import type { BookSnapshot } from '../../native/segment/seqlock.js';
import { READER_DEFAULTS } from './defaults.js';

export type WaitStrategy = 'spin' | 'yield' | 'block';
export const WAIT_STRATEGIES: readonly WaitStrategy[] = ['spin', 'yield', 'block'];

/** Validates a `--wait` option (undefined: `dflt`). */
export function parseWait(value: string | undefined, dflt: WaitStrategy = READER_DEFAULTS.wait): WaitStrategy {
  const w = (value ?? dflt) as WaitStrategy;
  if (!WAIT_STRATEGIES.includes(w)) throw new MdfanError(ErrorCode.OPTIONS, `--wait must be spin, yield or block (got ${JSON.stringify(value)})`);
  return w;
}

export interface BookReaderOptions extends AttachOptions {
  wait?: WaitStrategy;
  /** A writer whose heartbeat is older than this is dead (READER_DEFAULTS.heartbeatTimeoutMs). */
  heartbeatTimeoutMs?: number;
}

/** What next() saw. */
export const WaitResult = {
  UPDATED: 0,
  TIMEOUT: 1,
  /** The writer closed the segment (graceful end). */
  CLOSED: 2,
  /** The writer died (lock free, or heartbeat silent); reported once per death. */
  WRITER_DEAD: 3,
  /** A new writer took over or re-created the segment: directory re-read, books re-announced. */
  NEW_WRITER: 4,
} as const;
export type WaitResult = (typeof WaitResult)[keyof typeof WaitResult];

export class BookReader {
  seg: SegmentReader;
  readonly wait: WaitStrategy;
  private readonly opts: BookReaderOptions;
  private lastSeq: Uint32Array;
  private generation: number;
  private writerDead = false;
  private line: RegistryLine | null = null;
  private nextHealthMs = 0;
  /** Instruments, refreshed on a new generation or a new announcement. */
  instruments: Instrument[];
  private knownCount: number;

  private constructor(seg: SegmentReader, opts: BookReaderOptions) {
    this.seg = seg;
    this.opts = opts;
    this.wait = opts.wait ?? READER_DEFAULTS.wait;
    if (!WAIT_STRATEGIES.includes(this.wait))
      throw new MdfanError(ErrorCode.OPTIONS, `wait must be one of ${WAIT_STRATEGIES.join(', ')} (got ${JSON.stringify(this.wait)})`);
    this.lastSeq = new Uint32Array(seg.layout.maxInstruments);
    this.generation = seg.currentGeneration;
    this.instruments = seg.instruments();
    this.knownCount = this.instruments.length;
    if (this.wait === 'block') this.line = RegistryLine.claim(seg.name);
    this.announce();
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
    if (index < this.lastSeq.length) this.lastSeq[index] = snap.seq;
    return r;
  }

  /**
   * Fills `out` with the slots whose seq moved since the last call (one Atomics.load per slot, no
   * allocation) and returns how many. A slot mid-commit counts as changed: read() waits it out.
   */
  changed(out: Int32Array): number {
    const u32 = this.seg.map.u32;
    const n = Math.min(Atomics.load(u32, abi.W.hdrInstrumentCount), this.lastSeq.length);
    let k = 0;
    for (let i = 0; i < n && k < out.length; i++) {
      const s = Atomics.load(u32, this.seg.slotWord(i));
      if (s !== this.lastSeq[i]) {
        this.lastSeq[i] = s;
        out[k++] = i;
      }
    }
    return k;
  }

  private anyChanged(): boolean {
    const u32 = this.seg.map.u32;
    const n = Math.min(Atomics.load(u32, abi.W.hdrInstrumentCount), this.lastSeq.length);
    for (let i = 0; i < n; i++) if (Atomics.load(u32, this.seg.slotWord(i)) !== this.lastSeq[i]) return true;
    return false;
  }

  private refreshDirectory(): void {
    const n = Atomics.load(this.seg.map.u32, abi.W.hdrInstrumentCount);
    if (n !== this.knownCount) {
      this.instruments = this.seg.instruments();
      this.knownCount = this.instruments.length;
    }
  }

  /**
   * Waits until a book changed (UPDATED), timeoutMs passed (TIMEOUT), or the writer's story
   * changed (CLOSED, WRITER_DEAD once per death, NEW_WRITER). Never hangs on a dead writer.
   */
  async next(timeoutMs: number = READER_DEFAULTS.nextTimeoutMs): Promise<WaitResult> {
    const end = performance.now() + timeoutMs;
    for (let round = 0; ; round++) {
      const health = this.health();
      if (health !== WaitResult.UPDATED) return health;
      if (this.anyChanged()) return WaitResult.UPDATED;
      const now = performance.now();
      if (now >= end) return WaitResult.TIMEOUT;
      if (this.wait === 'spin') {
        for (let i = 0; i < 4096; i++) if (this.anyChanged()) return WaitResult.UPDATED;
        if ((round & 63) === 63) await yieldNow(); // let timers and signals in, rarely
      } else if (this.wait === 'yield') {
        for (let i = 0; i < 256; i++) if (this.anyChanged()) return WaitResult.UPDATED;
        if (round < 16) await yieldNow();
        else await sleep(Math.min(1 + (round >> 4), 10));
      } else {
        this.block(Math.min(end - now, 100));
        await yieldNow(); // the futex wait blocks this thread: let the event loop turn (control plane, signals)
      }
    }
  }

  /** Sleeps on the futex word until the writer bumps it (a commit with sleepers) or ms pass. */
  private block(ms: number): void {
    if (this.line === null) this.line = RegistryLine.claim(this.seg.name);
    if (this.line === null) {
      // No registry (an old writer) or full: fall back to polling, slowly.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Math.min(ms, 1));
      return;
    }
    this.line.beginSleep(); // counted first: pairs with the writer's wakeIfSleepers
    const v = this.seg.notifySeq();
    if (!this.anyChanged() && this.health() === WaitResult.UPDATED) this.seg.waitForNotify(v, Math.max(0, ms) * 1e6);
    this.line.endSleep();
  }

  /**
   * UPDATED means "carry on". Checked at most every 5 ms: state, generation, writer liveness,
   * and a new object under the name (a re-created segment).
   */
  private health(): WaitResult {
    const now = performance.now();
    if (now < this.nextHealthMs) return WaitResult.UPDATED;
    this.nextHealthMs = now + 5;
    const seg = this.seg;
    const state = seg.state;
    // A takeover in progress: the generation may already have moved, but the directory and
    // slots are being rewritten. Wait for READY before looking at anything.
    if (state === abi.STATE_INITIALIZING) return WaitResult.UPDATED;
    const gen = seg.currentGeneration;
    if (gen !== this.generation) return this.newWriter(seg);
    if (state === abi.STATE_CLOSED || state === abi.STATE_BROKEN) {
      const fresh = this.tryReopen();
      if (fresh) return this.newWriter(fresh);
      if (!this.writerDead || state === abi.STATE_CLOSED) return WaitResult.CLOSED;
    }
    try {
      seg.checkWriter(this.opts.heartbeatTimeoutMs ?? READER_DEFAULTS.heartbeatTimeoutMs);
      this.writerDead = false;
    } catch (e) {
      if (!isMdfanError(e, ErrorCode.WRITER_DEAD)) throw e;
      const fresh = this.tryReopen();
      if (fresh) return this.newWriter(fresh);
      if (!this.writerDead) {
        this.writerDead = true;
        this.lastDeath = e;
        return WaitResult.WRITER_DEAD;
      }
    }
    this.refreshDirectory();
    return WaitResult.UPDATED;
  }

  /** The error that reported the last writer death (code MDFAN_ERR_WRITER_DEAD, pid, heartbeat). */
  lastDeath: MdfanError | null = null;

  /** A different, READY object under the name (the writer re-created the segment)? */
  private tryReopen(): SegmentReader | null {
    try {
      const r = SegmentReader.openSync(this.seg.name, this.opts);
      if (r.generation > this.generation || r.layout.totalBytes !== this.seg.layout.totalBytes) return r;
      r.close();
    } catch (e) {
      // A writer of another ABI major re-created the name: that never resolves by waiting, and a
      // reader must not read it, so next() throws the refusal (it names both versions).
      if (isMdfanError(e, ErrorCode.ABI_VERSION)) throw e;
      /* otherwise nothing new yet (absent, initialising) */
    }
    return null;
  }

  private newWriter(seg: SegmentReader): WaitResult {
    if (seg !== this.seg) {
      this.line?.release();
      this.line = null;
      this.seg.close();
      this.seg = seg;
      this.lastSeq = new Uint32Array(seg.layout.maxInstruments);
    } else this.lastSeq.fill(0);
    this.generation = seg.currentGeneration;
    this.writerDead = false;
    this.instruments = seg.instruments();
    this.knownCount = this.instruments.length;
    this.announce(); // to the new writer's control plane
    return WaitResult.NEW_WRITER;
  }

  close(): void {
    this.control?.destroy(); // the writer counts this as a detach
    this.control = null;
    this.line?.release();
    this.line = null;
    this.seg.close();
  }
}

/** Publish -> observe latency of a snapshot just read, ns (same host, CLOCK_MONOTONIC). */
export const latencyNs = (snap: BookSnapshot): number => native.monotonicNs() - snap.publishTsNs;
