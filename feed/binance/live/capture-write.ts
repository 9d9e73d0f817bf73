/**
 * Writing a capture: a gzip file, one line per message, `<recv_ns> <payload as received>` (the
 * format capture-read.ts reads, and hftbacktest's collector writes). The file is at its name from
 * the start (lib/out-file.ts, openGrowingOutputFile) and the gzip stream is sync-flushed at least
 * every flushMs and every flushLines lines, so a capture killed by SIGKILL leaves a file that
 * decompresses up to its last flush (the reader takes the cut end as a warning); a closed capture
 * is a whole gzip file.
 *
 * A payload is written byte for byte, except a line break inside one (never in Binance's JSON,
 * possible in garbage): it would split the line, so CR and LF become spaces (counted; JSON means
 * the same with either).
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { constants, createGzip, type Gzip } from 'node:zlib';
import { type GrowingOutputFile, openGrowingOutputFile, outputError } from '../../../lib/out-file.js';

export const CAPTURE_WRITE_DEFAULTS = Object.freeze({
  /** A killed capture loses at most this much of the recording, ms. */
  flushMs: 100,
  /** ... or this many lines, whichever comes first. */
  flushLines: 1000,
});

export interface CaptureWriteOptions {
  flushMs?: number;
  flushLines?: number;
}

const LINE_BREAK = /[\r\n]/g;

export class CaptureWriter {
  /** Lines written. */
  lines = 0;
  /** Payloads whose line breaks became spaces. */
  rewritten = 0;
  /** Sync flushes made. */
  flushes = 0;
  private readonly out: GrowingOutputFile;
  private readonly gz: Gzip;
  private readonly sink: WriteStream;
  private readonly timer: NodeJS.Timeout;
  private unflushed = 0;
  private readonly flushLines: number;
  private error: Error | null = null;
  private closed = false;

  private constructor(
    readonly file: string,
    o: CaptureWriteOptions,
  ) {
    this.out = openGrowingOutputFile(file);
    this.flushLines = o.flushLines ?? CAPTURE_WRITE_DEFAULTS.flushLines;
    this.gz = createGzip();
    this.sink = createWriteStream('', { fd: this.out.fd, autoClose: false });
    const fail = (e: Error): void => {
      this.error ??= outputError(e, file);
    };
    this.gz.on('error', fail);
    this.sink.on('error', fail);
    this.gz.pipe(this.sink);
    this.timer = setInterval(() => this.flush(), o.flushMs ?? CAPTURE_WRITE_DEFAULTS.flushMs);
  }

  /** Creates `file` (a new name or a regular file, replaced: lib/out-file.ts's rules and errors). */
  static open(file: string, o: CaptureWriteOptions = {}): CaptureWriter {
    return new CaptureWriter(file, o);
  }

  /** The first write error (MDFAN_ERR_NO_SPACE, ...), or null: the caller stops on one. */
  get failed(): Error | null {
    return this.error;
  }

  /** One line: `recvNs` (ns since the epoch) and the payload as received. */
  write(recvNs: bigint, payload: string): void {
    if (this.closed) return;
    let p = payload;
    if (p.includes('\n') || p.includes('\r')) {
      p = p.replace(LINE_BREAK, ' ');
      this.rewritten++;
    }
    this.gz.write(`${recvNs} ${p}\n`);
    this.lines++;
    if (++this.unflushed >= this.flushLines) this.flush();
  }

  /** Makes every line so far decompressible from the file (a gzip sync flush). */
  flush(): void {
    if (this.unflushed === 0 || this.closed) return;
    this.unflushed = 0;
    this.flushes++;
    this.gz.flush(constants.Z_SYNC_FLUSH);
  }

  /** Ends the gzip stream, syncs and closes the file; throws the first write error. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    await new Promise<void>((resolve) => {
      this.sink.once('finish', resolve);
      this.sink.once('error', () => resolve());
      this.gz.end();
    });
    try {
      this.out.close();
    } catch (e) {
      this.error ??= outputError(e, this.file);
    }
    if (this.error) throw this.error;
  }
}
