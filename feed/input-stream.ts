/**
 * An input file as a stream of chunks, read (and gunzipped, when it starts with gzip's magic)
 * 1 MiB at a time: memory stays bounded whatever the file's size. Errors of the stream become the
 * feed's codes: a gzip stream that stops early is MDFAN_ERR_FEED_TRUNCATED, a corrupt one
 * MDFAN_ERR_FEED_CORRUPT, a read error MDFAN_ERR_FEED_IO. ITCH files are framed messages over it;
 * LOBSTER files are lines.
 */
import { closeSync, createReadStream, openSync, readSync, type ReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { ErrorCode, MdfanError } from '../native/segment/errors.js';
import { statInputFile } from './input-file.js';

/** Bytes read from the file at a time. */
export const CHUNK_BYTES = 1 << 20;

export interface InputFile {
  file: string;
  gzip: boolean;
  /** Bytes on disk (compressed, for a gzip'd file). */
  size: number;
}

/** Checks the file (a readable regular file) and whether it is gzip'd, before anything is made of it. */
export function probeInputFile(file: string): InputFile {
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
  return { file, gzip: got === 2 && head[0] === 0x1f && head[1] === 0x8b, size };
}

export interface InputStream {
  /** The next chunk of the (decompressed) stream, or null at its end; throws the feed's codes. */
  next(offset: number, msgIndex: number): Promise<Buffer | null>;
  /** Bytes read from the file so far (compressed, for a gzip'd file). */
  readonly bytesRead: number;
  close(): void;
}

export function openInputStream(f: InputFile): InputStream {
  const raw: ReadStream = createReadStream(f.file, { highWaterMark: CHUNK_BYTES });
  const input = f.gzip ? raw.pipe(createGunzip({ chunkSize: CHUNK_BYTES })) : raw;
  raw.on('error', (e) => input.destroy(e)); // a read error ends the iteration
  const chunks = input[Symbol.asyncIterator]();
  return {
    async next(offset, msgIndex) {
      try {
        const r = (await chunks.next()) as IteratorResult<Buffer>;
        return r.done ? null : r.value;
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

/** A read or gunzip error as the feed's code: a stream that stops early is truncated, the rest corrupt. */
function streamError(e: unknown, file: string, offset: number, msgIndex: number): MdfanError {
  const err = e as NodeJS.ErrnoException;
  if (err.code === 'Z_BUF_ERROR' || /unexpected end of file/i.test(err.message))
    return new MdfanError(ErrorCode.FEED_TRUNCATED, `${file}: gzip stream ends early (${err.message}) after ${offset} decompressed bytes; message index ${msgIndex}`, { file, offset, msgIndex });
  if (err.code?.startsWith('Z_'))
    return new MdfanError(ErrorCode.FEED_CORRUPT, `${file}: corrupt gzip stream (${err.message}) after ${offset} decompressed bytes; message index ${msgIndex}`, { file, offset, msgIndex, zlib: err.code });
  return new MdfanError(ErrorCode.FEED_IO, `cannot read ${file}: ${err.message}`, { file, offset, msgIndex });
}
