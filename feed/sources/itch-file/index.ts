/**
 * `--source itch:FILE`: a Nasdaq ITCH 5.0 file (length-framed, plain or gzip'd), replayed through
 * the ITCH venue. The file is streamed (read, and gunzipped, 1 MiB at a time): memory stays
 * bounded whatever its size (no 2 GiB limit of a whole-file read), and a gzip bomb costs
 * time, not memory. Frames are checked as they come; pacing reads the exchange timestamps.
 */
import { ErrorCode, MdfanError } from '../../../native/segment/errors.js';
import { type Frame, FrameCursor } from '../../itch/framing.js';
import { ItchVenue } from '../../itch/venue.js';
import { BATCH_MESSAGES, pause } from '../../pacing/drive.js';
import { type InputFile, openInputStream, probeInputFile, sizeUnit } from '../../input-stream.js';
import { type BookSink, type FeedSource, type RunContext, type SourceCounters, type SourceKind, newCounters } from '../../sink.js';

/** Exchange timestamp (ns since midnight) of the framed message whose payload starts at `p`. */
const timestampAt = (b: Uint8Array, p: number): number =>
  ((b[p + 5] << 8) | b[p + 6]) * 4294967296 + ((b[p + 7] << 24) >>> 0) + ((b[p + 8] << 16) | (b[p + 9] << 8) | b[p + 10]);

/** A frame's 2-byte length, then the payload's type, locate, tracking number and 6-byte timestamp. */
const FRAME_HEAD_BYTES = 13;

class ItchFileSource implements FeedSource {
  readonly total: { unit: string; count: number };
  private venue: ItchVenue | null = null;

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
    const venue = new ItchVenue(sink, this.levels, (msgIndex, field, found) => {
      throw new MdfanError(ErrorCode.FEED_CORRUPT, `${file}: message ${msgIndex} at byte offset ${framePos}: field ${field} is ${found}, not a symbol (1..8 printable ASCII characters)`, {
        file,
        offset: framePos,
        msgIndex,
        field,
      });
    });
    this.venue = venue;
    const stream = openInputStream(this.input);
    const frame: Frame = { offset: 0, length: 0 };
    const cursor = new FrameCursor(file);
    const pacer = ctx.pacer;
    let i = 0;
    const report = (): void => {
      const c = venue.syncCounters();
      c.inputBytes = cursor.offset;
      sink.flush(c);
      ctx.progress?.(i, stream.bytesRead, this.total.count);
    };
    try {
      while (!ctx.stop.requested) {
        let waitNs = 0;
        const batchEnd = i + BATCH_MESSAGES;
        while (i < batchEnd && cursor.ready()) {
          const bytes = cursor.bytes;
          const at = cursor.payloadAt;
          if (pacer.paced && at + FRAME_HEAD_BYTES - 2 <= bytes.length) {
            waitNs = pacer.delayNs(timestampAt(bytes, at));
            if (waitNs > 0) break;
          }
          framePos = cursor.offset;
          cursor.next(i, frame);
          venue.process(bytes, frame.offset, frame.length, i);
          i++;
        }
        report();
        if (waitNs > 0 || i === batchEnd) {
          await pause(waitNs); // pacing, or a turn for signals, timers and the idle heartbeat
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
    }
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
