/**
 * The one pipeline: a venue is a FeedSource driving the one Publisher (a BookSink). A venue
 * written here, in memory, gets everything the shipped ones get (slots, --symbols, stale marks,
 * counters), which is the promise that a new venue is one folder and one registry line.
 */
import { ITCH_SPEC } from '../native/segment/directory.js';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NOT_PUBLISHED, OWN_INDEX, Pacer, Publisher, SOURCE_KINDS, newCounters, openSource, type BookSink, type FeedSource, type RunContext } from '../feed/index.js';
import { createLogger } from '../lib/log.js';
import { type MdfanError, SegmentReader, SegmentWriter, TopSnapshot, isMdfanError } from '../native/segment/index.js';
import { cleanupSegments, segName } from './helpers/segments.js';

test.after.each(() => cleanupSegments());

const LEVELS = 3;
const top = (bid: number, ask: number) => ({
  bidCount: 1,
  askCount: 1,
  bids: new Float64Array([bid, 100, 1, 0, 0, 0, 0, 0, 0]),
  asks: new Float64Array([ask, 200, 2, 0, 0, 0, 0, 0, 0]),
});

/** A venue in memory: three instruments, a few changes, a gap, and its own counters. */
class MemoryVenue implements FeedSource {
  readonly total = { unit: 'messages', count: 6 };
  readonly counters = newCounters();
  slots: number[] = [];
  async run(sink: BookSink, ctx: RunContext): Promise<void> {
    this.slots = ['AAA', 'BBB', 'CCC'].map((s, i) => sink.instrument(s, 100 + i, ITCH_SPEC));
    const [a, b, c] = this.slots as [number, number, number];
    sink.book(a, top(5000, 5010), 1, 1_000);
    if (b !== NOT_PUBLISHED) sink.book(b, top(7000, 7020), 2, 2_000);
    sink.book(c, top(9000, 9030), 3, 3_000);
    this.counters.messages = 3;
    this.counters.unknownTypes = 2;
    this.counters.duplicates = 1;
    sink.flush(this.counters);
    sink.gap(4, 1);
    sink.book(a, top(5001, 5011), 5, 5_000); // after the gap: still marked stale
    this.counters.messages = 6;
    this.counters.unknownTypes = 3;
    this.counters.duplicates = 4;
    for (let i = 0; i < 6; i++) sink.tick();
    sink.flush(this.counters);
    ctx.progress?.(6, 6, 6);
  }
  summary(): string {
    return '';
  }
}

test('a venue drives the one publisher: slots, --symbols, provenance, a gap marks books stale with their levels kept, counters as deltas', async () => {
  const name = segName('pipeline');
  const w = SegmentWriter.open({ name, maxInstruments: 4, levels: LEVELS });
  const pub = new Publisher(w, { symbols: new Set(['AAA', 'CCC']) });
  const venue = new MemoryVenue();
  await venue.run(pub, { pacer: new Pacer('max'), stop: { requested: false }, log: createLogger('test') });
  assert.equal(venue.slots, [0, NOT_PUBLISHED, 1], 'BBB is not among --symbols: no slot');
  assert.is(w.instruments, 2);
  const r = SegmentReader.openSync(name);
  try {
    const snap = r.newSnapshot();
    r.read(r.find('CCC'), snap);
    assert.is(snap.stale, true, 'published before the gap: stale');
    assert.is(snap.bidPrice(0), 9000, 'its book is kept, not emptied');
    assert.is(snap.askPrice(0), 9030);
    assert.is(snap.msgIndex, 4, 'the stale mark names the gap');
    r.read(r.find('AAA'), snap);
    assert.is(snap.stale, true, 'a commit after the gap keeps the mark');
    assert.is(snap.msgIndex, 5);
    assert.is(snap.exchangeTsNs, 5_000);
    assert.is(snap.bidPrice(0), 5001);
  } finally {
    r.close();
  }
  w.flushCounters();
  assert.is(w.counter('messages'), 6);
  assert.is(w.counter('unknown_message_types'), 3, 'deltas, not sums of the totals flushed');
  assert.is(w.counter('feed_duplicates'), 4, 'duplicates are counted as they happen, not at the end');
  assert.is(w.counter('feed_gaps'), 1);
  assert.is(w.counter('stale_marks'), 2, 'each published book marked once');
  assert.is(w.counter('publishes'), 2 + 2 + 1, 'two published books, two stale marks, one book after the gap');
  w.close({ unlink: true });
});

test('a venue whose books are each as of their own message (a mirror): stale marks keep each book\'s index; a doubtful book is committed stale and stays so through a recovery', () => {
  const name = segName('pipeline-own');
  const w = SegmentWriter.open({ name, maxInstruments: 4, levels: LEVELS });
  try {
    const pub = new Publisher(w);
    const [a, b] = ['AAA', 'BBB'].map((s, i) => pub.instrument(s, 1 + i, ITCH_SPEC)) as [number, number];
    pub.book(a, top(5000, 5010), 10, 1);
    pub.book(b, top(7000, 7020), 20, 2);
    pub.book(b, top(7001, 7021), 21, 3, true); // the upstream said this one may be wrong
    const r = SegmentReader.openSync(name);
    const snap = r.newSnapshot();
    try {
      r.read(b, snap);
      assert.is(snap.stale, true, 'a doubtful book is stale');
      pub.gap(OWN_INDEX);
      r.read(a, snap);
      assert.equal([snap.msgIndex, snap.stale, snap.bidPrice(0)], [10, true, 5000], "AAA's mark keeps its own message");
      r.read(b, snap);
      assert.equal([snap.msgIndex, snap.stale], [21, true]);
      pub.recovered(OWN_INDEX);
      r.read(a, snap);
      assert.equal([snap.msgIndex, snap.stale], [10, false], 'recovered: the mark goes, the index stays');
      r.read(b, snap);
      assert.equal([snap.msgIndex, snap.stale], [21, true], "recovered: the upstream's mark stays");
    } finally {
      r.close();
    }
  } finally {
    w.close();
  }
});

test('a gap\'s stale mark that keeps the levels reaches the top line too, its best bid and ask kept; recovered, the mark goes from it', () => {
  const name = segName('pipeline-top');
  const w = SegmentWriter.open({ name, maxInstruments: 4, levels: LEVELS });
  try {
    const pub = new Publisher(w);
    const [a, b] = ['AAA', 'BBB'].map((s, i) => pub.instrument(s, 1 + i, ITCH_SPEC)) as [number, number];
    pub.book(a, top(5000, 5010), 1, 1_000);
    pub.book(b, top(7000, 7020), 2, 2_000);
    const r = SegmentReader.openSync(name);
    const t = new TopSnapshot();
    const snap = r.newSnapshot();
    try {
      r.readTop(a, t);
      assert.is(t.stale, false, 'before the gap: not stale');
      pub.gap(3);
      for (const [slot, bid, ask] of [
        [a, 5000, 5010],
        [b, 7000, 7020],
      ] as const) {
        r.read(slot, snap);
        assert.equal([snap.stale, snap.bidPrice(0)], [true, bid], `slot ${slot}: the book is marked, its levels kept`);
        r.readTop(slot, t);
        assert.is(t.stale, true, `slot ${slot}: the top line carries the book's stale mark`);
        assert.equal([t.bids[0], t.asks[0]], [bid, ask], `slot ${slot}: the top line keeps its best bid and ask`);
      }
      pub.recovered(4);
      r.readTop(a, t);
      assert.is(t.stale, false, 'recovered: the top line\'s mark goes with the book\'s');
      assert.equal([t.bids[0], t.asks[0]], [5000, 5010]);
    } finally {
      r.close();
    }
  } finally {
    w.close({ unlink: true });
  }
});

test('--source names every registered venue when it is malformed or unknown', () => {
  for (const bad of ['carrier-pigeon:x', 'itch:', 'moldudp64:host', 'lobster:only-one.csv', 'nocolon', 'dbn:']) {
    try {
      openSource(bad, { levels: LEVELS });
      assert.unreachable(bad);
    } catch (e) {
      assert.ok(isMdfanError(e, 'MDFAN_ERR_OPTIONS'), `${bad}: ${String(e)}`);
      for (const k of SOURCE_KINDS) assert.match((e as Error).message, k.syntax);
    }
  }
  assert.equal(
    SOURCE_KINDS.map((k) => k.scheme),
    ['itch', 'lobster', 'moldudp64', 'nats', 'binance-spot', 'binance-usdm', 'binance-coinm', 'dbn'],
  );
});

test('an input that cannot be read is refused when opened, before any segment exists', () => {
  try {
    openSource('itch:/nonexistent/feed.itch', { levels: LEVELS });
    assert.unreachable();
  } catch (e) {
    assert.ok(isMdfanError(e, 'MDFAN_ERR_FEED_IO'), String(e));
    assert.is((e as MdfanError).details.file, '/nonexistent/feed.itch');
  }
});

test.run();
