/**
 * The seqlock over one book slot (and over one top line: the same protocol on 64 bytes): the
 * JavaScript read path, and the writer's face over the addon's commit.
 *
 * Protocol (docs/ABI.md). Word 0 is `seq`.
 *   writer:  mdfan_commit_book (native/include/mdfan_seqlock.h), one addon call per book:
 *            W1 seq <- s+1 (relaxed store), F1 release fence, payload (plain stores),
 *            W2 seq <- s+2 (release store); a slot found odd (a dead writer's half commit) is
 *            ended from its odd seq, without W1 and F1. Nothing seq_cst, no full fence: on x86-64
 *            every store is a MOV, so the lines drain to readers in order and overlap.
 *   reader:  s1 <- seq    Atomics.load, seq_cst           [R1] pairs with the W2 that stored s1
 *            if s1 odd: retry (the writer is inside)
 *            copy payload plain typed-array loads
 *            s2 <- seq    Atomics.load, seq_cst           [R2] pairs with W1 of a concurrent commit
 *            if s1 != s2: retry (torn), else the copy is the commit that wrote s1
 *   (The native read in mdfan_seqlock.h makes R1 an acquire load and R2 a relaxed load after an
 *   acquire fence; JavaScript has no weaker Atomics.load, and on x86-64 both are a plain MOV.)
 *
 * Why the JavaScript read is correct on x86-64 (TSO), which is where it is used:
 *  - The CPU never reorders a load with an older load. So the payload loads are performed after
 *    R1 and before R2, and the writer's stores become visible in program order.
 *  - V8 keeps plain typed-array accesses in program order relative to Atomics operations: Atomics
 *    are on TurboFan's effect chain as full barriers, so the JIT neither hoists the copy above R1
 *    nor sinks it below R2. Atomics.load is a plain MOV, which TSO makes an acquire load.
 *  - Hence if R2 sees s1 (even), no store of a later commit was visible to the copy: any such
 *    store is preceded in visibility order by W1 = s1+1, which R2 would have seen.
 * On arm64 the hardware may perform a plain load after a later Atomics.load (LDAR orders only
 * what follows it). There the reader must use the native path (native/src/seqlock_read.cc, with
 * an acquire fence before R2); `NATIVE_ORDERING_REQUIRED` selects it automatically. The torture
 * test checks all of it under load on the machine it runs on.
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
 * A preallocated copy of one slot. Reads fill `words` in place and decode its levels into `bids`
 * and `asks`; the getters allocate nothing. 64-bit fields are returned as Numbers (exact below 2^53).
 */
export class BookSnapshot implements LevelSource {
  readonly levels: number;
  readonly words: Uint32Array;
  /** [price, size, orders] per level, best first, decoded from `words` by decode() (a LevelSource). */
  readonly bids: Float64Array;
  readonly asks: Float64Array;
  private readonly asksWord: number;
  /** Retries of the read that filled this snapshot. */
  retries = 0;
  /**
   * The instrument's scales (10^priceDecimals, 10^sizeDecimals), set by the reader that filled the
   * snapshot (BookReader.read): the raw integers divided by them are the decimals that bidPx(),
   * bidQty() and the others return. NaN when the slot has no instrument (or a lower layer filled it).
   */
  priceScale = Number.NaN;
  sizeScale = Number.NaN;

  constructor(levels: number) {
    if (!Number.isInteger(levels) || levels < 1 || levels > abi.MAX_LEVELS)
      throw new MdfanError(ErrorCode.OPTIONS, `levels must be an integer 1..${abi.MAX_LEVELS}`, { found: levels });
    this.levels = levels;
    this.words = new Uint32Array(abi.slotPayloadBytes(levels) >>> 2);
    this.asksWord = abi.asksOffset(levels) >>> 2;
    this.bids = new Float64Array(levels * 3);
    this.asks = new Float64Array(levels * 3);
  }

  /** Decodes the levels of the copy in `words` into bids and asks (every read path calls it). */
  decode(): void {
    abi.decodeLevels(this.words, abi.W.slotLevels, this.bidCount, this.levels, this.bids);
    abi.decodeLevels(this.words, this.asksWord, this.askCount, this.levels, this.asks);
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
  /** The exchange time in ns as a double: exact below 2^53 (not for epoch ns: see exchangeTsBig). */
  get exchangeTsNs(): number {
    return this.u64(abi.W.slotExchangeTsLo);
  }
  /** The exchange time in ns, exact (an epoch time in ns is above 2^53). Allocates a BigInt. */
  get exchangeTsBig(): bigint {
    return (BigInt(this.words[abi.W.slotExchangeTsLo + 1]!) << 32n) | BigInt(this.words[abi.W.slotExchangeTsLo]!);
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
    return this.bids[i * 3]!;
  }
  bidSize(i: number): number {
    return this.bids[i * 3 + 1]!;
  }
  bidOrders(i: number): number {
    return this.bids[i * 3 + 2]!;
  }
  askPrice(i: number): number {
    return this.asks[i * 3]!;
  }
  askSize(i: number): number {
    return this.asks[i * 3 + 1]!;
  }
  askOrders(i: number): number {
    return this.asks[i * 3 + 2]!;
  }
  /** Level i's bid price in currency units (bidPrice(i) / priceScale: 585.33, not 5853300). */
  bidPx(i: number): number {
    return this.bids[i * 3]! / this.priceScale;
  }
  /** Level i's bid size in the instrument's units (bidSize(i) / sizeScale: 554.63987 BTC; ITCH shares stay whole). */
  bidQty(i: number): number {
    return this.bids[i * 3 + 1]! / this.sizeScale;
  }
  askPx(i: number): number {
    return this.asks[i * 3]! / this.priceScale;
  }
  askQty(i: number): number {
    return this.asks[i * 3 + 1]! / this.sizeScale;
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

/**
 * Source of one commit's levels: [price, size, orders] per level as Numbers, prices and sizes
 * integers in the instrument's units (exact below 2^53; the slot holds them as i64 / u64).
 */
export interface LevelSource {
  bidCount: number;
  askCount: number;
  /** levels*3 numbers: best bid first. */
  bids: Float64Array;
  /** levels*3 numbers: best ask first. */
  asks: Float64Array;
}

/** What a commit publishes (mdfan_commit_stage_t.mode). */
export const CommitMode = Object.freeze({
  /** The book, and its top line if the top changed. */
  BOOK_AND_TOP: abi.COMMIT_BOOK_AND_TOP,
  /** The book alone: the top line already shows a newer best bid/offer. */
  BOOK_ONLY: abi.COMMIT_BOOK_ONLY,
  /** The top line alone, from level 0 of each side: a venue's faster best bid/offer. */
  TOP_ONLY: abi.COMMIT_TOP_ONLY,
});

/**
 * Writes slots of one mapping (and their top lines, if the segment has them) through the addon's
 * commit (mdfan_commit_book in native/include/mdfan_seqlock.h: the one commit, for every writer).
 * Single writer: only the process holding the writer lock may use it. The levels go through
 * `stage`, a buffer the addon reads: a source filled in place there is not copied again. Allocates
 * nothing per commit.
 */
export class SlotWriter {
  private readonly u32: Uint32Array;
  private readonly slotsWord: number;
  private readonly strideWords: number;
  private readonly levels: number;
  private readonly asksWord: number;
  private readonly maxInstruments: number;
  private handle: number;
  /** The stage the addon reads (mdfan_commit_stage_t, then bids and asks levels*3 doubles each). */
  private readonly stageWords: Uint32Array;
  private readonly stageF64: Float64Array;
  /** The staging levels: fill `stage.bids`/`stage.asks` in place and commit(index, stage, ...). */
  readonly stage: LevelSource;

  constructor(buffer: ArrayBuffer, layout: abi.Layout, tops: ArrayBuffer | null) {
    if (layout.slotStride % 8 !== 0 || layout.slotsOffset % 8 !== 0)
      throw new MdfanError(ErrorCode.LAYOUT, 'slot stride and offset must be multiples of 8', { stride: layout.slotStride });
    this.u32 = new Uint32Array(buffer);
    this.slotsWord = layout.slotsOffset >>> 2;
    this.strideWords = layout.slotStride >>> 2;
    this.levels = layout.levels;
    this.asksWord = abi.asksOffset(layout.levels) >>> 2;
    this.maxInstruments = layout.maxInstruments;
    const side = layout.levels * 3;
    // An ArrayBuffer's memory is 8-aligned, as the stage's doubles need.
    const stage = new ArrayBuffer(abi.commitStageBytes(layout.levels));
    this.stageWords = new Uint32Array(stage);
    this.stageF64 = new Float64Array(stage);
    this.stage = {
      bidCount: 0,
      askCount: 0,
      bids: this.stageF64.subarray(STAGE.levels, STAGE.levels + side),
      asks: this.stageF64.subarray(STAGE.levels + side, STAGE.levels + 2 * side),
    };
    this.handle = native.commitBind(buffer, layout.slotsOffset, layout.slotStride, layout.levels, layout.maxInstruments, tops, stage);
  }

  /** Word index of slot `index`. */
  slotWord(index: number): number {
    return this.slotsWord + index * this.strideWords;
  }

  /** The addon's handle of this writer's commit (an engine in the addon commits through it); -1 once closed. */
  get commitHandle(): number {
    return this.handle;
  }

  /** Top lines committed so far (a top line is committed only when its book's top changed). */
  get topCommits(): number {
    return this.stageWords[STAGE.topCommits];
  }

  /**
   * Commits one book to slot `index` (its top line first, if the top changed, unless `mode` says
   * otherwise) and returns the publish time it stamped (CLOCK_MONOTONIC ns, read as the commit
   * began). msgIndex and exchangeTs are non-negative integers below 2^53, exchangeTs in units of
   * tsUnitNs ns after tsBaseNs (the addon computes base + ts x unit in 64-bit integers; NaN: unknown,
   * stored 0); levels beyond the depth are dropped.
   */
  commit(
    index: number,
    src: LevelSource,
    msgIndex: number,
    exchangeTs: number,
    flags: number,
    tsUnitNs = 1,
    mode: number = abi.COMMIT_BOOK_AND_TOP,
    tsBaseNs = 0,
  ): number {
    if (index >>> 0 !== index || index >= this.maxInstruments)
      throw new MdfanError(ErrorCode.OPTIONS, `slot index ${index} outside 0..${this.maxInstruments - 1}`);
    const levels = this.levels;
    const bidCount = src.bidCount < levels ? src.bidCount : levels;
    const askCount = src.askCount < levels ? src.askCount : levels;
    const stage = this.stage;
    if (src.bids !== stage.bids) copyLevels(stage.bids, src.bids, bidCount * 3);
    if (src.asks !== stage.asks) copyLevels(stage.asks, src.asks, askCount * 3);
    const w = this.stageWords;
    this.stageF64[STAGE.msgIndex] = msgIndex;
    this.stageF64[STAGE.exchangeTs] = exchangeTs;
    this.stageF64[STAGE.exchangeTsUnit] = tsUnitNs;
    this.stageF64[STAGE.exchangeTsBase] = tsBaseNs;
    w[STAGE.flags] = flags;
    w[STAGE.bidCount] = bidCount;
    w[STAGE.askCount] = askCount;
    w[STAGE.mode] = mode;
    const ts = native.commitBook(this.handle, index);
    if (ts < 0) throw new MdfanError(ErrorCode.CLOSED, 'the segment was closed: no more commits', { index });
    return ts;
  }

  /**
   * Commits top line `index` alone (a venue's best bid/offer newer than its book): size 0 is an
   * empty side. The slot is untouched; the line takes the slot's current flags. Returns the publish
   * time it stamped; a line that already showed exactly this is not committed again (topCommits
   * counts the commits made).
   */
  commitTop(index: number, bidPrice: number, bidSize: number, askPrice: number, askSize: number, msgIndex: number, exchangeTs: number, tsUnitNs = 1, tsBaseNs = 0): number {
    if (index >>> 0 !== index || index >= this.maxInstruments)
      throw new MdfanError(ErrorCode.OPTIONS, `slot index ${index} outside 0..${this.maxInstruments - 1}`);
    const stage = this.stage;
    stage.bids[0] = bidPrice;
    stage.bids[1] = bidSize;
    stage.bids[2] = 0;
    stage.asks[0] = askPrice;
    stage.asks[1] = askSize;
    stage.asks[2] = 0;
    const w = this.stageWords;
    this.stageF64[STAGE.msgIndex] = msgIndex;
    this.stageF64[STAGE.exchangeTs] = exchangeTs;
    this.stageF64[STAGE.exchangeTsUnit] = tsUnitNs;
    this.stageF64[STAGE.exchangeTsBase] = tsBaseNs;
    w[STAGE.bidCount] = bidSize > 0 ? 1 : 0;
    w[STAGE.askCount] = askSize > 0 ? 1 : 0;
    w[STAGE.mode] = abi.COMMIT_TOP_ONLY;
    const ts = native.commitBook(this.handle, index);
    if (ts < 0) throw new MdfanError(ErrorCode.CLOSED, 'the segment was closed: no more commits', { index });
    return ts;
  }

  /**
   * Re-commits slot `index` with new flags, keeping its book (read back by the single writer,
   * which wrote it), stamped with msgIndex and a zero exchange time. For a feed gap: the book
   * stays readable, marked MDFAN_SLOT_STALE. Cold path (once per book per gap).
   */
  commitFlags(index: number, flags: number, msgIndex: number): number {
    if (index >>> 0 !== index || index >= this.maxInstruments)
      throw new MdfanError(ErrorCode.OPTIONS, `slot index ${index} outside 0..${this.maxInstruments - 1}`);
    const base = this.slotWord(index);
    const stage = this.stage;
    stage.bidCount = this.u32[base + abi.W.slotBidCount]!;
    stage.askCount = this.u32[base + abi.W.slotAskCount]!;
    abi.decodeLevels(this.u32, base + abi.W.slotLevels, stage.bidCount, this.levels, stage.bids);
    abi.decodeLevels(this.u32, base + this.asksWord, stage.askCount, this.levels, stage.asks);
    // The top line may show a newer best bid/offer than the book (a venue's ticker): keep it, with the new flags.
    return this.commit(index, stage, msgIndex, 0, flags, 1, abi.COMMIT_BOOK_ONLY);
  }

  /**
   * Test hook: leaves slot `index` mid-commit with an odd seq, as a writer killed
   * between W1 and W2 would.
   */
  beginOnlyForTest(index: number): void {
    const base = this.slotWord(index);
    Atomics.store(this.u32, base, (this.u32[base] | 1) >>> 0);
  }

  /** Forgets the addon's binding (before the mapping goes): a later commit throws MDFAN_ERR_CLOSED. */
  unbind(): void {
    if (this.handle >= 0) native.commitUnbind(this.handle);
    this.handle = -1;
  }
}

/** Indexes into the stage (mdfan_commit_stage_t): f64 elements for the doubles, u32 words for the rest. */
const STAGE = {
  msgIndex: abi.COMMIT_STAGE.msg_index.offset >>> 3,
  exchangeTs: abi.COMMIT_STAGE.exchange_ts.offset >>> 3,
  exchangeTsUnit: abi.COMMIT_STAGE.exchange_ts_unit_ns.offset >>> 3,
  exchangeTsBase: abi.COMMIT_STAGE.exchange_ts_base_ns.offset >>> 3,
  flags: abi.COMMIT_STAGE.flags.offset >>> 2,
  bidCount: abi.COMMIT_STAGE.bid_count.offset >>> 2,
  askCount: abi.COMMIT_STAGE.ask_count.offset >>> 2,
  mode: abi.COMMIT_STAGE.mode.offset >>> 2,
  topCommits: abi.COMMIT_STAGE.top_commits.offset >>> 2,
  /** f64 index of the first level. */
  levels: abi.SIZEOF.commit_stage >>> 3,
} as const;

/** Copies the numbers in use (the addon zeroes the rest of the slot's side). */
function copyLevels(dst: Float64Array, src: Float64Array, used: number): void {
  if (src.length === dst.length) dst.set(src);
  else for (let i = 0; i < used; i++) dst[i] = src[i];
}
