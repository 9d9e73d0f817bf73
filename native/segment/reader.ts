/**
 * A reader's view of a segment: open O_RDONLY, map PROT_READ, validate, read slots through the
 * seqlock, and tell whether the writer is alive. The reader never writes to the segment: a
 * strategy bug faults in its own process instead of corrupting a book.
 */
import { statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import * as abi from './abi.js';
import { native } from './binding.js';
import { ErrorCode, MdfanError, inSegment } from './errors.js';
import { checkHeader, checkOwner, layoutOf, readHeader, withHeader, type HeaderInfo } from './header.js';
import { Mapping, loadU64, segmentPath } from './mapping.js';
import { readDirectory, type Instrument } from './directory.js';
import { SEGMENT_DEFAULTS } from './defaults.js';
import { AUTO_FALLBACK_RETRIES, BookSnapshot, GAVE_UP, NATIVE_ORDERING_REQUIRED, readSlotJs } from './seqlock.js';
import { TOP_WORDS, type TopSnapshot, W_TOP_NOTIFY, openTops, topWord } from './tops.js';
import { trustOf } from './companion.js';

export interface OpenOptions {
  /** Accept any state (stat) instead of requiring READY. */
  anyState?: boolean;
  /**
   * Read path: 'auto' (default: JavaScript, handing a read that keeps being torn to the native
   * path; native only where the CPU is not TSO), 'js' (x86-64 only), or 'native' (fenced).
   */
  readPath?: 'auto' | 'js' | 'native';
  /** How long an odd seq may last before MDFAN_ERR_STALE, ms. */
  staleAfterMs?: number;
  /**
   * The uid the segment's writer runs as, when it is another user (default: a segment must belong
   * to this user or to root). A segment of any other owner, or writable by everyone, is refused
   * with MDFAN_ERR_UNSAFE_OBJECT: its owner could forge books or shrink it under the reader.
   */
  writerUid?: number;
}

export interface AttachOptions extends OpenOptions {
  /** How long to wait for the segment to exist and become READY, ms (SEGMENT_DEFAULTS.attachTimeoutMs). */
  timeoutMs?: number;
  /** Polling interval while waiting, ms (default 10). */
  pollMs?: number;
}

export interface WriterStatus {
  /** The writer lock is held by some process. */
  lockHeld: boolean;
  pid: number;
  /** ms since the last heartbeat (CLOCK_MONOTONIC, same host). */
  heartbeatAgeMs: number;
}

/** The object /dev/shm/NAME exists and is empty (a writer's new segment, before it is sized). */
function emptyObject(name: string): boolean {
  try {
    return statSync(`/dev/shm/${name}`).size === 0;
  } catch {
    return false;
  }
}

export class SegmentReader {
  readonly name: string;
  /** The uid named as the segment's writer when it was opened (OpenOptions.writerUid). */
  readonly writerUid: number | undefined;
  readonly map: Mapping;
  readonly layout: abi.Layout;
  readonly generation: number;
  private readonly staleNs: number;
  private readonly useNative: boolean;
  private readonly jsMaxRetries: number;
  private readonly slotBytes: number;
  /** Total retries over all reads through this reader. */
  retries = 0;
  reads = 0;

  private constructor(name: string, map: Mapping, opts: OpenOptions) {
    this.name = name;
    this.map = map;
    this.layout = layoutOf(map);
    this.generation = Atomics.load(map.u32, abi.W.hdrGeneration);
    this.writerUid = opts.writerUid;
    const staleMs = opts.staleAfterMs ?? SEGMENT_DEFAULTS.staleAfterMs;
    if (!(staleMs > 0)) throw new MdfanError(ErrorCode.OPTIONS, 'options.staleAfterMs must be > 0', { found: staleMs });
    this.staleNs = staleMs * 1e6;
    const path = opts.readPath ?? 'auto';
    if (path !== 'auto' && path !== 'js' && path !== 'native')
      throw new MdfanError(ErrorCode.OPTIONS, `options.readPath must be 'auto', 'js' or 'native' (got ${JSON.stringify(path)})`);
    this.useNative = path === 'native' || NATIVE_ORDERING_REQUIRED;
    this.jsMaxRetries = path === 'auto' ? AUTO_FALLBACK_RETRIES : Infinity;
    if (path === 'js' && NATIVE_ORDERING_REQUIRED)
      throw new MdfanError(ErrorCode.OPTIONS, `options.readPath 'js' is only correct on x86-64 (this is ${process.arch})`);
    this.slotBytes = abi.slotPayloadBytes(this.layout.levels);
  }

  /**
   * Opens and validates the segment now, without waiting. Throws MDFAN_ERR_NO_SEGMENT,
   * MDFAN_ERR_PERMISSION, MDFAN_ERR_BAD_MAGIC, MDFAN_ERR_ABI_VERSION, MDFAN_ERR_SEGMENT_SIZE,
   * MDFAN_ERR_LAYOUT, or MDFAN_ERR_NOT_READY (not READY, unless anyState).
   */
  static openSync(name: string, opts: OpenOptions = {}): SegmentReader {
    const r = SegmentReader.tryOpen(name, opts);
    if (r instanceof SegmentReader) return r;
    throw r.error;
  }

  /** Waits (without blocking the event loop) for the segment to appear, validate and be READY. */
  static async attach(name: string, opts: AttachOptions = {}): Promise<SegmentReader> {
    const timeoutMs = opts.timeoutMs ?? SEGMENT_DEFAULTS.attachTimeoutMs;
    const pollMs = opts.pollMs ?? SEGMENT_DEFAULTS.attachPollMs;
    if (!(timeoutMs >= 0)) throw new MdfanError(ErrorCode.OPTIONS, 'options.timeoutMs must be >= 0', { found: timeoutMs });
    const deadline = performance.now() + timeoutMs; // monotonic: immune to wall-clock steps
    for (;;) {
      const r = SegmentReader.tryOpen(name, opts);
      if (r instanceof SegmentReader) return r;
      if (!r.retry || performance.now() >= deadline) {
        if (r.retry && r.error.code !== ErrorCode.NO_SEGMENT)
          throw new MdfanError(ErrorCode.NOT_READY, `segment ${name} did not become READY within ${timeoutMs} ms (${r.error.message})`, {
            segment: name,
            timeoutMs,
          });
        if (r.retry)
          throw new MdfanError(ErrorCode.NO_SEGMENT, `segment ${name} did not appear within ${timeoutMs} ms`, { segment: name, timeoutMs });
        throw r.error;
      }
      await sleep(pollMs);
    }
  }

  private static tryOpen(name: string, opts: OpenOptions): SegmentReader | { retry: boolean; error: MdfanError } {
    const path = segmentPath(name);
    let fd: number;
    try {
      fd = native.shmOpen(path, 0, 0);
    } catch (e) {
      const err = inSegment(e, name) as MdfanError;
      // A writer makes a new segment its own alone (mode 0600) until it holds the writer lock, then
      // gives it its mode: an empty object refused now may be open to this reader a moment later.
      if (err.code === ErrorCode.PERMISSION && emptyObject(name)) return { retry: true, error: new MdfanError(ErrorCode.NOT_READY, `segment ${name} is being created`, { segment: name }) };
      return { retry: err.code === ErrorCode.NO_SEGMENT, error: err };
    }
    let size: number;
    try {
      size = native.fstat(fd).size;
    } catch (e) {
      native.close(fd);
      return { retry: false, error: inSegment(e, name) as MdfanError };
    }
    if (size === 0) {
      native.close(fd);
      return { retry: true, error: new MdfanError(ErrorCode.NOT_READY, `segment ${name} is empty: its creator has not sized it yet`, { segment: name }) };
    }
    if (size % 8 !== 0) {
      // Every mdfan segment is a whole number of 128-byte lines: this is something else, truncated or padded.
      native.close(fd);
      return { retry: false, error: new MdfanError(ErrorCode.SEGMENT_SIZE, `segment ${name} is ${size} bytes, not a multiple of 8: not an mdfan segment`, { segment: name, found: size }) };
    }
    const euid = process.geteuid?.() ?? 0;
    const unsafe = checkOwner(name, fd, opts.writerUid === undefined ? [euid, 0] : [euid, 0, opts.writerUid], 'segment');
    if (unsafe) {
      native.close(fd);
      return { retry: false, error: unsafe };
    }
    // The header alone first: a foreign object's size is trusted (and faulted in) only once its
    // header agrees with it.
    const check = withHeader(name, fd, size, false, (h) => checkHeader(h, size));
    if (!check.ok) {
      native.close(fd);
      return check;
    }
    const huge = withHeader(name, fd, size, false, (h) => (h.dv.getUint32(abi.HDR.layout_flags.offset, true) & abi.LAYOUT_HUGE_PAGES) !== 0);
    const m = Mapping.map(name, fd, size, false, huge); // a writer's 2 MiB pages: map them 2 MiB-aligned too
    const state = Atomics.load(m.u32, abi.W.hdrState); // acquire: pairs with the writer's READY store
    if (state !== abi.STATE_READY && !opts.anyState) {
      m.close();
      return {
        retry: true,
        error: new MdfanError(ErrorCode.NOT_READY, `segment ${name} is ${abi.STATE_NAMES[state] ?? state}, not READY`, {
          segment: name,
          state: abi.STATE_NAMES[state] ?? state,
        }),
      };
    }
    try {
      return new SegmentReader(name, m, opts);
    } catch (e) {
      m.close();
      throw e;
    }
  }

  /** The writer that came after this object's writer replaced it by a new object under the name. */
  get replaced(): boolean {
    return (Atomics.load(this.map.u32, abi.W.hdrFlags) & abi.HEADER_REPLACED) !== 0;
  }

  get state(): number {
    return Atomics.load(this.map.u32, abi.W.hdrState);
  }

  /** The generation now in the segment; differs from `generation` after a takeover. */
  get currentGeneration(): number {
    return Atomics.load(this.map.u32, abi.W.hdrGeneration);
  }

  header(): HeaderInfo {
    return readHeader(this.map);
  }

  instruments(): Instrument[] {
    return readDirectory(this.map, this.layout);
  }

  /** Index of `symbol` in the directory, or -1. */
  find(symbol: string): number {
    for (const inst of this.instruments()) if (inst.symbol === symbol) return inst.slotIndex;
    return -1;
  }

  newSnapshot(): BookSnapshot {
    return new BookSnapshot(this.layout.levels);
  }

  private readonly views: Array<Uint32Array | undefined> = [];

  /** A view over slot `index`'s payload, made on first use and kept (no allocation per read). */
  slotView(index: number): Uint32Array {
    let v = this.views[index];
    if (v === undefined) {
      const w = this.slotWord(index);
      v = this.map.u32.subarray(w, w + (this.slotBytes >>> 2));
      this.views[index] = v;
    }
    return v;
  }

  /** Word index of slot `index` in the mapping. */
  slotWord(index: number): number {
    return (this.layout.slotsOffset + index * this.layout.slotStride) >>> 2;
  }

  /**
   * Copies slot `index` into `snap` through the seqlock; returns the retries it took. Throws
   * MDFAN_ERR_STALE if the writer stayed inside the slot longer than staleAfterMs.
   */
  read(index: number, snap: BookSnapshot): number {
    if (index >>> 0 !== index || index >= this.layout.maxInstruments)
      throw new MdfanError(ErrorCode.OPTIONS, `slot index ${index} outside 0..${this.layout.maxInstruments - 1}`);
    if (snap.levels !== this.layout.levels)
      throw new MdfanError(ErrorCode.LAYOUT, `snapshot has ${snap.levels} levels, segment has ${this.layout.levels}`);
    if (this.map.isClosed) throw new MdfanError(ErrorCode.CLOSED, `reader for ${this.name} is closed`);
    let r = this.useNative ? GAVE_UP : readSlotJs(this.slotView(index), snap.words, this.staleNs, this.jsMaxRetries);
    if (r === GAVE_UP) {
      const n = native.readSlot(this.map.buffer, this.layout.slotsOffset + index * this.layout.slotStride, this.slotBytes, snap.words, this.staleNs);
      r = n < 0 ? n : n + (this.useNative ? 0 : this.jsMaxRetries);
    }
    this.reads++;
    if (r < 0) {
      throw new MdfanError(ErrorCode.STALE, `segment ${this.name}: slot ${index} stayed mid-update (odd seq) for over ${this.staleNs / 1e6} ms; its writer is stuck or dead`, {
        segment: this.name,
        slot: index,
        seq: Atomics.load(this.map.u32, this.slotWord(index)),
      });
    }
    snap.decode();
    snap.retries = r;
    this.retries += r;
    return r;
  }

  /** The top-of-book lines, opened on first use and again after a takeover (refreshTops). */
  private topsMap: Mapping | null = null;
  private topViews: Array<Uint32Array | undefined> = [];

  /**
   * The tops mapping of the current generation. Throws MDFAN_ERR_NOT_READY while a new writer is
   * re-creating them, a coded refusal when they are missing or not the writer's (companion.ts).
   */
  tops(): Mapping {
    if (this.topsMap !== null) return this.topsMap;
    if (this.map.isClosed) throw new MdfanError(ErrorCode.CLOSED, `reader for ${this.name} is closed`);
    this.topsMap = openTops(this.name, this.layout.maxInstruments, this.currentGeneration, trustOf(this.name, this.map));
    return this.topsMap;
  }

  /** Forgets the tops mapping: a new writer generation has new top lines (opened on next use). */
  refreshTops(): void {
    this.topsMap?.close();
    this.topsMap = null;
    this.topViews = [];
  }

  /**
   * Copies top line `index` into `top` through its seqlock; returns the retries it took. Throws
   * MDFAN_ERR_STALE as read() does; see tops() for a segment without top lines.
   */
  readTop(index: number, top: TopSnapshot): number {
    if (index >>> 0 !== index || index >= this.layout.maxInstruments)
      throw new MdfanError(ErrorCode.OPTIONS, `slot index ${index} outside 0..${this.layout.maxInstruments - 1}`);
    const m = this.tops();
    let v = this.topViews[index];
    if (v === undefined) {
      const w = topWord(index);
      v = m.u32.subarray(w, w + TOP_WORDS);
      this.topViews[index] = v;
    }
    let r = this.useNative ? GAVE_UP : readSlotJs(v, top.words, this.staleNs, this.jsMaxRetries);
    if (r === GAVE_UP) {
      const n = native.readSlot(m.buffer, topWord(index) << 2, abi.TOP_BYTES, top.words, this.staleNs);
      r = n < 0 ? n : n + (this.useNative ? 0 : this.jsMaxRetries);
    }
    this.reads++;
    if (r < 0) {
      throw new MdfanError(ErrorCode.STALE, `segment ${this.name}: top line ${index} stayed mid-update (odd seq) for over ${this.staleNs / 1e6} ms; its writer is stuck or dead`, {
        segment: this.name,
        slot: index,
        seq: Atomics.load(m.u32, topWord(index)),
      });
    }
    top.decode();
    top.retries = r;
    this.retries += r;
    return r;
  }

  /** The top futex word (bumped after a message that changed a top, if top readers sleep). */
  topNotifySeq(): number {
    return Atomics.load(this.tops().u32, W_TOP_NOTIFY);
  }

  waitForTopNotify(expected: number, timeoutNs: number): number {
    return native.futexWait(this.tops().buffer, W_TOP_NOTIFY << 2, expected, timeoutNs);
  }

  /** Lock, pid and heartbeat age: the facts for liveness (cold path). */
  writerStatus(): WriterStatus {
    const hb = loadU64(this.map, abi.HDR.heartbeat_ns.offset);
    return {
      lockHeld: native.writerLockHeld(this.map.fd),
      pid: Atomics.load(this.map.u32, abi.HDR.writer_pid.offset >>> 2),
      heartbeatAgeMs: hb === 0 ? Infinity : Math.max(0, (native.monotonicNs() - hb) / 1e6),
    };
  }

  /**
   * Throws MDFAN_ERR_WRITER_DEAD if the writer's lock is free while the segment is not CLOSED, or
   * its heartbeat is older than timeoutMs.
   */
  checkWriter(timeoutMs: number = SEGMENT_DEFAULTS.heartbeatTimeoutMs): void {
    const st = this.writerStatus();
    const state = this.state;
    if (state === abi.STATE_CLOSED) return;
    if (!st.lockHeld || st.heartbeatAgeMs > timeoutMs)
      throw new MdfanError(
        ErrorCode.WRITER_DEAD,
        `segment ${this.name}: writer pid ${st.pid} is ${st.lockHeld ? `silent (heartbeat ${st.heartbeatAgeMs.toFixed(0)} ms old)` : 'gone (its lock is free)'}`,
        { segment: this.name, pid: st.pid, heartbeatAgeMs: Math.round(st.heartbeatAgeMs), lockHeld: st.lockHeld },
      );
  }

  /** Waits on the futex word until the writer bumps it or timeoutNs passes (blocks this thread). */
  waitForNotify(expected: number, timeoutNs: number): number {
    return native.futexWait(this.map.buffer, abi.HDR.notify_seq.offset, expected, timeoutNs);
  }

  notifySeq(): number {
    return Atomics.load(this.map.u32, abi.W.hdrNotifySeq);
  }

  close(): void {
    this.refreshTops();
    this.map.close();
  }
}
