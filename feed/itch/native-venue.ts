/**
 * ITCH 5.0 through the addon's engine (native/src/itch_engine.cc): the same venue as ItchVenue
 * (venue.ts), whose TypeScript engine stays the reference, but whole batches of framed messages
 * cross into the addon in one call: decode, books, top-N change, commit and event append without
 * a return to JavaScript per message. JavaScript keeps what needs it: naming instruments (a
 * directory message asks the publisher for a slot), the errors that name a bad frame, waking
 * sleeping readers, and the heartbeat. For a file's replay at full speed into a sink that offers
 * its writer (BookSink.nativeTarget: the publisher, without a book dump).
 */
import { native } from '../../native/segment/binding.js';
import { ITCH_SPEC, isValidSymbol } from '../../native/segment/directory.js';
import { ErrorCode, MdfanError } from '../../native/segment/errors.js';
import type { SegmentWriter } from '../../native/segment/writer.js';
import { type BookSink, NOT_PUBLISHED, type NativeTarget, type SourceCounters, newCounters } from '../sink.js';
import { T } from './layout.js';
import type { BookCounters } from './books.js';
import { ItchMessage, decode } from './message.js';
import { shown } from './engine.js';

/** The in/out array's entries (native/src/itch_engine.cc, enum Io). */
const IO = Object.freeze({ pos: 0, end: 1, msgIndex: 2, maxMessages: 3, beatDueNs: 4, ringHead: 5, publishes: 6, nowNs: 7, directoryDone: 8, count: 9 });
/** The counters array's entries (enum Counter): then messages per type byte. */
const C = Object.freeze({ messages: 0, unknownTypes: 1, badLengths: 2, malformed: 3, unknownOrderRefs: 4, duplicateOrderRefs: 5, overExecutions: 6, unannounced: 7, typeCounts: 8, count: 8 + 256 });

/** Why a run stopped (enum Stop). */
export const NATIVE_STOP = Object.freeze({ END: 0, MAX: 1, DIRECTORY: 2, FRAME: 3, WAKE: 4, BEAT: 5, CLOSED: 6 });

/** slotByLocate: no directory message named the locate yet. */
const UNASKED = -2;
const LOCATES = 65536;

/** Message `msgIndex`, whose frame starts at `framePos` of the bytes run, is malformed in `field` (found: what it held): dropped, unless this throws. */
export type MalformedHook = (msgIndex: number, field: string, found: string, framePos: number) => void;

export interface NativeRun {
  /** Byte offset of the next frame not processed. */
  pos: number;
  /** Index of that frame's message. */
  msgIndex: number;
  /** NATIVE_STOP.END (no whole frame left), MAX, or FRAME (the frame at `pos` is refused by the framing: let nextFrame say why). */
  stop: number;
}

export class NativeItchVenue {
  readonly counters: SourceCounters = newCounters();
  private readonly handle: number;
  private readonly writer: SegmentWriter;
  private readonly slotByLocate = new Int32Array(LOCATES).fill(UNASKED);
  private readonly c = new Float64Array(C.count);
  private readonly io = new Float64Array(IO.count);
  private readonly msg = new ItchMessage();
  private readonly result: NativeRun = { pos: 0, msgIndex: 0, stop: 0 };
  private freed = false;

  /** The engine for `sink`, or null where it cannot serve (a sink that takes books one by one: a book dump, a shared segment). */
  static for(sink: BookSink, levels: number, onMalformed?: MalformedHook): NativeItchVenue | null {
    const target = sink.nativeTarget?.() ?? null;
    return target === null ? null : new NativeItchVenue(sink, target, levels, onMalformed);
  }

  private constructor(
    private readonly publisher: BookSink,
    target: NativeTarget,
    levels: number,
    private readonly onMalformed?: MalformedHook,
  ) {
    this.writer = target.writer;
    this.handle = native.itchCreate(levels, this.slotByLocate, target.flags, target.bookIndex, target.upstream, this.c, this.io);
  }

  /** Type byte -> messages seen (a view: valid until the next run). */
  get typeCounts(): Float64Array {
    return this.c.subarray(C.typeCounts);
  }

  /**
   * Runs the framed messages of bytes[pos, end), the first being message `msgIndex`, until no
   * whole frame is left, `maxMessages` are done, or a frame the file framing refuses is next.
   * The result is reused by the next call.
   */
  run(bytes: Uint8Array, pos: number, end: number, msgIndex: number, maxMessages: number): NativeRun {
    if (this.freed) throw new MdfanError(ErrorCode.CLOSED, 'the ITCH engine was freed', {});
    const io = this.io;
    const w = this.writer;
    io[IO.pos] = pos;
    io[IO.end] = end;
    io[IO.msgIndex] = msgIndex;
    let left = maxMessages;
    for (;;) {
      io[IO.maxMessages] = left;
      io[IO.beatDueNs] = w.beatDueNs;
      io[IO.ringHead] = w.ring?.appended ?? 0;
      const before = io[IO.msgIndex];
      const stop = native.itchRun(this.handle, w.slots.commitHandle, bytes, w.ring?.map.buffer ?? null, w.registry.map.buffer);
      left -= io[IO.msgIndex] - before;
      if (stop === NATIVE_STOP.CLOSED) throw new MdfanError(ErrorCode.CLOSED, 'the segment was closed: no more commits', {});
      w.adoptNative(io[IO.publishes], io[IO.ringHead], io[IO.nowNs]);
      if (stop === NATIVE_STOP.WAKE) w.wakeIfSleepers();
      else if (stop === NATIVE_STOP.DIRECTORY) {
        this.name(bytes, io[IO.pos] + 2, io[IO.msgIndex]);
        io[IO.directoryDone] = 1; // counted and stepped over by the next call
      } else if (stop !== NATIVE_STOP.BEAT) {
        const r = this.result;
        r.pos = io[IO.pos];
        r.msgIndex = io[IO.msgIndex];
        r.stop = stop;
        return r;
      }
    }
  }

  /** A stock directory message at `offset`: the instrument is named, and asked for a slot once (ItchVenue's rules). */
  private name(bytes: Uint8Array, offset: number, msgIndex: number): void {
    const m = this.msg;
    decode(m, bytes, offset, bytes[offset - 1]! | (bytes[offset - 2]! << 8));
    if (m.type !== T.STOCK_DIRECTORY) throw new Error(`the ITCH engine stopped for a directory at message ${msgIndex}, found type ${m.type}`);
    const symbol = m.stock();
    if (!isValidSymbol(symbol)) {
      this.c[C.malformed]++;
      this.onMalformed?.(msgIndex, 'stock', shown(symbol), offset - 2);
      return;
    }
    if (this.slotByLocate[m.locate]! >= 0) return;
    const slot = this.publisher.instrument(symbol, m.locate, ITCH_SPEC);
    this.slotByLocate[m.locate] = slot === NOT_PUBLISHED ? NOT_PUBLISHED : slot;
  }

  /** The books' own counts, as ItchBooks.counters. */
  get bookCounters(): BookCounters {
    const c = this.c;
    return { unknownOrderRefs: c[C.unknownOrderRefs]!, duplicateOrderRefs: c[C.duplicateOrderRefs]!, overExecutions: c[C.overExecutions]! };
  }

  /** The engine's counts as the venue's counters (as ItchVenue.syncCounters). */
  syncCounters(): SourceCounters {
    const c = this.c;
    const out = this.counters;
    out.messages = c[C.messages]!;
    out.unknownTypes = c[C.unknownTypes]! + c[C.badLengths]!;
    out.unknownOrderRefs = c[C.unknownOrderRefs]!;
    out.malformed = c[C.malformed]!;
    out.unannounced = c[C.unannounced]!;
    return out;
  }

  /** Frees the engine's books (idempotent). */
  free(): void {
    if (this.freed) return;
    this.freed = true;
    native.itchFree(this.handle);
  }
}
