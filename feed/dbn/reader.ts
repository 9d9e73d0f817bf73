/**
 * A DBN stream, read as it comes: the prelude and metadata first, then records, each as long as
 * its header's first byte says (in 4-byte words), over the chunks of an input stream (plain or
 * zstd, feed/input-stream.ts). Nothing is buffered whole: memory is one chunk and one record carried
 * across a chunk boundary. Every length is checked before a byte of the record is read; bad input
 * is MDFAN_ERR_FEED_CORRUPT naming the file, the byte offset in the (decompressed) stream and the
 * record index, and nothing past it is returned.
 *
 * Record index: the 0-based position of a record after the metadata (what --dump-books names).
 */
import { closeSync } from 'node:fs';
import { ErrorCode, MdfanError } from '../../native/segment/errors.js';
import { HEADER, LENGTH_UNIT_BYTES, layoutOf } from '../../lib/dbn/fields.js';
import { type DbnMetadata, METADATA, SKIPPABLE_FRAME, decodeMetadata, decodePrelude, legacyDbz } from '../../lib/dbn/metadata.js';
import { type InputFile, type InputStream, openInputStream, readInputHead } from '../input-stream.js';

/** Where a record is: `buf[at, at + bytes)`. Reused: valid until the next call. */
export interface RecordView {
  buf: Buffer;
  at: number;
  bytes: number;
  rtype: number;
}

export interface DbnReaderOptions {
  /** A fragment (records without metadata) of this DBN version; default: the stream starts with metadata. */
  fragmentVersion?: number;
}

export class DbnReader {
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;
  /** Stream bytes before buf[0]. */
  private base = 0;
  private stream: InputStream | null = null;
  private ended = false;
  /** Records are being read (the metadata is behind): a stream that ends inside one is a cut record. */
  private inRecords = false;
  metadata: DbnMetadata | null = null;
  version = 0;
  /** Bytes of metadata (prelude included): records start here. */
  recordsOffset = 0;
  /** Index of the next record. */
  recordIndex = 0;
  readonly file: string;

  constructor(
    private readonly input: InputFile,
    private readonly opts: DbnReaderOptions = {},
  ) {
    this.file = input.file;
  }

  /** Stream offset of the next record. */
  get offset(): number {
    return this.base + this.pos;
  }

  /** Bytes read from the file (compressed, for a compressed file). */
  get bytesRead(): number {
    return this.stream?.bytesRead ?? 0;
  }

  /** Opens the stream and reads the metadata (a fragment has none). Refuses legacy DBZ by its first bytes. */
  async open(): Promise<DbnMetadata | null> {
    const head = readInputHead(this.input, 4);
    if (head.length === 4 && (head.readUInt32LE(0) & 0xfffffff0) === SKIPPABLE_FRAME) throw legacyDbz(this.file); // DBZ starts with a skippable frame
    this.stream = openInputStream(this.input);
    if (this.opts.fragmentVersion !== undefined) {
      this.version = this.opts.fragmentVersion;
      this.inRecords = true;
      return null;
    }
    await this.want(METADATA.preludeBytes, 'the prelude');
    const { version, length } = decodePrelude(this.buf.subarray(this.pos), this.file);
    await this.want(METADATA.preludeBytes + length, `the metadata (its length says ${length} bytes)`);
    this.metadata = decodeMetadata(version, this.buf.subarray(this.pos + METADATA.preludeBytes, this.pos + METADATA.preludeBytes + length), this.file);
    this.version = version;
    this.pos += METADATA.preludeBytes + length;
    this.recordsOffset = this.offset;
    this.inRecords = true;
    return this.metadata;
  }

  /** Buffers at least n bytes from pos, or says the stream ends inside `what`. */
  private async want(n: number, what: string): Promise<void> {
    while (this.buf.length - this.pos < n) {
      if (!(await this.fill()))
        throw new MdfanError(ErrorCode.FEED_CORRUPT, `${this.file}: the stream ends inside ${what}: ${n} bytes needed at byte offset ${this.offset}, ${this.buf.length - this.pos} there`, {
          file: this.file,
          offset: this.offset,
          expected: n,
          found: this.buf.length - this.pos,
        });
    }
  }

  /**
   * The next whole record into `out` (true), or false when the buffer holds none: call fill().
   * Throws for an impossible length (shorter than a header, or than the record type's layout).
   */
  next(out: RecordView): boolean {
    const buf = this.buf;
    const pos = this.pos;
    if (pos >= buf.length) return false;
    const bytes = buf[pos]! * LENGTH_UNIT_BYTES;
    if (bytes < HEADER.bytes) this.corrupt(`record length ${bytes} bytes (${buf[pos]} words) is shorter than a record header (${HEADER.bytes})`, 'length', bytes);
    if (pos + bytes > buf.length) return false;
    const rtype = buf[pos + HEADER.rtype]!;
    const layout = layoutOf(rtype, this.version);
    if (layout !== null && bytes < layout.bytes)
      this.corrupt(`record length ${bytes} bytes is shorter than a DBN v${this.version} ${layout.struct} (${layout.bytes})`, 'length', bytes);
    out.buf = buf;
    out.at = pos;
    out.bytes = bytes;
    out.rtype = rtype;
    this.pos = pos + bytes;
    this.recordIndex++;
    return true;
  }

  /** Reads the next chunk (false at the end of the stream, after checking nothing is left half a record). */
  async fill(): Promise<boolean> {
    if (this.ended || this.stream === null) return false;
    let chunk: Buffer | null;
    try {
      chunk = await this.stream.next(this.offset, this.recordIndex);
    } catch (e) {
      // A compressed stream cut inside a frame is a bad frame: for DBN, as every damage, corrupt.
      if (e instanceof MdfanError && e.code === ErrorCode.FEED_TRUNCATED) throw new MdfanError(ErrorCode.FEED_CORRUPT, e.reason, e.details);
      throw e;
    }
    if (chunk === null) {
      this.ended = true;
      // Inside the prelude or metadata, want() says so: no record was started.
      if (this.inRecords && this.pos < this.buf.length) {
        const left = this.buf.length - this.pos;
        const bytes = this.buf[this.pos]! * LENGTH_UNIT_BYTES;
        this.corrupt(`the stream ends inside a record: its length says ${bytes} bytes, ${left} are there`, 'length', bytes);
      }
      return false;
    }
    this.base += this.pos;
    this.buf = this.pos < this.buf.length ? Buffer.concat([this.buf.subarray(this.pos), chunk]) : chunk;
    this.pos = 0;
    return true;
  }

  /** True once the stream ended (and every record was taken). */
  get done(): boolean {
    return this.ended && this.pos >= this.buf.length;
  }

  private corrupt(why: string, field: string, found: number): never {
    throw new MdfanError(ErrorCode.FEED_CORRUPT, `${this.file}: record ${this.recordIndex} at byte offset ${this.offset}: ${why}`, {
      file: this.file,
      offset: this.offset,
      msgIndex: this.recordIndex,
      field,
      found,
    });
  }

  close(): void {
    this.stream?.close();
    // Refused before a stream took the probe's descriptor (legacy DBZ): nothing else will close it.
    if (this.stream === null && this.input.opened !== null) {
      closeSync(this.input.opened.fd);
      this.input.opened = null;
    }
  }
}
