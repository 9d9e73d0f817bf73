/**
 * DBN metadata, versions 1 to 3 (databento/dbn decode/dbn/fsm.rs and encode/dbn/sync.rs): the
 * 8-byte prelude (`DBN`, the version byte, then the u32 length of what follows), the fixed part,
 * the symbol lists, the symbol mappings, and in version 3 zero padding to an 8-byte boundary.
 * decodeMetadata() reads it, encodeMetadata() writes it (always the newest version); both take
 * their sizes from METADATA below. Bad metadata is MDFAN_ERR_FEED_CORRUPT naming the file and the
 * byte offset of the field that is wrong.
 */
import { ErrorCode, MdfanError } from '../../native/segment/errors.js';
import { cstrAt } from './decode.js';
import { DBN_VERSIONS, SCHEMA, STYPE } from './enums.js';

/** The metadata's fixed sizes. */
export const METADATA = Object.freeze({
  preludeBytes: 8,
  datasetBytes: 16,
  /** The fixed part after the prelude, in version 2 and 3 (version 1: 8 more, a record count). */
  fixedBytes: 100,
  reservedBytesV1: 47,
  reservedBytes: 53,
  symbolCstrLenV1: 22,
  symbolCstrLen: 71,
  /** v3 pads the metadata to a multiple of this. */
  alignBytes: 8,
  /** A metadata longer than this is refused before it is buffered (a hostile length costs no memory). */
  maxBytes: 64 * 1024 * 1024,
});

/** "DBN" as the prelude's first three bytes. */
export const DBN_MAGIC = Object.freeze([0x44, 0x42, 0x4e]);

export interface MappingInterval {
  /** YYYY-MM-DD, inclusive. */
  startDate: string;
  /** YYYY-MM-DD, exclusive. */
  endDate: string;
  symbol: string;
}

export interface SymbolMapping {
  rawSymbol: string;
  intervals: MappingInterval[];
}

export interface DbnMetadata {
  version: number;
  dataset: string;
  /** SCHEMA.*; null: several record types (0xFFFF). */
  schema: number | null;
  /** ns since the epoch. */
  start: bigint;
  /** ns since the epoch; UNDEF_TIMESTAMP (u64::MAX) when unbounded. */
  end: bigint;
  /** 0: none. */
  limit: bigint;
  /** STYPE.*; null: several (0xFF). */
  stypeIn: number | null;
  stypeOut: number;
  tsOut: boolean;
  symbolCstrLen: number;
  symbols: string[];
  partial: string[];
  notFound: string[];
  mappings: SymbolMapping[];
  /** Zero bytes after the mappings (v3's alignment). */
  padding: number;
}

/** The version and the length of what follows the prelude, or an error naming what is wrong. */
export function decodePrelude(b: Uint8Array, file: string): { version: number; length: number } {
  if (b.length < METADATA.preludeBytes || b[0] !== DBN_MAGIC[0] || b[1] !== DBN_MAGIC[1] || b[2] !== DBN_MAGIC[2])
    throw new MdfanError(ErrorCode.FEED_CORRUPT, `${file}: not a DBN stream (it does not start with "DBN" and a version)`, { file, offset: 0, field: 'prelude' });
  const version = b[3]!;
  if (version === 0) throw legacyDbz(file);
  if (version < DBN_VERSIONS.oldest || version > DBN_VERSIONS.newest)
    throw new MdfanError(ErrorCode.FEED_CORRUPT, `${file}: DBN version ${version} is not supported (versions ${DBN_VERSIONS.oldest} to ${DBN_VERSIONS.newest} are)`, {
      file,
      offset: 3,
      field: 'version',
      found: version,
    });
  const length = (b[4]! | (b[5]! << 8) | (b[6]! << 16) | (b[7]! << 24)) >>> 0;
  if (length > METADATA.maxBytes)
    throw new MdfanError(ErrorCode.FEED_CORRUPT, `${file}: metadata length ${length} at byte offset 4 is more than ${METADATA.maxBytes}: not a DBN stream this reader takes`, {
      file,
      offset: 4,
      field: 'metadata length',
      found: length,
      expected: METADATA.maxBytes,
    });
  return { version, length };
}

/** zstd's skippable frame magic (0x184D2A50..5F, little-endian) with its low nibble cleared: legacy DBZ starts with one. */
export const SKIPPABLE_FRAME = 0x184d2a50;

/** Legacy DBZ (a zstd skippable frame, DBN version 0) is refused by name. */
export const legacyDbz = (file: string): MdfanError =>
  new MdfanError(ErrorCode.FEED_CORRUPT, `${file}: legacy DBZ (zstd skippable frame, DBN version 0) is not supported`, { file, offset: 0, field: 'version', found: 0 });

/** A little-endian cursor over the metadata that names the field and offset of whatever runs out. */
class Cursor {
  pos = 0;
  constructor(
    private readonly b: Uint8Array,
    private readonly file: string,
    /** File offset of b[0]. */
    private readonly base: number,
  ) {}
  need(n: number, field: string): void {
    if (this.pos + n > this.b.length)
      throw new MdfanError(ErrorCode.FEED_CORRUPT, `${this.file}: metadata ends inside ${field} at byte offset ${this.base + this.pos} (${n} bytes needed, ${this.b.length - this.pos} left)`, {
        file: this.file,
        offset: this.base + this.pos,
        field,
      });
  }
  u8(field: string): number {
    this.need(1, field);
    return this.b[this.pos++]!;
  }
  u16(field: string): number {
    this.need(2, field);
    const v = this.b[this.pos]! | (this.b[this.pos + 1]! << 8);
    this.pos += 2;
    return v;
  }
  u32(field: string): number {
    this.need(4, field);
    const b = this.b;
    const p = this.pos;
    this.pos += 4;
    return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
  }
  u64(field: string): bigint {
    const lo = this.u32(field);
    const hi = this.u32(field);
    return (BigInt(hi) << 32n) | BigInt(lo);
  }
  cstr(len: number, field: string): string {
    this.need(len, field);
    this.pos += len;
    return cstrAt(this.b, this.pos - len, len);
  }
  skip(n: number, field: string): void {
    this.need(n, field);
    this.pos += n;
  }
  fail(field: string, found: unknown, why: string, at = this.pos): never {
    throw new MdfanError(ErrorCode.FEED_CORRUPT, `${this.file}: metadata field ${field} at byte offset ${this.base + at} ${why} (found ${String(found)})`, {
      file: this.file,
      offset: this.base + at,
      field,
      found: String(found),
    });
  }
}

/** YYYYMMDD as YYYY-MM-DD, or null if it is not a date. */
function isoDate(raw: number): string | null {
  const y = Math.floor(raw / 10000);
  const m = Math.floor(raw / 100) % 100;
  const d = raw % 100;
  if (y < 1 || y > 9999 || m < 1 || m > 12 || d < 1 || d > new Date(Date.UTC(y, m, 0)).getUTCDate()) return null;
  return `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

/**
 * The metadata after the prelude: `b` holds exactly the `length` bytes the prelude announced (they
 * start at byte offset 8 of the stream).
 */
export function decodeMetadata(version: number, b: Uint8Array, file: string): DbnMetadata {
  const c = new Cursor(b, file, METADATA.preludeBytes);
  const dataset = c.cstr(METADATA.datasetBytes, 'dataset');
  const rawSchema = c.u16('schema');
  if (rawSchema > SCHEMA.LAST && rawSchema !== SCHEMA.MIXED) c.fail('schema', rawSchema, 'is not a DBN schema', c.pos - 2);
  const start = c.u64('start');
  const end = c.u64('end');
  const limit = c.u64('limit');
  if (version === 1) c.skip(8, 'record_count');
  const stypeInAt = c.pos;
  const rawStypeIn = c.u8('stype_in');
  const stypeOut = c.u8('stype_out');
  const tsOut = c.u8('ts_out');
  if (tsOut > 1) c.fail('ts_out', tsOut, 'is not 0 or 1', c.pos - 1);
  if (rawStypeIn > STYPE.LAST && rawStypeIn !== STYPE.MIXED) c.fail('stype_in', rawStypeIn, 'is not a symbology type', stypeInAt);
  if (stypeOut > STYPE.LAST) c.fail('stype_out', stypeOut, 'is not a symbology type', stypeInAt + 1);
  let symbolCstrLen: number = METADATA.symbolCstrLenV1;
  if (version > 1) {
    const at = c.pos;
    symbolCstrLen = c.u16('symbol_cstr_len');
    if (symbolCstrLen === 0) c.fail('symbol_cstr_len', symbolCstrLen, 'is not a length', at);
  }
  c.skip(version === 1 ? METADATA.reservedBytesV1 : METADATA.reservedBytes, 'reserved');
  const schemaDefAt = c.pos;
  const schemaDefinition = c.u32('schema_definition_length');
  if (schemaDefinition !== 0) c.fail('schema_definition_length', schemaDefinition, 'is not 0 (schema definitions are not part of DBN 1-3)', schemaDefAt);
  const list = (field: string): string[] => {
    const at = c.pos;
    const n = c.u32(`${field} count`);
    if (n * symbolCstrLen > b.length - c.pos) c.fail(`${field} count`, n, `needs ${n * symbolCstrLen} bytes, more than the metadata has left`, at);
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(c.cstr(symbolCstrLen, `${field}[${i}]`));
    return out;
  };
  const symbols = list('symbols');
  const partial = list('partial');
  const notFound = list('not_found');
  const mappingsAt = c.pos;
  const mappingCount = c.u32('mappings count');
  if (mappingCount * (symbolCstrLen + 4) > b.length - c.pos) c.fail('mappings count', mappingCount, 'is more than the metadata holds', mappingsAt);
  const mappings: SymbolMapping[] = [];
  for (let i = 0; i < mappingCount; i++) {
    const rawSymbol = c.cstr(symbolCstrLen, `mappings[${i}].raw_symbol`);
    const at = c.pos;
    const n = c.u32(`mappings[${i}] interval count`);
    if (n * (8 + symbolCstrLen) > b.length - c.pos) c.fail(`mappings[${i}] interval count`, n, 'is more than the metadata holds', at);
    const intervals: MappingInterval[] = [];
    for (let k = 0; k < n; k++) {
      const field = `mappings[${i}].intervals[${k}]`;
      const sAt = c.pos;
      const s = c.u32(`${field}.start_date`);
      const e = c.u32(`${field}.end_date`);
      const startDate = isoDate(s) ?? c.fail(`${field}.start_date`, s, 'is not a YYYYMMDD date', sAt);
      const endDate = isoDate(e) ?? c.fail(`${field}.end_date`, e, 'is not a YYYYMMDD date', sAt + 4);
      intervals.push({ startDate, endDate, symbol: c.cstr(symbolCstrLen, `${field}.symbol`) });
    }
    mappings.push({ rawSymbol, intervals });
  }
  const padding = b.length - c.pos;
  for (let i = c.pos; i < b.length; i++) if (b[i] !== 0) c.fail('padding', b[i], 'is not zero: the metadata length does not match its content', i);
  return {
    version,
    dataset,
    schema: rawSchema === SCHEMA.MIXED ? null : rawSchema,
    start,
    end,
    limit,
    stypeIn: rawStypeIn === STYPE.MIXED ? null : rawStypeIn,
    stypeOut,
    tsOut: tsOut === 1,
    symbolCstrLen,
    symbols,
    partial,
    notFound,
    mappings,
    padding,
  };
}

/** What encodeMetadata needs; it writes the newest version with 71-byte symbols. */
export type MetadataFields = Omit<DbnMetadata, 'version' | 'symbolCstrLen' | 'padding'>;

/** The whole metadata, prelude included, in the newest DBN version (padded to 8 bytes). */
export function encodeMetadata(m: MetadataFields): Buffer {
  const len = METADATA.symbolCstrLen;
  const cstrs = m.symbols.length + m.partial.length + m.notFound.length;
  const mappingBytes = m.mappings.reduce((n, x) => n + len + 4 + x.intervals.length * (8 + len), 0);
  // schema_definition_length and the four counts: five u32s.
  const needed = METADATA.fixedBytes + 5 * 4 + cstrs * len + mappingBytes;
  const length = Math.ceil(needed / METADATA.alignBytes) * METADATA.alignBytes;
  const out = Buffer.alloc(METADATA.preludeBytes + length);
  let p = 0;
  const cstr = (s: string, n: number, field: string): void => {
    const bytes = Buffer.from(s, 'utf8');
    if (bytes.length >= n) throw new MdfanError(ErrorCode.OPTIONS, `DBN ${field} ${JSON.stringify(s)} is longer than ${n - 1} bytes`, { field, found: s });
    bytes.copy(out, p);
    p += n;
  };
  const u8 = (v: number): void => {
    out[p++] = v;
  };
  const u16 = (v: number): void => {
    out.writeUInt16LE(v, p);
    p += 2;
  };
  const u32 = (v: number): void => {
    out.writeUInt32LE(v, p);
    p += 4;
  };
  const u64 = (v: bigint): void => {
    out.writeBigUInt64LE(v, p);
    p += 8;
  };
  out[0] = DBN_MAGIC[0]!;
  out[1] = DBN_MAGIC[1]!;
  out[2] = DBN_MAGIC[2]!;
  out[3] = DBN_VERSIONS.newest;
  p = 4;
  u32(length);
  cstr(m.dataset, METADATA.datasetBytes, 'dataset');
  u16(m.schema ?? SCHEMA.MIXED);
  u64(m.start);
  u64(m.end);
  u64(m.limit);
  u8(m.stypeIn ?? STYPE.MIXED);
  u8(m.stypeOut);
  u8(m.tsOut ? 1 : 0);
  u16(len);
  p += METADATA.reservedBytes;
  u32(0); // schema_definition_length
  for (const list of [m.symbols, m.partial, m.notFound]) {
    u32(list.length);
    for (const s of list) cstr(s, len, 'symbol');
  }
  u32(m.mappings.length);
  const date = (iso: string): number => Number(iso.replaceAll('-', ''));
  for (const x of m.mappings) {
    cstr(x.rawSymbol, len, 'raw symbol');
    u32(x.intervals.length);
    for (const i of x.intervals) {
      u32(date(i.startDate));
      u32(date(i.endDate));
      cstr(i.symbol, len, 'mapped symbol');
    }
  }
  return out;
}
