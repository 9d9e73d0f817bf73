/**
 * Synthetic DBN streams for the tests: records written field by field through lib/dbn/fields.ts
 * (the layouts the decoder reads), metadata through encodeMetadata, zstd through the zstd tool.
 */
import { spawnSync } from 'node:child_process';
import { HEADER, LENGTH_UNIT_BYTES, type StructName, layoutOfStruct } from '../../lib/dbn/fields.js';
import { type MetadataFields, encodeMetadata } from '../../lib/dbn/metadata.js';
import { SCHEMA, STYPE, UNDEF_TIMESTAMP } from '../../lib/dbn/enums.js';

export type FieldValue = number | bigint | string | Record<string, number | bigint>[];

/** The UTC epoch ns of 2021-06-01 (any day: times in these streams are offsets from it). */
export const DAY0_NS = 1622505600000000000n;

/** One record of `struct`: header fields first (rtype, instrument_id, ts_event, publisher_id), then any named field. */
export function record(struct: StructName, rtype: number, hd: { instrument_id: number; ts_event: bigint; publisher_id?: number }, fields: Record<string, FieldValue>): Buffer {
  const layout = layoutOfStruct(struct);
  const b = Buffer.alloc(layout.bytes);
  b[HEADER.length] = layout.bytes / LENGTH_UNIT_BYTES;
  b[HEADER.rtype] = rtype;
  b.writeUInt16LE(hd.publisher_id ?? 1, HEADER.publisherId);
  b.writeUInt32LE(hd.instrument_id, HEADER.instrumentId);
  b.writeBigUInt64LE(hd.ts_event, HEADER.tsEvent);
  for (const [name, value] of Object.entries(fields)) {
    const f = layout.fields.find((x) => x.name === name);
    if (!f) throw new Error(`${struct} has no field ${name}`);
    put(b, f.offset, f.type, value);
  }
  return b;
}

function put(b: Buffer, at: number, type: string, v: FieldValue): void {
  if (Array.isArray(v)) {
    const pair = layoutOfStruct(type.startsWith('clevels') ? 'ConsolidatedBidAskPair' : 'BidAskPair');
    v.forEach((lvl, k) => {
      for (const [name, x] of Object.entries(lvl)) {
        const f = pair.fields.find((p) => p.name === name)!;
        put(b, at + k * pair.bytes + f.offset, f.type, x);
      }
    });
    return;
  }
  if (type === 'char') b[at] = typeof v === 'string' ? v.charCodeAt(0) : Number(v);
  else if (type.startsWith('cstr')) b.write(String(v), at, 'utf8');
  else if (type === 'u8' || type === 'i8') b.writeUInt8(Number(v) & 0xff, at);
  else if (type === 'u16') b.writeUInt16LE(Number(v), at);
  else if (type === 'i16') b.writeInt16LE(Number(v), at);
  else if (type === 'u32') b.writeUInt32LE(Number(v), at);
  else if (type === 'i32') b.writeInt32LE(Number(v), at);
  else if (type === 'u64') b.writeBigUInt64LE(BigInt(v), at);
  else if (type === 'i64') b.writeBigInt64LE(BigInt(v), at);
  else throw new Error(`cannot write ${type}`);
}

/** Metadata for a test stream (DBN v3): GLBX-like, raw symbols mapped to ids on DAY0. */
export function metadata(over: Partial<MetadataFields> = {}): Buffer {
  return encodeMetadata({
    dataset: 'TEST.DBN',
    schema: SCHEMA.MBO,
    start: DAY0_NS,
    end: UNDEF_TIMESTAMP,
    limit: 0n,
    stypeIn: STYPE.RAW_SYMBOL,
    stypeOut: STYPE.INSTRUMENT_ID,
    tsOut: false,
    symbols: [],
    partial: [],
    notFound: [],
    mappings: [],
    ...over,
  });
}

/** An MBO record: ts in ns after DAY0, price in 1e-9 units. */
export function mbo(id: number, tsNs: number, action: string, side: string, orderId: number | bigint, price: number | bigint, size: number, flags = 0x80): Buffer {
  return record('MboMsg', 0xa0, { instrument_id: id, ts_event: DAY0_NS + BigInt(tsNs) }, {
    order_id: BigInt(orderId),
    price: BigInt(price),
    size,
    flags,
    action,
    side,
    ts_recv: DAY0_NS + BigInt(tsNs) + 1000n,
    sequence: tsNs % 2 ** 32,
  });
}

/** zstd-compresses with the zstd tool (the test machine has it). */
export function zstd(raw: Buffer): Buffer {
  const r = spawnSync('zstd', ['-q', '-c', '--no-progress'], { input: raw, maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`zstd failed: ${r.stderr}`);
  return r.stdout;
}
