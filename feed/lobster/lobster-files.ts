/**
 * Reading a LOBSTER pair: CSV lines (plain or gzip'd), streamed row by row (memory stays bounded
 * whatever the files' size), parsed into numbers.
 */
import { basename } from 'node:path';
import { ErrorCode, MdfanError } from '../../native/segment/errors.js';
import { type InputFile, type InputStream, openInputStream, probeInputFile, readDecodedHead } from '../input-stream.js';

export interface LobsterPair {
  symbol: string;
  messages: InputFile;
  orderbook: InputFile;
  messageFile: string;
  orderbookFile: string;
  levels: number;
}

/** Bytes read to find the first orderbook row (its column count gives the levels). */
const FIRST_ROW_BYTES = 64 * 1024;

/** The first line of `f` (decompressed from its first bytes when compressed). */
function firstLine(f: InputFile): string {
  const bytes = readDecodedHead(f, FIRST_ROW_BYTES); // the probe's descriptor: never the path again
  const text = bytes.toString('latin1');
  const nl = text.indexOf('\n');
  return nl < 0 ? text : text.slice(0, nl);
}

/**
 * Checks both files (readable regular files) and reads the orderbook's first row for the depth,
 * before any segment exists; the symbol is the file name's prefix (GOOG_2012-06-21_... -> GOOG).
 */
export function probeLobster(messageFile: string, orderbookFile: string): LobsterPair {
  const messages = probeInputFile(messageFile);
  const orderbook = probeInputFile(orderbookFile);
  const row0 = firstLine(orderbook);
  const cols = row0 === '' ? 0 : row0.split(',').length;
  if (cols === 0 || cols % 4 !== 0)
    throw new MdfanError(ErrorCode.FEED_CORRUPT, `${orderbookFile}: row 0 has ${cols} columns, expected 4 per level`, { file: orderbookFile, msgIndex: 0 });
  return { symbol: basename(messageFile).split('_')[0] || 'LOBSTER', messages, orderbook, messageFile, orderbookFile, levels: cols / 4 };
}

/** The rows of one file, as they stream in: ready() / peek() / skip(), and fill() for more. */
export class RowStream {
  private text = '';
  private pos = 0;
  /** Characters (bytes, latin1) of the stream before text[0]. */
  private base = 0;
  private ended = false;
  private readonly stream: InputStream;

  constructor(readonly input: InputFile) {
    this.stream = openInputStream(input);
  }

  /** A whole row is buffered (or the last one, without a newline, at the end). */
  ready(): boolean {
    return this.text.indexOf('\n', this.pos) >= 0 || (this.ended && this.pos < this.text.length);
  }

  /** The next row (ready() must be true), not taken. */
  peek(): string {
    const nl = this.text.indexOf('\n', this.pos);
    return nl < 0 ? this.text.slice(this.pos) : this.text.slice(this.pos, nl);
  }

  /** Takes the row peek() gave. */
  skip(): void {
    const nl = this.text.indexOf('\n', this.pos);
    this.pos = nl < 0 ? this.text.length : nl + 1;
  }

  /** No row left. */
  get exhausted(): boolean {
    return this.ended && this.pos >= this.text.length;
  }

  get bytesRead(): number {
    return this.stream.bytesRead;
  }

  /** Reads the next chunk (row `row` is the next to come, for an error's facts). */
  async fill(row: number): Promise<void> {
    if (this.ended) return;
    const chunk = await this.stream.next(this.base + this.pos, row);
    if (chunk === null) this.ended = true;
    else {
      this.base += this.pos;
      this.text = this.text.slice(this.pos) + chunk.toString('latin1');
      this.pos = 0;
    }
  }

  close(): void {
    this.stream.close();
  }
}

/** Parses `line` (row `index` of `file`) into `out` (exactly out.length numeric columns). */
export function parseRow(line: string, out: Float64Array, file: string, index: number): void {
  let start = 0;
  for (let c = 0; c < out.length; c++) {
    let end = line.indexOf(',', start);
    if (end < 0) end = line.length;
    const v = Number(line.slice(start, end));
    if (end === start || !Number.isFinite(v))
      throw new MdfanError(ErrorCode.FEED_CORRUPT, `${file}: row ${index}, column ${c + 1}: not a number (${JSON.stringify(line.slice(start, end))})`, { file, msgIndex: index, field: `column ${c + 1}` });
    out[c] = v;
    start = end + 1;
    if (end === line.length && c < out.length - 1)
      throw new MdfanError(ErrorCode.FEED_TRUNCATED, `${file}: row ${index} has ${c + 1} columns, expected ${out.length}`, { file, msgIndex: index });
  }
}
