/**
 * The one text form of a book, shared by `mdfan feed --dump-books`, `mdfan read --record` and
 * native/examples/read_book.c: `msgIndex,SYMBOL,ask1px,ask1size,bid1px,bid1size,...` for N levels
 * in LOBSTER's column order, empty levels as `9999999999,0` (ask) and `-9999999999,0` (bid),
 * prices as integers in the feed's units. Not a hot path (one string per line by nature).
 *
 * A `mdfan read --record` file starts with a header line naming the columns (bookLineHeader);
 * readBookLines() and anything else reading such files skip it (isBookLineHeader).
 * `mdfan read --print` writes formatBookText(): the same book for people.
 */
import { readFileSync } from 'node:fs';
import type { LevelSource } from '../native/segment/seqlock.js';

export const EMPTY_ASK = '9999999999,0';
export const EMPTY_BID = '-9999999999,0';

export function formatBookLine(msgIndex: number, symbol: string, book: LevelSource, levels: number): string {
  let line = `${msgIndex},${symbol}`;
  const bc = Math.min(book.bidCount, levels);
  const ac = Math.min(book.askCount, levels);
  for (let l = 0; l < levels; l++) {
    line += l < ac ? `,${book.asks[l * 3]},${book.asks[l * 3 + 1]}` : `,${EMPTY_ASK}`;
    line += l < bc ? `,${book.bids[l * 3]},${book.bids[l * 3 + 1]}` : `,${EMPTY_BID}`;
  }
  return line;
}

/** The first column's name in a record file's header line. */
const HEADER_FIRST = 'msg_index,';

/** The header line of a record file of `levels` levels, in LOBSTER's column order and names. */
export function bookLineHeader(levels: number): string {
  let line = 'msg_index,symbol';
  for (let l = 1; l <= levels; l++) line += `,ask_price_${l},ask_size_${l},bid_price_${l},bid_size_${l}`;
  return line;
}

/** Whether the line starting at `pos` of `text` is a record file's header line. */
export const isBookLineHeader = (text: string, pos = 0): boolean => text.startsWith(HEADER_FIRST, pos);

/** The book lines of a record (or dump) file: its header line, if any, skipped. */
export function readBookLines(file: string): string[] {
  const text = readFileSync(file, 'latin1').trim();
  if (text === '') return [];
  const lines = text.split('\n');
  return isBookLineHeader(lines[0] ?? '') ? lines.slice(1) : lines;
}

/** HH:MM:SS.uuuuuu of a time in ns: ITCH and LOBSTER count from midnight, crypto venues from the epoch (UTC). */
function timeOfDay(ns: number): string {
  const us = Math.floor(ns / 1000);
  const s = Math.floor(us / 1e6);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${two(Math.floor(s / 3600) % 24)}:${two(Math.floor(s / 60) % 60)}:${two(s % 60)}.${String(us % 1e6).padStart(6, '0')}`;
}

/**
 * A book for people (`mdfan read --print`): symbol, input message, exchange time, then each level
 * as size @ price in currency units, best first, bids and asks side by side, and the spread.
 * `GOOG #1234 09:30:00.000123 bid 100 @ 585.33, 200 @ 585.30 | ask 300 @ 585.50 | spread 0.17`
 */
export function formatBookText(symbol: string, msgIndex: number, exchangeTsNs: number, book: LevelSource, levels: number, priceScale: number, sizeScale = 1): string {
  const decimals = Math.max(0, Math.round(Math.log10(priceScale)));
  const sizeDecimals = Math.max(0, Math.round(Math.log10(sizeScale)));
  const px = (p: number): string => (p / priceScale).toFixed(decimals);
  const sz = (s: number): string => (sizeDecimals === 0 ? String(s) : (s / sizeScale).toFixed(sizeDecimals));
  const side = (lv: Float64Array, count: number): string => {
    const n = Math.min(count, levels);
    if (n === 0) return 'none';
    let t = '';
    for (let l = 0; l < n; l++) t += `${l ? ', ' : ''}${sz(lv[l * 3 + 1] ?? 0)} @ ${px(lv[l * 3] ?? 0)}`;
    return t;
  };
  const spread = book.bidCount > 0 && book.askCount > 0 ? px((book.asks[0] ?? 0) - (book.bids[0] ?? 0)) : '-';
  return `${symbol} #${msgIndex} ${timeOfDay(exchangeTsNs)} bid ${side(book.bids, book.bidCount)} | ask ${side(book.asks, book.askCount)} | spread ${spread}`;
}
