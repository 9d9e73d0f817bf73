/**
 * Any DBN record as a plain object, field by field, for tools and tests (it allocates: the feed's
 * hot path reads its few fields in place). Driven only by the layouts of fields.ts, so what this
 * prints is what every other reader of those layouts sees: a wrong offset there shows here.
 */
import { type Field, HEADER, type Layout, type StructName, layoutOf, layoutOfStruct } from './fields.js';

/** u8..u32 and i8..i32 are numbers, u64/i64 bigints, chars and C strings strings; levels arrays of objects. */
export type DbnValue = number | bigint | string | DbnFields | DbnFields[];
export interface DbnFields {
  [name: string]: DbnValue;
}

export interface DecodedRecord {
  rtype: number;
  fields: DbnFields;
}

/** Reserved and padding fields carry no value: DBN names them with a leading underscore. */
const isReserved = (f: Field): boolean => f.name.startsWith('_') || f.type.startsWith('reserved');

/** A fixed C string of `bytes` bytes at buf[at]: up to its first NUL, UTF-8. */
export function cstrAt(buf: Uint8Array, at: number, bytes: number): string {
  const s = buf.subarray(at, at + bytes);
  const end = s.indexOf(0);
  return Buffer.from(s.buffer, s.byteOffset, end < 0 ? bytes : end).toString('utf8');
}

function fieldsOf(layout: Layout, buf: Buffer, at: number): DbnFields {
  const out: DbnFields = {};
  for (const f of layout.fields) if (!isReserved(f)) out[f.name] = fieldValue(f, buf, at + f.offset);
  return out;
}

function fieldValue(f: Field, buf: Buffer, at: number): DbnValue {
  switch (f.type) {
    case 'u8':
      return buf.readUInt8(at);
    case 'i8':
      return buf.readInt8(at);
    case 'u16':
      return buf.readUInt16LE(at);
    case 'i16':
      return buf.readInt16LE(at);
    case 'u32':
      return buf.readUInt32LE(at);
    case 'i32':
      return buf.readInt32LE(at);
    case 'u64':
      return buf.readBigUInt64LE(at);
    case 'i64':
      return buf.readBigInt64LE(at);
    case 'char':
      return buf[at] === 0 ? '' : String.fromCharCode(buf[at]!);
    case 'hd':
      // `length` is how the stream is cut into records, not a value of the record.
      return {
        rtype: buf.readUInt8(at + HEADER.rtype),
        publisher_id: buf.readUInt16LE(at + HEADER.publisherId),
        instrument_id: buf.readUInt32LE(at + HEADER.instrumentId),
        ts_event: buf.readBigUInt64LE(at + HEADER.tsEvent),
      };
  }
  if (f.type.startsWith('cstr')) return cstrAt(buf, at, f.bytes);
  // levelsN / clevelsN: N pairs, each laid out as its own struct.
  const pair = layoutOfStruct(f.type.startsWith('clevels') ? 'ConsolidatedBidAskPair' : 'BidAskPair');
  const levels: DbnFields[] = [];
  for (let i = 0; i < f.count; i++) levels.push(fieldsOf(pair, buf, at + i * pair.bytes));
  return levels;
}

/** The record at buf[at] read as `struct` (whatever its rtype says). */
export const decodeStruct = (buf: Buffer, at: number, struct: StructName): DbnFields => fieldsOf(layoutOfStruct(struct), buf, at);

/** The record at buf[at] as DBN `version` (1..3) lays it out, or null for a record type fields.ts does not know. */
export function decodeRecord(buf: Buffer, at: number, version: number): DecodedRecord | null {
  const rtype = buf[at + HEADER.rtype]!;
  const layout = layoutOf(rtype, version);
  return layout === null ? null : { rtype, fields: fieldsOf(layout, buf, at) };
}
