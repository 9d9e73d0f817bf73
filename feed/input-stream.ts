/**
 * An input file as a stream of chunks, read (and decompressed, when it starts with gzip's or
 * zstd's magic) 1 MiB at a time: memory stays bounded whatever the file's size. zstd is fzstd's
 * streaming decoder (pure JavaScript: Node 20 has no zstd), concatenated frames included, each
 * frame's content checksum verified (./zstd-stream.ts). Errors of the stream become the feed's codes: a
 * compressed stream that stops early is MDFAN_ERR_FEED_TRUNCATED, a corrupt one
 * MDFAN_ERR_FEED_CORRUPT, a read error MDFAN_ERR_FEED_IO. ITCH files are framed messages over it;
 * LOBSTER files are lines. The file is opened once, when probed (feed/input-file.ts): the stream
 * reads that descriptor, so what was checked is what is read.
 */
import { closeSync, createReadStream, readSync, type ReadStream } from 'node:fs';
import { createGunzip, gunzipSync, constants as zc } from 'node:zlib';
import { Decompress } from 'fzstd';
import { ZSTD_ERR, zstdStream } from './zstd-stream.js';
import { ErrorCode, MdfanError } from '../native/segment/errors.js';
import { type OpenedInput, openInputFile } from './input-file.js';

/** Bytes read from the file at a time. */
export const CHUNK_BYTES = 1 << 20;

/** What a command may hold of one input in memory (benchmarks and fuzzers that want the bytes at once). */
export const INPUT_DEFAULTS = Object.freeze({
  maxInMemoryBytes: 64 * 1024 * 1024,
});

/** How an input file is compressed, by its first bytes. */
export type Compression = 'gzip' | 'zstd' | null;

export interface InputFile {
  file: string;
  compression: Compression;
  /** Bytes on disk (compressed, for a compressed file). */
  size: number;
  /** The descriptor opened when probed, handed to the first stream (later ones reopen and check it is the same file). */
  opened: OpenedInput | null;
}

/** Reads up to `length` bytes of `fd` from `position` (MDFAN_ERR_FEED_IO naming `file`). */
function readAt(fd: number, file: string, buf: Buffer, length: number, position: number): number {
  try {
    return readSync(fd, buf, 0, length, position);
  } catch (e) {
    throw new MdfanError(ErrorCode.FEED_IO, `cannot read ${file}: ${(e as Error).message}`, { file });
  }
}

/** gzip's two magic bytes; zstd's frame magic 0xFD2FB528 and skippable frames 0x184D2A5?, little-endian. */
function compressionOf(head: Uint8Array): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  if (head.length >= 4 && (head[0]! & 0xf0) === 0x50 && head[1] === 0x2a && head[2] === 0x4d && head[3] === 0x18) return 'zstd';
  return null;
}

/** Checks the file (a readable regular file) and whether it is compressed, before anything is made of it. */
export function probeInputFile(file: string): InputFile {
  const opened = openInputFile(file);
  const head = Buffer.alloc(4);
  let got: number;
  try {
    got = readAt(opened.fd, file, head, 4, 0);
  } catch (e) {
    closeSync(opened.fd);
    throw e;
  }
  return { file, compression: compressionOf(head.subarray(0, got)), size: opened.size, opened };
}

/** A unit for a progress bar over the file's bytes. */
export const sizeUnit = (f: InputFile): string => (f.compression ? 'compressed bytes' : 'bytes');

/**
 * What the first `length` stored bytes of the file hold, decompressed as far as they go (a prefix
 * of a compressed stream decodes to a prefix of its content) and at most `maxBytes` of it (a
 * compressed head can hold far more than it weighs); MDFAN_ERR_FEED_CORRUPT if they do not decode.
 */
export function readDecodedHead(f: InputFile, length: number, maxBytes = INPUT_DEFAULTS.maxInMemoryBytes): Buffer {
  const bytes = readInputHead(f, length);
  try {
    if (f.compression === 'gzip') return gunzipSync(bytes, { finishFlush: zc.Z_SYNC_FLUSH }).subarray(0, maxBytes); // gzip's ratio is at most ~1000:1
    if (f.compression === 'zstd') return zstdHead(bytes, maxBytes);
  } catch (e) {
    throw new MdfanError(ErrorCode.FEED_CORRUPT, `${f.file}: corrupt ${f.compression} stream (${(e as Error).message})`, { file: f.file, offset: 0 });
  }
  return bytes;
}

/** The first maxBytes (at most) of what a zstd prefix decodes to: decoding stops once they are there. */
function zstdHead(bytes: Uint8Array, maxBytes: number): Buffer {
  const parts: Uint8Array[] = [];
  let got = 0;
  const enough = new Error('enough');
  try {
    new Decompress((chunk) => {
      parts.push(chunk);
      got += chunk.length;
      if (got >= maxBytes) throw enough;
    }).push(bytes, false);
  } catch (e) {
    if (e !== enough) throw e;
  }
  return Buffer.concat(parts).subarray(0, maxBytes);
}

/** The first `length` bytes of the file, as stored (compressed, for a gzip'd file). */
export function readInputHead(f: InputFile, length: number): Buffer {
  const opened = f.opened ?? reopen(f);
  const head = Buffer.alloc(length);
  try {
    return head.subarray(0, readAt(opened.fd, f.file, head, length, 0));
  } finally {
    if (f.opened !== opened) closeSync(opened.fd);
  }
}

/** The file opened again by its path, refused unless it is still the file that was probed. */
function reopen(f: InputFile): OpenedInput {
  const again = openInputFile(f.file);
  if (f.opened === null) return again;
  if (again.dev !== f.opened.dev || again.ino !== f.opened.ino) {
    closeSync(again.fd);
    throw new MdfanError(ErrorCode.FEED_IO, `${f.file} was replaced by another file since it was checked`, { file: f.file });
  }
  return again;
}

export interface InputStream {
  /** The next chunk of the (decompressed) stream, or null at its end; throws the feed's codes. */
  next(offset: number, msgIndex: number): Promise<Buffer | null>;
  /** Bytes read from the file so far (compressed, for a gzip'd file). */
  readonly bytesRead: number;
  close(): void;
}

export function openInputStream(f: InputFile): InputStream {
  // The probe's descriptor, once: a second stream of the same input opens it again and checks it.
  const opened = f.opened ?? reopen(f);
  if (f.opened === opened) f.opened = null;
  const raw: ReadStream = createReadStream(f.file, { fd: opened.fd, start: 0, autoClose: true, highWaterMark: CHUNK_BYTES });
  const zstd = f.compression === 'zstd' ? zstdStream() : null;
  const input = f.compression === 'gzip' ? raw.pipe(createGunzip({ chunkSize: CHUNK_BYTES })) : zstd !== null ? raw.pipe(zstd.out) : raw;
  raw.on('error', (e) => input.destroy(e)); // a read error ends the iteration
  const chunks = input[Symbol.asyncIterator]();
  return {
    async next(offset, msgIndex) {
      try {
        const r = (await chunks.next()) as IteratorResult<Buffer>;
        if (!r.done) return r.value;
        const failed = zstd?.failure();
        if (failed) throw failed; // after every block decoded before it
        return null;
      } catch (e) {
        throw streamError(e, f.file, offset, msgIndex);
      }
    },
    get bytesRead() {
      return raw.bytesRead;
    },
    close() {
      input.destroy();
      raw.destroy();
    },
  };
}

/** A read or decompression error as the feed's code: a stream that stops early is truncated, the rest corrupt. */
function streamError(e: unknown, file: string, offset: number, msgIndex: number): MdfanError {
  const err = e as NodeJS.ErrnoException & { zstd?: number };
  if (err.zstd === ZSTD_ERR.EOF)
    return new MdfanError(ErrorCode.FEED_TRUNCATED, `${file}: zstd stream ends early (inside a frame) after ${offset} decompressed bytes; message index ${msgIndex}`, { file, offset, msgIndex });
  if (err.zstd !== undefined)
    return new MdfanError(ErrorCode.FEED_CORRUPT, `${file}: corrupt zstd stream (${err.message}) after ${offset} decompressed bytes; message index ${msgIndex}`, { file, offset, msgIndex, zstd: err.zstd });
  if (err.code === 'Z_BUF_ERROR' || /unexpected end of file/i.test(err.message))
    return new MdfanError(ErrorCode.FEED_TRUNCATED, `${file}: gzip stream ends early (${err.message}) after ${offset} decompressed bytes; message index ${msgIndex}`, { file, offset, msgIndex });
  if (err.code?.startsWith('Z_'))
    return new MdfanError(ErrorCode.FEED_CORRUPT, `${file}: corrupt gzip stream (${err.message}) after ${offset} decompressed bytes; message index ${msgIndex}`, { file, offset, msgIndex, zlib: err.code });
  return new MdfanError(ErrorCode.FEED_IO, `cannot read ${file}: ${err.message}`, { file, offset, msgIndex });
}

/**
 * The whole (decompressed) content of `file`, for callers that want the bytes at once; refused
 * with MDFAN_ERR_FEED_TOO_LARGE past `maxBytes`, so a gzip bomb costs at most that much memory.
 */
export async function readInput(file: string, maxBytes: number = INPUT_DEFAULTS.maxInMemoryBytes): Promise<Buffer> {
  const stream = openInputStream(probeInputFile(file));
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for (let chunk = await stream.next(0, 0); chunk !== null; chunk = await stream.next(total, 0)) {
      total += chunk.length;
      if (total > maxBytes)
        throw new MdfanError(ErrorCode.FEED_TOO_LARGE, `${file} holds more than ${maxBytes} bytes (decompressed): more than this command keeps in memory`, { file, expected: maxBytes, found: total });
      chunks.push(chunk);
    }
  } finally {
    stream.close();
  }
  return Buffer.concat(chunks, total);
}
