/**
 * `--source itch:FILE`: a Nasdaq ITCH 5.0 file (length-framed, plain or gzip'd), replayed through
 * the ITCH venue. Frames are checked in batches; pacing reads the exchange timestamps.
 */
import { ErrorCode, MdfanError } from '../../../native/segment/errors.js';
import { type Frame, type LoadedFeed, loadFeed, nextFrame } from '../../itch/framing.js';
import { ItchVenue } from '../../itch/venue.js';
import { BATCH_MESSAGES, DONE, drive } from '../../pacing/drive.js';
import { type BookSink, type FeedSource, type RunContext, type SourceCounters, type SourceKind, newCounters } from '../source.js';

/** Exchange timestamp (ns since midnight) of the framed message whose payload starts at `p`. */
const timestampAt = (b: Uint8Array, p: number): number =>
  ((b[p + 5] << 8) | b[p + 6]) * 4294967296 + ((b[p + 7] << 24) >>> 0) + ((b[p + 8] << 16) | (b[p + 9] << 8) | b[p + 10]);

/** A frame's 2-byte length, then the payload's type, locate, tracking number and 6-byte timestamp. */
const FRAME_HEAD_BYTES = 13;

class ItchFileSource implements FeedSource {
  readonly total: { unit: string; count: number };
  private venue: ItchVenue | null = null;

  constructor(
    private readonly feed: LoadedFeed,
    private readonly levels: number,
  ) {
    this.total = { unit: 'bytes', count: feed.bytes.length };
  }

  get counters(): SourceCounters {
    return this.venue?.syncCounters() ?? newCounters();
  }

  async run(sink: BookSink, ctx: RunContext): Promise<void> {
    const { feed } = this;
    let framePos = 0;
    // A file is evidence: a malformed message stops the replay with where it is (what was
    // published stays, the segment goes BROKEN).
    const venue = new ItchVenue(sink, this.levels, (msgIndex, field, found) => {
      throw new MdfanError(ErrorCode.FEED_CORRUPT, `${feed.file}: message ${msgIndex} at byte offset ${framePos}: field ${field} is ${found}, not a symbol (1..8 printable ASCII characters)`, {
        file: feed.file,
        offset: framePos,
        msgIndex,
        field,
      });
    });
    this.venue = venue;
    const buf = feed.bytes;
    const end = buf.length;
    const frame: Frame = { offset: 0, length: 0 };
    const pacer = ctx.pacer;
    let pos = 0;
    let i = 0;
    await drive(() => {
      if (pos >= end) return DONE;
      const batchEnd = i + BATCH_MESSAGES;
      let waitNs = 0;
      while (pos < end && i < batchEnd) {
        if (pacer.paced && pos + FRAME_HEAD_BYTES <= end) {
          waitNs = pacer.delayNs(timestampAt(buf, pos + 2));
          if (waitNs > 0) break;
        }
        framePos = pos;
        pos = nextFrame(buf, end, pos, i, feed.file, frame);
        venue.process(buf, frame.offset, frame.length, i);
        i++;
      }
      const c = venue.syncCounters();
      c.inputBytes = pos;
      sink.flush(c);
      ctx.progress?.(i, pos, end);
      return waitNs;
    }, ctx.stop);
    if (feed.gzipProblem && !ctx.stop.requested) {
      const p = feed.gzipProblem;
      throw new MdfanError(ErrorCode.FEED_TRUNCATED, `${p.message}; message index ${i}`, { ...p.details, msgIndex: i });
    }
  }

  summary(): string {
    return '';
  }
}

export const itchFile: SourceKind = {
  scheme: 'itch',
  syntax: 'itch:FILE',
  open: (rest, opts) => (rest ? new ItchFileSource(loadFeed(rest), opts.levels) : null),
};
