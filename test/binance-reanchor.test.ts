/**
 * Re-anchoring a Binance book in sync on a new snapshot, with synthetic payloads and a venue whose
 * snapshots hold 3 levels a side (so the edge is near): a snapshot older than the book (the logged
 * events applied again, one commit), newer than it (the first-sync rules), one the log cannot
 * bridge (the book kept), on spot and futures; and the snapshot asked for once when a commit
 * passes the edge, only with a transport.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BinanceMarket } from '../feed/binance/market.js';
import { BINANCE_VENUES, type BinanceVenueName } from '../feed/binance/venues.js';
import { NullSink } from '../feed/sink.js';
import { createLogger } from '../lib/log.js';
import type { LevelSource } from '../native/segment/seqlock.js';

/** Every book committed: its message index, whether doubtful, and its top levels as `price:size` lists. */
class BookSinkLog extends NullSink {
  books: { msgIndex: number; doubtful: boolean; bids: string; asks: string }[] = [];
  stale: number[] = [];
  override instrument(): number {
    return 0;
  }
  override book(_slot: number, top: LevelSource, msgIndex: number, _ts: number, doubtful?: boolean): void {
    const side = (a: Float64Array, n: number) => Array.from({ length: n }, (_, r) => `${a[r * 3]}:${a[r * 3 + 1]}`).join(' ');
    this.books.push({ msgIndex, doubtful: doubtful ?? false, bids: side(top.bids, top.bidCount), asks: side(top.asks, top.askCount) });
  }
  override bookStale(_slot: number, msgIndex: number): void {
    this.stale.push(msgIndex);
  }
}

type Lv = [number, number][];
const str = (l: Lv) => l.map(([p, q]) => [String(p), String(q)]);

function market(name: BinanceVenueName, opts: { transport?: boolean; maxBuffered?: number } = {}) {
  const sink = new BookSinkLog();
  const asked: string[] = [];
  const venue = { ...BINANCE_VENUES[name], snapshotLimit: 3 };
  const m = new BinanceMarket(venue, sink, {
    levels: 2,
    symbols: null,
    priceDecimals: 0,
    sizeDecimals: 0,
    log: createLogger('test'),
    maxBuffered: opts.maxBuffered,
    ...(opts.transport ? { transport: { requestSnapshot: (s: string) => asked.push(s) } } : {}),
  });
  let msg = 0;
  const futures = BINANCE_VENUES[name].sequencing === 'futures';
  return {
    m,
    sink,
    asked,
    /** A depth event; pu is the futures field (ignored on spot). Returns its message index. */
    depth(U: number, u: number, pu: number, b: Lv, a: Lv = []): number {
      const data = { e: 'depthUpdate', E: u, s: 'BTCUSDT', U, u, ...(futures ? { pu } : {}), b: str(b), a: str(a) };
      m.onMessage(JSON.stringify({ stream: 'btcusdt@depth', data }), msg);
      return msg++;
    },
    snapshot(L: number, b: Lv, a: Lv): number {
      m.onMessage(JSON.stringify({ lastUpdateId: L, symbol: 'BTCUSDT', bids: str(b), asks: str(a) }), msg);
      return msg++;
    },
  };
}

const ASKS: Lv = [
  [11, 1],
  [12, 1],
  [13, 1],
];

test('spot, a snapshot older than the book in sync: loaded, the logged events after it applied again, one commit at its index; the edge moves', () => {
  const t = market('binance-spot');
  t.snapshot(100, [[10, 1], [9, 1], [8, 1]], ASKS);
  t.depth(101, 105, -1, [[10, 2]]);
  t.depth(106, 110, -1, [[7, 4]]); // past the edge (8), below the published two
  const past = t.depth(111, 115, -1, [[10, 0], [9, 0]]); // the top two bids are now 8 and 7
  t.depth(116, 120, -1, [], [[11, 5]]);
  assert.equal(t.sink.books.at(-1), { msgIndex: past + 1, doubtful: true, bids: '8:1 7:4', asks: '11:5 12:1' }, 'past the edge: doubtful');
  const before = t.sink.books.length;
  // The venue's book at 110: level 6 was there all along, unseen past the old edge.
  const at = t.snapshot(110, [[10, 2], [9, 1], [8, 1], [7, 4], [6, 6]], ASKS);
  assert.is(t.sink.books.length, before + 1, 'one commit');
  assert.equal(t.sink.books.at(-1), { msgIndex: at, doubtful: false, bids: '8:1 7:4', asks: '11:5 12:1' }, 'events 111..120 applied again on it; inside the new edge (6)');
  t.depth(121, 125, -1, [[8, 0]]);
  assert.equal(t.sink.books.at(-1), { msgIndex: at + 1, doubtful: false, bids: '7:4 6:6', asks: '11:5 12:1' }, 'the chain goes on from 120; 6 came from the snapshot');
  assert.equal([t.m.binance.reanchors, t.m.binance.reanchorsFailed, t.m.binance.gaps], [1, 0, 0]);
  assert.equal(t.sink.stale, []);
});

test('spot, a snapshot equal to or newer than the last applied u: the events that follow meet the first-sync rules', () => {
  const t = market('binance-spot');
  t.snapshot(100, [[10, 1], [9, 1], [8, 1]], ASKS);
  t.depth(101, 105, -1, [[10, 2]]);
  const n = t.sink.books.length;
  t.snapshot(110, [[10, 3], [9, 1], [8, 1], [5, 1]], ASKS);
  assert.is(t.sink.books.length, n, 'nothing committed until the bridging event');
  t.depth(106, 110, -1, [[10, 9]]); // in the snapshot already: dropped
  const bridge = t.depth(111, 112, -1, [[9, 2]]);
  assert.equal(t.sink.books.at(-1), { msgIndex: bridge, doubtful: false, bids: '10:3 9:2', asks: '11:1 12:1' });
  assert.equal([t.m.binance.reanchors, t.m.binance.droppedOld, t.m.binance.gaps], [1, 1, 0]);
  // Equal to the last applied u (112): nothing to apply again, one commit, the chain goes on.
  const at = t.snapshot(112, [[10, 4], [9, 2]], ASKS);
  assert.equal(t.sink.books.at(-1), { msgIndex: at, doubtful: false, bids: '10:4 9:2', asks: '11:1 12:1' });
  t.depth(113, 114, -1, [[9, 3]]);
  assert.equal(t.sink.books.at(-1)?.bids, '10:4 9:3');
  assert.equal([t.m.binance.reanchors, t.m.binance.gaps], [2, 0]);
});

test('spot, a snapshot older than the log reaches: the book kept as it was (still doubtful), counted failed', () => {
  const t = market('binance-spot', { maxBuffered: 2 });
  t.snapshot(100, [[10, 1], [9, 1], [8, 1]], ASKS);
  t.depth(101, 105, -1, [[7, 4]]);
  t.depth(106, 110, -1, [[10, 0]]);
  t.depth(111, 115, -1, [[9, 0]]); // 8, 7 published: doubtful; the log holds 106..115
  const n = t.sink.books.length;
  t.snapshot(104, [[10, 1], [9, 1], [8, 1], [7, 9]], ASKS); // needs 105..: gone from the log
  assert.is(t.sink.books.length, n, 'nothing committed');
  assert.equal([t.m.binance.reanchors, t.m.binance.reanchorsFailed], [0, 1]);
  const k = t.depth(116, 120, -1, [[6, 1]]);
  assert.equal(t.sink.books.at(-1), { msgIndex: k, doubtful: true, bids: '8:1 7:4', asks: '11:1 12:1' }, 'the old book and edge');
  const at = t.snapshot(110, [[9, 1], [8, 1], [7, 4], [6, 2]], ASKS); // 111..120 are logged: they bridge it
  assert.equal(t.sink.books.at(-1), { msgIndex: at, doubtful: false, bids: '8:1 7:4', asks: '11:1 12:1' }, 'inside the new edge (6)');
  assert.is(t.m.binance.reanchors, 1);
});

test('futures: the first logged event not older (u >= L) must bridge (U <= L); the chain by pu goes on; L between two events fails', () => {
  const t = market('binance-usdm');
  t.snapshot(100, [[10, 1], [9, 1], [8, 1]], ASKS);
  t.depth(95, 102, 90, [[10, 2]]);
  t.depth(105, 110, 102, [[9, 5]]);
  t.depth(113, 120, 110, [[7, 1]]);
  // L = 120, the last applied u: that event bridges (U 113 <= 120 <= u 120) and is applied again.
  let at = t.snapshot(120, [[10, 2], [9, 5], [8, 1], [7, 1], [6, 3]], ASKS);
  assert.equal(t.sink.books.at(-1), { msgIndex: at, doubtful: false, bids: '10:2 9:5', asks: '11:1 12:1' });
  t.depth(125, 130, 120, [[10, 0], [9, 0]]);
  assert.equal(t.sink.books.at(-1)?.bids, '8:1 7:1', 'pu 120 follows: no gap');
  // L = 111 falls between u 110 and U 113: no logged event bridges it.
  const n = t.sink.books.length;
  t.snapshot(111, [[10, 2], [9, 5], [8, 1]], ASKS);
  assert.is(t.sink.books.length, n);
  assert.is(t.m.binance.reanchorsFailed, 1);
  at = t.snapshot(126, [[10, 3], [8, 1], [7, 1], [6, 3]], ASKS); // 125..130 bridges 126
  assert.equal(t.sink.books.at(-1), { msgIndex: at, doubtful: false, bids: '8:1 7:1', asks: '11:1 12:1' });
  assert.equal([t.m.binance.reanchors, t.m.binance.gaps], [2, 0]);
});

test('a commit past the edge asks for a snapshot once, until one comes; without a transport never', () => {
  for (const transport of [true, false]) {
    const t = market('binance-spot', { transport });
    t.snapshot(100, [[10, 1], [9, 1], [8, 1]], ASKS);
    t.depth(101, 105, -1, [[10, 0], [9, 0], [7, 1]]);
    t.depth(106, 110, -1, [[7, 2]]);
    t.depth(111, 115, -1, [[7, 3]]);
    assert.equal(t.sink.books.map((b) => b.doubtful), [true, true, true], 'the book goes on, published doubtful');
    assert.is(t.m.binance.reanchorRequests, transport ? 1 : 0);
    assert.equal(t.asked, transport ? ['BTCUSDT', 'BTCUSDT'] : [], 'the first for the symbol, then one for the edge');
    t.snapshot(115, [[8, 1], [7, 3], [6, 1]], ASKS);
    assert.is(t.sink.books.at(-1)?.doubtful, false, 'the snapshot came: inside its edge');
    t.depth(116, 120, -1, [[8, 0], [7, 0]]);
    t.depth(121, 125, -1, [[5, 1]]);
    assert.is(t.sink.books.at(-1)?.doubtful, true);
    assert.is(t.m.binance.reanchorRequests, transport ? 2 : 0, 'asked again once it came');
    assert.is(t.m.binance.snapshotRequests, transport ? 3 : 0);
  }
});

test.run();
