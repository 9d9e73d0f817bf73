/** Reading a LOBSTER pair: CSV lines (plain or gzip'd) parsed into numbers, row by row. */
import { readInputFile } from '../input-file.js';
import { basename } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { ErrorCode, MdfanError } from '../../native/segment/errors.js';

export interface LobsterPair {
  symbol: string;
  messages: string[];
  orderbook: string[];
  messageFile: string;
  orderbookFile: string;
  levels: number;
}

function lines(file: string): string[] {
  let raw = readInputFile(file);
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      raw = gunzipSync(raw);
    } catch (e) {
      throw new MdfanError(ErrorCode.FEED_CORRUPT, `${file}: corrupt gzip stream (${(e as Error).message})`, { file });
    }
  }
  const text = raw.toString('latin1');
  const out = text.split('\n');
  if (out.length > 0 && out[out.length - 1] === '') out.pop();
  return out;
}

/** Loads both files; the symbol is the file name's prefix (GOOG_2012-06-21_... -> GOOG). */
export function loadLobster(messageFile: string, orderbookFile: string): LobsterPair {
  const messages = lines(messageFile);
  const orderbook = lines(orderbookFile);
  if (messages.length !== orderbook.length)
    throw new MdfanError(ErrorCode.FEED_TRUNCATED, `${messageFile} has ${messages.length} rows but ${orderbookFile} has ${orderbook.length}: the pair must have one orderbook row per message`, {
      file: messages.length < orderbook.length ? messageFile : orderbookFile,
      msgIndex: Math.min(messages.length, orderbook.length),
    });
  const cols = orderbook.length > 0 ? orderbook[0].split(',').length : 0;
  if (cols === 0 || cols % 4 !== 0)
    throw new MdfanError(ErrorCode.FEED_CORRUPT, `${orderbookFile}: row 0 has ${cols} columns, expected 4 per level`, { file: orderbookFile, msgIndex: 0 });
  return { symbol: basename(messageFile).split('_')[0] || 'LOBSTER', messages, orderbook, messageFile, orderbookFile, levels: cols / 4 };
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
