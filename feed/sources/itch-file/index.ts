/**
 * `--source itch:FILE`: a Nasdaq ITCH 5.0 file (length-framed, plain or gzip'd), replayed through
 * the ITCH venue. The file is streamed (read, and gunzipped, 1 MiB at a time): memory stays
 * bounded whatever its size, so a whole Nasdaq day of 8–12 GB replays, and a gzip bomb costs
 * time, not memory. Frames are checked as they come; pacing reads the exchange timestamps.
 */
import { createReadStream, openSync, closeSync, readSync } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { setImmediate as yieldNow, setTimeout as sleep } from 'node:timers/promises';
import { ErrorCode, MdfanError } from '../../../native/segment/errors.js';
import { type Frame, FrameCursor } from '../../itch/framing.js';
import { ItchVenue } from '../../itch/venue.js';
import { BATCH_MESSAGES } from '../../pacing/drive.js';
import { statInputFile } from '../../input-file.js';
import { type BookSink, type FeedSource, type RunContext, type SourceCounters, type SourceKind, newCounters } from '../source.js';

/** Exchange timestamp (ns since midnight) of the framed message whose payload starts at `p`. */
const timestampAt = (b: Uint8Array, p: number): number =>
  ((b[p + 5] << 8) | b[p + 6]) * 4294967296 + ((b[p + 7] << 24) >>> 0) + ((b[p + 8] << 16) | (b[p + 9] << 8) | b[p + 10]);

/** A frame's 2-byte length, then the payload's type, locate, tracking number and 6-byte timestamp. */
const FRAME_HEAD_BYTES = 13;
/** Bytes read from the file at a time. */
const CHUNK_BYTES = 1 << 20;
/** Waits shorter than this yield instead of sleeping; sleeps are cut to the maximum (a stop is seen promptly). */
const SLEEP_MIN_NS = 2e6;
const SLEEP_MAX_NS = 250e6;

class ItchFileSource implements FeedSource {
  readonly total: { unit: string; count: number };
  private venue: ItchVenue | null = null;

  constructor(
    private readonly file: string,
    private readonly gzip: boolean,
    size: number,
    private readonly levels: number,
  ) {
    this.total = { unit: gzip ? 'compressed bytes' : 'bytes', count: size };
  }

  get counters(): SourceCounters {
    return this.venue?.syncCounters() ?? newCounters();
  }

  async run(sink: BookSink, ctx: RunContext): Promise<void> {
    const { file } = this;
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
    const raw = createReadStream(file, { highWaterMark: CHUNK_BYTES });
    const input = this.gzip ? raw.pipe(createGunzip({ chunkSize: CHUNK_BYTES })) : raw;
    raw.on('error', (e) => input.destroy(e)); // a read error ends the iteration below
    const chunks = input[Symbol.asyncIterator]();
    const frame: Frame = { offset: 0, length: 0 };
    const cursor = new FrameCursor(file);
    const pacer = ctx.pacer;
    let i = 0;
    const report = (): void => {
      const c = venue.syncCounters();
      c.inputBytes = cursor.offset;
      sink.flush(c);
      ctx.progress?.(i, raw.bytesRead, this.total.count);
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
        if (waitNs > 0) {
          if (waitNs > SLEEP_MIN_NS) await sleep(Math.min(waitNs, SLEEP_MAX_NS) / 1e6);
          else await yieldNow();
          continue;
        }
        if (i === batchEnd) {
          await yieldNow(); // signals, timers, the idle heartbeat
          continue;
        }
        let next: IteratorResult<Buffer>;
        try {
          next = (await chunks.next()) as IteratorResult<Buffer>;
        } catch (e) {
          throw streamError(e, file, cursor.offset, i);
        }
        if (next.done) {
          cursor.end(i); // whatever is left is a message cut off by the end of the file
          return;
        }
        cursor.append(next.value);
      }
    } finally {
      report();
      input.destroy();
      raw.destroy();
    }
  }

  summary(): string {
    return '';
  }
}

/** A read or gunzip error as the feed's code: a stream that stops early is truncated, the rest corrupt. */
function streamError(e: unknown, file: string, offset: number, msgIndex: number): MdfanError {
  const err = e as NodeJS.ErrnoException;
  if (err.code === 'Z_BUF_ERROR' || /unexpected end of file/i.test(err.message))
    return new MdfanError(ErrorCode.FEED_TRUNCATED, `${file}: gzip stream ends early (${err.message}) after ${offset} decompressed bytes; message index ${msgIndex}`, { file, offset, msgIndex });
  if (err.code?.startsWith('Z_')) return new MdfanError(ErrorCode.FEED_CORRUPT, `${file}: corrupt gzip stream (${err.message}) after ${offset} decompressed bytes; message index ${msgIndex}`, { file, offset, msgIndex, zlib: err.code });
  return new MdfanError(ErrorCode.FEED_IO, `cannot read ${file}: ${err.message}`, { file, offset, msgIndex });
}

/** Checks the file (a readable regular file) and whether it is gzip'd, before any segment exists. */
function openItchFile(file: string, levels: number): ItchFileSource {
  const size = statInputFile(file);
  const head = Buffer.alloc(2);
  let got = 0;
  try {
    const fd = openSync(file, 'r');
    try {
      got = readSync(fd, head, 0, 2, 0);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    throw new MdfanError(ErrorCode.FEED_IO, `cannot read ${file}: ${(e as Error).message}`, { file });
  }
  return new ItchFileSource(file, got === 2 && head[0] === 0x1f && head[1] === 0x8b, size, levels);
}

export const itchFile: SourceKind = {
  scheme: 'itch',
  syntax: 'itch:FILE',
  open: (rest, opts) => (rest ? openItchFile(rest, opts.levels) : null),
};
