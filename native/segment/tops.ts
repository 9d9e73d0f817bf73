/**
 * The top-of-book lines: `/NAME.tops` beside the data segment (layout in native/include/mdfan_abi.h,
 * mdfan_tops_header_t and mdfan_top_t). One 64-byte line per slot with the best bid and ask under
 * its own seqlock. The writer commits it first, in the same addon call as the book
 * (mdfan_commit_book), whenever the top changed: a top-of-book reader waits for one line transfer.
 * Read with the slot's seqlock read (readSlotJs over a 16-word view).
 */
import * as abi from './abi.js';
import { native } from './binding.js';
import { ErrorCode, MdfanError } from './errors.js';
import { COMPANION_SUFFIXES, Mapping, createFresh, unlinkSegment } from './mapping.js';
import { type CompanionTrust, openCompanion } from './companion.js';

export const topsName = (segment: string): string => `${segment}${COMPANION_SUFFIXES.tops}`;

const TH = abi.STRUCTS.tops_header;
const T = abi.STRUCTS.top;
const W_MAGIC = TH.magic.offset >>> 2;
/** Word index of the top futex word. */
export const W_TOP_NOTIFY = TH.notify_seq.offset >>> 2;
export const TOP_WORDS = abi.TOP_BYTES >>> 2;
const STRIDE_WORDS = abi.TOP_STRIDE_BYTES >>> 2;
const HEADER_WORDS = abi.TOPS_HEADER_BYTES >>> 2;

/** Word index of top line `index` in a tops mapping. */
export const topWord = (index: number): number => HEADER_WORDS + index * STRIDE_WORDS;

/** Word indexes inside a top line. */
export const TW = {
  seq: T.seq.offset >>> 2,
  /** flags (low half), bid_count (third byte), ask_count (high byte) */
  flagsCounts: T.flags.offset >>> 2,
  msgIndexLo: T.msg_index.offset >>> 2,
  exchangeTsLo: T.exchange_ts_ns.offset >>> 2,
  publishTsLo: T.publish_ts_ns.offset >>> 2,
  bidPrice: T.bid_price.offset >>> 2,
  bidSize: T.bid_size.offset >>> 2,
  askPrice: T.ask_price.offset >>> 2,
  askSize: T.ask_size.offset >>> 2,
} as const;

/**
 * A preallocated copy of one top line; reads decode its best bid and ask into `bids`/`asks`
 * (decode()), and the getters allocate nothing. A top line carries no order counts (the slot does).
 */
export class TopSnapshot {
  readonly words = new Uint32Array(TOP_WORDS);
  /** Level 0 of each side as [price, size, orders = 0]: with bidCount/askCount, a one-level LevelSource. */
  readonly bids = new Float64Array(3);
  readonly asks = new Float64Array(3);
  /** Retries of the read that filled it. */
  retries = 0;
  /** The instrument's scales, set by the reader that filled it (BookReader.readTop): see BookSnapshot. */
  priceScale = Number.NaN;
  sizeScale = Number.NaN;
  /** Decodes the copy in `words` (every read path calls it). */
  decode(): void {
    this.bids[0] = abi.i64At(this.words, TW.bidPrice);
    this.bids[1] = abi.u64At(this.words, TW.bidSize);
    this.asks[0] = abi.i64At(this.words, TW.askPrice);
    this.asks[1] = abi.u64At(this.words, TW.askSize);
  }
  get seq(): number {
    return this.words[TW.seq]!;
  }
  get flags(): number {
    return this.words[TW.flagsCounts]! & 0xffff;
  }
  get stale(): boolean {
    return (this.words[TW.flagsCounts]! & abi.SLOT_STALE) !== 0;
  }
  get msgIndex(): number {
    return this.words[TW.msgIndexLo + 1] * 4294967296 + this.words[TW.msgIndexLo];
  }
  /** The exchange time in ns as a double: exact below 2^53 (not for epoch ns: see exchangeTsBig). */
  get exchangeTsNs(): number {
    return this.words[TW.exchangeTsLo + 1] * 4294967296 + this.words[TW.exchangeTsLo];
  }
  /** The exchange time in ns, exact (an epoch time in ns is above 2^53). Allocates a BigInt. */
  get exchangeTsBig(): bigint {
    return (BigInt(this.words[TW.exchangeTsLo + 1]!) << 32n) | BigInt(this.words[TW.exchangeTsLo]!);
  }
  get publishTsNs(): number {
    return this.words[TW.publishTsLo + 1] * 4294967296 + this.words[TW.publishTsLo];
  }
  get bidPrice(): number {
    return this.bids[0]!;
  }
  get bidSize(): number {
    return this.bids[1]!;
  }
  get askPrice(): number {
    return this.asks[0]!;
  }
  get askSize(): number {
    return this.asks[1]!;
  }
  /** The best bid in currency units (bidPrice / priceScale). */
  get bidPx(): number {
    return this.bids[0]! / this.priceScale;
  }
  /** The best bid's size in the instrument's units (bidSize / sizeScale). */
  get bidQty(): number {
    return this.bids[1]! / this.sizeScale;
  }
  get askPx(): number {
    return this.asks[0]! / this.priceScale;
  }
  get askQty(): number {
    return this.asks[1]! / this.sizeScale;
  }
  /** Commits this line has had in its generation (its seq counts two per commit). */
  get updateCount(): number {
    return this.words[TW.seq]! >>> 1;
  }
  get bidCount(): number {
    return (this.words[TW.flagsCounts]! >>> 16) & 0xff;
  }
  get askCount(): number {
    return this.words[TW.flagsCounts]! >>> 24;
  }
}

/** The writer's side: creates the tops object for a generation (a new object each time). */
/**
 * Wakes the readers asleep on a dead writer's top lines (before they are unlinked): nobody else
 * ever will, and they must see the new generation. Best effort: a leftover that is not top lines
 * (or not there) is left to createFresh.
 */
function wakeLeftover(name: string): void {
  let fd = -1;
  try {
    fd = native.shmOpen(`/${name}`, native.OPEN_READ_WRITE, 0);
    if (native.fstat(fd).size < abi.TOPS_HEADER_BYTES) return;
    const buf = native.mmap(fd, abi.TOPS_HEADER_BYTES, true, false);
    const u32 = new Uint32Array(buf);
    if (Atomics.load(u32, W_MAGIC) === abi.TOPS_MAGIC) {
      Atomics.add(u32, W_TOP_NOTIFY, 1);
      native.futexWake(buf, TH.notify_seq.offset, 0x7fffffff);
    }
    native.unmap(buf);
  } catch {
    /* none, or not ours to touch */
  } finally {
    if (fd >= 0) native.close(fd);
  }
}

export class TopsOwner {
  private constructor(
    readonly name: string,
    readonly map: Mapping,
  ) {}

  static create(segment: string, maxInstruments: number, generation: number, mode: number, gid?: number): TopsOwner {
    const name = topsName(segment);
    wakeLeftover(name);
    // A new object, not a reset in place: a reader still mapping the old one never sees two generations mixed.
    const bytes = abi.TOPS_HEADER_BYTES + maxInstruments * abi.TOP_STRIDE_BYTES;
    const m = createFresh(name, bytes, mode, gid);
    const dv = m.dv;
    dv.setUint16(TH.abi_major.offset, abi.ABI_MAJOR, true);
    dv.setUint16(TH.abi_minor.offset, abi.ABI_MINOR, true);
    dv.setUint32(TH.max_instruments.offset, maxInstruments, true);
    dv.setUint32(TH.top_stride_bytes.offset, abi.TOP_STRIDE_BYTES, true);
    dv.setUint32(TH.generation.offset, generation, true);
    dv.setUint32(TH.header_bytes.offset, abi.TOPS_HEADER_BYTES, true);
    dv.setBigUint64(TH.total_bytes.offset, BigInt(bytes), true);
    Atomics.store(m.u32, W_MAGIC, abi.TOPS_MAGIC); // seq_cst, so a release: the identity above is visible first
    return new TopsOwner(name, m);
  }

  /** Wakes readers asleep on the top futex word (bumps it first, so a late sleeper does not sleep). */
  notify(): number {
    Atomics.add(this.map.u32, W_TOP_NOTIFY, 1);
    return native.futexWake(this.map.buffer, TH.notify_seq.offset, 0x7fffffff);
  }

  close(unlink: boolean): void {
    this.map.close();
    if (unlink) unlinkSegment(this.name);
  }
}

/**
 * Opens the tops object of `segment` read-only and checks it belongs to the data segment as the
 * reader sees it (`trust`: its owner, mode and the companions its header names; maxInstruments,
 * generation). MDFAN_ERR_NO_SEGMENT if there is none (a writer of ABI 1.0 or 1.1) or it was
 * removed; MDFAN_ERR_UNSAFE_OBJECT for one of another owner or a wider mode.
 */
export function openTops(segment: string, maxInstruments: number, generation: number, trust: CompanionTrust): Mapping {
  const name = topsName(segment);
  const { fd, size } = openCompanion(trust, abi.COMPANION_TOPS, name, {
    absent: () => new MdfanError(ErrorCode.NO_SEGMENT, `segment ${segment} has no top-of-book lines (${name}): its writer speaks ABI 1.0 or 1.1`, { segment: name }),
    removed: () =>
      new MdfanError(ErrorCode.NO_SEGMENT, `segment ${segment}'s top-of-book lines (${name}) were removed: its writer made them, and someone deleted them since (mdfan rm, or by hand)`, {
        segment: name,
      }),
  });
  const want = abi.TOPS_HEADER_BYTES + maxInstruments * abi.TOP_STRIDE_BYTES;
  if (size !== want) {
    native.close(fd);
    throw new MdfanError(ErrorCode.SEGMENT_SIZE, `${name} is ${size} bytes; ${maxInstruments} top lines need ${want}`, { segment: name, expected: want, found: size });
  }
  const m = Mapping.map(name, fd, size, false);
  const dv = m.dv;
  const fail = (code: ErrorCode, msg: string, facts: Record<string, number | string>): never => {
    m.close();
    throw new MdfanError(code, `${name}: ${msg}`, { segment: name, ...facts });
  };
  if (Atomics.load(m.u32, W_MAGIC) !== abi.TOPS_MAGIC) fail(ErrorCode.BAD_MAGIC, 'not mdfan top-of-book lines (bad magic)', { found: m.u32[W_MAGIC] });
  const major = dv.getUint16(TH.abi_major.offset, true);
  if (major !== abi.ABI_MAJOR) fail(ErrorCode.ABI_VERSION, `ABI ${major}.x; this reader speaks ${abi.ABI_MAJOR}.${abi.ABI_MINOR}`, { found: major });
  const fields: Array<[string, number, number]> = [
    ['max_instruments', dv.getUint32(TH.max_instruments.offset, true), maxInstruments],
    ['top_stride_bytes', dv.getUint32(TH.top_stride_bytes.offset, true), abi.TOP_STRIDE_BYTES],
    ['header_bytes', dv.getUint32(TH.header_bytes.offset, true), abi.TOPS_HEADER_BYTES],
  ];
  for (const [field, found, expected] of fields) if (found !== expected) fail(ErrorCode.LAYOUT, `${field} is ${found}, expected ${expected}`, { field, expected, found });
  const gen = dv.getUint32(TH.generation.offset, true);
  // Another generation's lines (the writer is re-creating them): the caller retries after its next health check.
  if (gen !== generation) fail(ErrorCode.NOT_READY, `generation ${gen}, the segment is at ${generation}`, { field: 'generation', expected: generation, found: gen });
  return m;
}
