/**
 * Nasdaq's file framing: each message preceded by a 2-byte big-endian length. Files may be gzip'd
 * (detected by the 1f 8b magic). Every length is range-checked before use; a bad one is a coded
 * error naming the file, the byte offset (in the decompressed stream) and the message index.
 */
import { readInputFile } from '../input-file.js';
import { constants as zc, gunzipSync } from 'node:zlib';
import { ErrorCode, MdfanError } from '../../native/segment/errors.js';
import { LENGTH, typeName } from './layout.js';

export interface LoadedFeed {
  file: string;
  bytes: Buffer;
  /** A truncated gzip stream: what could be decompressed is in `bytes`; this says why it ended. */
  gzipProblem: MdfanError | null;
}

/**
 * Reads a whole feed file, gunzipping it if needed. A truncated gzip stream yields what could be
 * decompressed (so the messages before the cut are still replayed) and `gzipProblem`; a corrupt
 * one throws MDFAN_ERR_FEED_CORRUPT.
 */
export function loadFeed(file: string): LoadedFeed {
  const raw = readInputFile(file);
  if (raw.length < 2 || raw[0] !== 0x1f || raw[1] !== 0x8b) return { file, bytes: raw, gzipProblem: null };
  try {
    return { file, bytes: gunzipSync(raw), gzipProblem: null };
  } catch (e) {
    const err = e as Error & { code?: string };
    // Z_SYNC_FLUSH returns what was decoded so far for a stream that just stops.
    let partial: Buffer;
    try {
      partial = gunzipSync(raw, { finishFlush: zc.Z_SYNC_FLUSH });
    } catch {
      throw new MdfanError(ErrorCode.FEED_CORRUPT, `${file}: corrupt gzip stream (${err.message}) in ${raw.length} compressed bytes`, {
        file,
        compressedBytes: raw.length,
        zlib: err.code,
      });
    }
    return {
      file,
      bytes: partial,
      gzipProblem: new MdfanError(ErrorCode.FEED_TRUNCATED, `${file}: gzip stream ends early (${err.message}) after ${partial.length} decompressed bytes`, {
        file,
        offset: partial.length,
      }),
    };
  }
}

/** Where one framed message is: payload at [offset, offset+length). */
export interface Frame {
  offset: number;
  length: number;
}

/**
 * Checks the frame at `pos` of `buf` and fills `out`; returns the next position. Throws
 * FEED_TRUNCATED (prefix or payload runs past the end) or FEED_CORRUPT (zero length, or a length
 * that disagrees with a known type's fixed length). Unknown types pass: the caller counts them.
 */
export function nextFrame(buf: Uint8Array, end: number, pos: number, msgIndex: number, file: string, out: Frame): number {
  if (pos + 2 > end)
    throw new MdfanError(ErrorCode.FEED_TRUNCATED, `${file}: message ${msgIndex} at byte offset ${pos}: the 2-byte length prefix is cut off (${end - pos} byte left)`, {
      file,
      offset: pos,
      msgIndex,
    });
  const len = (buf[pos] << 8) | buf[pos + 1];
  if (len === 0)
    throw new MdfanError(ErrorCode.FEED_CORRUPT, `${file}: message ${msgIndex} at byte offset ${pos}: length prefix is 0`, { file, offset: pos, msgIndex, field: 'length' });
  if (pos + 2 + len > end)
    throw new MdfanError(ErrorCode.FEED_TRUNCATED, `${file}: message ${msgIndex} at byte offset ${pos}: length prefix says ${len} bytes, only ${end - pos - 2} remain`, {
      file,
      offset: pos,
      msgIndex,
      field: 'length',
    });
  const type = buf[pos + 2];
  const want = LENGTH[type];
  if (want !== 0 && want !== len)
    throw new MdfanError(ErrorCode.FEED_CORRUPT, `${file}: message ${msgIndex} at byte offset ${pos}: type '${typeName(type)}' is ${want} bytes but its length prefix says ${len}`, {
      file,
      offset: pos,
      msgIndex,
      field: 'length',
      type: typeName(type),
      expected: want,
      found: len,
    });
  out.offset = pos + 2;
  out.length = len;
  return pos + 2 + len;
}

/**
 * Framed messages over a stream of chunks: append() a chunk, then take whole messages with next()
 * while ready() says one is there; a message cut by a chunk boundary is carried to the next chunk
 * (copied once). Errors name offsets in the stream, not in the chunk. For live or
 * larger-than-memory inputs: memory is one chunk and one carried message.
 */
export class FrameCursor {
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;
  /** Bytes of the stream before buf[0]. */
  private base = 0;

  constructor(private readonly file: string) {}

  /** Stream offset of the next message. */
  get offset(): number {
    return this.base + this.pos;
  }

  /** The buffer the next message's bytes are in, and where its payload's first byte will be (for a peek at its header). */
  get bytes(): Buffer {
    return this.buf;
  }
  get payloadAt(): number {
    return this.pos + 2;
  }

  append(chunk: Buffer): void {
    this.base += this.pos;
    this.buf = this.pos < this.buf.length ? Buffer.concat([this.buf.subarray(this.pos), chunk]) : chunk;
    this.pos = 0;
  }

  /** Where the next message's frame starts in `bytes`. */
  get framePos(): number {
    return this.pos;
  }

  /** Stream offset of position `at` of `bytes`. */
  streamOffset(at: number): number {
    return this.base + at;
  }

  /**
   * Frames up to position `at` of `bytes` were checked and taken by someone else (the addon's
   * engine runs the same checks): the next message starts there.
   */
  skipTo(at: number): void {
    if (!(at >= this.pos && at <= this.buf.length)) throw new RangeError(`skipTo(${at}) outside ${this.pos}..${this.buf.length}`);
    this.pos = at;
  }

  /** Whether a whole message (or a zero length, which next() reports as CORRUPT) is buffered. */
  ready(): boolean {
    const { buf, pos } = this;
    if (pos + 2 > buf.length) return false;
    const len = (buf[pos]! << 8) | buf[pos + 1]!;
    return len === 0 || pos + 2 + len <= buf.length;
  }

  /** Checks and takes the next message (ready() must be true) into `out`: its payload is in `bytes`. */
  next(msgIndex: number, out: Frame): void {
    this.pos = this.rebased(() => nextFrame(this.buf, this.buf.length, this.pos, msgIndex, this.file, out));
  }

  /** End of stream: anything left over is a truncated message (MDFAN_ERR_FEED_TRUNCATED). */
  end(msgIndex: number): void {
    if (this.pos < this.buf.length) this.rebased(() => nextFrame(this.buf, this.buf.length, this.pos, msgIndex, this.file, { offset: 0, length: 0 }));
  }

  /** Errors name stream offsets, not offsets in the buffer. */
  private rebased<T>(step: () => T): T {
    try {
      return step();
    } catch (e) {
      if (!(e instanceof MdfanError) || this.base === 0) throw e;
      const offset = (e.details.offset as number) + this.base;
      throw new MdfanError(e.code, e.reason.replace(/byte offset \d+/, `byte offset ${offset}`), { ...e.details, offset });
    }
  }
}

/** Frames payloads in Nasdaq's file format (tests, fixtures, the MoldUDP64 round trip). */
export function frameMessages(payloads: Uint8Array[]): Buffer {
  const out = Buffer.alloc(payloads.reduce((a, p) => a + 2 + p.length, 0));
  let pos = 0;
  for (const p of payloads) {
    out.writeUInt16BE(p.length, pos);
    out.set(p, pos + 2);
    pos += 2 + p.length;
  }
  return out;
}
