/**
 * `--source dbn:`: the GOOG day as DBN MBO records must give every one of the 147,916 oracle
 * checkpoints, through --dump-books and through the slot, with exact epoch times; its trades are
 * the day's trades; and DBN's rules hold on streams built to test each one (F_LAST, A C M R T F N,
 * snapshots, bad-book flags, MBP levels, status, names from definitions, mappings and metadata).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { NullSink, Pacer, Publisher, openSource } from '../feed/index.js';
import { createLogger } from '../lib/log.js';
import { DbnReader, type RecordView } from '../feed/dbn/reader.js';
import { DbnVenue } from '../feed/dbn/venue.js';
import { probeInputFile } from '../feed/input-stream.js';
import { SegmentReader, SegmentWriter, TopSnapshot } from '../native/segment/index.js';
import { formatBookLine } from '../lib/book-line.js';
import { FLAG, SCHEMA, STYPE } from '../lib/dbn/enums.js';
import { HEADER, RTYPE, layoutOfStruct } from '../lib/dbn/fields.js';
import { checkDumpAgainstOracle, GOOG_DBN, GOOG_DBN_ORACLE, GOOG_EVENTS, GOOG_ITCH, oracle } from './helpers/oracle.js';
import { DBN_SAMPLES, binPath } from './helpers/paths.js';
import { segName, cleanupSegments } from './helpers/segments.js';
import { DAY0_NS, mbo, metadata, record } from './helpers/dbn-build.js';
import { replayDbn } from './helpers/dbn-sink.js';

const dir = mkdtempSync(join(tmpdir(), 'mdfan-dbn-'));
test.after.each(cleanupSegments);
test.after(() => rmSync(dir, { recursive: true, force: true }));
const SAMPLES = DBN_SAMPLES;
const MBO = layoutOfStruct('MboMsg');
const DAY = 86400e9;

test('mdfan feed --source dbn: (GOOG, zstd, v3): all 147,916 checkpoints match; 172,926 records, 11,771 trades; CLOSED, exit 0', () => {
  const dump = join(dir, 'goog.dump');
  const name = segName('dbn-cli');
  const r = spawnSync(process.execPath, [binPath, 'feed', '--source', `dbn:${GOOG_DBN}`, '--segment', name, '--dump-books', dump, '--keep-segment'], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /172926 messages/);
  assert.match(r.stdout, /DBN v3 XNAS\.ITCH 172926 MBO, 0 MBP, 11771 trades/);
  assert.not.match(r.stdout, /unknown orders|duplicate adds|over-cancels|modifies of unknown|without price|unknown times/); // none occurred
  const { checked, bad } = checkDumpAgainstOracle(readFileSync(dump, 'latin1'), 'GOOG', oracle(GOOG_DBN_ORACLE));
  assert.is(checked, 147_916);
  assert.equal(bad, []);
  const stat = JSON.parse(spawnSync(process.execPath, [binPath, 'stat', '--segment', name, '--json'], { encoding: 'utf8' }).stdout);
  assert.is(stat.state, 'CLOSED');
  assert.is(stat.messages, 172_926);
  assert.is(stat.instruments[0].symbol, 'GOOG');
  assert.is(stat.instruments[0].feed_id, 1); // the instrument_id, kept as provenance
  assert.is(stat.instruments[0].price_decimals, 9);
  assert.is(stat.instruments[0].size_decimals, 0);
});

test('the checkpoints through the slot, each with its record\'s ts_event as the exact epoch ns', async () => {
  const name = segName('dbn-slot');
  const w = SegmentWriter.open({ name, maxInstruments: 4, levels: 10 });
  const r = SegmentReader.openSync(name);
  const reader = new DbnReader(probeInputFile(GOOG_DBN));
  try {
    const meta = await reader.open();
    const venue = new DbnVenue(new Publisher(w), 10, meta, reader.version, () => {
      throw new Error('unexpected');
    });
    const snap = r.newSnapshot();
    const top = new TopSnapshot();
    let topsChecked = 0;
    const rows = oracle(GOOG_DBN_ORACLE);
    const v: RecordView = { buf: Buffer.alloc(0), at: 0, bytes: 0, rtype: 0 };
    let oi = 0;
    let bad = 0;
    let badTs = 0;
    let first = '';
    let slot = -1;
    let i = 0;
    for (;;) {
      while (reader.next(v)) {
        venue.process(v, i);
        while (oi < rows.length && rows[oi]!.index === i) {
          if (slot < 0) slot = r.find('GOOG');
          r.read(slot, snap);
          const line = formatBookLine(snap.msgIndex, 'GOOG', snap, 10);
          if (line.slice(line.indexOf('GOOG,') + 5) !== rows[oi]!.levels || snap.msgIndex > i) {
            bad++;
            first ||= `checkpoint ${i}: slot ${line.slice(0, 100)} vs ${rows[oi]!.levels.slice(0, 80)}`;
          }
          // The slot holds the book of its own last record: its ts_event, to the ns; the top line too.
          const tsEvent = v.buf.readBigUInt64LE(v.at + HEADER.tsEvent);
          if (snap.msgIndex === i && snap.exchangeTsBig !== tsEvent) badTs++;
          r.readTop(slot, top);
          if (top.msgIndex === i && top.exchangeTsBig !== tsEvent) badTs++;
          if (top.msgIndex === i) topsChecked++;
          oi++;
        }
        i++;
      }
      if (!(await reader.fill())) break;
    }
    assert.is(i, 172_926);
    assert.is(oi, 147_916);
    assert.is(bad, 0, first);
    assert.is(badTs, 0);
    assert.ok(topsChecked > 10_000, `${topsChecked} top lines of their own checkpoint record`);
  } finally {
    reader.close();
    r.close();
    w.close();
  }
});

test('the trades: one event per T record, in order, equal to the day\'s trades from an independent ITCH reader (index = sequence - 1)', async () => {
  const { sink, reader } = await replayDbn(GOOG_DBN);
  assert.is(reader.recordIndex, 172_926);
  const itch = gunzipSync(readFileSync(GOOG_EVENTS)).toString('latin1').trim().split('\n').filter((l) => l.includes(',T,'));
  // The sequence of each T record, read back by record index.
  const seqOf = new Map<number, number>();
  const rd = new DbnReader(probeInputFile(GOOG_DBN));
  await rd.open();
  const v: RecordView = { buf: Buffer.alloc(0), at: 0, bytes: 0, rtype: 0 };
  for (let i = 0; ; ) {
    while (rd.next(v)) {
      if (v.buf[v.at + MBO.at('action')] === 0x54) seqOf.set(i, v.buf.readUInt32LE(v.at + MBO.at('sequence')));
      i++;
    }
    if (!(await rd.fill())) break;
  }
  rd.close();
  assert.is(sink.events.length, 11_771);
  assert.is(itch.length, 11_771);
  let wrong = 0;
  let firstWrong = '';
  sink.events.forEach((e, k) => {
    const [idx, , , px, size] = itch[k]!.split(',');
    const ok = e.kind === 0x54 && e.action === 0x54 && seqOf.get(e.msgIndex)! - 1 === Number(idx) && e.price === Number(px) * 1e5 && e.size === Number(size) && (e.flags & 1) === 1;
    if (!ok && wrong++ === 0) firstWrong = `trade ${k}: ${JSON.stringify(e)} vs ${itch[k]}`;
  });
  assert.is(wrong, 0, firstWrong);
});

test('the time origin: from the metadata\'s start, so a first record with no time (UNDEF_TIMESTAMP) changes nothing; without a start, from the first record with a time', async () => {
  const undef = record('StatusMsg', RTYPE.STATUS, { instrument_id: 7, ts_event: 0xffffffffffffffffn }, { action: 7, is_trading: 'Y' });
  // A record stamped a little before the start (ts_event precedes the ts_recv a range is cut on): exact too.
  const early = record('MboMsg', RTYPE.MBO, { instrument_id: 7, ts_event: DAY0_NS - 1000n }, { order_id: 9n, price: 2_000_000_000n, size: 1, flags: 0x80, action: 'A', side: 'A' });
  const a = await replay('origin.dbn', [metadata(), undef, early, A(1, 'B', 1e9, 1, 0x80, 5)]);
  assert.is(a.venue.dbn.unknownTimes, 1);
  assert.ok(Number.isNaN(a.sink.events[0]!.exchangeTs), 'the status record has no time');
  const aBase = BigInt(a.sink.instruments[0]!.spec.tsBaseNs!);
  assert.equal(a.sink.books.map((k) => aBase + BigInt(k.exchangeTs)), [DAY0_NS - 1000n, DAY0_NS + 5n]);
  const b = await replay('origin-nostart.dbn', [metadata({ start: 0n }), A(1, 'B', 1e9, 1, 0x80, 5), A(2, 'B', 2e9, 1, 0x80, 7 * DAY + 9)]);
  assert.is(b.venue.dbn.unknownTimes, 0);
  const base = BigInt(b.sink.instruments[0]!.spec.tsBaseNs!);
  assert.equal(b.sink.books.map((k) => base + BigInt(k.exchangeTs)), [DAY0_NS + 5n, DAY0_NS + BigInt(7 * DAY + 9)]);
});

/** Writes a DBN stream and replays it in-process. */
async function replay(name: string, parts: Buffer[], levels = 10) {
  const file = join(dir, name);
  writeFileSync(file, Buffer.concat(parts));
  return replayDbn(file, levels);
}

const A = (orderId: number, side: string, price: number, size: number, flags = 0x80, ts = 1) => mbo(7, ts, 'A', side, orderId, price, size, flags);

test('MBO rules: A adds, C takes its size off (the order leaves at 0), M moves or resizes, T F N change nothing; books only after F_LAST', async () => {
  const { sink, venue } = await replay('rules.dbn', [
    metadata({ symbols: ['ESM1'], mappings: [{ rawSymbol: 'ESM1', intervals: [{ startDate: '2021-06-01', endDate: '2021-06-02', symbol: '7' }] }] }),
    A(1, 'B', 100e9, 5, 0), // 0: no F_LAST: not looked at
    A(2, 'B', 99e9, 3), // 1: F_LAST: one book with both
    A(3, 'A', 101e9, 4), // 2
    mbo(7, 3, 'C', 'B', 1, 100e9, 2), // 3: 5 - 2 = 3 left
    mbo(7, 4, 'T', 'A', 0, 100e9, 1), // 4: a trade: no book, one event
    mbo(7, 4, 'F', 'B', 1, 100e9, 1, 0), // 5: a fill: no book
    mbo(7, 5, 'M', 'B', 2, 98e9, 3), // 6: order 2 moves 99 -> 98
    mbo(7, 6, 'M', 'A', 3, 101e9, 10), // 7: order 3 grows in place
    mbo(7, 7, 'C', 'B', 1, 100e9, 3), // 8: order 1 leaves at 0
    mbo(7, 8, 'N', 'N', 0, 0, 0), // 9: none
    mbo(7, 9, 'M', 'B', 99, 97e9, 1), // 10: modify of an unknown order: added
  ]);
  // The time origin: the UTC midnight a day before the metadata's start.
  assert.equal(sink.instruments.map((i) => [i.symbol, i.feedId, i.spec.priceDecimals, i.spec.sizeDecimals, i.spec.tsBaseNs]), [['ESM1', 7, 9, 0, Number(DAY0_NS) - DAY]]);
  assert.equal(
    sink.books.map((b) => [b.msgIndex, b.bids, b.asks]),
    [
      [1, [[100e9, 5, 1], [99e9, 3, 1]], []],
      [2, [[100e9, 5, 1], [99e9, 3, 1]], [[101e9, 4, 1]]],
      [3, [[100e9, 3, 1], [99e9, 3, 1]], [[101e9, 4, 1]]],
      [6, [[100e9, 3, 1], [98e9, 3, 1]], [[101e9, 4, 1]]],
      [7, [[100e9, 3, 1], [98e9, 3, 1]], [[101e9, 10, 1]]],
      [8, [[98e9, 3, 1]], [[101e9, 10, 1]]],
      [10, [[98e9, 3, 1], [97e9, 1, 1]], [[101e9, 10, 1]]],
    ],
  );
  assert.equal(sink.books.map((b) => b.exchangeTs - DAY), [1, 1, 3, 5, 6, 7, 9]); // ns after the origin
  assert.is(sink.events.length, 1);
  assert.equal([sink.events[0]!.msgIndex, sink.events[0]!.price, sink.events[0]!.size, sink.events[0]!.side], [4, 100e9, 1, 0x53]); // side A: a sell
  assert.is(venue.books.counters.modifiesAsAdds, 1);
});

test('MBO rules: R clears the book and a snapshot of adds follows; F_MAYBE_BAD_BOOK marks it doubtful until a book without; UNDEF_PRICE is never a level', async () => {
  const SNAP = FLAG.SNAPSHOT;
  const { sink, venue } = await replay('clear.dbn', [
    metadata(),
    A(1, 'B', 100e9, 5),
    A(2, 'A', 101e9, 5),
    mbo(7, 2, 'R', 'N', 0, 0, 0, SNAP), // 2: clear, no F_LAST: the empty book is never shown
    A(10, 'B', 90e9, 1, SNAP), // 3
    A(11, 'A', 91e9, 2, SNAP | FLAG.LAST), // 4: the snapshot's end
    A(12, 'B', 89e9, 1, FLAG.LAST | FLAG.MAYBE_BAD_BOOK), // 5: doubtful
    mbo(7, 6, 'C', 'B', 999, 0, 1, FLAG.LAST | FLAG.MAYBE_BAD_BOOK), // 6: changes nothing, still doubtful: a stale mark
    A(13, 'B', 0x7fffffffffffffffn as unknown as number, 1), // 7: UNDEF_PRICE: not a level
    A(14, 'B', 88e9, 1), // 8: clean again
  ]);
  assert.equal(sink.books.map((b) => [b.msgIndex, b.bids.map((l) => l[0]), b.asks.map((l) => l[0]), b.doubtful]), [
    [0, [100e9], [], false],
    [1, [100e9], [101e9], false],
    [4, [90e9], [91e9], false],
    [5, [90e9, 89e9], [91e9], true],
    [8, [90e9, 89e9, 88e9], [91e9], false],
  ]);
  assert.equal(sink.stale, [{ slot: 0, msgIndex: 6 }]);
  assert.equal(sink.instruments.map((i) => i.symbol), ['7']); // no mapping, no definition: the id
  assert.is(venue.books.counters.unpriced, 1);
  assert.is(venue.books.counters.clears, 1);
  assert.is(venue.books.counters.unknownOrderRefs, 1);
});

test('names: a definition names its instrument, a mapping record too, metadata mappings by date; two ids with one name share a slot; --levels bounds the book', async () => {
  const def = (id: number, sym: string) => record('InstrumentDefMsg', RTYPE.INSTRUMENT_DEF, { instrument_id: id, ts_event: DAY0_NS }, { raw_symbol: sym });
  const map = (id: number, sym: string) => record('SymbolMappingMsg', RTYPE.SYMBOL_MAPPING, { instrument_id: id, ts_event: DAY0_NS }, { stype_in: STYPE.RAW_SYMBOL, stype_in_symbol: sym, stype_out: STYPE.INSTRUMENT_ID, stype_out_symbol: String(id) });
  const day2 = 86400e9;
  const { sink, venue } = await replay(
    'names.dbn',
    [
      metadata({
        schema: SCHEMA.MIXED,
        mappings: [{ rawSymbol: 'MSFT', intervals: [{ startDate: '2021-06-01', endDate: '2021-06-02', symbol: '30' }, { startDate: '2021-06-02', endDate: '2021-06-03', symbol: '31' }] }],
      }),
      def(20, 'GEM3 P9812'),
      map(21, 'NQM1'),
      mbo(20, 1, 'A', 'B', 1, 1e9, 1),
      mbo(21, 2, 'A', 'B', 2, 2e9, 1),
      mbo(30, 3, 'A', 'B', 3, 3e9, 1),
      mbo(31, day2 + 4, 'A', 'B', 4, 4e9, 1), // MSFT's id on the next day: the same slot
      mbo(31, day2 + 5, 'A', 'B', 5, 5e9, 1),
      record('OhlcvMsg', RTYPE.OHLCV_1S, { instrument_id: 30, ts_event: DAY0_NS }, { open: 1n }), // known, not a book: skipped
      Buffer.from([4, 0x77, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), // an unknown type: skipped
    ],
    1,
  );
  assert.equal(sink.instruments.map((i) => [i.symbol, i.feedId]), [['GEM3_P9812', 20], ['NQM1', 21], ['MSFT', 30]]);
  // One id, two names on two days (a venue reusing ids): the name of the day of its first record.
  const reused = await replay('reused.dbn', [
    metadata({ mappings: [{ rawSymbol: 'OLD', intervals: [{ startDate: '2021-06-01', endDate: '2021-06-02', symbol: '40' }] }, { rawSymbol: 'NEW', intervals: [{ startDate: '2021-06-02', endDate: '2021-06-03', symbol: '40' }] }] }),
    mbo(40, day2 + 1, 'A', 'B', 1, 1e9, 1),
  ]);
  assert.equal(reused.sink.instruments.map((i) => i.symbol), ['NEW']);
  assert.equal(sink.books.map((b) => [b.slot, b.bids]), [[0, [[1e9, 1, 1]]], [1, [[2e9, 1, 1]]], [2, [[3e9, 1, 1]]], [2, [[4e9, 1, 1]]], [2, [[5e9, 1, 1]]]]);
  assert.is(venue.names.renamed, 1);
  assert.is(venue.dbn.skipped, 1);
  assert.is(venue.dbn.unknownTypes, 1);
  assert.is(venue.dbn.definitions, 1);
  assert.is(venue.dbn.mappings, 1);
});

test('beside another source, names are qualified dbn:NAME; one too long for the directory once qualified falls back to dbn:ID', () => {
  const file = join(dir, 'long.dbn');
  const def = (id: number, sym: string) => record('InstrumentDefMsg', RTYPE.INSTRUMENT_DEF, { instrument_id: id, ts_event: DAY0_NS }, { raw_symbol: sym });
  writeFileSync(file, Buffer.concat([metadata(), def(20, 'A'.repeat(30)), def(21, 'ESM1'), mbo(20, 1, 'A', 'B', 1, 1e9, 1), mbo(21, 2, 'A', 'B', 2, 1e9, 1)]));
  const name = segName('dbn-long');
  const r = spawnSync(process.execPath, [binPath, 'feed', '--source', `dbn:${file}`, '--source', `itch:${GOOG_ITCH}`, '--segment', name, '--keep-segment'], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /1 renamed symbols/);
  const stat = JSON.parse(spawnSync(process.execPath, [binPath, 'stat', '--segment', name, '--json'], { encoding: 'utf8' }).stdout);
  assert.equal(stat.instruments.map((i: { symbol: string }) => i.symbol).sort(), ['dbn:20', 'dbn:ESM1', 'itch:GOOG']);
});

/** The times a DBN source asks its pacer about, in order (a pacer that never waits). */
async function pacedTimes(file: string, pace: 'event' | 'recv'): Promise<number[]> {
  const got: number[] = [];
  class Spy extends Pacer {
    override get paced(): boolean {
      return true;
    }
    override delayNs(ts: number): number {
      got.push(ts);
      return 0;
    }
  }
  await openSource(`dbn:${file}`, { levels: 10, pace }).run(new NullSink(), { pacer: new Spy('max'), stop: { requested: false }, log: createLogger('test') });
  return got;
}

test('--pace: the replay is paced by each record\'s ts_event, or by its ts_recv with --pace recv (ns after the first)', async () => {
  const file = join(dir, 'pace.dbn');
  // Equal ts_event, ts_recv 300 and 600 ns apart: only --pace recv sees the spread.
  const r = (recv: number) => record('MboMsg', RTYPE.MBO, { instrument_id: 7, ts_event: DAY0_NS + 5n }, { order_id: BigInt(recv), price: 1n, size: 1, flags: 0x80, action: 'A', side: 'B', ts_recv: DAY0_NS + BigInt(recv) });
  writeFileSync(file, Buffer.concat([metadata(), r(100), r(400), r(1000), A(9, 'B', 1e9, 1, 0x80, 70)]));
  assert.equal(await pacedTimes(file, 'event'), [0, 0, 0, 65]);
  assert.equal(await pacedTimes(file, 'recv'), [0, 300, 900, 970]);
});

/** The decoded samples, for what the venue must show of them. */
const expected = JSON.parse(readFileSync(join(SAMPLES, 'expected.json'), 'utf8')).files;

for (const [file, levels] of [['test_data.mbp-10.dbn', 10], ['test_data.mbp-1.v1.dbn.zst', 1], ['test_data.bbo-1s.v3.dbn.zst', 1], ['test_data.cmbp-1.v2.dbn.zst', 1], ['test_data.tbbo.dbn', 1]] as const) {
  test(`MBP: ${file} publishes each record's levels as they are (UNDEF_PRICE ends a side), trades to the ring`, async () => {
    const { sink } = await replay(file, [readFileSync(join(SAMPLES, file))], 10);
    const recs = expected[file].records as { levels: Record<string, string | number>[]; action?: string; flags: number }[];
    const want = (side: 'bid' | 'ask', lv: Record<string, string | number>[]) =>
      lv.filter((l) => l[`${side}_px`] !== '9223372036854775807').map((l) => [Number(l[`${side}_px`]), Number(l[`${side}_sz`]), Number(l[`${side}_ct`] ?? 0)]);
    // Each record is published unless it repeats the last book.
    const books = sink.books.map((b) => [b.msgIndex, b.bids, b.asks]);
    let last = '';
    const wanted: unknown[] = [];
    recs.forEach((r, i) => {
      const w = [i, want('bid', r.levels).slice(0, levels), want('ask', r.levels).slice(0, levels)];
      const key = JSON.stringify(w.slice(1));
      if ((r.flags & FLAG.LAST) !== 0 && key !== last) wanted.push(w);
      if ((r.flags & FLAG.LAST) !== 0) last = key;
    });
    assert.ok(wanted.length > 0);
    assert.equal(books, wanted);
    assert.is(sink.events.length, recs.filter((r) => r.action === 'T').length);
  });
}

test('status records go to the ring as kind H: action, is_trading, reason, trading event', async () => {
  const { sink } = await replay('status.dbn', [readFileSync(join(SAMPLES, 'test_data.status.dbn'))]);
  const recs = expected['test_data.status.dbn'].records as { action: number; reason: number; trading_event: number; is_trading: string }[];
  assert.equal(
    sink.events.map((e) => [e.kind, e.action, String.fromCharCode(e.side), e.orderRef, e.size]),
    recs.map((r) => [0x48, r.action, r.is_trading, r.reason, r.trading_event]),
  );
});

test.run();
