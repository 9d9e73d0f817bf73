/**
 * Binance's book rules in isolation: the sequencer at every boundary of the documented rules
 * (futures and spot), the full-depth book side, payload decoding, the capture reader, and the
 * market's resync, snapshot attribution, disconnect and top-of-book rule with a fake sink.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { readCapture } from '../feed/binance/capture-read.js';
import { DepthSide } from '../feed/binance/depth-book.js';
import { BinanceMarket } from '../feed/binance/market.js';
import { MessageDecoder, MessageKind } from '../feed/binance/messages.js';
import { Sequencer, Verdict } from '../feed/binance/sequencer.js';
import { BINANCE_VENUES } from '../feed/binance/venues.js';
import { NullSink } from '../feed/sink.js';
import { createLogger } from '../lib/log.js';
import type { EventFields } from '../native/segment/events.js';
import type { LevelSource } from '../native/segment/seqlock.js';

const dir = mkdtempSync(join(tmpdir(), 'mdfan-binance-seq-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('futures: drop u < L, the first applied has U <= L <= u, then pu must be the previous u', () => {
  const s = new Sequencer('futures');
  assert.is(s.check(1, 5, 0), Verdict.BUFFER, 'no snapshot yet');
  s.snapshot(100);
  assert.is(s.check(90, 99, 80), Verdict.DROP_OLD, 'u < L');
  assert.is(s.check(95, 100, 89), Verdict.APPLY, 'u == L bridges (U <= L <= u)');
  assert.is(s.check(101, 110, 100), Verdict.APPLY);
  assert.is(s.check(101, 110, 100), Verdict.DROP_DUPLICATE, 'u applied already');
  assert.is(s.check(111, 120, 109), Verdict.GAP, 'pu is not the previous u');
  assert.is(s.check(121, 130, 120), Verdict.BUFFER, 'lost until a new snapshot');
  s.snapshot(200);
  assert.is(s.check(201, 210, 199), Verdict.GAP, 'U > L: the snapshot is older than every event left');
  s.snapshot(205);
  assert.is(s.check(201, 210, 199), Verdict.APPLY);
  // A spot-style continuation (U = u + 1) with a wrong pu is still a gap on futures.
  assert.is(s.check(211, 220, 205), Verdict.GAP);
});

test('spot: drop u <= L, the first applied has U <= L+1 <= u, then U <= previous u + 1 (a larger U is a gap)', () => {
  const s = new Sequencer('spot');
  s.snapshot(100);
  assert.is(s.check(90, 100, -1), Verdict.DROP_OLD, 'u == L is older on spot');
  assert.is(s.check(102, 110, -1), Verdict.GAP, 'U > L + 1');
  s.snapshot(100);
  assert.is(s.check(101, 105, -1), Verdict.APPLY, 'U == L + 1');
  assert.is(s.check(106, 108, -1), Verdict.APPLY, 'U == u + 1');
  assert.is(s.check(107, 108, -1), Verdict.DROP_DUPLICATE);
  assert.is(s.check(105, 112, -1), Verdict.APPLY, 'an overlap is no gap (levels are absolute)');
  assert.is(s.check(114, 120, -1), Verdict.GAP, 'U > u + 1');
  // Ids past 2^32 are plain numbers.
  s.snapshot(2 ** 40);
  assert.is(s.check(2 ** 40 - 5, 2 ** 40 + 1, -1), Verdict.APPLY);
  assert.is(s.check(2 ** 40 + 2, 2 ** 40 + 9, -1), Verdict.APPLY);
});

test('a book side: absolute levels, 0 removes (absent is fine), best first, the snapshot edge', () => {
  const bids = new DepthSide(false, 2);
  const top = new Float64Array(12);
  bids.load(new Float64Array([30, 20, 10]), new Float64Array([3, 2, 1]), 3, false);
  bids.set(25, 7);
  bids.set(20, 0);
  bids.set(15, 0); // absent: nothing happens
  bids.set(30, 4);
  assert.is(bids.fillTop(top, 4), 3);
  assert.equal([...top.subarray(0, 9)], [30, 4, 0, 25, 7, 0, 10, 1, 0]);
  assert.is(bids.lastTopPastEdge, false);
  bids.set(5, 9); // below the snapshot's worst bid: real, but the book past 10 is unknown
  bids.fillTop(top, 4);
  assert.is(bids.lastTopPastEdge, true);
  bids.fillTop(top, 3);
  assert.is(bids.lastTopPastEdge, false, 'only when a published level is past the edge');
  const asks = new DepthSide(true, 1);
  asks.load(new Float64Array([11, 12]), new Float64Array([1, 2]), 2, true);
  asks.set(13, 5);
  asks.set(-1, 1); // prices may be negative
  assert.is(asks.fillTop(top, 4), 4);
  assert.equal([...top.subarray(0, 12)], [-1, 1, 0, 11, 1, 0, 12, 2, 0, 13, 5, 0]);
  assert.is(asks.lastTopPastEdge, false, 'a complete snapshot has no edge');
});

test('payloads: the four kinds, and malformed ones counted by reason', () => {
  const d = new MessageDecoder(true, 1, 0);
  assert.is(d.decode('{"stream":"btcusd_perp@depth@0ms","data":{"e":"depthUpdate","E":5,"s":"BTCUSD_PERP","U":10,"u":12,"pu":9,"b":[["1.5","3"]],"a":[]}}'), MessageKind.DEPTH);
  assert.equal([d.depth.firstId, d.depth.lastId, d.depth.prevId, d.depth.bids.count, d.depth.bids.prices[0], d.depth.bids.sizes[0], d.depth.asks.count], [10, 12, 9, 1, 15, 3, 0]);
  assert.is(d.decode('{"lastUpdateId":7,"symbol":"BTCUSD_PERP","bids":[["2.0","1"]],"asks":[["2.1","4"]]}'), MessageKind.SNAPSHOT);
  assert.is(d.snapshot.symbol, 'BTCUSD_PERP');
  const bad: [string, string][] = [
    ['{', 'not_json'],
    ['[1]', 'unknown_shape'],
    ['{"stream":"btcusd_perp@aggTrade","data":{"s":"BTCUSD_PERP"}}', 'other_stream'],
    ['{"stream":"btcusd_perp@depth@0ms","data":{"e":"depthUpdate","E":5,"s":"ETHUSD_PERP","U":10,"u":12,"pu":9,"b":[],"a":[]}}', 'symbol_mismatch'],
    ['{"stream":"btcusd_perp@depth@0ms","data":{"e":"depthUpdate","E":5,"s":"BTCUSD_PERP","U":10,"u":12,"b":[],"a":[]}}', 'bad_field'],
    ['{"stream":"btcusd_perp@depth@0ms","data":{"e":"depthUpdate","E":5,"s":"BTCUSD_PERP","U":13,"u":12,"pu":9,"b":[],"a":[]}}', 'bad_field'],
    ['{"stream":"btcusd_perp@depth@0ms","data":{"e":"depthUpdate","E":5,"s":"BTCUSD_PERP","U":10,"u":12,"pu":9,"b":[["1.55","3"]],"a":[]}}', 'more_decimals'],
    ['{"stream":"btcusd_perp@depth@0ms","data":{"e":"depthUpdate","E":5,"s":"BTCUSD_PERP","U":10,"u":12,"pu":9,"b":[["1.5",3]],"a":[]}}', 'bad_field'],
    ['{"stream":"btcusd_perp@depth@0ms","data":{"e":"depthUpdate","E":5,"s":"BTCUSD_PERP","U":10,"u":12,"pu":9,"b":[["1.5","-3"]],"a":[]}}', 'bad_number'],
    ['{"stream":"btcusd_perp@trade","data":{"e":"trade","s":"BTCUSD_PERP","t":1,"p":"1e3","q":"1","T":1,"m":true}}', 'bad_number'],
    ['{"stream":"btcusd_perp@bookTicker","data":{"e":"bookTicker","s":"BTCUSD_PERP","u":1,"b":"1.0","B":"1","a":"99999999999999999.0","A":"1"}}', 'too_large'],
  ];
  for (const [payload, reason] of bad) {
    assert.is(d.decode(payload), MessageKind.MALFORMED, payload);
    assert.is(d.reason, reason, payload);
  }
});

test('the capture reader: plain or gzip, a cut end is a warning, a line without `<recv_ns> ` is an error naming the line', async () => {
  const text = '1723161256172216566 {"a":1}\n5 {"b":2}\n';
  const plain = join(dir, 'plain.txt');
  writeFileSync(plain, text);
  const got: string[] = [];
  for await (const l of readCapture(plain)) got.push(`${l.lineIndex}:${l.recvSec}:${l.recvSubNs}:${l.offsetBytes}:${l.payload}`);
  assert.equal(got, ['0:1723161256:172216566:0:{"a":1}', '1:0:5:28:{"b":2}']);
  const cut = join(dir, 'cut.txt');
  writeFileSync(cut, `${text}7 {"c"`);
  let warned = '';
  let n = 0;
  for await (const _ of readCapture(cut, (w) => (warned = w))) n++;
  assert.is(n, 2);
  assert.match(warned, 'line 2');
  const gz = join(dir, 'cut.gz');
  const whole = gzipSync(Buffer.from(text.repeat(2000)));
  writeFileSync(gz, whole.subarray(0, whole.length - 20));
  warned = '';
  n = 0;
  for await (const _ of readCapture(gz, (w) => (warned = w))) n++;
  assert.ok(n > 3000 && n < 4000, `every whole line before the cut (${n})`);
  assert.match(warned, 'ends early');
  const bad = join(dir, 'bad.txt');
  writeFileSync(bad, `${text}12a {"x":1}\n`);
  try {
    for await (const _ of readCapture(bad));
    assert.unreachable('a bad line must stop the reader');
  } catch (e) {
    assert.is((e as { code?: string }).code, 'MDFAN_ERR_FEED_CORRUPT');
    assert.match((e as Error).message, 'bad.txt: line 2 ');
  }
});

interface Call {
  call: string;
  msgIndex: number;
  doubtful?: boolean;
  keepTop?: boolean;
  bid?: number;
  ask?: number;
}

class FakeSink extends NullSink {
  calls: Call[] = [];
  events: EventFields[] = [];
  override readonly wantsEvents = true;
  slots = new Map<string, number>();
  override instrument(symbol: string): number {
    const slot = this.slots.size;
    this.slots.set(symbol, slot);
    return slot;
  }
  override book(_slot: number, top: LevelSource, msgIndex: number, _ts: number, doubtful?: boolean, keepTop?: boolean): void {
    this.calls.push({ call: 'book', msgIndex, doubtful: doubtful ?? false, keepTop: keepTop ?? false, bid: top.bidCount ? top.bids[0] : Number.NaN, ask: top.askCount ? top.asks[0] : Number.NaN });
  }
  override bbo(_slot: number, bp: number, _bq: number, ap: number, _aq: number, msgIndex: number): void {
    this.calls.push({ call: 'bbo', msgIndex, bid: bp, ask: ap });
  }
  override bookStale(_slot: number, msgIndex: number): void {
    this.calls.push({ call: 'stale', msgIndex });
  }
  override event(e: EventFields): void {
    this.events.push({ ...e });
  }
}

const depth = (sym: string, U: number, u: number, pu: number, bid: string, ask: string) =>
  JSON.stringify({ stream: `${sym.toLowerCase()}@depth@0ms`, data: { e: 'depthUpdate', E: 1, T: 1, s: sym, U, u, pu, b: [[bid, '1']], a: [[ask, '1']] } });
const snapshot = (L: number, bid: string, ask: string, symbol?: string) => JSON.stringify({ lastUpdateId: L, ...(symbol ? { symbol } : {}), bids: [[bid, '5']], asks: [[ask, '5']] });
const ticker = (sym: string, u: number, bid: string, ask: string) =>
  JSON.stringify({ stream: `${sym.toLowerCase()}@bookTicker`, data: { e: 'bookTicker', u, s: sym, b: bid, B: '1', a: ask, A: '1', T: 1, E: 1 } });

test('a gap: the book STALE, a snapshot asked for, events buffered, the book rebuilt and the mark cleared', () => {
  const sink = new FakeSink();
  const asked: string[] = [];
  const m = new BinanceMarket(BINANCE_VENUES['binance-usdm'], sink, { levels: 2, symbols: null, priceDecimals: 1, sizeDecimals: 0, log: createLogger('test'), transport: { requestSnapshot: (s) => asked.push(s) } });
  m.onMessage(depth('BTCUSDT', 90, 99, 80, '9.0', '11.0'), 0);
  assert.equal(asked, ['BTCUSDT'], 'a new symbol asks for its snapshot');
  m.onSnapshot('BTCUSDT', snapshot(100, '10.0', '10.5'), 1);
  assert.equal(sink.calls, [], 'the buffered event is older than the snapshot: nothing applied');
  m.onMessage(depth('BTCUSDT', 95, 101, 99, '10.1', '10.4'), 2);
  m.onMessage(depth('BTCUSDT', 102, 103, 101, '10.2', '10.3'), 3);
  m.onMessage(depth('BTCUSDT', 105, 106, 104, '10.2', '10.3'), 4); // pu 104: 104 is lost
  m.onMessage(depth('BTCUSDT', 107, 108, 106, '10.25', '10.3'), 5); // buffered... and malformed (2 decimals at 1)
  m.onMessage(depth('BTCUSDT', 107, 108, 106, '9.9', '10.3'), 6);
  assert.equal(asked, ['BTCUSDT', 'BTCUSDT']);
  assert.equal(
    sink.calls.map((c) => `${c.call}@${c.msgIndex}${c.doubtful ? ' doubtful' : ''}`),
    ['book@2', 'book@3', 'stale@4'],
  );
  assert.is(m.inSync('BTCUSDT'), false);
  // The new snapshot (L = 106) is bridged by event 6 (pu 106... U 107 > L: no) -- by event 4 (U 105 <= 106 <= u 106).
  m.onMessage(snapshot(106, '10.0', '10.5', 'BTCUSDT'), 7);
  assert.equal(
    sink.calls.slice(3).map((c) => `${c.call}@${c.msgIndex}:${c.bid}`),
    ['book@4:102', 'book@6:102'],
    'buffered events applied with their own indexes, the mark cleared by the first',
  );
  assert.is(sink.calls[3]!.doubtful, false);
  assert.is(m.inSync('BTCUSDT'), true);
  assert.is(m.binance.resyncs, 1);
  assert.is(m.binance.gaps, 1);
  assert.is(m.binance.malformed.more_decimals, 1);
});

test('bare snapshots are matched to the one symbol whose buffered events they bridge; else counted malformed', () => {
  const sink = new FakeSink();
  const m = new BinanceMarket(BINANCE_VENUES['binance-spot'], sink, { levels: 1, symbols: null, log: createLogger('test') });
  const spot = (sym: string, U: number, u: number) => JSON.stringify({ stream: `${sym.toLowerCase()}@depth@100ms`, data: { e: 'depthUpdate', E: 1, s: sym, U, u, b: [['1.0', '1']], a: [] } });
  m.onMessage(spot('AAAUSDT', 10, 20), 0);
  m.onMessage(spot('BBBUSDT', 500, 600), 1);
  m.onMessage(snapshot(550, '2.0', '3.0'), 2); // bridges BBB's (U <= L+1 <= u)
  assert.is(m.inSync('BBBUSDT'), true);
  assert.is(m.inSync('AAAUSDT'), false);
  m.onMessage(spot('CCCUSDT', 10, 20), 3);
  m.onMessage(snapshot(15, '2.0', '3.0'), 4); // bridges AAA's and CCC's: ambiguous
  assert.is(m.binance.malformed.snapshot_unknown_symbol, 1);
  m.onMessage(snapshot(5, '2.0', '3.0'), 5); // bridges neither, two wait: ambiguous
  assert.is(m.binance.malformed.snapshot_unknown_symbol, 2);
});

test('the top-of-book line: a newer ticker goes alone, an older depth event keeps it (keepTop), an older ticker is dropped; trades are events', () => {
  const sink = new FakeSink();
  const m = new BinanceMarket(BINANCE_VENUES['binance-coinm'], sink, { levels: 1, symbols: ['BTCUSD_PERP'], priceDecimals: 1, sizeDecimals: 0, log: createLogger('test') });
  m.onMessage(snapshot(100, '10.0', '10.5', 'BTCUSD_PERP'), 0);
  m.onMessage(depth('BTCUSD_PERP', 99, 101, 98, '10.1', '10.4'), 1);
  m.onMessage(ticker('BTCUSD_PERP', 105, '10.2', '10.3'), 2);
  m.onMessage(depth('BTCUSD_PERP', 102, 104, 101, '10.2', '10.4'), 3);
  m.onMessage(ticker('BTCUSD_PERP', 103, '10.1', '10.4'), 4);
  m.onMessage(depth('BTCUSD_PERP', 105, 105, 104, '10.2', '10.3'), 5);
  m.onMessage(ticker('BTCUSD_PERP', 105, '10.2', '10.3'), 6);
  m.onMessage(depth('ETHUSD_PERP', 1, 2, 0, '1.0', '2.0'), 7);
  m.onMessage(JSON.stringify({ stream: 'btcusd_perp@trade', data: { e: 'trade', E: 9, T: 8, s: 'BTCUSD_PERP', t: 4242, p: '10.2', q: '7', m: true } }), 8);
  assert.equal(
    sink.calls.map((c) => `${c.call}@${c.msgIndex}${c.keepTop ? ' keepTop' : ''}`),
    ['book@1', 'bbo@2', 'book@3 keepTop', 'book@5'],
  );
  assert.is(m.binance.tickersDropped, 2, 'older (103) and equal (105)');
  assert.is(m.binance.otherSymbols, 1, 'not among the symbols');
  assert.is(sink.events.length, 1);
  const e = sink.events[0]!;
  assert.equal([String.fromCharCode(e.kind, e.action, e.side), e.price, e.size, e.orderRef, e.exchangeTs, e.msgIndex], ['TAS', 10_200_000_000, 7, 4242, 8, 8]);
});

test('a trade handed on already (an id not above the symbol\'s last, as two connections carry for a moment) is dropped and counted; ids run per symbol', () => {
  const sink = new FakeSink();
  const m = new BinanceMarket(BINANCE_VENUES['binance-coinm'], sink, { levels: 1, symbols: null, priceDecimals: 1, sizeDecimals: 0, log: createLogger('test') });
  const trade = (sym: string, id: number, k: number): void =>
    m.onMessage(JSON.stringify({ stream: `${sym.toLowerCase()}@trade`, data: { e: 'trade', E: 9, T: 8, s: sym, t: id, p: '10.2', q: '1', m: false } }), k);
  trade('BTCUSD_PERP', 5, 0);
  trade('BTCUSD_PERP', 6, 1);
  trade('BTCUSD_PERP', 6, 2); // the take-over connection's copy
  trade('BTCUSD_PERP', 4, 3);
  trade('ETHUSD_PERP', 3, 4); // another symbol's ids are its own
  trade('BTCUSD_PERP', 7, 5);
  assert.equal(sink.events.map((e) => `${e.instrumentIndex}:${e.orderRef}@${e.msgIndex}`), ['0:5@0', '0:6@1', '1:3@4', '0:7@5']);
  assert.is(m.binance.tradeDuplicates, 2);
  assert.is(m.binance.trades, 4);
  assert.is(m.counters.duplicates, 2);
});

test('a disconnect: every book STALE, buffers emptied, snapshots asked for again', () => {
  const sink = new FakeSink();
  const asked: string[] = [];
  const m = new BinanceMarket(BINANCE_VENUES['binance-coinm'], sink, { levels: 1, symbols: null, log: createLogger('test'), transport: { requestSnapshot: (s) => asked.push(s) } });
  m.onMessage(snapshot(100, '10.0', '10.5', 'BTCUSD_PERP'), 0);
  m.onMessage(depth('BTCUSD_PERP', 99, 101, 98, '10.1', '10.4'), 1);
  m.onMessage(depth('ETHUSD_PERP', 1, 2, 0, '1.0', '2.0'), 2);
  m.onDisconnect(3);
  assert.equal(sink.calls.map((c) => `${c.call}@${c.msgIndex}`), ['book@1', 'stale@3'], 'ETH had no book to mark');
  assert.equal(asked.sort(), ['BTCUSD_PERP', 'BTCUSD_PERP', 'ETHUSD_PERP', 'ETHUSD_PERP']);
  assert.is(m.inSync('BTCUSD_PERP'), false);
});

test('a full buffer drops its oldest events: the snapshot they would have bridged then finds a gap', () => {
  const sink = new FakeSink();
  const m = new BinanceMarket(BINANCE_VENUES['binance-coinm'], sink, { levels: 1, symbols: null, log: createLogger('test'), maxBuffered: 3 });
  for (let k = 0; k < 5; k++) m.onMessage(depth('BTCUSD_PERP', 10 * k + 1, 10 * k + 10, 10 * k, '1.0', '2.0'), k);
  assert.is(m.binance.bufferOverflows, 2);
  m.onMessage(snapshot(15, '1.0', '2.0', 'BTCUSD_PERP'), 5); // bridged by the 2nd event, dropped
  assert.is(m.binance.gaps, 1);
  assert.equal(sink.calls, []);
});

test.run();
