/**
 * `--source itch:FILE`: a Nasdaq ITCH 5.0 file (length-framed, plain or gzip'd), replayed through
 * the ITCH venue. The file is streamed (read, and gunzipped, 1 MiB at a time): memory stays
 * bounded whatever its size (no 2 GiB limit of a whole-file read), and a gzip bomb costs
 * time, not memory. Frames are checked as they come; pacing reads the exchange timestamps.
 */
import { ErrorCode, MdfanError } from '../../../native/segment/errors.js';
import { type Frame, FrameCursor } from '../../itch/framing.js';
import { ItchVenue } from '../../itch/venue.js';
import { NATIVE_STOP, NativeItchVenue } from '../../itch/native-venue.js';
import { BATCH_MESSAGES, pause } from '../../pacing/drive.js';
import { type InputFile, openInputStream, probeInputFile, sizeUnit } from '../../input-stream.js';
import { type BookSink, type FeedSource, type RunContext, type SourceCounters, type SourceKind, newCounters } from '../../sink.js';

/** Exchange timestamp (ns since midnight) of the framed message whose payload starts at `p`. */
const timestampAt = (b: Uint8Array, p: number): number =>
  ((b[p + 5] << 8) | b[p + 6]) * 4294967296 + ((b[p + 7] << 24) >>> 0) + ((b[p + 8] << 16) | (b[p + 9] << 8) | b[p + 10]);

/** A batch's end: how far it got, and how long until the next message is due (BATCH_FULL: a whole batch was done, take a turn; 0: more input is needed). */
interface Batch {
  next: number;
  waitNs: number;
}
const BATCH_FULL = -1;

/** A frame's 2-byte length, then the payload's type, locate, tracking number and 6-byte timestamp. */
const FRAME_HEAD_BYTES = 13;

class ItchFileSource implements FeedSource {
  readonly total: { unit: string; count: number };
  private venue: ItchVenue | NativeItchVenue | null = null;

  constructor(
    private readonly input: InputFile,
    private readonly levels: number,
  ) {
    this.total = { unit: sizeUnit(input), count: input.size };
  }

  get counters(): SourceCounters {
    return this.venue?.syncCounters() ?? newCounters();
  }

  async run(sink: BookSink, ctx: RunContext): Promise<void> {
    const { file } = this.input;
    let framePos = 0;
    // A file is evidence: a malformed message stops the replay with where it is (what was
    // published stays, the segment goes BROKEN).
    const malformed = (msgIndex: number, field: string, found: string): never => {
      throw new MdfanError(ErrorCode.FEED_CORRUPT, `${file}: message ${msgIndex} at byte offset ${framePos}: field ${field} is ${found}, not a symbol (1..8 printable ASCII characters)`, {
        file,
        offset: framePos,
        msgIndex,
        field,
      });
    };
    const stream = openInputStream(this.input);
    const cursor = new FrameCursor(file);
    // At full speed into a publisher that dumps nothing, the addon's engine takes whole batches;
    // paced replays and the rest go message by message through the TypeScript engine.
    const engine =
      !ctx.pacer.paced
        ? NativeItchVenue.for(sink, this.levels, (msgIndex, field, found, at) => {
            framePos = cursor.streamOffset(at);
            malformed(msgIndex, field, found);
          })
        : null;
    const venue = engine ?? new ItchVenue(sink, this.levels, malformed);
    this.venue = venue;
    let i = 0;
    const report = (): void => {
      const c = venue.syncCounters();
      c.inputBytes = cursor.offset;
      sink.flush(c);
      ctx.progress?.(i, stream.bytesRead, this.total.count);
    };
    const step = engine ? this.batchNative(engine, cursor) : this.batchTs(venue as ItchVenue, cursor, ctx, (at) => (framePos = at));
    try {
      while (!ctx.stop.requested) {
        const { next, waitNs } = step(i);
        i = next;
        report();
        if (waitNs > 0 || waitNs === BATCH_FULL) {
          await pause(Math.max(waitNs, 0)); // pacing, or a turn for signals, timers and the idle heartbeat
          continue;
        }
        const chunk = await stream.next(cursor.offset, i);
        if (chunk === null) {
          cursor.end(i); // whatever is left is a message cut off by the end of the file
          return;
        }
        cursor.append(chunk);
      }
    } finally {
      report();
      stream.close();
      engine?.free();
    }
  }

  /** One batch through the TypeScript engine, message by message, paced if asked. */
  private batchTs(venue: ItchVenue, cursor: FrameCursor, ctx: RunContext, at: (framePos: number) => void): (i: number) => Batch {
    const frame: Frame = { offset: 0, length: 0 };
    const pacer = ctx.pacer;
    return (i) => {
      const batchEnd = i + BATCH_MESSAGES;
      while (i < batchEnd && cursor.ready()) {
        const bytes = cursor.bytes;
        const p = cursor.payloadAt;
        if (pacer.paced && p + FRAME_HEAD_BYTES - 2 <= bytes.length) {
          const waitNs = pacer.delayNs(timestampAt(bytes, p));
          if (waitNs > 0) return { next: i, waitNs };
        }
        at(cursor.offset);
        cursor.next(i, frame);
        venue.process(bytes, frame.offset, frame.length, i);
        i++;
      }
      return { next: i, waitNs: i === batchEnd ? BATCH_FULL : 0 };
    };
  }

  /** One batch through the addon's engine; a frame it refuses is taken by the cursor, which says why. */
  private batchNative(engine: NativeItchVenue, cursor: FrameCursor): (i: number) => Batch {
    return (i) => {
      const bytes = cursor.bytes;
      const r = engine.run(bytes, cursor.framePos, bytes.length, i, BATCH_MESSAGES);
      cursor.skipTo(r.pos);
      if (r.stop === NATIVE_STOP.FRAME) {
        cursor.next(r.msgIndex, { offset: 0, length: 0 }); // throws the framing's error for it
        throw new Error(`the addon's ITCH engine refused a frame the framing takes (message ${r.msgIndex})`);
      }
      return { next: r.msgIndex, waitNs: r.stop === NATIVE_STOP.MAX ? BATCH_FULL : 0 };
    };
  }

  summary(): string {
    return '';
  }
}

export const itchFile: SourceKind = {
  scheme: 'itch',
  syntax: 'itch:FILE',
  open: (rest, opts) => (rest ? new ItchFileSource(probeInputFile(rest), opts.levels) : null),
};
