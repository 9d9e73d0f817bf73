/**
 * The event ring: `/NAME.events` beside the data segment (layout and protocol in
 * native/include/mdfan_abi.h, mdfan_events_header_t and mdfan_event_t). One writer appends
 * fixed 64-byte records; any number of read-only readers follow it, each at its own pace. A reader
 * that falls more than the capacity behind is told exactly how many events it lost and resumes at
 * the oldest record still whole (tokio's broadcast channel, not Agrona's jump to the newest).
 *
 * A record's 64-bit ring sequence is two u32 words. The writer, per record r:
 *   seq_hi <- INVALID      Atomics.store (seq_cst)    [E1] invalidates the slot first
 *   body                   plain stores
 *   seq_lo <- lo(r)        plain store                [E2] kept before E3 (x86-64 TSO; V8 program order)
 *   seq_hi <- hi(r)        Atomics.store              [E3] publishes the record
 *   head   <- r            Atomics.store (lo, then hi)
 * A reader expecting r (r <= head): hi, lo (Atomics.load) must be r; copy; hi, then lo, again
 * must be r. Any rewrite of the slot that overlaps the copy starts with E1, which the second hi
 * load sees, or ends with E2 then E3, whose lo the second lo load sees (the torture test caught
 * the other order: lo then hi lets E2 and E3 fall between the two loads) (x86-64 TSO keeps stores in order and loads in order, and V8 keeps plain accesses
 * between Atomics, as for the book slots: native/segment/seqlock.ts). The JavaScript path is for
 * x86-64 only; elsewhere the ring refuses to open until a native path exists.
 */
import { type EventSide, type EventType, type MarketEvent, eventSideOf, eventTypeOf, toMarketEvent } from './event-object.js';
import * as abi from './abi.js';
import { native } from './binding.js';
import { ErrorCode, MdfanError } from './errors.js';
import { COMPANION_SUFFIXES, Mapping, createFresh, unlinkSegment } from './mapping.js';
import { openCompanion, segmentTrust } from './companion.js';
import { NATIVE_ORDERING_REQUIRED } from './seqlock.js';
import { testPause } from './test-pause.js';

/** Tests: a reader that found its record mid-write stops before it loads the head, once (the writer finishes the record in that window). */
const pauseBeforeHead = testPause('MDFAN_TEST_PAUSE_RING_HEAD');
/**
 * Tests: windows that make the ring's races certain, each taken once per process and only when its
 * variable is set (otherwise null: one branch on a constant). A writer stops in its first rewrite
 * of a slot after the body, before E2 (readers look at the slot in that window); a reader stops
 * halfway through its first copy (the writer rewrites the slot in that window), and between the
 * two loads of its first re-check (the writer ends a rewrite in that window).
 */
const envPause = (variable: string): (() => void) | null => (process.env[variable] ? testPause(variable) : null);
const pauseMidRewrite = envPause('MDFAN_TEST_PAUSE_RING_REWRITE');
const pauseMidCopy = envPause('MDFAN_TEST_PAUSE_RING_COPY');
const pauseMidRecheck = envPause('MDFAN_TEST_PAUSE_RING_RECHECK');

export const eventsName = (segment: string): string => `${segment}${COMPANION_SUFFIXES.events}`;

const EH = abi.STRUCTS.events_header;
const EV = abi.STRUCTS.event;
/** Word indexes (u32) of the ring header and of a record's fields. */
const W_MAGIC = EH.magic.offset >>> 2;
const W_HEAD_LO = EH.head.offset >>> 2;
const R_SEQ_LO = EV.seq.offset >>> 2;
const R_SEQ_HI = R_SEQ_LO + 1;
const R_KIND = EV.kind.offset >>> 2; // kind, action, side, flags: one word, little-endian bytes
const R_INSTRUMENT = EV.instrument_index.offset >>> 2;
const R_MSG_INDEX = EV.msg_index.offset >>> 2;
const R_EXCHANGE_TS = EV.exchange_ts_ns.offset >>> 2;
const R_PUBLISH_TS = EV.publish_ts_ns.offset >>> 2;
const R_PRICE = EV.price.offset >>> 2;
const R_ORDER_REF = EV.order_ref.offset >>> 2;
const R_SIZE = EV.size.offset >>> 2;
const RECORD_WORDS = abi.EVENT_BYTES >>> 2;
/** Where a test's mid-copy pause splits the copy: the sequence and the first fields before it, the price and size after. */
const HALF_RECORD_WORDS = RECORD_WORDS >>> 1;
const HEADER_WORDS = abi.EVENTS_HEADER_BYTES >>> 2;
/** seq_hi while a record is being written: no ring sequence below 2^63 has it. */
const SEQ_INVALID_HI = 0xffffffff;
const TWO32 = 4294967296;

const isPowerOfTwo = (n: number): boolean => Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;

/** What a venue fills to append one event (reused: the hot path allocates nothing). */
export interface EventFields {
  kind: number;
  action: number;
  side: number;
  flags: number;
  instrumentIndex: number;
  msgIndex: number;
  /** In the instrument's time unit (InstrumentSpec.tsUnitNs; ns for none): the ring holds ns. */
  exchangeTs: number;
  /** In units of 1/MDFAN_EVENT_PRICE_SCALE; NaN for none. Exact below 2^53. */
  price: number;
  /** The venue's order reference or trade id; a CLEAR's generation. */
  orderRef: number;
  /** In the instrument's size units (10^-sizeDecimals). */
  size: number;
}

export const newEventFields = (): EventFields => ({
  kind: 0,
  action: 0,
  side: 0,
  flags: 0,
  instrumentIndex: abi.EVENT_NO_INSTRUMENT,
  msgIndex: 0,
  exchangeTs: 0,
  price: Number.NaN,
  orderRef: 0,
  size: 0,
});

const storeU64 = (u32: Uint32Array, w: number, v: number): void => {
  u32[w] = v % TWO32;
  u32[w + 1] = Math.floor(v / TWO32);
};

const TWO16 = 65536;

/**
 * Stores base + a * b (a below 2^53, b below 2^31, base an integer below 2^64) exactly as a u64 in
 * two words, or 0 past 2^64 or for an unknown a (NaN, negative): an epoch time in ms times 1e6 is
 * above 2^53, so the product is made from 16-bit limbs of a, each partial product exact in a
 * double, and the base is added word by word with the carry. Allocates nothing.
 */
export function storeU64Product(u32: Uint32Array, w: number, a: number, b: number, base = 0): void {
  if (!(a >= 0)) {
    u32[w] = 0;
    u32[w + 1] = 0;
    return;
  }
  if (b === 1 && base === 0) {
    storeU64(u32, w, a);
    return;
  }
  const a0 = a % TWO16;
  const a1 = Math.floor(a / TWO16) % TWO16;
  const a2 = Math.floor(a / TWO32) % TWO16;
  const a3 = Math.floor(a / (TWO32 * TWO16));
  const p1 = a1 * b;
  const low = a0 * b + (p1 % TWO16) * TWO16; // below 2^47 + 2^47
  const lo = (low % TWO32) + (base % TWO32); // below 2^33
  const hi = Math.floor(p1 / TWO16) + a2 * b + a3 * b * TWO16 + Math.floor(low / TWO32) + Math.floor(base / TWO32) + Math.floor(lo / TWO32); // below 2^53: exact
  // Past 2^64 ns (a hostile or broken venue time): 0, "unknown", as the addon stores it, never a wrapped time.
  const over = hi >= TWO32;
  u32[w] = over ? 0 : lo % TWO32;
  u32[w + 1] = over ? 0 : hi;
}

/**
 * Where the hardware lets a plain store pass a release store before it, and a plain load pass an
 * acquire load after it (arm64: STLR orders only what precedes it, LDAR only what follows), the
 * ring's paths store and load every word of a record with Atomics, which V8 makes STLR and LDAR
 * there: ordered among themselves (ARMv8's release and acquire are sequentially consistent with
 * each other), so the record's words keep E1 < body < E2 < E3 and the reader's R1 < copy < R2 as
 * on x86-64. x86-64 keeps the plain accesses (TSO orders them). MDFAN_TEST_ORDERED_RING=1 takes
 * the ordered paths on x86-64 too, so the tests run them.
 */
const ORDERED_RING = NATIVE_ORDERING_REQUIRED || process.env.MDFAN_TEST_ORDERED_RING === '1';
/** The first word of a record after its sequence. */
const R_BODY = R_SEQ_HI + 1;

/** Stores a record's body (every word but the sequence) at `w` of `u32`, plain stores. */
function storeBody(u32: Uint32Array, w: number, e: EventFields, publishTsNs: number, tsUnitNs: number, tsBaseNs: number): void {
  u32[w + R_KIND] = (e.kind & 0xff) | ((e.action & 0xff) << 8) | ((e.side & 0xff) << 16) | ((e.flags & 0xff) << 24);
  u32[w + R_INSTRUMENT] = e.instrumentIndex;
  storeU64(u32, w + R_MSG_INDEX, e.msgIndex);
  storeU64Product(u32, w + R_EXCHANGE_TS, e.exchangeTs, tsUnitNs, tsBaseNs);
  storeU64(u32, w + R_PUBLISH_TS, publishTsNs);
  if (Number.isNaN(e.price)) {
    u32[w + R_PRICE] = abi.EVENT_PRICE_NONE_LO;
    u32[w + R_PRICE + 1] = abi.EVENT_PRICE_NONE_HI;
  } else {
    // Two's complement of a safe integer, as two words.
    const lo = e.price % TWO32;
    u32[w + R_PRICE] = lo < 0 ? lo + TWO32 : lo;
    u32[w + R_PRICE + 1] = Math.floor(e.price / TWO32) >>> 0;
  }
  storeU64(u32, w + R_ORDER_REF, e.orderRef);
  storeU64(u32, w + R_SIZE, e.size);
}

/** The writer's side: creates `/NAME.events` and appends records. Single writer. */
export class EventRingWriter {
  private head = 0;
  private readonly u32: Uint32Array;
  private readonly mask: number;
  /** The ordered path's record, composed before it is stored. */
  private readonly body = new Uint32Array(RECORD_WORDS);

  private constructor(
    readonly name: string,
    readonly map: Mapping,
    readonly capacity: number,
  ) {
    this.u32 = map.u32;
    this.mask = capacity - 1;
  }

  /**
   * Creates (or, for a new generation, re-creates) the ring of `segment` with `capacity` records.
   * Re-creating unlinks the old object: a reader still mapping it sees its head stop, and learns
   * of the new generation from the data segment.
   */
  static create(segment: string, capacity: number, generation: number, mode: number, gid?: number): EventRingWriter {
    const name = eventsName(segment);
    if (!isPowerOfTwo(capacity) || capacity < abi.EVENTS_MIN_CAPACITY || capacity > abi.EVENTS_MAX_CAPACITY)
      throw new MdfanError(ErrorCode.OPTIONS, `the event ring's capacity must be a power of two ${abi.EVENTS_MIN_CAPACITY}..${abi.EVENTS_MAX_CAPACITY} (got ${capacity})`, { found: capacity });
    const bytes = abi.EVENTS_HEADER_BYTES + capacity * abi.EVENT_BYTES;
    // A new object, not a reset in place: its readers can never mix two generations' records.
    const m = createFresh(name, bytes, mode, gid);
    const dv = m.dv;
    dv.setUint16(EH.abi_major.offset, abi.ABI_MAJOR, true);
    dv.setUint16(EH.abi_minor.offset, abi.ABI_MINOR, true);
    dv.setUint32(EH.capacity.offset, capacity, true);
    dv.setUint32(EH.record_bytes.offset, abi.EVENT_BYTES, true);
    dv.setUint32(EH.generation.offset, generation, true);
    dv.setUint32(EH.header_bytes.offset, abi.EVENTS_HEADER_BYTES, true);
    dv.setBigUint64(EH.total_bytes.offset, BigInt(bytes), true);
    Atomics.store(m.u32, W_MAGIC, abi.EVENTS_MAGIC); // seq_cst, so a release: the identity above is visible first
    return new EventRingWriter(name, m, capacity);
  }

  /** Records appended in this generation (the ring sequence of the newest). */
  get appended(): number {
    return this.head;
  }

  /**
   * Appends one record, stamped with publishTsNs; its exchange time is tsBaseNs + e.exchangeTs *
   * tsUnitNs ns. Allocates nothing.
   */
  append(e: EventFields, publishTsNs: number, tsUnitNs = 1, tsBaseNs = 0): void {
    const r = this.head + 1;
    const u32 = this.u32;
    const w = HEADER_WORDS + ((r - 1) & this.mask) * RECORD_WORDS;
    if (ORDERED_RING) {
      // The body composed aside, then stored word by word after E1 as release stores (none passes E1).
      const body = this.body;
      storeBody(body, 0, e, publishTsNs, tsUnitNs, tsBaseNs);
      Atomics.store(u32, w + R_SEQ_HI, SEQ_INVALID_HI); // E1
      for (let k = R_BODY; k < RECORD_WORDS; k++) Atomics.store(u32, w + k, body[k]!);
    } else {
      Atomics.store(u32, w + R_SEQ_HI, SEQ_INVALID_HI); // E1: readers of the old record reject it from here on
      storeBody(u32, w, e, publishTsNs, tsUnitNs, tsBaseNs);
    }
    if (pauseMidRewrite !== null && r > this.capacity) pauseMidRewrite();
    if (ORDERED_RING) Atomics.store(u32, w + R_SEQ_LO, r % TWO32); // E2, after the body's release stores
    else u32[w + R_SEQ_LO] = r % TWO32; // E2: plain; V8 keeps it before the Atomics store that follows
    const hi = Math.floor(r / TWO32);
    Atomics.store(u32, w + R_SEQ_HI, hi); // E3: the record is whole
    Atomics.store(u32, W_HEAD_LO, r % TWO32); // head: lo, then hi (readers read hi, lo, hi)
    if (hi !== u32[W_HEAD_LO + 1]) Atomics.store(u32, W_HEAD_LO + 1, hi); // once every 2^32 records
    this.head = r;
  }

  /** Records up to `head` were appended by the addon's engine (same protocol): later appends follow them. */
  adoptHead(head: number): void {
    if (!(Number.isInteger(head) && head >= this.head)) throw new MdfanError(ErrorCode.OPTIONS, `the ring's head cannot move from ${this.head} to ${head}`, { expected: this.head, found: head });
    this.head = head;
  }

  /**
   * Test hook: leaves the next record's slot mid-write (E1 done, nothing else), as a writer
   * killed inside append() would.
   */
  beginOnlyForTest(): void {
    const r = this.head + 1;
    Atomics.store(this.u32, HEADER_WORDS + ((r - 1) & this.mask) * RECORD_WORDS + R_SEQ_HI, SEQ_INVALID_HI);
  }

  close(unlink: boolean): void {
    this.map.close();
    if (unlink) unlinkSegment(this.name);
  }
}

/** One record, copied out of the ring: a preallocated view, reused by every poll. */
export class EventRecord {
  readonly words = new Uint32Array(RECORD_WORDS);
  /**
   * The instrument's size scale (10^sizeDecimals), set by the reader that handed the record out
   * (EventReader.poll): `qty` is size / sizeScale. NaN for an event of no instrument.
   */
  sizeScale = Number.NaN;

  get seq(): number {
    return this.words[R_SEQ_HI] * TWO32 + this.words[R_SEQ_LO];
  }
  /** MDFAN_EVENT_KIND_*: an ASCII letter (`type` names it). */
  get kind(): number {
    return this.words[R_KIND] & 0xff;
  }
  /** The kind named: 'trade', 'status', 'system', 'order', 'clear' (or 'unknown'). */
  get type(): EventType {
    return eventTypeOf(this.words[R_KIND] & 0xff);
  }
  get action(): number {
    return (this.words[R_KIND] >>> 8) & 0xff;
  }
  get side(): number {
    return (this.words[R_KIND] >>> 16) & 0xff;
  }
  get flags(): number {
    return this.words[R_KIND] >>> 24;
  }
  get instrumentIndex(): number {
    return this.words[R_INSTRUMENT];
  }
  get msgIndex(): number {
    return this.words[R_MSG_INDEX + 1] * TWO32 + this.words[R_MSG_INDEX];
  }
  get exchangeTsNs(): number {
    return this.words[R_EXCHANGE_TS + 1] * TWO32 + this.words[R_EXCHANGE_TS];
  }
  get publishTsNs(): number {
    return this.words[R_PUBLISH_TS + 1] * TWO32 + this.words[R_PUBLISH_TS];
  }
  get hasPrice(): boolean {
    return !(this.words[R_PRICE] === abi.EVENT_PRICE_NONE_LO && this.words[R_PRICE + 1] === abi.EVENT_PRICE_NONE_HI);
  }
  /** Raw: in units of 1/MDFAN_EVENT_PRICE_SCALE (1e-9 of the currency unit, every venue); NaN when the record has no price. */
  get price(): number {
    if (!this.hasPrice) return Number.NaN;
    return (this.words[R_PRICE + 1] | 0) * TWO32 + this.words[R_PRICE];
  }
  /** The price in currency units (585.33); NaN when the record has no price. */
  get px(): number {
    return this.price / abi.EVENT_PRICE_SCALE;
  }
  /** The size in the instrument's units (size / sizeScale). */
  get qty(): number {
    return this.size / this.sizeScale;
  }
  /** The side named ('buy' for B, 'sell' for S, undefined for none). */
  get sideName(): EventSide {
    return eventSideOf((this.words[R_KIND] >>> 16) & 0xff);
  }
  /** The record as a new typed object (a discriminated union on `type`): allocates; not for the hot path. */
  toObject(): MarketEvent {
    return toMarketEvent(this);
  }
  get orderRef(): number {
    return this.words[R_ORDER_REF + 1] * TWO32 + this.words[R_ORDER_REF];
  }
  /** In the instrument's size units (10^-sizeDecimals); exact below 2^53. */
  get size(): number {
    return this.words[R_SIZE + 1] * TWO32 + this.words[R_SIZE];
  }
}

/** A preallocated batch that poll() fills. */
export class EventBatch {
  readonly records: EventRecord[];
  /** Records filled by the last poll. */
  count = 0;
  /** Events lost to lapping just before records[0] of the last poll (0: none). */
  lost = 0;
  constructor(readonly capacity: number) {
    this.records = Array.from({ length: capacity }, () => new EventRecord());
  }
}

export type StartAt = 'oldest' | 'newest';

/** A reader's side: follows one ring read-only, counting what it read and what it lost. */
export class EventRingReader {
  /** Ring sequence of the next record to read. */
  private next: number;
  private readonly u32: Uint32Array;
  private readonly mask: number;
  /** Records read (whole, delivered or refused by a filter) and events lost to lapping since attach. */
  read = 0;
  lost = 0;

  private constructor(
    readonly name: string,
    readonly map: Mapping,
    readonly capacity: number,
    readonly generation: number,
    from: StartAt,
  ) {
    this.u32 = map.u32;
    this.mask = capacity - 1;
    const head = this.head();
    this.next = from === 'newest' ? head + 1 : Math.max(1, head - capacity + 2);
  }

  /**
   * Opens the ring of `segment`: MDFAN_ERR_NO_SEGMENT if its writer keeps none (a 1.0 writer, or
   * none asked for: a file under the ring's name is then never opened) or it was removed;
   * MDFAN_ERR_UNSAFE_OBJECT for a ring of another owner than the data segment's, or of a wider
   * mode. The data segment passes the reader's owner check first (this user, root, or
   * `opts.writerUid`).
   */
  static open(segment: string, from: StartAt = 'oldest', opts: { writerUid?: number } = {}): EventRingReader {
    const name = eventsName(segment);
    const trust = segmentTrust(segment, opts.writerUid);
    const { fd, size } = openCompanion(trust, abi.COMPANION_EVENTS, name, {
      absent: () =>
        new MdfanError(ErrorCode.NO_SEGMENT, `segment ${segment} has no event ring (${name}): its writer keeps none (${trust.named === null ? 'ABI 1.0, or started without one' : 'started without one'})`, {
          segment: name,
        }),
      removed: () =>
        new MdfanError(ErrorCode.NO_SEGMENT, `segment ${segment}'s event ring (${name}) was removed: its writer made one, and someone deleted it since (mdfan rm, or by hand)`, {
          segment: name,
        }),
    });
    if (size < abi.EVENTS_HEADER_BYTES || size % 8 !== 0) {
      native.close(fd);
      throw new MdfanError(ErrorCode.SEGMENT_SIZE, `${name} is ${size} bytes: not an event ring`, { segment: name, found: size });
    }
    const m = Mapping.map(name, fd, size, false);
    const fail = (code: ErrorCode, msg: string, facts: Record<string, number | string>): never => {
      m.close();
      throw new MdfanError(code, `${name}: ${msg}`, { segment: name, ...facts });
    };
    if (Atomics.load(m.u32, W_MAGIC) !== abi.EVENTS_MAGIC) fail(ErrorCode.BAD_MAGIC, 'not an mdfan event ring (bad magic)', { found: m.u32[W_MAGIC] });
    const dv = m.dv;
    const major = dv.getUint16(EH.abi_major.offset, true);
    if (major !== abi.ABI_MAJOR) fail(ErrorCode.ABI_VERSION, `ABI ${major}.x; this reader speaks ${abi.ABI_MAJOR}.${abi.ABI_MINOR}`, { found: major });
    const capacity = dv.getUint32(EH.capacity.offset, true);
    const recordBytes = dv.getUint32(EH.record_bytes.offset, true);
    if (!isPowerOfTwo(capacity) || capacity > abi.EVENTS_MAX_CAPACITY) fail(ErrorCode.LAYOUT, `capacity ${capacity} is not a power of two`, { field: 'capacity', found: capacity });
    if (recordBytes !== abi.EVENT_BYTES) fail(ErrorCode.LAYOUT, `record_bytes ${recordBytes}, expected ${abi.EVENT_BYTES}`, { field: 'record_bytes', found: recordBytes });
    if (size !== abi.EVENTS_HEADER_BYTES + capacity * abi.EVENT_BYTES)
      fail(ErrorCode.SEGMENT_SIZE, `${size} bytes, but capacity ${capacity} needs ${abi.EVENTS_HEADER_BYTES + capacity * abi.EVENT_BYTES}`, { found: size });
    return new EventRingReader(name, m, capacity, dv.getUint32(EH.generation.offset, true), from);
  }

  /** The newest whole record's ring sequence (hi, lo, hi: consistent across a 2^32 carry). */
  head(): number {
    const u32 = this.u32;
    for (;;) {
      const hi = Atomics.load(u32, W_HEAD_LO + 1);
      const lo = Atomics.load(u32, W_HEAD_LO);
      if (Atomics.load(u32, W_HEAD_LO + 1) === hi) return hi * TWO32 + lo;
    }
  }

  /** The ring sequence of the next record this reader will return (if it is not lapped first). */
  get position(): number {
    return this.next;
  }

  /** Records published and not read yet (lapped ones included). */
  backlog(): number {
    return Math.max(0, this.head() - this.next + 1);
  }

  /**
   * Copies up to batch.capacity records, in ring order, into the batch; returns how many. When
   * the reader was lapped, the batch starts at the oldest record still whole and batch.lost says
   * how many events were skipped before it (exactly: one per ring sequence not delivered).
   * `accept`, if given, sees each whole record; the ones it refuses are consumed, not delivered.
   */
  poll(batch: EventBatch, accept?: (rec: EventRecord) => boolean): number {
    batch.count = 0;
    batch.lost = 0;
    const u32 = this.u32;
    while (batch.count < batch.capacity) {
      const r = this.next;
      const rLo = r % TWO32;
      const rHi = Math.floor(r / TWO32);
      const w = HEADER_WORDS + ((r - 1) & this.mask) * RECORD_WORDS;
      // The record's own sequence says whether r is there: a spinning reader then loads one line,
      // the record's, and sees it in one line transfer (not the head's first, then the record's).
      const hi = Atomics.load(u32, w + R_SEQ_HI);
      const lo = Atomics.load(u32, w + R_SEQ_LO);
      if (hi === rHi && lo === rLo) {
        const dst = batch.records[batch.count]!.words;
        if (ORDERED_RING) for (let k = 0; k < RECORD_WORDS; k++) dst[k] = Atomics.load(u32, w + k); // acquire loads: none passes the check after them
        else if (pauseMidCopy === null) for (let k = 0; k < RECORD_WORDS; k++) dst[k] = u32[w + k]!;
        else {
          for (let k = 0; k < HALF_RECORD_WORDS; k++) dst[k] = u32[w + k]!;
          pauseMidCopy();
          for (let k = HALF_RECORD_WORDS; k < RECORD_WORDS; k++) dst[k] = u32[w + k]!;
        }
        // hi before lo: a rewrite stores hi (E1) first and hi (E3) last, so a hi that still reads
        // r's means E1 was not visible to any load of the copy; lo then catches a rewrite whose
        // E3 restored the same hi. (lo before hi would let E2..E3 fall between the two loads.)
        const hiAfter = Atomics.load(u32, w + R_SEQ_HI);
        if (pauseMidRecheck !== null) pauseMidRecheck();
        if (hiAfter === rHi && Atomics.load(u32, w + R_SEQ_LO) === rLo) {
          this.next = r + 1;
          this.read++;
          if (accept === undefined || accept(batch.records[batch.count]!)) batch.count++;
          continue;
        }
      } else if (hi !== SEQ_INVALID_HI && hi * TWO32 + lo < r) break; // an older record (or none yet): r is not published
      // Being written (r itself, or a later record: the head tells), or already a later record:
      // lapped. Resume at the oldest record still whole; the slot after the head may be
      // mid-write, so it is not counted among them.
      if (hi === SEQ_INVALID_HI) pauseBeforeHead();
      const head = this.head();
      if (r > head) break; // r is being written: not published yet
      // r is published (head >= r, acquire): its slot holds r, or a later record. The look above
      // may predate r's last store: look again before calling it lapped.
      if (Atomics.load(u32, w + R_SEQ_HI) === rHi && Atomics.load(u32, w + R_SEQ_LO) === rLo) continue;
      const oldest = Math.max(r + 1, head - this.capacity + 2);
      if (batch.count > 0) break; // report the loss at the start of the next batch, where it happened
      batch.lost += oldest - r;
      this.lost += oldest - r;
      this.next = oldest;
    }
    return batch.count;
  }

  close(): void {
    this.map.close();
  }
}
