/**
 * Captures for the Binance tests, built from the recordings in ../shared/data/crypto (split per
 * stream; merged by recv_ns they are the recording), with optional damage for fault tests: lines
 * dropped, duplicated, replaced or inserted, the payload of a line edited, the gzip cut short.
 * Everything is written under a directory the caller owns and removes.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { mergeCaptures } from '../../feed/binance/capture-read.js';
import { repoRoot } from './paths.js';

/** The recordings (read-only, outside the repository). */
export const CRYPTO_DATA = process.env.MDFAN_CRYPTO_DATA ?? join(repoRoot, '..', 'shared', 'data', 'crypto');

export const CRYPTO_SETS = Object.freeze({
  cm: { prefix: 'cm-BTCUSD_PERP-2024-08-08', kind: 'binance-coinm', sequencing: 'futures', symbol: 'BTCUSD_PERP' },
  spot: { prefix: 'spot-BTCUSDT-2024-08-08', kind: 'binance-spot', sequencing: 'spot', symbol: 'BTCUSDT' },
} as const);
export type CryptoSet = keyof typeof CRYPTO_SETS;

export const STREAM_FILES = ['depth', 'snapshot', 'trade', 'bookTicker'] as const;

/** The set's per-stream files, in the order merged. */
export const setFiles = (set: CryptoSet): string[] => STREAM_FILES.map((s) => join(CRYPTO_DATA, `${CRYPTO_SETS[set].prefix}.${s}.gz`));

/** The whole recording of `set`, merged into dir (gzip'd), once per dir. */
export async function mergedCapture(set: CryptoSet, dir: string): Promise<string> {
  const out = join(dir, `${CRYPTO_SETS[set].prefix}.capture.gz`);
  if (!existsSync(out)) await mergeCaptures(setFiles(set), out);
  return out;
}

export interface CaptureEdits {
  /** Keep only the first `lines` lines. */
  lines?: number;
  /** Line indexes (of the original) to leave out. */
  drop?: number[];
  /** Line indexes to write twice. */
  duplicate?: number[];
  /** Lines written before original line k: [k, text of the whole line]. */
  insert?: [number, string][];
  /** Original line k's payload through a function. */
  edit?: [number, (payload: string) => string][];
  /** Original line k moved to just after original line j: [k, j]. */
  move?: [number, number][];
  /** Keep this fraction of the gzip'd bytes (a killed recorder). */
  cutFraction?: number;
  /** Write it uncompressed. */
  plain?: boolean;
}

/** The lines of a capture (gzip'd or not), without their newlines. */
export function captureLines(file: string): string[] {
  let bytes = readFileSync(file);
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = gunzipSync(bytes);
  const text = bytes.toString('latin1');
  return text.slice(0, text.lastIndexOf('\n')).split('\n');
}

/** A capture made from `source` with `edits`, written to `out`; returns out. */
export function editCapture(source: string, out: string, edits: CaptureEdits = {}): string {
  let lines = captureLines(source);
  if (edits.lines !== undefined) lines = lines.slice(0, edits.lines);
  const drop = new Set(edits.drop ?? []);
  const dup = new Set(edits.duplicate ?? []);
  const inserts = new Map(edits.insert ?? []);
  const editsBy = new Map(edits.edit ?? []);
  const moved = new Map((edits.move ?? []).map(([k, j]) => [j, k]));
  const movedFrom = new Set((edits.move ?? []).map(([k]) => k));
  const outLines: string[] = [];
  const emit = (k: number): void => {
    let line = lines[k]!;
    const f = editsBy.get(k);
    if (f) {
      const sp = line.indexOf(' ');
      line = `${line.slice(0, sp)} ${f(line.slice(sp + 1))}`;
    }
    outLines.push(line);
    if (dup.has(k)) outLines.push(line);
  };
  for (let k = 0; k < lines.length; k++) {
    const ins = inserts.get(k);
    if (ins !== undefined) outLines.push(ins);
    if (!drop.has(k) && !movedFrom.has(k)) emit(k);
    const m = moved.get(k);
    if (m !== undefined) emit(m);
  }
  const text = Buffer.from(`${outLines.join('\n')}\n`, 'latin1');
  let bytes = edits.plain ? text : gzipSync(text);
  if (edits.cutFraction !== undefined) bytes = bytes.subarray(0, Math.floor(bytes.length * edits.cutFraction));
  writeFileSync(out, bytes);
  return out;
}

/** The index of the first line of `file` whose payload matches `re` at or after `from`. */
export function findLine(file: string, re: RegExp, from = 0): number {
  const lines = captureLines(file);
  for (let k = from; k < lines.length; k++) if (re.test(lines[k]!)) return k;
  throw new Error(`no line of ${file} matches ${re}`);
}

/** Runs the Python oracle on `captures` (merged); returns its dump's text and its summary. */
export function runOracle(set: CryptoSet, captures: string[], out: string, levels: number, decimals = 8, sizeDecimals = decimals): { dump: string; summary: Record<string, number> & { past_edge_indexes?: number[]; reanchor_indexes?: number[] }; topLines: string } {
  const r = spawnSync(
    'python3',
    [
      join(repoRoot, 'test', 'helpers', 'binance_oracle.py'),
      '--venue',
      CRYPTO_SETS[set].sequencing,
      '--levels',
      String(levels),
      '--price-decimals',
      String(decimals),
      '--size-decimals',
      String(sizeDecimals),
      '--out',
      out,
      '--top-line',
      `${out}.top`,
      '--summary',
      `${out}.json`,
      ...captures,
    ],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`the oracle failed (${r.status}): ${r.stderr}`);
  return { dump: readFileSync(out, 'latin1'), summary: JSON.parse(readFileSync(`${out}.json`, 'utf8')), topLines: readFileSync(`${out}.top`, 'latin1') };
}
