/**
 * Fuzzing the DBN source with damaged files, from the shared DBN data (/work/shared/data/dbn,
 * MDFAN_DBN_DATA): windows of the GOOG day's MBO records behind its metadata, and Databento's
 * conformance samples (every schema, versions 1 to 3), decompressed, and as their zstd files.
 * Damage: bytes anywhere, a record's length or type, 64-bit prices, times and order ids forged
 * (UNDEF, past 2^53, negative), MBO actions and sides, the metadata's length and the version, a
 * cut; zstd files flipped or cut. Each file is replayed by the venue's own source (`dbn:FILE`,
 * opened as `mdfan feed` opens it). It must end clean or refuse with a coded feed error whose
 * offset is inside the file and, for a record, is that record's start (the records walked by their
 * lengths from the metadata's end) with its index; every book the source hands on must fit the
 * depth and hold exact integer prices and sizes.
 */
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { NullSink, Pacer, openSource, readInput } from '../../feed/index.js';
import { HEADER, RTYPE, layoutOf } from '../../lib/dbn/fields.js';
import { checkSpec, type InstrumentSpec, isValidSymbol } from '../../native/segment/directory.js';
import { ErrorCode, MdfanError } from '../../native/segment/errors.js';
import type { LevelSource } from '../../native/segment/seqlock.js';
import { type FuzzResult, count, crash, newResult } from './fuzz.js';

const LEVELS = 10;
/** DBN's prelude: "DBN", the version byte, the metadata's length (u32). */
const PRELUDE_BYTES = 8;
const MBO = layoutOf(RTYPE.MBO, 3)!;
/** Record types a forged rtype byte takes: every kind the venue reads, and one it does not know. */
const RTYPES: readonly number[] = [...Object.values(RTYPE), 0x7f];
/** 64-bit values a forged price, time or order id takes: UNDEF_PRICE, u64::MAX, 2^53, -2^53-1, -1, i64::MIN, 0. */
const WIDE: readonly bigint[] = [0x7fffffffffffffffn, -1n, 2n ** 53n, -(2n ** 53n) - 1n, -(2n ** 63n), 0n, 2n ** 53n - 1n];

export interface DbnInputs {
  /** The GOOG day: its metadata bytes (prelude included), and its records (56 bytes each). */
  meta: Buffer;
  records: Buffer;
  /** Sample files as stored (zstd) and decompressed. */
  stored: Buffer[];
  plain: Buffer[];
}

/** The GOOG day and the samples of `dir` (fragments left out: a source reads files with metadata). */
export async function loadDbnInputs(dir: string): Promise<DbnInputs> {
  const goog = await readInput(join(dir, 'GOOG-2012-06-21.mbo.dbn.zst'));
  const recordsAt = PRELUDE_BYTES + goog.readUInt32LE(4);
  const sampleDir = join(dir, 'samples');
  const stored: Buffer[] = [];
  const plain: Buffer[] = [];
  for (const f of readdirSync(sampleDir).filter((n) => /\.(dbn|dbn\.zst|dbz)$/.test(n))) {
    const file = join(sampleDir, f);
    if (!f.endsWith('.dbn')) stored.push(readFileSync(file));
    if (!f.endsWith('.dbz')) plain.push(await readInput(file));
  }
  return { meta: goog.subarray(0, recordsAt), records: goog.subarray(recordsAt), stored, plain };
}

const pick = <T>(a: readonly T[], rand: () => number): T => a[Math.floor(rand() * a.length)]!;

/** Where the records of a plain DBN file start (by its prelude's metadata length). */
const recordsStart = (b: Buffer): number => PRELUDE_BYTES + b.readUInt32LE(4);

/** A random record start of plain `b` (walked by lengths from the metadata's end), or -1. */
function someRecord(b: Buffer, rand: () => number): number {
  const starts: number[] = [];
  for (let p = recordsStart(b); p < b.length && b[p]! > 0 && starts.length < 400; p += b[p]! * 4) starts.push(p);
  return starts.length === 0 ? -1 : pick(starts, rand);
}

/** One damaged plain DBN stream. */
function damagePlain(src: Buffer, rand: () => number): Buffer {
  const b = Buffer.from(src);
  const kind = rand();
  const rec = b.length > PRELUDE_BYTES ? someRecord(b, rand) : -1;
  if (kind < 0.22) {
    const metaEnd = Math.min(b.length, recordsStart(b));
    for (let k = 0, n = 1 + Math.floor(rand() * 4); k < n; k++) b[Math.floor(rand() * (rand() < 0.4 ? metaEnd : b.length))] = rand() < 0.3 ? pick([0, 0xff, 0x7f, 0x80], rand) : Math.floor(rand() * 256);
  } else if (kind < 0.36 && rec >= 0) b[rec + HEADER.length] = rand() < 0.5 ? pick([0, 1, 3, 4, 13, 14, 0xff], rand) : Math.floor(rand() * 256);
  else if (kind < 0.48 && rec >= 0) b[rec + HEADER.rtype] = pick(RTYPES, rand);
  else if (kind < 0.62 && rec >= 0) {
    // A 64-bit field of the record forged: ts_event, or (as if MBO) order_id, price, ts_recv.
    const at = rec + pick([HEADER.tsEvent, MBO.at('order_id'), MBO.at('price'), MBO.at('ts_recv')], rand);
    if (at + 8 <= b.length) b.writeBigUInt64LE(BigInt.asUintN(64, pick(WIDE, rand)), at);
  } else if (kind < 0.7 && rec >= 0) {
    const at = rec + (rand() < 0.5 ? MBO.at('action') : MBO.at('side'));
    if (at < b.length) b[at] = rand() < 0.7 ? pick([0x41, 0x43, 0x4d, 0x52, 0x54, 0x46, 0x4e, 0x42, 0x00], rand) : Math.floor(rand() * 256);
  } else if (kind < 0.76) b.writeUInt32LE(rand() < 0.5 ? Math.floor(rand() * 4294967296) : Math.max(0, b.readUInt32LE(4) + Math.floor((rand() - 0.5) * 64)), 4);
  else if (kind < 0.8) b[3] = pick([0, 1, 2, 3, 4, 0xff], rand);
  else if (kind < 0.92) return b.subarray(0, Math.floor(rand() * b.length));
  return b;
}

/** One damaged zstd file: bytes flipped, or cut. */
function damageStored(src: Buffer, rand: () => number): Buffer {
  if (rand() < 0.4) return src.subarray(0, Math.floor(rand() * src.length));
  const b = Buffer.from(src);
  for (let k = 0, n = 1 + Math.floor(rand() * 3); k < n; k++) b[Math.floor(rand() * b.length)] ^= 1 + Math.floor(rand() * 255);
  return b;
}

/** A sink that checks what the DBN source hands on: instruments named as a segment names them, books that fit and are exact. */
class DbnCheckSink extends NullSink {
  override readonly wantsEvents: boolean = true;
  wrong = '';
  override instrument(symbol: string, feedId: number, spec: InstrumentSpec): number {
    // The writer's rule (a name it cannot take is MDFAN_ERR_OPTIONS): the venue falls back to the id.
    if (!isValidSymbol(symbol)) throw new MdfanError(ErrorCode.OPTIONS, `symbol ${JSON.stringify(symbol)} cannot name an instrument`, { symbol });
    checkSpec(spec, symbol);
    return super.instrument(symbol, feedId, spec);
  }
  override book(_slot: number, top: LevelSource): void {
    if (this.wrong !== '') return;
    if (top.bidCount > LEVELS || top.askCount > LEVELS) this.wrong = `${top.bidCount}/${top.askCount} levels at depth ${LEVELS}`;
    for (const [lv, n] of [[top.bids, top.bidCount], [top.asks, top.askCount]] as const)
      for (let i = 0; i < n && this.wrong === ''; i++)
        if (!Number.isSafeInteger(lv[i * 3]!) || !Number.isSafeInteger(lv[i * 3 + 1]!) || lv[i * 3 + 1]! < 0) this.wrong = `level ${i} priced ${lv[i * 3]} sized ${lv[i * 3 + 1]}`;
  }
}

/**
 * Whether a feed error of plain stream `b` has true facts (null) or what is wrong: an offset inside
 * the stream and, when it names a record, that record's start.
 */
function wrongFacts(e: MdfanError, b: Buffer): string | null {
  const off = e.details.offset as number;
  if (!Number.isInteger(off) || off < 0 || off > b.length) return `offset ${off} outside the file's ${b.length} bytes`;
  const index = e.details.msgIndex as number | undefined;
  if (index === undefined) return null;
  let p = recordsStart(b);
  for (let i = 0; i < index && p < b.length; i++) p += b[p]! * 4;
  return p === off ? null : `record ${index} named at offset ${off}, but it starts at ${p}`;
}

const silent = pino({ level: 'silent' });

/**
 * `cases` damaged DBN files written in `dir` (a private directory the caller removes) and replayed
 * by the `dbn:` source. Outcomes: 'clean', or the error's code.
 */
export async function fuzzDbn(cases: number, rand: () => number, inputs: DbnInputs, dir: string): Promise<FuzzResult> {
  const r = newResult();
  const ctx = { pacer: new Pacer('max'), stop: { requested: false }, log: silent };
  const recordBytes = MBO.bytes;
  const records = inputs.records.length / recordBytes;
  for (let c = 0; c < cases; c++) {
    let bytes: Buffer;
    let plain = true; // the file is the DBN stream itself (not zstd): facts are checked exactly
    const base = rand();
    if (base < 0.55) {
      const n = 1 + Math.floor(rand() * 300);
      const i = Math.floor(rand() * (records - n));
      bytes = damagePlain(Buffer.concat([inputs.meta, inputs.records.subarray(i * recordBytes, (i + n) * recordBytes)]), rand);
    } else if (base < 0.85) bytes = damagePlain(pick(inputs.plain, rand), rand);
    else {
      bytes = damageStored(pick(inputs.stored, rand), rand);
      plain = false;
    }
    // A new name for each case: rewriting one file in place makes the filesystem flush it.
    const file = join(dir, `case-${c}.dbn`);
    writeFileSync(file, bytes);
    const sink = new DbnCheckSink();
    try {
      await openSource(`dbn:${file}`, { levels: LEVELS }).run(sink, ctx);
      count(r, 'clean');
    } catch (e) {
      if (!(e instanceof MdfanError)) crash(r, `dbn case ${c}: ${bytes.length} bytes`, e);
      else {
        const wrong = !e.code.startsWith('MDFAN_ERR_FEED_') ? `code ${e.code}` : plain && bytes.length >= PRELUDE_BYTES ? wrongFacts(e, bytes) : null;
        if (wrong !== null) {
          r.badFacts++;
          r.firstCrash ||= `dbn case ${c}: ${wrong}: ${e.message}`;
        }
        count(r, e.code);
      }
    } finally {
      rmSync(file, { force: true });
    }
    if (sink.wrong !== '') {
      r.badFacts++;
      r.firstCrash ||= `dbn case ${c}: a book handed on as ${sink.wrong}`;
    }
  }
  return r;
}
