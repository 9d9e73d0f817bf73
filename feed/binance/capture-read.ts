/**
 * Reading a capture: one line per message, `<recv_ns> <payload as received>`, gzip'd (or plain),
 * streamed a chunk at a time so memory stays bounded whatever the file's size.
 *
 * The framing (`<digits> <payload>`) is ours: a line without it means the file is damaged, and
 * reading stops with MDFAN_ERR_FEED_CORRUPT naming the file and the line. The payload is the
 * venue's, exactly as received (garbage included): judging it is the decoder's job, which counts
 * a malformed payload and goes on, as the live source does, so a replay equals the live run.
 *
 * A capture whose writer was killed ends early: a gzip stream without its end, or a last line
 * without its newline. Every whole line before the cut is read; the cut is then a warning
 * (`truncated`), not an error: the recording up to there is good evidence.
 *
 * Text is decoded as latin1: one character per byte, so offsets are byte offsets and a line is
 * written back byte for byte (Binance's payloads are ASCII JSON).
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { createGzip } from 'node:zlib';
import { ErrorCode, MdfanError, isMdfanError } from '../../native/segment/errors.js';
import { type InputFile, type InputStream, openInputStream, probeInputFile } from '../input-stream.js';

/** One line of a capture. Reused by the reader: copy what must outlive the next line. */
export interface CaptureLine {
  /** recv_ns split so both halves are exact numbers: whole seconds since the epoch ... */
  recvSec: number;
  /** ... and the nanoseconds within that second (0..999999999). */
  recvSubNs: number;
  /** The payload exactly as received (without the line's newline). */
  payload: string;
  /** 0-based line number: the message index of a replay. */
  lineIndex: number;
  /** Byte offset of the line in the decompressed capture. */
  offsetBytes: number;
}

export const newCaptureLine = (): CaptureLine => ({ recvSec: 0, recvSubNs: 0, payload: '', lineIndex: 0, offsetBytes: 0 });

/** recv_ns of `line` as one BigInt (allocates: for people, tools and the live interface). */
export const recvNsOf = (line: CaptureLine): bigint => BigInt(line.recvSec) * 1_000_000_000n + BigInt(line.recvSubNs);

/** Digits of recv_ns a line may have (u64: 20). */
const MAX_RECV_DIGITS = 20;
const NS_DIGITS = 9;
const SPACE = 32;
const ZERO = 48;
const NINE = 57;

export class CaptureReader {
  private text = '';
  private pos = 0;
  /** Bytes of the decompressed stream before text[0]. */
  private base = 0;
  private ended = false;
  private lineIndex = 0;
  private readonly stream: InputStream;
  /** Why the capture ends early (a killed writer), once it has ended; null for a whole file. */
  truncated: string | null = null;
  /** Start and end (exclusive, no newline) in `text` of the line next() returned last. */
  private lineStart = 0;
  private lineEnd = 0;

  constructor(readonly input: InputFile) {
    this.stream = openInputStream(input);
  }

  /** Opens `file` (a regular file, gzip'd or not: MDFAN_ERR_FEED_IO otherwise). */
  static open(file: string): CaptureReader {
    return new CaptureReader(probeInputFile(file));
  }

  get file(): string {
    return this.input.file;
  }

  /** Bytes read from the file so far (compressed, for a gzip'd file). */
  get bytesRead(): number {
    return this.stream.bytesRead;
  }

  /** Lines returned so far (the next line's index). */
  get lines(): number {
    return this.lineIndex;
  }

  /** A whole line is buffered: next() returns it without a fill(). */
  ready(): boolean {
    return this.text.indexOf('\n', this.pos) >= 0;
  }

  /** No line left (after the last fill()). */
  get exhausted(): boolean {
    return this.ended && !this.ready();
  }

  /**
   * The next whole line into `out`: true, or false if none is buffered (fill(), or the end).
   * A line without `<digits> <payload>` throws MDFAN_ERR_FEED_CORRUPT naming file and line.
   */
  next(out: CaptureLine): boolean {
    const text = this.text;
    const start = this.pos;
    const nl = text.indexOf('\n', start);
    if (nl < 0) return false;
    let i = start;
    let sec = 0;
    // Seconds are every digit but the last nine; the last nine are the nanoseconds.
    let sp = start;
    while (sp < nl && text.charCodeAt(sp) !== SPACE) sp++;
    const digits = sp - start;
    if (sp === nl || digits === 0 || digits > MAX_RECV_DIGITS) this.corrupt(start, nl, digits === 0 || sp === nl ? 'no `<recv_ns> ` before the payload' : `recv_ns has ${digits} digits (at most ${MAX_RECV_DIGITS})`);
    const secEnd = sp - NS_DIGITS;
    let sub = 0;
    for (; i < sp; i++) {
      const c = text.charCodeAt(i);
      if (c < ZERO || c > NINE) this.corrupt(start, nl, 'recv_ns is not a decimal integer');
      if (i < secEnd) sec = sec * 10 + (c - ZERO);
      else sub = sub * 10 + (c - ZERO);
    }
    out.recvSec = sec;
    out.recvSubNs = sub;
    out.payload = text.slice(sp + 1, nl);
    out.lineIndex = this.lineIndex++;
    out.offsetBytes = this.base + start;
    this.lineStart = start;
    this.lineEnd = nl;
    this.pos = nl + 1;
    return true;
  }

  /** The line next() returned last, exactly as in the file (without its newline). */
  rawLine(): string {
    return this.text.slice(this.lineStart, this.lineEnd);
  }

  /** Reads the next chunk. At the end: a cut gzip stream or a cut last line sets `truncated`. */
  async fill(): Promise<void> {
    if (this.ended) return;
    let chunk: Buffer | null;
    try {
      chunk = await this.stream.next(this.base + this.pos, this.lineIndex);
    } catch (e) {
      if (!isMdfanError(e, ErrorCode.FEED_TRUNCATED)) throw e;
      this.truncated = `${this.file}: the gzip stream ends early (a capture that was not closed): read up to that point`;
      chunk = null;
    }
    if (chunk === null) {
      this.ended = true;
      const rest = this.text.length - this.pos;
      if (rest > 0) {
        const cut = `its last line (line ${this.lineIndex}, ${rest} bytes) has no newline: dropped as cut off`;
        this.truncated = this.truncated === null ? `${this.file}: ${cut}` : `${this.truncated}; ${cut}`;
        this.base += this.text.length;
        this.text = '';
        this.pos = 0;
      }
      return;
    }
    this.base += this.pos;
    this.text = this.text.slice(this.pos) + chunk.toString('latin1');
    this.pos = 0;
  }

  close(): void {
    this.stream.close();
  }

  private corrupt(start: number, nl: number, why: string): never {
    const line = this.lineIndex;
    const shown = this.text.slice(start, Math.min(nl, start + 60));
    throw new MdfanError(ErrorCode.FEED_CORRUPT, `${this.file}: line ${line} (byte offset ${this.base + start}): ${why}; a capture line is \`<recv_ns> <payload>\` (found ${JSON.stringify(shown)})`, {
      file: this.file,
      msgIndex: line,
      offset: this.base + start,
      field: 'recv_ns',
    });
  }
}

/**
 * Every line of `file`, in order, into one reused CaptureLine (for tools and tests). A cut end is
 * passed to `onTruncated` (default: ignored; the lines before it are all yielded).
 */
export async function* readCapture(file: string, onTruncated?: (why: string) => void): AsyncGenerator<CaptureLine> {
  const r = CaptureReader.open(file);
  const line = newCaptureLine();
  try {
    for (;;) {
      while (r.next(line)) yield line;
      if (r.exhausted) break;
      await r.fill();
    }
    if (r.truncated !== null) onTruncated?.(r.truncated);
  } finally {
    r.close();
  }
}

/** Whether line a (sec, ns) is received before line b. */
const earlier = (a: CaptureLine, b: CaptureLine): boolean => a.recvSec < b.recvSec || (a.recvSec === b.recvSec && a.recvSubNs < b.recvSubNs);

/**
 * Merges captures by recv_ns into `out` (gzip'd when it ends in .gz): stable, a tie keeps the
 * files' order, lines copied byte for byte. Merging the per-stream files of a recording gives the
 * recording back. Returns the lines written and any truncation warnings of the inputs.
 */
export async function mergeCaptures(files: readonly string[], out: string): Promise<{ lines: number; truncated: string[] }> {
  const readers = files.map((f) => CaptureReader.open(f));
  const heads = readers.map(() => newCaptureLine());
  const has = readers.map(() => false);
  const sink = createWriteStream(out);
  const gz = out.endsWith('.gz') ? createGzip() : null;
  if (gz) gz.pipe(sink);
  const w = gz ?? sink;
  const failed = new Promise<never>((_, reject) => {
    sink.on('error', reject);
    gz?.on('error', reject);
  });
  failed.catch(() => {}); // observed below, where it matters
  let lines = 0;
  const pending: string[] = [];
  let pendingBytes = 0;
  const flush = async (): Promise<void> => {
    if (pending.length === 0) return;
    const ok = w.write(Buffer.from(pending.join(''), 'latin1'));
    pending.length = 0;
    pendingBytes = 0;
    if (!ok) await Promise.race([once(w, 'drain'), failed]);
  };
  try {
    const advance = async (k: number): Promise<void> => {
      const r = readers[k]!;
      for (;;) {
        if (r.next(heads[k]!)) {
          has[k] = true;
          return;
        }
        if (r.exhausted) {
          has[k] = false;
          return;
        }
        await r.fill();
      }
    };
    for (let k = 0; k < readers.length; k++) await advance(k);
    for (;;) {
      let best = -1;
      for (let k = 0; k < readers.length; k++) if (has[k] && (best < 0 || earlier(heads[k]!, heads[best]!))) best = k;
      if (best < 0) break;
      const raw = `${readers[best]!.rawLine()}\n`;
      pending.push(raw);
      pendingBytes += raw.length;
      lines++;
      if (pendingBytes > 1 << 20) await flush();
      await advance(best);
    }
    await flush();
    w.end();
    await Promise.race([once(sink, 'close'), failed]);
  } finally {
    for (const r of readers) r.close();
    if (!sink.closed) sink.destroy();
  }
  return { lines, truncated: readers.flatMap((r) => (r.truncated === null ? [] : [r.truncated])) };
}
