/**
 * Databento's DBN conformance samples (../shared/data/dbn/samples) and their expected values
 * (expected.json), plus a field-exact comparison that counts what it compared.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import { decompress } from 'fzstd';
import type { DbnMetadata } from '../../lib/dbn/metadata.js';

export { DBN_DATA, DBN_SAMPLES } from './paths.js';
import { DBN_SAMPLES } from './paths.js';

/** expected.json's conventions: 64-bit integers as decimal strings, chars one-letter strings. */
export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export interface SampleExpectation {
  bytes: number;
  sha256: string;
  zstd: boolean;
  /** Present when a decoder must refuse the file. */
  error?: string;
  /** A fragment: records of this version without metadata. */
  fragment_version?: number;
  decompressed_bytes?: number;
  record_count?: number;
  metadata?: { [k: string]: Json } | null;
  records?: { [k: string]: Json }[];
}

export function loadExpectations(): Record<string, SampleExpectation> {
  return (JSON.parse(readFileSync(join(DBN_SAMPLES, 'expected.json'), 'utf8')) as { files: Record<string, SampleExpectation> }).files;
}

/** A decoded value in expected.json's terms: bigints as decimal strings, the rest as is. */
export const toJson = (v: unknown): Json =>
  typeof v === 'bigint'
    ? v.toString()
    : Array.isArray(v)
      ? v.map(toJson)
      : v !== null && typeof v === 'object'
        ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toJson(x)]))
        : (v as Json);

/** Metadata in expected.json's names and types (snake_case, ts_out 0/1). */
export const metadataJson = (m: DbnMetadata): Json =>
  toJson({
    version: m.version,
    dataset: m.dataset,
    schema: m.schema,
    start: m.start,
    end: m.end,
    limit: m.limit,
    stype_in: m.stypeIn,
    stype_out: m.stypeOut,
    ts_out: m.tsOut ? 1 : 0,
    symbol_cstr_len: m.symbolCstrLen,
    symbols: m.symbols,
    partial: m.partial,
    not_found: m.notFound,
    mappings: m.mappings.map((x) => ({ raw_symbol: x.rawSymbol, intervals: x.intervals.map((i) => ({ start_date: i.startDate, end_date: i.endDate, symbol: i.symbol })) })),
    padding: m.padding,
  });

/**
 * DBN v1 metadata's record_count (u64 after `limit`, stream bytes 50..58): DbnMetadata drops it, as
 * DBN's own upgrade to v2 does, so it is read from the file here for expected.json's v1 field.
 */
export function v1RecordCount(file: Buffer, zstd: boolean): string {
  const b = zstd ? Buffer.from(decompress(file)) : file;
  assert.is(b[3], 1, 'a DBN v1 stream');
  return b.readBigUInt64LE(8 + 16 + 2 + 3 * 8).toString();
}

/**
 * Compares every leaf of `expected` with the same path in `got` (same type, same value) and
 * fails on a key or element `got` has that `expected` lacks. Returns the number of leaves compared.
 */
export function compareExact(got: Json, expected: Json, where: string): number {
  if (expected === null || typeof expected !== 'object') {
    assert.is(got, expected, `${where}: decoded ${JSON.stringify(got)}, expected ${JSON.stringify(expected)}`);
    return 1;
  }
  if (Array.isArray(expected)) {
    assert.ok(Array.isArray(got), `${where}: decoded ${JSON.stringify(got)}, expected an array`);
    const g = got as Json[];
    assert.is(g.length, expected.length, `${where}: ${g.length} elements decoded, ${expected.length} expected`);
    let n = 0;
    expected.forEach((e, i) => {
      n += compareExact(g[i]!, e, `${where}[${i}]`);
    });
    return n;
  }
  assert.ok(got !== null && typeof got === 'object' && !Array.isArray(got), `${where}: decoded ${JSON.stringify(got)}, expected an object`);
  const g = got as { [k: string]: Json };
  for (const k of Object.keys(g)) assert.ok(k in expected, `${where}.${k}: decoded (${JSON.stringify(g[k])}) but not in the expectation`);
  let n = 0;
  for (const [k, e] of Object.entries(expected)) {
    assert.ok(k in g, `${where}.${k}: expected ${JSON.stringify(e)}, missing from the decode`);
    n += compareExact(g[k]!, e, `${where}.${k}`);
  }
  return n;
}

/** How many leaf values an expectation holds: what compareExact compares in it. */
export const leaves = (v: Json): number => (v !== null && typeof v === 'object' ? Object.values(v).reduce((n: number, x) => n + leaves(x), 0) : 1);
