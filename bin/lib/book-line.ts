/**
 * The one text form of a book, shared by `mdfan feed --dump-books`, `mdfan read --record` and
 * native/examples/read_book.c: `msgIndex,SYMBOL,ask1px,ask1size,bid1px,bid1size,...` for N levels
 * in LOBSTER's column order, empty levels as `9999999999,0` (ask) and `-9999999999,0` (bid),
 * prices as integers in the feed's units. Not a hot path (one string per line by nature).
 */
import type { LevelSource } from '../../native/segment/seqlock.js';

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
