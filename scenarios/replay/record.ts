/**
 * Reading a reader's `--record` file (a header line, then one line per observed book:
 * `msgIndex,SYMBOL,...`, the --dump-books format) for what a stall or a restart needs: the last msgIndex observed per
 * instrument, how many lines came after a point, and where a restarted writer began again.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isBookLineHeader } from '../../lib/book-line.js';

export interface RecordScan {
  lines: number;
  /** The last observed msgIndex per symbol. */
  last: Map<string, number>;
  /** Lines with msgIndex above the given per-symbol mark (observed after that point). */
  above: number;
  /**
   * Lines after the first place msgIndex went back for a symbol: a restarted writer replays its
   * input from message 0, so these are the books of the writer that took over.
   */
  afterRestart: number;
  /** Lines with msgIndex in (from, to] per symbol (observed while another reader was stopped). */
  between: number;
}

export function scanRecord(file: string | null, marks: Map<string, number> | null = null, upTo: Map<string, number> | null = null): RecordScan {
  const out: RecordScan = { lines: 0, last: new Map(), above: 0, afterRestart: 0, between: 0 };
  if (!file || !existsSync(file)) return out;
  const text = readFileSync(file, 'latin1');
  let restarted = false;
  let pos = isBookLineHeader(text) ? text.indexOf('\n') + 1 || text.length : 0; // the column names
  while (pos < text.length) {
    let nl = text.indexOf('\n', pos);
    if (nl < 0) nl = text.length;
    const c1 = text.indexOf(',', pos);
    if (c1 > pos && c1 < nl) {
      const c2 = text.indexOf(',', c1 + 1);
      const msgIndex = Number(text.slice(pos, c1));
      const symbol = text.slice(c1 + 1, c2 > 0 && c2 < nl ? c2 : nl);
      const prev = out.last.get(symbol);
      if (restarted) out.afterRestart++;
      else if (prev !== undefined && msgIndex < prev) {
        restarted = true;
        out.afterRestart++;
      }
      const mark = marks?.get(symbol);
      if (mark !== undefined && msgIndex > mark) {
        out.above++;
        const to = upTo?.get(symbol);
        if (to !== undefined && msgIndex <= to) out.between++;
      }
      out.last.set(symbol, msgIndex);
      out.lines++;
    }
    pos = nl + 1;
  }
  return out;
}
