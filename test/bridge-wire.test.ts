/**
 * The bridge's record format, version 2, without a server: every type round-trips with the
 * segment's numbers (prices negative and above 2^32, sizes above 2^32 at 8 decimals, 32-character
 * venue-qualified symbols); the encoder refuses what it cannot carry exactly; the decoder refuses
 * what no bridge sends, a version-1 record among them (counted by a mirror under 'version');
 * symbols escape into one subject token and one bucket key and back; and docs/BRIDGE.md's Python
 * decoder reads what the encoder writes: every field against the values the test wrote, and the
 * GOOG day's trades (the feed's own event ring, encoded as the bridge encodes it) against the
 * independent event oracle, so a trade price on the wrong scale in the doc fails.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { pino } from 'pino';
import { EventBatch, EventRingReader, SegmentReader, SegmentWriter, abi, isMdfanError } from '../native/segment/index.js';
import { NatsFeed, Publisher } from '../feed/index.js';
import { BOOK_LEVELS_OFFSET, type Head, HEAD, HEAD_BYTES, LEVEL, MsgType, TOP_BYTES, TradeFlag, WIRE_VERSION, WireError, WireWriter, decode, pxOf, qtyOf, tradePx } from '../lib/wire/wire.js';
import { escapeSymbol, parseSubject, subjectOf, unescapeSymbol } from '../lib/wire/subjects.js';
import { binPath, repoRoot } from './helpers/paths.js';
import { GOOG_EVENTS, GOOG_ITCH } from './helpers/oracle.js';
import { isPrintableTrade } from '../lib/event-line.js';
import { cleanupSegments, segName } from './helpers/segments.js';

test.after.each(() => cleanupSegments());

const BTC = 'binance-coinm:BTCUSD_PERP';
const LONGEST = 'binance-coinm:ETHUSD_250926.X*>Z'; // 32 characters, '.', '*' and '>' among them
const head = (h: Partial<Head> = {}): Head => ({
  type: MsgType.BOOK,
  flags: 1,
  generation: 3,
  session: 1_796_000_000,
  priceDecimals: 8,
  sizeDecimals: 3, // not the price's: a swap shows
  seq: 2 ** 40 + 5,
  msgIndex: 2 ** 52 + 1,
  exchangeTsNs: 1_723_075_200_123 * 1e6, // a Binance time: epoch ms in ns, beyond 2^53
  publishTsNs: 9e15,
  bridgeTsNs: 9e15 + 1,
  symbol: BTC,
  ...h,
});

const reason = (data: Uint8Array): string => {
  try {
    decode(data);
    return 'decoded';
  } catch (e) {
    return e instanceof WireError ? e.reason : String(e);
  }
};
const code = (f: () => unknown): string => {
  try {
    f();
    return 'encoded';
  } catch (e) {
    return isMdfanError(e) ? e.code : String(e);
  }
};

test('v2 round-trips the segment numbers: prices negative and beyond 2^32, sizes beyond 2^32, 64-bit ids, 32-character symbols', () => {
  assert.is(LONGEST.length, abi.SYMBOL_BYTES);
  const w = new WireWriter();
  // A BTC price at 8 decimals (~6e12), a size at 8 decimals beyond 2^32, a negative price beyond -2^32.
  const bids = [6_123_456_789_012, 2 ** 52 + 3, 2 ** 32 - 1, -(2 ** 32) - 1, 2 ** 33 + 7, 0];
  const asks = [6_123_456_799_999, 1, 7, 2 ** 53 - 1, 2 ** 53 - 1, 1];
  for (const symbol of [BTC, LONGEST, 'A']) {
    w.head(head({ symbol }));
    const len = w.book({ levels: 10, feedId: 9, maxInstruments: 16, bids: { count: 2, levels: bids }, asks: { count: 2, levels: asks } });
    const d = decode(w.buf.slice(0, len));
    assert.equal({ ...d.head }, head({ symbol }));
    assert.ok('book' in d);
    if ('book' in d) assert.equal([d.book.levels, d.book.feedId, d.book.maxInstruments, [...d.book.bids.levels], [...d.book.asks.levels]], [10, 9, 16, bids, asks]);
  }
  w.head(head({ type: MsgType.TOP }));
  const top = decode(w.buf.slice(0, w.top({ count: 1, levels: [-1, 2 ** 33 + 7, 0] }, { count: 0, levels: [5, 5, 5] })));
  assert.ok('top' in top);
  if ('top' in top) assert.equal([top.top.bid.count, [...top.top.bid.levels], top.top.ask.count, [...top.top.ask.levels]], [1, [-1, 2 ** 33 + 7, 0], 0, [0, 0, 0]]);
  w.head(head({ type: MsgType.TRADE }));
  const trade = { price: -123_456_789_012_345, size: 2 ** 45 + 1, action: 0x43, side: 0x53, flags: TradeFlag.NOT_PRINTABLE, orderRef: 2 ** 53 - 1 };
  const t = decode(w.buf.slice(0, w.trade(trade)));
  assert.ok('trade' in t);
  if ('trade' in t) assert.equal(t.trade, trade);
  const none = decode(w.buf.slice(0, w.trade({ ...trade, price: Number.NaN, flags: 0xff })));
  assert.ok('trade' in none);
  if ('trade' in none) assert.equal([none.trade.price, none.trade.flags], [Number.NaN, TradeFlag.NOT_PRINTABLE], 'no price; only the flag the wire defines');
  w.head(head({ type: MsgType.STATUS }));
  const s = decode(w.buf.slice(0, w.status(0x48)));
  assert.equal('status' in s && s.status, { action: 0x48 });
});

test('pxOf, qtyOf and tradePx read a record in currency and instrument units at its own decimals', () => {
  const w = new WireWriter();
  w.head(head({ symbol: BTC, priceDecimals: 8, sizeDecimals: 8 }));
  const d = decode(w.buf.slice(0, w.book({ levels: 1, feedId: 1, maxInstruments: 1, bids: { count: 1, levels: [6_183_763_000_000, 55_463_987_000, 1] }, asks: { count: 0, levels: [] } })));
  if (!('book' in d)) throw new Error('a book record');
  assert.equal([pxOf(d.head, d.book.bids.levels[0]!), qtyOf(d.head, d.book.bids.levels[1]!)], [61837.63, 554.63987]);
  w.head(head({ type: MsgType.TOP, symbol: 'GOOG', priceDecimals: 4, sizeDecimals: 0 }));
  const t = decode(w.buf.slice(0, w.top({ count: 1, levels: [5_853_300, 300, 0] }, { count: 0, levels: [0, 0, 0] })));
  if (!('top' in t)) throw new Error('a top record');
  assert.equal([pxOf(t.head, t.top.bid.levels[0]!), qtyOf(t.head, t.top.bid.levels[1]!)], [585.33, 300]);
  w.head(head({ type: MsgType.TRADE, symbol: 'GOOG', priceDecimals: 4, sizeDecimals: 0 }));
  const tr = decode(w.buf.slice(0, w.trade({ price: 585_330_000_000, size: 200, action: 0x45, side: 0x42, flags: 0, orderRef: 1 })));
  if (!('trade' in tr)) throw new Error('a trade record');
  assert.equal([tradePx(tr.trade), qtyOf(tr.head, tr.trade.size)], [585.33, 200]);
});

test('the encoder refuses what it cannot carry exactly (MDFAN_ERR_WIRE_RANGE); the decoder refuses beyond 2^53, decimals above 18, bad symbols, short records', () => {
  const w = new WireWriter();
  w.head(head());
  const book = (price: number, size: number, orders = 1) => () => w.book({ levels: 10, feedId: 1, maxInstruments: 16, bids: { count: 1, levels: [price, size, orders] }, asks: { count: 0, levels: [] } });
  assert.is(code(book(2 ** 53, 1)), 'MDFAN_ERR_WIRE_RANGE', 'a price at 2^53');
  assert.is(code(book(-(2 ** 53), 1)), 'MDFAN_ERR_WIRE_RANGE', 'a price at -2^53');
  assert.is(code(book(1, -1)), 'MDFAN_ERR_WIRE_RANGE', 'a negative size');
  assert.is(code(book(1.5, 1)), 'MDFAN_ERR_WIRE_RANGE', 'a fractional price');
  assert.is(code(book(1, 1, 2 ** 32)), 'MDFAN_ERR_WIRE_RANGE', 'orders beyond u32');
  assert.is(code(book(-(2 ** 53) + 1, 2 ** 53 - 1)), 'encoded', 'the extremes that fit');
  assert.is(code(() => w.trade({ price: 1, size: 2 ** 64, action: 0x45, side: 0, flags: 0, orderRef: 1 })), 'MDFAN_ERR_WIRE_RANGE');
  assert.is(code(() => w.head(head({ symbol: `${LONGEST}Q` }))), 'MDFAN_ERR_WIRE_RANGE', 'a 33-character symbol');
  assert.is(code(() => w.head(head({ seq: 2 ** 53 }))), 'MDFAN_ERR_WIRE_RANGE');

  w.head(head());
  const len = book(100, 5)();
  const good = w.buf.slice(0, len);
  assert.is(reason(good), 'decoded');
  const huge = good.slice();
  new DataView(huge.buffer).setUint32(BOOK_LEVELS_OFFSET + LEVEL.size + 4, 0x00200000, true); // size = 2^53
  assert.is(reason(huge), 'range');
  const deep = good.slice();
  deep[HEAD.priceDecimals] = abi.MAX_DECIMALS + 1;
  assert.is(reason(deep), 'range');
  const ctl = good.slice();
  ctl[HEAD.symbol] = 0x01;
  assert.is(reason(ctl), 'symbol');
  const afterNul = good.slice();
  afterNul[HEAD.symbol + abi.SYMBOL_BYTES - 1] = 0x41; // a byte after the NUL padding began
  assert.is(reason(afterNul), 'symbol');
  assert.is(reason(good.slice(0, HEAD_BYTES - 1)), 'short');
  assert.is(reason(good.slice(0, len - 1)), 'short', 'a book shorter than its counts say');
  assert.is(reason(Uint8Array.from([...good, 0])), 'length');
  const levels = good.slice();
  levels[HEAD_BYTES] = 200;
  assert.is(reason(levels), 'levels');
});

/** A version-1 TOP record as a v1 bridge wrote it: 64-byte head (u32 price scale, 8-byte space-padded symbol), six u32. */
function v1Top(symbol: string): Uint8Array {
  const b = new Uint8Array(64 + 24);
  const dv = new DataView(b.buffer);
  b[0] = 1;
  b[1] = MsgType.TOP;
  dv.setUint32(8, Math.floor(Date.now() / 1000) - 60, true);
  dv.setUint32(12, 10000, true);
  dv.setUint32(16, 1, true);
  for (let i = 0; i < 8; i++) b[56 + i] = i < symbol.length ? symbol.charCodeAt(i) : 0x20;
  for (const [k, v] of [100, 5, 1, 101, 6, 2].entries()) dv.setUint32(64 + 4 * k, v, true);
  return b;
}

test('a version-1 record is refused, never reinterpreted: the mirror counts it under version and creates no instrument', () => {
  const rec = v1Top('GOOG');
  assert.is(rec.length, TOP_BYTES - 32, 'a v1 TOP is as long as a v2 head: only the version tells them apart');
  assert.is(WIRE_VERSION, 2);
  assert.is(reason(rec), 'version');
  assert.is(reason(v1Top('GOOG').subarray(0, HEAD_BYTES)), 'version');
  const name = segName('wire-v1');
  const seg = SegmentWriter.open({ name, maxInstruments: 4, levels: 3, ringEvents: 64 });
  try {
    const feed = new NatsFeed({ url: 'nats://127.0.0.1:1', prefix: 'md', symbols: null, levels: 3 });
    const apply = feed.offline(new Publisher(seg, { symbols: null }), pino({ level: 'silent' }));
    apply('md.GOOG.top', rec);
    assert.equal(feed.drops.summary(), { version: 1 });
    assert.is(feed.stats.malformed, 1);
    const r = SegmentReader.openSync(name, { anyState: true });
    try {
      assert.equal(r.instruments(), [], 'no slot for the record of another version');
    } finally {
      r.close();
    }
  } finally {
    seg.close({ unlink: true });
  }
});

test('symbols escape into one subject token and one bucket key, and back: venue-qualified names, every printable character', () => {
  assert.is(escapeSymbol(BTC), 'binance-coinm=3ABTCUSD=5FPERP');
  assert.is(escapeSymbol('BRK.B'), 'BRK=2EB');
  const printable = Array.from({ length: 0x7e - 0x20 }, (_, i) => String.fromCharCode(0x21 + i)).join('');
  for (const symbol of [BTC, LONGEST, ...(printable.match(/.{1,32}/g) ?? [])]) {
    const token = escapeSymbol(symbol);
    // One subject token (no '.', no wildcard, no space), and a key the KV bucket takes.
    assert.match(token, /^[A-Za-z0-9=-]+$/, symbol);
    assert.is(unescapeSymbol(token), symbol);
    for (const type of [MsgType.TOP, MsgType.BOOK, MsgType.TRADE, MsgType.STATUS]) assert.equal(parseSubject('md.x', subjectOf('md.x', symbol, type)), { symbol, type });
  }
  assert.is(unescapeSymbol('BAD.TOKEN'), null);
  assert.is(unescapeSymbol('=41BC'), null, 'one spelling per symbol: an escaped letter is refused');
  assert.is(unescapeSymbol('A=2'), null);
  assert.is(parseSubject('md', 'md.GOOG.foo'), null);
  assert.is(parseSubject('md', 'other.GOOG.top'), null);
});

/** Runs docs/BRIDGE.md's Python decoder over records given as hex, one [head, body] per record. */
function runDocDecoder(records: string[]): Array<[Record<string, unknown>, Record<string, unknown>]> {
  const doc = readFileSync(join(repoRoot, 'docs', 'BRIDGE.md'), 'utf8');
  const py = /```python\n([\s\S]*?)```/.exec(doc)?.[1];
  assert.ok(py, 'the doc has a python block');
  // Records on stdin: the GOOG day's trades are more than an argument list holds.
  const script = `${py}\nimport sys, json\nfor h in sys.stdin.read().split():\n    head, body = decode(bytes.fromhex(h))\n    print(json.dumps([head, body]))\n`;
  const out = execFileSync('python3', ['-c', script], { input: records.join('\n'), encoding: 'utf8', maxBuffer: 256 * 2 ** 20 });
  return out.trim().split('\n').map((l) => JSON.parse(l) as [Record<string, unknown>, Record<string, unknown>]);
}

test("docs/BRIDGE.md's Python decoder reads what the bridge writes: every type, every field, 64-bit and negative values", () => {
  const w = new WireWriter();
  const h = head({ flags: 0, seq: 7, msgIndex: 4242 });
  const records: string[] = [];
  const add = (type: MsgType, body: () => number): void => {
    w.head({ ...h, type });
    records.push(Buffer.from(w.buf.subarray(0, body())).toString('hex'));
  };
  add(MsgType.TOP, () => w.top({ count: 1, levels: [-6_000_000_000_000, 2 ** 33, 0] }, { count: 0, levels: [0, 0, 0] }));
  add(MsgType.BOOK, () => w.book({ levels: 10, feedId: 3, maxInstruments: 8, bids: { count: 1, levels: [6_123_456_789_012, 2 ** 40, 1] }, asks: { count: 2, levels: [6_123_456_789_013, 6, 2, 6_123_456_789_014, 7, 3] } }));
  // The price in the event ring's own units (the constant, not a figure the doc could copy wrong).
  add(MsgType.TRADE, () => w.trade({ price: -585_330 * (abi.EVENT_PRICE_SCALE / 1000), size: 2 ** 36, action: 0x50, side: 0x42, flags: TradeFlag.NOT_PRINTABLE, orderRef: 2 ** 50 }));
  add(MsgType.STATUS, () => w.status(0x48));
  const out = runDocDecoder(records);
  const want = { stale: false, generation: 3, session: 1_796_000_000, price_decimals: 8, size_decimals: 3, seq: 7, msg_index: 4242, exchange_ts_ns: h.exchangeTsNs, publish_ts_ns: 9e15, bridge_ts_ns: 9e15 + 1, symbol: BTC };
  for (const [i, type] of [1, 2, 3, 4].entries()) assert.equal(out[i]![0], { type, ...want });
  assert.equal(out[0]![1], { bid: [-6_000_000_000_000, 2 ** 33], ask: null });
  assert.equal(out[1]![1], { levels: 10, feed_id: 3, max_instruments: 8, bids: [[6_123_456_789_012, 2 ** 40, 1]], asks: [[6_123_456_789_013, 6, 2], [6_123_456_789_014, 7, 3]] });
  // -585.33 in currency units whatever price_decimals says (8 here): the scale is the event ring's.
  assert.equal(out[2]![1], { price: -585.33, price_e9: -585_330_000_000, size: 2 ** 36, action: 'P', side: 'B', not_printable: true, order_ref: 2 ** 50 });
  assert.equal(out[3]![1], { action: 'H' });
});

test("docs/BRIDGE.md's Python decoder gives the GOOG day's trades at the event oracle's prices (the feed's ring, encoded as the bridge encodes it)", () => {
  const name = segName('wire-goog');
  // A ring that holds the whole day: every record is read after the feed has ended, none lapped.
  const feed = spawnSync(process.execPath, [binPath, 'feed', '--source', `itch:${GOOG_ITCH}`, '--segment', name, '--speed', 'max', '--ring-events', String(2 ** 20), '--keep-segment'], { encoding: 'utf8' });
  assert.is(feed.status, 0, feed.stderr);
  const seg = SegmentReader.openSync(name, { anyState: true });
  const ring = EventRingReader.open(name, 'oldest');
  const records: string[] = [];
  try {
    const bySlot = new Map(seg.instruments().map((i) => [i.slotIndex, i]));
    const w = new WireWriter();
    const batch = new EventBatch(4096);
    for (let n = ring.poll(batch); n > 0 || batch.lost > 0; n = ring.poll(batch)) {
      assert.is(batch.lost, 0, 'the ring held the whole day');
      for (let i = 0; i < n; i++) {
        const rec = batch.records[i]!;
        if (!isPrintableTrade(rec)) continue;
        const inst = bySlot.get(rec.instrumentIndex);
        assert.ok(inst, `a trade of slot ${rec.instrumentIndex} names an instrument`);
        // The bridge's trade record (workers/bridge/bridge.ts publishEvent): the ring's own numbers.
        w.head(head({ type: MsgType.TRADE, flags: 0, symbol: inst.symbol, priceDecimals: inst.priceDecimals, sizeDecimals: inst.sizeDecimals, seq: records.length + 1, msgIndex: rec.msgIndex, exchangeTsNs: rec.exchangeTsNs, publishTsNs: rec.publishTsNs }));
        const len = w.trade({ price: rec.hasPrice ? rec.price : Number.NaN, size: rec.size, action: rec.action, side: rec.side, flags: rec.flags & TradeFlag.NOT_PRINTABLE, orderRef: rec.orderRef });
        records.push(Buffer.from(w.buf.subarray(0, len)).toString('hex'));
      }
    }
  } finally {
    ring.close();
    seg.close();
  }
  // The oracle: msgIndex,SYMBOL,T,price (instrument units, 4 decimals for ITCH),shares,action.
  const want = gunzipSync(readFileSync(GOOG_EVENTS)).toString('latin1').trim().split('\n');
  assert.is(records.length, want.length, 'as many printable trades as the oracle');
  const decoded = runDocDecoder(records);
  // The doc's currency price back to the oracle's integer units (the float is within 1e-9 of it).
  const line = ([h, t]: [Record<string, unknown>, Record<string, unknown>], price: unknown): string =>
    `${h.msg_index},${h.symbol},T,${Math.round((price as number) * 10 ** (h.price_decimals as number))},${t.size},${t.action}`;
  const got = decoded.map((d) => line(d, d[1].price));
  for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) assert.is(got[i], want[i], `trade ${i + 1} of ${want.length}: price`);
  // And the exact integer, in 1e-9 units (ITCH's 4 decimals: whole multiples of 10^5).
  const exact = decoded.map((d) => line(d, (d[1].price_e9 as number) / abi.EVENT_PRICE_SCALE));
  for (let i = 0; i < want.length; i++) if (exact[i] !== want[i]) assert.is(exact[i], want[i], `trade ${i + 1} of ${want.length}: price_e9`);
});

test.run();
