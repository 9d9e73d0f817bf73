/**
 * DBN files for the tests: where the shared samples are, a whole file read back with the feed's
 * DbnReader, and a record's fields decoded by the layouts of lib/dbn/fields.ts alone (never by
 * the encoder under test).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DbnReader } from '../../feed/dbn/reader.js';
import { probeInputFile } from '../../feed/input-stream.js';
import { type StructName, layoutOfStruct } from '../../lib/dbn/fields.js';
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

/** A record's fields by name (header fields under hd_*; 64-bit ones as BigInt; chars as letters; levels as pairs). */
export function fieldsOf(rec: Buffer, struct: StructName): Fields {
  const out: Fields = {
    hd_length: rec[0]!,
    hd_rtype: rec[1]!,
    hd_publisher_id: rec.readUInt16LE(2),
    hd_instrument_id: rec.readUInt32LE(4),
    hd_ts_event: rec.readBigUInt64LE(8),
  };
  for (const f of layoutOfStruct(struct).fields) {
    const at = f.offset;
    if (f.type === 'hd') continue;
    if (f.type.startsWith('levels')) {
      const pair = layoutOfStruct('BidAskPair');
      const levels: Array<Record<string, number | bigint>> = [];
      for (let i = 0; i < f.count; i++) {
        const p = at + i * pair.bytes;
        levels.push({
          bid_px: rec.readBigInt64LE(p + pair.at('bid_px')),
          ask_px: rec.readBigInt64LE(p + pair.at('ask_px')),
          bid_sz: rec.readUInt32LE(p + pair.at('bid_sz')),
          ask_sz: rec.readUInt32LE(p + pair.at('ask_sz')),
          bid_ct: rec.readUInt32LE(p + pair.at('bid_ct')),
          ask_ct: rec.readUInt32LE(p + pair.at('ask_ct')),
        });
      }
      out[f.name] = levels;
      continue;
    }
    if (f.type.startsWith('cstr')) {
      const s = rec.subarray(at, at + f.bytes);
      const nul = s.indexOf(0);
      out[f.name] = s.subarray(0, nul < 0 ? s.length : nul).toString('utf8');
      continue;
    }
    switch (f.type) {
      case 'u8':
        out[f.name] = rec.readUInt8(at);
        break;
      case 'char':
        out[f.name] = rec[at] === 0 ? '' : String.fromCharCode(rec[at]!);
        break;
      case 'u16':
        out[f.name] = rec.readUInt16LE(at);
        break;
      case 'u32':
        out[f.name] = rec.readUInt32LE(at);
        break;
      case 'i32':
        out[f.name] = rec.readInt32LE(at);
        break;
      case 'u64':
        out[f.name] = rec.readBigUInt64LE(at);
        break;
      case 'i64':
        out[f.name] = rec.readBigInt64LE(at);
        break;
      default:
        throw new Error(`fieldsOf: ${struct}.${f.name} has type ${f.type}, not decoded here`);
    }
  }
  return out;
}
