/** The GOOG-day oracle: rows of `itch_message_index,<40 LOBSTER orderbook values>`. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DBN_DATA, repoRoot } from './paths.js';

export const GOOG_ITCH = join(repoRoot, 'scenarios', 'data', 'itch', 'GOOG-2012-06-21.itch.gz');
/** Every trade and trading action of GOOG_ITCH, from an independent decoder (mdfan read --record-events format). */
export const GOOG_EVENTS = join(repoRoot, 'scenarios', 'data', 'itch', 'GOOG-2012-06-21.events.csv.gz');
export const GOOG_ORACLE = join(repoRoot, 'scenarios', 'data', 'itch', 'GOOG-2012-06-21.expected.csv.gz');
/** The same day as DBN MBO records (v3, zstd), and its oracle keyed by DBN record index, prices at 1e-9. */
export const GOOG_DBN = join(DBN_DATA, 'GOOG-2012-06-21.mbo.dbn.zst');
export const GOOG_DBN_ORACLE = join(DBN_DATA, 'GOOG-2012-06-21.mbo.expected.csv.gz');

export interface OracleRow {
  index: number;
  /** The 40 values as text, exactly as a dump line carries them after `msgIndex,SYMBOL,`. */
  levels: string;
}

const cached = new Map<string, OracleRow[]>();
export function oracle(file = GOOG_ORACLE): OracleRow[] {
  const have = cached.get(file);
  if (have) return have;
  const rows = gunzipSync(readFileSync(file))
    .toString('latin1')
    .trim()
    .split('\n')
    .map((l) => {
      const c = l.indexOf(',');
      return { index: Number(l.slice(0, c)), levels: l.slice(c + 1) };
    });
  cached.set(file, rows);
  return rows;
}

/**
 * Checks every oracle checkpoint against dump lines (emitted on change only): the book at index i
 * is the last line with msgIndex <= i. Returns the mismatches (at most 5) and how many were checked.
 */
export function checkDumpAgainstOracle(dumpText: string, symbol = 'GOOG', rows = oracle()): { checked: number; bad: string[] } {
  const lines = dumpText.trim().split('\n');
  const bad: string[] = [];
  let li = -1;
  let checked = 0;
  for (const row of rows) {
    while (li + 1 < lines.length && Number(lines[li + 1].slice(0, lines[li + 1].indexOf(','))) <= row.index) li++;
    const line = li >= 0 ? lines[li] : '';
    const prefixEnd = line.indexOf(',', line.indexOf(',') + 1);
    const sym = line.slice(line.indexOf(',') + 1, prefixEnd);
    if (sym !== symbol || line.slice(prefixEnd + 1) !== row.levels) {
      if (bad.length < 5) bad.push(`checkpoint ${row.index}: book ${line.slice(0, 120)} vs oracle ${row.levels.slice(0, 100)}`);
    }
    checked++;
  }
  return { checked, bad };
}
