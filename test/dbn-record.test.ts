/**
 * `mdfan read --record-dbn`: the encoder against Databento's own bytes, the change a record
 * describes, and whole recordings of the GOOG day read back with the DBN reader and compared with
 * what the same readers recorded as text (--record, --record-events); late instruments, clamps,
 * stale books, every exit path, and the refusals.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decompress } from 'fzstd';
import { readBookLines } from '../lib/book-line.js';
import { LogEvent } from '../lib/log.js';
import { type BookChange, BookMemory, bookChange, newBookChange } from '../lib/dbn/book-change.js';
import { type LevelFields, type MbpFields, encodeMbp, encodeTrade, newMbpFields } from '../lib/dbn/encode.js';
import { SCHEMA, STYPE } from '../lib/dbn/enums.js';
import { RTYPE, layoutOfStruct } from '../lib/dbn/fields.js';
import { METADATA, decodeMetadata, decodePrelude, encodeMetadata } from '../lib/dbn/metadata.js';
import { SegmentWriter, abi } from '../native/segment/index.js';
import { specOf } from '../native/segment/directory.js';
import { DBN_SAMPLES, type DbnFile, type Fields, fieldsOf, haveDbnSamples, readDbn } from './helpers/dbn.js';
import { GOOG_DBN, GOOG_ITCH } from './helpers/oracle.js';
import { binPath } from './helpers/paths.js';
import { type Proc, addonLoaded, killAll, startNode } from './helpers/procs.js';
import { cleanupSegments, segName } from './helpers/segments.js';
import { waitUntil } from './helpers/wait.js';

const dir = mkdtempSync(join(tmpdir(), 'mdfan-dbn-'));
test.after.each(() => {
  killAll();
  cleanupSegments();
});
test.after(() => rmSync(dir, { recursive: true, force: true }));

const mdfan = (args: string[]): Proc => startNode(binPath, args);
const summaryOf = async (p: Proc) => JSON.parse(await p.line(/^\{"segment"/, 60_000));
const exitOf = async (p: Proc) => (await p.exited).code;
const UNDEF = 0x7fffffffffffffffn;
const U32_MAX = 0xffffffff;
const F_LAST = 0x80;
const F_MAYBE_BAD_BOOK = 0x04;
const nowNs = (): bigint => BigInt(Date.now()) * 1_000_000n;
/** YYYY-MM-DD (UTC) of an epoch time in ns, `days` later. */
const isoDay = (ns: bigint, days = 0): string => new Date(Number(ns / 1_000_000n) + days * 86_400_000).toISOString().slice(0, 10);
const letter = (c: number): string => String.fromCharCode(c);
/** JSON with BigInts as their digits (for messages). */
const show = (v: unknown): string => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? String(x) : x));
/** Bytes of a zstd file's content. */
const contentBytes = (file: string): number => decompress(readFileSync(file)).length;

// ---------------------------------------------------------------- the encoder against Databento's bytes

interface SampleRecord {
  hd: { rtype: number; publisher_id: number; instrument_id: number; ts_event: string };
  price: string;
  size: number;
  action: string;
  side: string;
  flags: number;
  depth: number;
  ts_recv: string;
  ts_in_delta: number;
  sequence: number;
  levels?: Array<{ bid_px: string; ask_px: string; bid_sz: number; ask_sz: number; bid_ct: number; ask_ct: number }>;
}

const expected = (): { files: Record<string, { records: SampleRecord[] }> } => JSON.parse(readFileSync(join(DBN_SAMPLES, 'expected.json'), 'utf8'));

/** The record's fields as expected.json gives them (decoded by an independent reader), as the encoder takes them. */
function fieldsFromSample(s: SampleRecord): MbpFields {
  const r = newMbpFields(s.levels?.length ?? 0);
  r.publisherId = s.hd.publisher_id;
  r.instrumentId = s.hd.instrument_id;
  r.tsEvent = BigInt(s.hd.ts_event);
  r.price = BigInt(s.price);
  r.size = s.size;
  r.action = s.action.charCodeAt(0);
  r.side = s.side.charCodeAt(0);
  r.flags = s.flags;
  r.depth = s.depth;
  r.tsRecv = BigInt(s.ts_recv);
  r.tsInDelta = s.ts_in_delta;
  r.sequence = s.sequence;
  (s.levels ?? []).forEach((l, i) => {
    const to: LevelFields = r.levels[i]!;
    to.bidPx = BigInt(l.bid_px);
    to.askPx = BigInt(l.ask_px);
    to.bidSz = l.bid_sz;
    to.askSz = l.ask_sz;
    to.bidCt = l.bid_ct;
    to.askCt = l.ask_ct;
  });
  return r;
}

const firstDiff = (a: Buffer, b: Buffer): number => {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if (a[i] !== b[i]) return i;
  return -1;
};

for (const [file, kind] of [
  ['test_data.mbp-10.v3.dbn.zst', 'mbp-10'],
  ['test_data.mbp-1.v3.dbn.zst', 'mbp-1'],
  ['test_data.trades.v3.dbn.zst', 'trade'],
] as const) {
  test(`the ${kind} encoder writes Databento's bytes: ${file}'s records, from their decoded fields, re-encoded byte for byte`, async () => {
    if (!haveDbnSamples()) {
      console.log(`  (skipped: no DBN samples at ${DBN_SAMPLES})`);
      return;
    }
    const got = await readDbn(join(DBN_SAMPLES, file));
    const want = expected().files[file]!.records;
    assert.ok(got.records.length >= 2 && got.records.length === want.length);
    for (const [i, rec] of got.records.entries()) {
      const r = fieldsFromSample(want[i]!);
      const out = Buffer.alloc(rec.length + 16, 0xee); // poisoned: a byte the encoder leaves is seen
      const n = kind === 'trade' ? encodeTrade(out, 8, r) : encodeMbp(out, 8, r, kind === 'mbp-1' ? 1 : 10);
      assert.is(n, rec.length);
      const mine = out.subarray(8, 8 + n);
      assert.is(firstDiff(mine, rec), -1, `record ${i}: first byte that differs at offset ${firstDiff(mine, rec)}`);
      assert.is(out[7], 0xee, 'nothing before the record');
      assert.is(out[8 + n], 0xee, 'nothing after it');
    }
  });
}

test("encodeMetadata writes a v3 sample's metadata byte for byte from its decoded fields", () => {
  if (!haveDbnSamples()) {
    console.log(`  (skipped: no DBN samples at ${DBN_SAMPLES})`);
    return;
  }
  for (const file of ['test_data.mbp-10.v3.dbn.zst', 'test_data.trades.v3.dbn.zst']) {
    const raw = Buffer.from(decompress(readFileSync(join(DBN_SAMPLES, file))));
    const { version, length } = decodePrelude(raw, file);
    const m = decodeMetadata(version, raw.subarray(METADATA.preludeBytes, METADATA.preludeBytes + length), file);
    const bytes = encodeMetadata(m);
    assert.is(firstDiff(bytes, raw.subarray(0, METADATA.preludeBytes + length)), -1, file);
  }
});

// ---------------------------------------------------------------- the change a record describes

const book = (bids: number[][], asks: number[][]) => {
  const side = (lv: number[][]) => Float64Array.from({ length: 30 }, (_, k) => lv[Math.floor(k / 3)]?.[k % 3] ?? 0);
  return { bids: side(bids), asks: side(asks), bidCount: bids.length, askCount: asks.length };
};
const said = (c: BookChange): string => `${letter(c.action)} ${letter(c.side)} ${c.depth} ${Number.isNaN(c.price) ? '-' : c.price} ${c.size}`;

test('the change: A for a new price, C for a level gone, M for a size or count, N for nothing; lowest depth, bid before ask; the first book is A at its best', () => {
  const mem = new BookMemory(10);
  const step = (b: ReturnType<typeof book>, depth = 10): string => {
    const s = said(bookChange(mem, b, depth, newBookChange()));
    mem.keep(b);
    return s;
  };
  assert.is(said(bookChange(null, book([], []), 10, newBookChange())), 'N N 0 - 0', 'first book, both sides empty');
  assert.is(said(bookChange(null, book([], [[105, 3, 1]]), 10, newBookChange())), 'A A 0 105 3', 'first book, asks only');
  assert.is(step(book([[100, 5, 1]], [[105, 3, 1]])), 'A B 0 100 5', 'first book: its best bid');
  assert.is(step(book([[100, 5, 1]], [[105, 3, 1]])), 'N N 0 - 0', 'the same book again');
  assert.is(step(book([[100, 7, 2]], [[105, 3, 1]])), 'M B 0 100 7', 'size and count moved');
  assert.is(step(book([[101, 1, 1], [100, 7, 2]], [[105, 3, 1]])), 'A B 0 101 1', 'a better bid');
  assert.is(step(book([[100, 7, 2]], [[105, 3, 1]])), 'C B 0 101 1', 'the best bid gone: the removed level');
  assert.is(step(book([[100, 7, 2]], [[104, 2, 1], [105, 3, 1]])), 'A A 0 104 2', 'a better ask');
  assert.is(step(book([[100, 7, 2]], [[104, 2, 1], [105, 4, 2]])), 'M A 1 105 4', 'a deeper ask moved');
  assert.is(step(book([[100, 7, 2]], [[104, 2, 1]])), 'C A 1 105 4', 'a deeper ask gone');
  assert.is(step(book([[100, 8, 2]], [[104, 9, 1]])), 'M B 0 100 8', 'bid before ask at equal depth');
  assert.is(step(book([[99, 8, 2]], [[104, 9, 1]])), 'A B 0 99 8', 'a price replaced: new and gone at once is A');
  assert.is(step(book([], [[104, 9, 1]])), 'C B 0 99 8', 'a side emptied');
  assert.is(step(book([[99, 1, 1]], [[104, 9, 1]]), 1), 'A B 0 99 1', 'a side refilled');
  // Within the record's depth only: a change below it is no change of what the record shows.
  assert.is(step(book([[99, 1, 1], [98, 1, 1]], [[104, 9, 1]]), 1), 'N N 0 - 0', 'depth 1: a second level is not looked at');
});

// ---------------------------------------------------------------- the GOOG day, recorded by two readers

interface Trade {
  msgIndex: number;
  price: bigint;
  size: number;
}

/** A record file line's levels (`ask px, ask size, bid px, bid size` per level) as DBN levels, prices x 1e5 (1e-4 -> 1e-9). */
function levelsOfLine(line: string, depth: number): Array<{ bid_px: bigint; ask_px: bigint; bid_sz: number; ask_sz: number }> {
  const c = line.split(',');
  const out = [];
  for (let i = 0; i < depth; i++) {
    const [ap, as, bp, bs] = c.slice(2 + i * 4, 6 + i * 4);
    const ask = ap !== undefined && ap !== '9999999999';
    const bid = bp !== undefined && bp !== '-9999999999';
    out.push({ ask_px: ask ? BigInt(ap) * 100_000n : UNDEF, ask_sz: ask ? Number(as) : 0, bid_px: bid ? BigInt(bp!) * 100_000n : UNDEF, bid_sz: bid ? Number(bs) : 0 });
  }
  return out;
}

type Pair = Record<string, number | bigint>;
/** The change a record should describe, from the levels of the instrument's previous record (independent of lib/dbn/book-change.ts). */
function changeOf(prev: Pair[] | null, cur: Pair[]): string {
  const side = (lv: Pair[], s: 'bid' | 'ask') => lv.map((l) => (l[`${s}_px`] === UNDEF ? null : { px: l[`${s}_px`] as bigint, sz: l[`${s}_sz`], ct: l[`${s}_ct`] }));
  if (prev === null) {
    for (const [s, name] of [['B', 'bid'], ['A', 'ask']] as const) {
      const best = side(cur, name)[0];
      if (best) return `A ${s} 0 ${best.px} ${best.sz}`;
    }
    return `N N 0 ${UNDEF} 0`;
  }
  for (let d = 0; d < cur.length; d++) {
    for (const [s, name] of [['B', 'bid'], ['A', 'ask']] as const) {
      const p = side(prev, name);
      const c = side(cur, name);
      const was = p[d];
      const is = c[d];
      if (show(was) === show(is)) continue;
      if (is && !p.some((l) => l?.px === is.px)) return `A ${s} ${d} ${is.px} ${is.sz}`;
      if (was && !c.some((l) => l?.px === was.px)) return `C ${s} ${d} ${was.px} ${was.sz}`;
      return is ? `M ${s} ${d} ${is.px} ${is.sz}` : `C ${s} ${d} ${was!.px} ${was!.sz}`;
    }
  }
  return `N N 0 ${UNDEF} 0`;
}

/** Checks a recording's MBP records against the same reader's --record lines; returns the bad ones (at most 5). */
function checkBooks(mbp: Fields[], lines: string[], depth: number, startNs: bigint, endNs: bigint): string[] {
  const bad: string[] = [];
  const fail = (i: number, why: string) => {
    if (bad.length < 5) bad.push(`record ${i}: ${why}`);
  };
  let prevRecv = 0n;
  let prev: Pair[] | null = null;
  let prevEvent = 0n;
  for (const [i, r] of mbp.entries()) {
    const line = lines[i]!;
    const levels = r.levels as Pair[];
    const want = levelsOfLine(line, depth);
    for (let d = 0; d < depth; d++) {
      const l = levels[d]!;
      const w = want[d]!;
      if (l.bid_px !== w.bid_px || l.ask_px !== w.ask_px || l.bid_sz !== w.bid_sz || l.ask_sz !== w.ask_sz) fail(i, `level ${d} ${show(l)} vs line ${line.slice(0, 80)}`);
      // ITCH books count their orders: a level has at least one, an empty one none.
      if ((l.bid_px === UNDEF) !== (l.bid_ct === 0) || (l.ask_px === UNDEF) !== (l.ask_ct === 0)) fail(i, `level ${d} order counts ${l.bid_ct}/${l.ask_ct}`);
    }
    if (r.sequence !== Number(line.slice(0, line.indexOf(','))) % 2 ** 32) fail(i, `sequence ${r.sequence} vs msgIndex of ${line.slice(0, 20)}`);
    if (r.hd_instrument_id !== 1 || r.hd_publisher_id !== 0 || r.hd_length !== (depth === 1 ? 80 : 368) / 4) fail(i, 'header');
    if (r.flags !== F_LAST) fail(i, `flags ${r.flags}`);
    if (r.ts_in_delta !== 0) fail(i, 'ts_in_delta');
    const recv = r.ts_recv as bigint;
    if (recv < prevRecv || recv < startNs || recv > endNs) fail(i, `ts_recv ${recv} out of order or outside [${startNs}, ${endNs}]`);
    prevRecv = recv;
    const event = r.hd_ts_event as bigint;
    if (event < prevEvent) fail(i, `ts_event ${event} after ${prevEvent}`); // the resting orders of 09:30 are ITCH time 0
    prevEvent = event;
    const change = `${r.action} ${r.side} ${r.depth} ${r.price} ${r.size}`;
    const wantChange = changeOf(prev, levels);
    if (change !== wantChange) fail(i, `change ${change}, expected ${wantChange}`);
    prev = levels;
  }
  return bad;
}

function tradesOf(file: string): Trade[] {
  const out: Trade[] = [];
  for (const l of readFileSync(file, 'latin1').trim().split('\n')) {
    const c = l.split(',');
    assert.is.not(c[0], 'LAPPED', 'the reader lost events');
    if (c[2] === 'T') out.push({ msgIndex: Number(c[0]), price: c[3] === '' ? UNDEF : BigInt(c[3]!) * 100_000n, size: Number(c[4]) });
  }
  return out;
}

/**
 * The metadata, exactly; and GOOG mapped to its feed id (its ITCH stock locate, 1 in this file):
 * in the metadata if the reader attached after the feed announced it, else by a symbol mapping
 * record before its first book (the feed's segment is READY before it reads the ITCH directory).
 */
function checkMetadata(got: DbnFile, schema: number | null, startNs: bigint, endNs: bigint): void {
  const m = got.metadata;
  assert.ok(m.start >= startNs && m.start <= endNs, `start ${m.start} within the reader's life`);
  const { start, ...rest } = m;
  const inMetadata = m.symbols.length > 0;
  const maps = got.records.filter((r) => r[1] === RTYPE.SYMBOL_MAPPING).map((r) => fieldsOf(r, 'SymbolMappingMsg'));
  if (inMetadata) assert.is(maps.length, 0, 'GOOG is in the metadata: no mapping record');
  else {
    assert.is(got.records[0]![1], RTYPE.SYMBOL_MAPPING, 'GOOG announced after attach: mapped by the first record');
    assert.is(maps.length, 1);
    const map = maps[0]!;
    assert.equal(
      [map.hd_instrument_id, map.stype_in, map.stype_in_symbol, map.stype_out, map.stype_out_symbol, map.end_ts],
      [1, STYPE.RAW_SYMBOL, 'GOOG', STYPE.INSTRUMENT_ID, '1', 0xffffffffffffffffn],
    );
    assert.ok((map.start_ts as bigint) >= m.start && (map.start_ts as bigint) <= endNs);
  }
  assert.equal(rest, {
    version: 3,
    dataset: 'MDFAN',
    schema,
    end: 0xffffffffffffffffn,
    limit: 0n,
    stypeIn: STYPE.RAW_SYMBOL,
    stypeOut: STYPE.INSTRUMENT_ID,
    tsOut: false,
    symbolCstrLen: 71,
    symbols: inMetadata ? ['GOOG'] : [],
    partial: [],
    notFound: [],
    mappings: inMetadata ? [{ rawSymbol: 'GOOG', intervals: [{ startDate: isoDay(start), endDate: isoDay(start, 1), symbol: '1' }] }] : [],
    padding: rest.padding,
  });
}

test('the GOOG day at full speed, recorded by two readers (MBP-10 + trades, zstd; MBP-1, plain): every book and trade read back equals the reader\'s own text record', async () => {
  const name = segName('goog');
  const f = (n: string) => join(dir, n);
  const startNs = nowNs() - 1_000_000n;
  const r1 = mdfan(['read', '--segment', name, '--wait', 'block', '--record', f('rec1.txt'), '--record-dbn', f('out1.dbn.zst'), '--events', '--record-events', f('ev1.txt')]);
  const r2 = mdfan(['read', '--segment', name, '--wait', 'block', '--record', f('rec2.txt'), '--record-dbn', f('out2.dbn'), '--schema', 'mbp-1']);
  await waitUntil(() => [r1, r2].every((r) => addonLoaded(r.child.pid)), 20_000, { what: 'the readers to load and poll for the segment' });
  const feed = mdfan(['feed', '--source', `itch:${GOOG_ITCH}`, '--segment', name, '--dump-books', f('dump.txt')]);
  assert.is(await exitOf(feed), 0, feed.stderr());
  const [s1, s2] = [await summaryOf(r1), await summaryOf(r2)];
  assert.is(await exitOf(r1), 0, r1.stderr());
  assert.is(await exitOf(r2), 0, r2.stderr());
  const endNs = nowNs() + 1_000_000n;

  // Reader 1: MBP-10 and trades, zstd.
  // The reference zstd tool reads the compressed recording whole (frames, checksums).
  const check = spawnSync('zstd', ['-t', '-q', f('out1.dbn.zst')], { encoding: 'utf8' });
  assert.is(check.status, 0, check.stderr);
  const one = await readDbn(f('out1.dbn.zst'));
  checkMetadata(one, null, startNs, endNs); // trades may follow: mixed
  const mbp = one.records.filter((r) => r[1] === RTYPE.MBP_10).map((r) => fieldsOf(r, 'Mbp10Msg'));
  const trades = one.records.filter((r) => r[1] === RTYPE.MBP_0).map((r) => fieldsOf(r, 'TradeMsg'));
  assert.is(mbp.length + trades.length + (one.metadata.symbols.length === 0 ? 1 : 0), one.records.length, 'nothing but MBP-10 and trade records, and GOOG\'s mapping');
  const lines1 = readBookLines(f('rec1.txt'));
  assert.ok(lines1.length >= 1000, `${lines1.length} books`);
  assert.is(mbp.length, lines1.length, 'one MBP record per book read');
  assert.is(s1.dbn.records.mbp, mbp.length);
  assert.equal(checkBooks(mbp, lines1, 10, startNs, endNs), []);
  const want = tradesOf(f('ev1.txt'));
  assert.is(want.length, 11_771, 'every trade of the day');
  assert.is(trades.length, want.length);
  assert.is(s1.dbn.records.trade, trades.length);
  const badTrades = trades.filter((t, i) => {
    const w = want[i]!;
    return t.sequence !== w.msgIndex || t.price !== w.price || t.size !== w.size || t.action !== 'T' || !'ABN'.includes(t.side as string) || t.depth !== 0 || t.flags !== F_LAST || t.hd_instrument_id !== 1 || t.hd_length !== 12;
  });
  assert.equal(badTrades.slice(0, 3), [], 'trades equal the ring\'s events, in order');
  // Sides by DBN's convention (the aggressor's; N for non-displayed trades): as the same day's
  // trades in the DBN file made from the ITCH day by an independent converter.
  const dbnDay = await readDbn(GOOG_DBN);
  const mboAt = layoutOfStruct('MboMsg');
  const wantSides = dbnDay.records.filter((r) => r[1] === RTYPE.MBO && String.fromCharCode(r[mboAt.at('action')]!) === 'T').map((r) => String.fromCharCode(r[mboAt.at('side')]!));
  assert.is(wantSides.length, trades.length);
  assert.is(trades.filter((t, i) => t.side !== wantSides[i]).length, 0, 'every trade\'s side as Databento writes it');
  assert.is(s1.dbn.bytes, contentBytes(f('out1.dbn.zst')), 'the summary counts the stream\'s bytes');

  // Reader 2: MBP-1, plain.
  const two = await readDbn(f('out2.dbn'));
  checkMetadata(two, SCHEMA.MBP_1, startNs, endNs);
  const mbp1 = two.records.filter((r) => r[1] === RTYPE.MBP_1);
  assert.is(mbp1.length + (two.metadata.symbols.length === 0 ? 1 : 0), two.records.length);
  const lines2 = readBookLines(f('rec2.txt'));
  assert.is(mbp1.length, lines2.length);
  assert.is(s2.dbn.records.mbp, lines2.length);
  assert.equal(checkBooks(mbp1.map((r) => fieldsOf(r, 'Mbp1Msg')), lines2, 1, startNs, endNs), []);
});

// ---------------------------------------------------------------- late instruments, clamps, stale books, exit paths

test('an instrument announced after attach gets a symbol mapping record before its first book; sizes past u32 are clamped and counted; a stale book is MAYBE_BAD_BOOK; a signal closes a zstd file whole', async () => {
  const name = segName('late');
  const w = SegmentWriter.open({ name, maxInstruments: 4, levels: 2 });
  w.startIdleHeartbeat();
  try {
    w.addInstrument('AAA', 7, specOf(2));
    const levels = (bids: number[][], asks: number[][]) => book(bids, asks);
    w.publish(0, levels([[12345, 10, 2]], [[12350, 5, 1]]), 41, 1_000);
    const plain = join(dir, 'late.dbn');
    const zst = join(dir, 'late-sig.dbn.zst');
    const r = mdfan(['read', '--segment', name, '--wait', 'yield', '--record-dbn', plain, '--dataset', 'TEST.LATE']);
    const rs = mdfan(['read', '--segment', name, '--wait', 'yield', '--symbols', 'AAA,ZZZ', '--record-dbn', zst]);
    await r.event(LogEvent.READER_ATTACHED);
    await rs.event(LogEvent.READER_ATTACHED);
    w.addInstrument('BBB', 9, specOf(0));
    w.publish(1, levels([[7, 2 ** 33, 1]], []), 42, 2_000, abi.SLOT_STALE);
    w.addInstrument('CCC', 11, specOf(12));
    w.publish(2, levels([[1, 1, 1]], []), 43, 3_000);
    await r.event(LogEvent.DBN_INSTRUMENT_SKIPPED);
    rs.child.kill('SIGTERM');
    const ss = await summaryOf(rs);
    assert.is(await exitOf(rs), 0, rs.stderr());
    w.close();
    const s = await summaryOf(r);
    assert.is(await exitOf(r), 0, r.stderr());

    const got = await readDbn(plain);
    assert.is(got.metadata.dataset, 'TEST.LATE');
    assert.equal(got.metadata.symbols, ['AAA']);
    assert.equal(got.metadata.mappings.map((m) => [m.rawSymbol, m.intervals[0]!.symbol]), [['AAA', '7']]);
    const kinds = got.records.map((b) => (b[1] === RTYPE.SYMBOL_MAPPING ? `map:${fieldsOf(b, 'SymbolMappingMsg').stype_in_symbol}` : `mbp:${b.readUInt32LE(4)}`));
    assert.equal(kinds, ['mbp:7', 'map:BBB', 'mbp:9'], 'AAA, then BBB mapped before its book; CCC (12 decimals) not recorded');
    const aaa = fieldsOf(got.records[0]!, 'Mbp10Msg');
    const lv = aaa.levels as Pair[];
    assert.equal([lv[0]!.bid_px, lv[0]!.bid_sz, lv[0]!.bid_ct, lv[0]!.ask_px, lv[1]!.bid_px, lv[1]!.bid_sz], [123_450_000_000n, 10, 2, 123_500_000_000n, UNDEF, 0], '2 decimals x 1e7; empty levels UNDEF');
    assert.equal([aaa.action, aaa.side, aaa.depth, aaa.price, aaa.size, aaa.sequence, aaa.hd_ts_event], ['A', 'B', 0, 123_450_000_000n, 10, 41, 1_000n]);
    const map = fieldsOf(got.records[1]!, 'SymbolMappingMsg');
    assert.equal([map.hd_length, map.hd_instrument_id, map.stype_in, map.stype_out, map.stype_out_symbol, map.end_ts], [44, 9, STYPE.RAW_SYMBOL, STYPE.INSTRUMENT_ID, '9', 0xffffffffffffffffn]);
    assert.ok((map.start_ts as bigint) >= got.metadata.start && map.start_ts === map.hd_ts_event);
    const bbb = fieldsOf(got.records[2]!, 'Mbp10Msg');
    assert.equal([(bbb.levels as Pair[])[0]!.bid_px, (bbb.levels as Pair[])[0]!.bid_sz, bbb.size, bbb.flags], [7_000_000_000n, U32_MAX, U32_MAX, F_LAST | F_MAYBE_BAD_BOOK]);
    assert.equal(s.dbn.records, { mbp: 2, trade: 0, symbol_mapping: 1 });
    assert.is(s.dbn.clamped_sizes, 2, 'the level and the record\'s own size');
    assert.is(s.dbn.skipped_books, 1);

    // The reader stopped by a signal: the zstd frame is ended, the file reads back whole.
    const sig = await readDbn(zst);
    assert.equal([sig.metadata.symbols, sig.metadata.notFound, sig.metadata.schema], [['AAA'], ['ZZZ'], SCHEMA.MBP_10]);
    assert.is(sig.records.length, ss.dbn.records.mbp);
    assert.ok(sig.records.every((b) => b.readUInt32LE(4) === 7), 'only AAA (--symbols)');
  } finally {
    w.close({ unlink: true });
  }
});

test('--duration ends a recording with the file flushed and closed', async () => {
  const name = segName('duration');
  const w = SegmentWriter.open({ name, maxInstruments: 1, levels: 1 });
  w.startIdleHeartbeat();
  try {
    w.addInstrument('AAA', 3, specOf(4));
    w.publish(0, book([[5853300, 100, 1]], []), 1, 1);
    const out = join(dir, 'duration.dbn.zst');
    const r = mdfan(['read', '--segment', name, '--top', '--duration', '0.5', '--record-dbn', out]);
    const s = await summaryOf(r);
    assert.is(await exitOf(r), 0, r.stderr());
    const got = await readDbn(out);
    assert.is(got.metadata.schema, SCHEMA.MBP_1, '--top records MBP-1');
    assert.is(got.records.length, 1);
    assert.is(s.dbn.records.mbp, 1);
    const top = fieldsOf(got.records[0]!, 'Mbp1Msg');
    assert.equal([(top.levels as Pair[])[0]!.bid_px, (top.levels as Pair[])[0]!.bid_sz, (top.levels as Pair[])[0]!.bid_ct], [585_330_000_000n, 100, 0], 'a top line has no order count');
  } finally {
    w.close({ unlink: true });
  }
});

// ---------------------------------------------------------------- refusals

const USAGE_FILE = join(dir, 'usage.dbn');
for (const [why, args, says] of [
  ['--schema without --record-dbn', ['--schema', 'mbp-1'], '--schema and --dataset go with --record-dbn'],
  ['--dataset without --record-dbn', ['--dataset', 'X'], '--schema and --dataset go with --record-dbn'],
  ['--schema foo', ['--record-dbn', USAGE_FILE, '--schema', 'foo'], '--schema must be mbp-10 or mbp-1'],
  ['--dataset of 16 characters', ['--record-dbn', USAGE_FILE, '--dataset', 'ABCDEFGHIJKLMNOP'], '--dataset must be 1..15'],
  ['--top with --schema mbp-10', ['--record-dbn', USAGE_FILE, '--top', '--schema', 'mbp-10'], '--top reads one level'],
] as const) {
  test(`bad usage: ${why} exits 2 with MDFAN_ERR_OPTIONS`, async () => {
    const r = mdfan(['read', '--segment', segName('usage'), '--timeout', '30', ...args]);
    assert.is(await exitOf(r), 2, r.stderr());
    assert.match(r.stderr(), `MDFAN_ERR_OPTIONS: ${says}`);
    assert.ok(!existsSync(USAGE_FILE), 'refused before any file is made');
  });
}

test('an unwritable FILE fails at once (before any segment), naming it with MDFAN_ERR_OUTPUT', async () => {
  const sub = join(dir, 'a-directory');
  mkdirSync(sub);
  for (const [file, says] of [
    [join(dir, 'no-such-dir', 'x.dbn'), 'does not exist'],
    [sub, 'a directory'],
  ]) {
    const r = mdfan(['read', '--segment', segName('unwritable'), '--timeout', '30', '--record-dbn', file!]);
    assert.is(await exitOf(r), 1, r.stderr());
    assert.match(r.stderr(), 'MDFAN_ERR_OUTPUT');
    assert.match(r.stderr(), file!);
    assert.match(r.stderr(), says!);
  }
});

test('an instrument of more than 9 price decimals at attach is refused (MDFAN_ERR_OPTIONS), and no file is left', async () => {
  const name = segName('decimals');
  const w = SegmentWriter.open({ name, maxInstruments: 1, levels: 1 });
  w.startIdleHeartbeat();
  try {
    w.addInstrument('FINE', 1, specOf(10));
    const out = join(dir, 'decimals.dbn');
    const r = mdfan(['read', '--segment', name, '--record-dbn', out]);
    assert.is(await exitOf(r), 2, r.stderr());
    assert.match(r.stderr(), 'MDFAN_ERR_OPTIONS');
    assert.match(r.stderr(), 'FINE has 10 price decimals');
    assert.ok(!existsSync(out));
  } finally {
    w.close({ unlink: true });
  }
});

test.run();
