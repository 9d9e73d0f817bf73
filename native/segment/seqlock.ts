/**
 * The seqlock over one book slot: the writer's commit and the JavaScript read path.
 *
 * Protocol (docs/ABI.md). Slot word 0 is `seq`.
 *   writer:  s = seq (its own value: single writer)
 *            seq <- s+1   Atomics.store, seq_cst          [W1]
 *            payload      plain typed-array stores
 *            seq <- s+2   Atomics.store, seq_cst          [W2]
 *   reader:  s1 <- seq    Atomics.load, seq_cst           [R1] pairs with W2 of the previous commit
 *            if s1 odd: retry (the writer is inside)
 *            copy payload plain typed-array loads
 *            s2 <- seq    Atomics.load, seq_cst           [R2] pairs with W1 of a concurrent commit
 *            if s1 != s2: retry (torn), else the copy is the commit that wrote s1
 *
 * Why this is correct on x86-64 (TSO), which is where the JavaScript paths are used:
 *  - The CPU never reorders a load with an older load, nor a store with an older store. So the
 *    payload loads are performed after R1 and before R2, and the payload stores become visible
 *    after W1 and before W2.
 *  - V8 keeps plain typed-array accesses in program order relative to Atomics operations: Atomics
 *    are on TurboFan's effect chain as full barriers, so the JIT neither hoists the copy above R1
 *    nor sinks it below R2, nor moves payload stores out of [W1, W2]. Atomics.store on x64 is an
 *    XCHG (a full fence); Atomics.load is a plain MOV, which TSO makes an acquire load.
 *  - Hence if R2 sees s1 (even), no store of a later commit was visible to the copy: any such
 *    store is preceded in visibility order by W1 = s1+1, which R2 would have seen.
 * On arm64 the hardware may perform a plain load after a later Atomics.load (LDAR orders only
 * what follows it), and a plain store before an earlier Atomics.store (STLR orders only what
 * precedes it). There the reader must use the native path (native/src/seqlock_read.cc, with an
 * acquire fence before R2) and the writer the native `writeBegin` (a release fence after W1);
 * `NATIVE_ORDERING_REQUIRED` selects that automatically. The torture test checks all of it under
 * load on the machine it runs on.
 *
 * `seq` is 32 bits so the JavaScript read needs no BigInt; it wraps after 2^31 commits to one
 * slot. A reader would be fooled only if it were paused for exactly a multiple of 2^31 commits
 * between R1 and R2.
 */
import * as abi from './abi.js';
import { native } from './binding.js';
import { ErrorCode, MdfanError } from './errors.js';

/** x86-64's TSO makes the JavaScript read and write paths correct; elsewhere use the native ones. */
export const NATIVE_ORDERING_REQUIRED = process.arch !== 'x64' && process.arch !== 'ia32';

const STALE_CHECK_MASK = abi.STALE_CHECK_SPINS - 1;

/**
 * A preallocated copy of one slot. Reads fill `words` in place; the getters decode it without
 * allocating. u64 fields are returned as Numbers (exact below 2^53).
 */
export class BookSnapshot implements LevelSource {
  readonly levels: number;
  readonly words: Uint32Array;
  /** Views into `words`: [price, size, orders] per level, best first (a LevelSource). */
  readonly bids: Uint32Array;
  readonly asks: Uint32Array;
  private readonly asksWord: number;
  /** Retries of the read that filled this snapshot. */
  retries = 0;

  constructor(levels: number) {
    if (!Number.isInteger(levels) || levels < 1 || levels > abi.MAX_LEVELS)
      throw new MdfanError(ErrorCode.OPTIONS, `levels must be an integer 1..${abi.MAX_LEVELS}`, { found: levels });
    this.levels = levels;
    this.words = new Uint32Array(abi.slotPayloadBytes(levels) >>> 2);
    this.asksWord = abi.asksOffset(levels) >>> 2;
    this.bids = this.words.subarray(abi.W.slotLevels, abi.W.slotLevels + levels * 3);
    this.asks = this.words.subarray(this.asksWord, this.asksWord + levels * 3);
  }

  get seq(): number {
    return this.words[abi.W.slotSeq];
  }
  get flags(): number {
    return this.words[abi.W.slotFlags];
  }
  get stale(): boolean {
    return (this.words[abi.W.slotFlags] & abi.SLOT_STALE) !== 0;
  }
  get msgIndex(): number {
    return this.u64(abi.W.slotMsgIndexLo);
  }
  get exchangeTsNs(): number {
    return this.u64(abi.W.slotExchangeTsLo);
  }
  get publishTsNs(): number {
    return this.u64(abi.W.slotPublishTsLo);
  }
  get updateCount(): number {
    return this.u64(abi.W.slotUpdateCountLo);
  }
  get instrumentIndex(): number {
    return this.words[abi.W.slotInstrumentIndex];
  }
  /** Levels in use, clamped to the depth (a valid commit never exceeds it). */
  get bidCount(): number {
    return Math.min(this.words[abi.W.slotBidCount], this.levels);
  }
  get askCount(): number {
    return Math.min(this.words[abi.W.slotAskCount], this.levels);
  }
  bidPrice(i: number): number {
    return this.words[abi.W.slotLevels + i * 3];
  }
  bidSize(i: number): number {
    return this.words[abi.W.slotLevels + i * 3 + 1];
  }
  bidOrders(i: number): number {
    return this.words[abi.W.slotLevels + i * 3 + 2];
  }
  askPrice(i: number): number {
    return this.words[this.asksWord + i * 3];
  }
  askSize(i: number): number {
    return this.words[this.asksWord + i * 3 + 1];
  }
  askOrders(i: number): number {
    return this.words[this.asksWord + i * 3 + 2];
  }
  private u64(loWord: number): number {
    return this.words[loWord + 1] * 4294967296 + this.words[loWord];
  }
}

/** readSlotJs's answer when maxRetries ran out (the caller falls back to the native path). */
export const GAVE_UP = -2;

/**
 * Retries after which the 'auto' read path hands a read to the native path: a JavaScript spin
 * cannot PAUSE, and under a writer committing back to back to one slot it keeps stealing the
 * line and starves (docs/BENCHMARKS.md); the native read backs off and copies in ~3 ns.
 */
export const AUTO_FALLBACK_RETRIES = 8;

/**
 * JavaScript read path: copies the slot viewed by `slot` (a Uint32Array over exactly the slot's
 * payload, created once per slot) into `dst` (a snapshot's words, same length). Returns the retry
 * count, -1 if the seq stayed at one odd value for longer than `staleNs`, or GAVE_UP after
 * `maxRetries` retries.
 *
 * The copy is one TypedArray.prototype.set (a memmove in V8, ~13 ns for a 10-level slot, against
 * ~30-90 ns for an element loop): a seqlock reader whose copy outlasts the writer's gap between
 * commits starves, so the copy's speed is correctness under load, not only speed. The builtin
 * call is opaque to the JIT, so it stays between R1 and R2; on x86-64 its loads are ordinary
 * loads, which TSO keeps after R1 and before R2 (Linux's x86 seqlock readers rely on the same).
 */
export function readSlotJs(slot: Uint32Array, dst: Uint32Array, staleNs: number, maxRetries = Infinity): number {
  let retries = 0;
  // Stale means the *same* odd seq for longer than staleNs (a writer stuck or dead inside the
  // slot); a busy writer shows a new odd value each time and never trips it.
  let oddSeq = 0;
  let oddSpins = 0;
  let oddSince = 0;
  for (;;) {
    if (retries >= maxRetries) return GAVE_UP;
    const s1 = Atomics.load(slot, 0); // R1
    if ((s1 & 1) !== 0) {
      retries++;
      if (s1 !== oddSeq) {
        oddSeq = s1;
        oddSpins = 0;
        oddSince = 0;
      } else if ((++oddSpins & STALE_CHECK_MASK) === 0) {
        // Checking the clock costs an addon call: only every STALE_CHECK_SPINS spins on one odd seq.
        const now = native.monotonicNs();
        if (oddSince === 0) oddSince = now;
        else if (now - oddSince > staleNs) return -1;
      }
      continue;
    }
    dst.set(slot);
    const s2 = Atomics.load(slot, 0); // R2
    if (s1 === s2) {
      dst[0] = s1;
      return retries;
    }
    retries++;
  }
}

/** Source of one commit's levels, laid out as in the slot: [price, size, orders] per level. */
export interface LevelSource {
  bidCount: number;
  askCount: number;
  /** levels*3 words: best bid first. */
  bids: Uint32Array;
  /** levels*3 words: best ask first. */
  asks: Uint32Array;
}

/**
 * Writes slots of one mapping. Single writer: only the process holding the writer lock may use
 * it. Allocates nothing per commit.
 */
export class SlotWriter {
  private readonly u32: Uint32Array;
  private readonly buffer: ArrayBuffer;
  private readonly slotsWord: number;
  private readonly strideWords: number;
  private readonly levels: number;
  private readonly asksWord: number;
  private readonly maxInstruments: number;
  private readonly nativeBegin: boolean;

  constructor(buffer: ArrayBuffer, layout: abi.Layout, nativeBegin = NATIVE_ORDERING_REQUIRED) {
    if (layout.slotStride % 4 !== 0 || layout.slotsOffset % 4 !== 0)
      throw new MdfanError(ErrorCode.LAYOUT, 'slot stride and offset must be multiples of 4', { stride: layout.slotStride });
    this.buffer = buffer;
    this.u32 = new Uint32Array(buffer);
    this.slotsWord = layout.slotsOffset >>> 2;
    this.strideWords = layout.slotStride >>> 2;
    this.levels = layout.levels;
    this.asksWord = abi.asksOffset(layout.levels) >>> 2;
    this.maxInstruments = layout.maxInstruments;
    this.nativeBegin = nativeBegin;
  }

  /** Word index of slot `index`. */
  slotWord(index: number): number {
    return this.slotsWord + index * this.strideWords;
  }

  /**
   * Commits one book to slot `index`. msgIndex/exchangeTsNs/publishTsNs are non-negative integers
   * below 2^53; levels beyond the depth are dropped.
   */
  commit(index: number, src: LevelSource, msgIndex: number, exchangeTsNs: number, publishTsNs: number, flags: number): void {
    if (index >>> 0 !== index || index >= this.maxInstruments)
      throw new MdfanError(ErrorCode.OPTIONS, `slot index ${index} outside 0..${this.maxInstruments - 1}`);
    const u32 = this.u32;
    const base = this.slotWord(index);
    // Our own last store, so a plain read is exact for the single writer. An odd value is a dead
    // writer's half commit found by a takeover: the slot is already "inside" (readers wait), so
    // this commit skips W1 and its W2 makes it even. Making it even first would hand readers the
    // dead writer's torn payload.
    let s = u32[base];
    if ((s & 1) === 0) {
      if (this.nativeBegin) native.writeBegin(this.buffer, base << 2); // W1 + release fence
      else Atomics.store(u32, base, (s + 1) >>> 0); // W1
    } else s = (s - 1) >>> 0;
    u32[base + abi.W.slotFlags] = flags;
    u32[base + abi.W.slotMsgIndexLo] = msgIndex % 4294967296;
    u32[base + abi.W.slotMsgIndexLo + 1] = Math.floor(msgIndex / 4294967296);
    u32[base + abi.W.slotExchangeTsLo] = exchangeTsNs % 4294967296;
    u32[base + abi.W.slotExchangeTsLo + 1] = Math.floor(exchangeTsNs / 4294967296);
    u32[base + abi.W.slotPublishTsLo] = publishTsNs % 4294967296;
    u32[base + abi.W.slotPublishTsLo + 1] = Math.floor(publishTsNs / 4294967296);
    const levels = this.levels;
    const bidCount = src.bidCount < levels ? src.bidCount : levels;
    const askCount = src.askCount < levels ? src.askCount : levels;
    u32[base + abi.W.slotBidCount] = bidCount;
    u32[base + abi.W.slotAskCount] = askCount;
    const upd = u32[base + abi.W.slotUpdateCountLo] + 1;
    if (upd > 0xffffffff) {
      u32[base + abi.W.slotUpdateCountLo] = 0;
      u32[base + abi.W.slotUpdateCountLo + 1]++;
    } else u32[base + abi.W.slotUpdateCountLo] = upd;
    u32[base + abi.W.slotInstrumentIndex] = index;
    // Levels in use are copied; the rest are zeroed so a reader never sees an old book's tail.
    // A source laid out exactly like the slot side goes in one memmove per side (TypedArray.set
    // into a view made once per slot), the rest in one memset; other sources word by word.
    const all = levels * 3;
    const bw = bidCount * 3;
    const aw = askCount * 3;
    const sides = this.sideViews(index);
    this.copySide(sides[0], src.bids, bw, all);
    this.copySide(sides[1], src.asks, aw, all);
    Atomics.store(u32, base, (s + 2) >>> 0); // W2
  }

  /**
   * Re-commits slot `index` with new flags, keeping its book: a commit of the slot's own levels
   * (read back by the single writer, which wrote them), stamped with msgIndex, a zero exchange
   * time and the publish time. For a feed gap: the book stays readable, marked MDFAN_SLOT_STALE.
   * Cold path (once per book per gap): the hot commit() stays one straight-line function (split
   * into helpers, it measured ~4% slower in `mdfan bench feed`).
   */
  commitFlags(index: number, flags: number, msgIndex: number, publishTsNs: number): void {
    if (index >>> 0 !== index || index >= this.maxInstruments)
      throw new MdfanError(ErrorCode.OPTIONS, `slot index ${index} outside 0..${this.maxInstruments - 1}`);
    const base = this.slotWord(index);
    const [bids, asks] = this.sideViews(index);
    const own: LevelSource = { bidCount: this.u32[base + abi.W.slotBidCount], askCount: this.u32[base + abi.W.slotAskCount], bids, asks };
    this.commit(index, own, msgIndex, 0, publishTsNs, flags);
  }

  private readonly views: Array<[Uint32Array, Uint32Array] | undefined> = [];

  /** Views over slot `index`'s bid and ask levels, made on first use (no allocation per commit). */
  private sideViews(index: number): [Uint32Array, Uint32Array] {
    let v = this.views[index];
    if (v === undefined) {
      const base = this.slotWord(index);
      const all = this.levels * 3;
      const b0 = base + abi.W.slotLevels;
      const a0 = base + this.asksWord;
      v = [this.u32.subarray(b0, b0 + all), this.u32.subarray(a0, a0 + all)];
      this.views[index] = v;
    }
    return v;
  }

  private copySide(dst: Uint32Array, src: Uint32Array, used: number, all: number): void {
    if (src.length === all) {
      dst.set(src);
      if (used < all) dst.fill(0, used);
    } else {
      for (let i = 0; i < used; i++) dst[i] = src[i];
      if (used < all) dst.fill(0, used);
    }
  }

  /**
   * Test hook: leaves slot `index` mid-commit with an odd seq, as a writer killed
   * between W1 and W2 would.
   */
  beginOnlyForTest(index: number): void {
    const base = this.slotWord(index);
    Atomics.store(this.u32, base, (this.u32[base] | 1) >>> 0);
  }

  get mapping(): ArrayBuffer {
    return this.buffer;
  }
}
