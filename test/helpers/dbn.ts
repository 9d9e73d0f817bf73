/**
 * DBN files for the tests: where the shared samples are, a whole file read back with the feed's
 * DbnReader, and a record's fields decoded by the layouts of lib/dbn/fields.ts alone (never by
 * the encoder under test).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DbnReader } from '../../feed/dbn/reader.js';
import { probeInputFile } from '../../feed/input-stream.js';
import { HEADER, type StructName } from '../../lib/dbn/fields.js';
import { type DbnFields, decodeStruct } from '../../lib/dbn/decode.js';
import type { DbnMetadata } from '../../lib/dbn/metadata.js';

export { DBN_DATA, DBN_SAMPLES } from './paths.js';
import { DBN_SAMPLES } from './paths.js';
export const haveDbnSamples = (): boolean => existsSync(join(DBN_SAMPLES, 'expected.json'));

export interface DbnFile {
  metadata: DbnMetadata;
  /** Each record's bytes (copies). */
  records: Buffer[];
}

/** Every record of a DBN file (plain or zstd), after its metadata. */
export async function readDbn(file: string): Promise<DbnFile> {
  const r = new DbnReader(probeInputFile(file));
  try {
    const metadata = await r.open();
    if (metadata === null) throw new Error(`${file}: no metadata`);
    const records: Buffer[] = [];
    const v = { buf: Buffer.alloc(0), at: 0, bytes: 0, rtype: 0 };
    for (;;) {
      while (r.next(v)) records.push(Buffer.from(v.buf.subarray(v.at, v.at + v.bytes)));
      if (!(await r.fill())) break;
    }
    return { metadata, records };
  } finally {
    r.close();
  }
}

export type FieldValue = number | bigint | string | Array<Record<string, number | bigint>>;
export type Fields = Record<string, FieldValue>;

/** A record's fields by name (header fields under hd_*; 64-bit ones as BigInt; chars as letters; levels as pairs), by lib/dbn/decode.ts. */
export function fieldsOf(rec: Buffer, struct: StructName): Fields {
  const { hd, ...rest } = decodeStruct(rec, 0, struct) as { hd: DbnFields } & Fields;
  return {
    hd_length: rec[HEADER.length]!,
    hd_rtype: hd.rtype as number,
    hd_publisher_id: hd.publisher_id as number,
    hd_instrument_id: hd.instrument_id as number,
    hd_ts_event: hd.ts_event as bigint,
    ...rest,
  };
}
