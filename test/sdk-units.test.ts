/**
 * One price rule for users: every price and size the SDK hands out reads in currency and
 * instrument units (`px`, `qty`) without knowing a scale, whatever the venue's decimals, with the
 * raw integers beside them; events are named (`type`, `toObject()` a discriminated union) and
 * filtered by name; a closed reader, or a slot with no instrument, says so with a code.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EventBatch, ErrorCode, ITCH_SPEC, type MarketEvent, SegmentWriter, TopSnapshot, abi, newEventFields, specOf } from '../native/segment/index.js';
import { BookReader, EventReader, type Update } from '../workers/index.js';
import { cleanupSegments, segName } from './helpers/segments.js';

test.after.each(() => cleanupSegments());

const BTC_PRICE = 6_183_763_000_000; // 61837.63 at 8 decimals
const BTC_SIZE = 55_463_987_000; // 554.63987 at 8 decimals

/** GOOG (ITCH: 4 price decimals, whole shares), BTC (8 and 8), BRK.B (2 price decimals): a book each, and events. */
function market(name: string): { w: SegmentWriter; goog: number; btc: number; brk: number } {
  const w = SegmentWriter.open({ name, maxInstruments: 4, levels: 2, ringEvents: 64 });
  const goog = w.addInstrument('GOOG', 1, ITCH_SPEC);
  const btc = w.addInstrument('binance-spot:BTCUSDT', 2, specOf(8, 8));
  const brk = w.addInstrument('BRK.B', 3, specOf(2));
  const lv = (p: number, s: number, p2: number, s2: number) => new Float64Array([p, s, 1, p2, s2, 1]);
  w.publish(goog, { bidCount: 2, askCount: 1, bids: lv(5_853_300, 300, 5_853_200, 100), asks: lv(5_855_000, 200, 0, 0) }, 1, 0);
  w.publish(btc, { bidCount: 1, askCount: 1, bids: lv(BTC_PRICE, BTC_SIZE, 0, 0), asks: lv(6_183_764_000_000, 1_000_000, 0, 0) }, 2, 0);
  w.publish(brk, { bidCount: 0, askCount: 1, bids: lv(0, 0, 0, 0), asks: lv(41_250, 5, 0, 0) }, 3, 0);
  const e = newEventFields();
  e.kind = abi.EVENT_KIND_TRADE;
  e.action = 0x41;
  e.side = 0x53; // S
  e.instrumentIndex = btc;
  e.msgIndex = 4;
  e.price = 61_837_630_000_000; // 61837.63 at the ring's 1e-9
  e.size = BTC_SIZE;
  e.orderRef = 77;
  e.flags = abi.EVENT_FLAG_LAST;
  w.appendEvent(e);
  e.kind = abi.EVENT_KIND_ORDER;
  e.action = 0x44; // D
  e.side = 0x42; // B
  e.instrumentIndex = goog;
  e.msgIndex = 5;
  e.price = 585_330_000_000;
  e.size = 300;
  e.orderRef = 12;
  w.appendEvent(e);
  e.kind = abi.EVENT_KIND_SYSTEM;
  e.action = 0x51; // Q
  e.side = 0;
  e.instrumentIndex = abi.EVENT_NO_INSTRUMENT;
  e.msgIndex = 6;
  e.price = Number.NaN;
  e.size = 0;
  e.orderRef = 0;
  w.appendEvent(e);
  return { w, goog, btc, brk };
}

test('books and tops read in currency and instrument units at 4, 8 and 2 decimals; the raw integers stay', async () => {
  const name = segName('units');
  const { w, goog, btc, brk } = market(name);
  try {
    const r = await BookReader.attach(name, { wait: 'spin' });
    try {
      const b = r.newSnapshot();
      r.read(goog, b);
      assert.equal([b.bidPx(0), b.bidPx(1), b.askPx(0), b.bidQty(0), b.askQty(0)], [585.33, 585.32, 585.5, 300, 200]);
      assert.is(b.bidPrice(0), 5_853_300, 'raw stays raw');
      r.read(btc, b);
      assert.equal([b.bidPx(0), b.bidQty(0), b.askPx(0), b.askQty(0)], [61837.63, 554.63987, 61837.64, 0.01]);
      assert.equal([b.bidPrice(0), b.bidSize(0)], [BTC_PRICE, BTC_SIZE]);
      r.read(brk, b);
      assert.is(b.askPx(0), 412.5);
      const t = new TopSnapshot();
      r.readTop(btc, t);
      assert.equal([t.bidPx, t.bidQty, t.askPx, t.askQty], [61837.63, 554.63987, 61837.64, 0.01]);
      r.readTop(goog, t);
      assert.equal([t.bidPx, t.askPx, t.bidQty], [585.33, 585.5, 300]);
      assert.is(t.bidPrice, 5_853_300);
      // A slot with no instrument: no scale, so no number pretends to be a price.
      r.read(3, b);
      assert.ok(Number.isNaN(b.bidPx(0)));
    } finally {
      r.close();
    }
  } finally {
    w.close({ unlink: true });
  }
});

test('events: named, in units (the ring 1e-9, sizes at the instrument\'s decimals), as a typed object, filtered by name', async () => {
  const name = segName('evunits');
  const { w, goog, btc } = market(name);
  try {
    const ev = EventReader.open(name);
    try {
      const batch = new EventBatch(8);
      assert.is(ev.poll(batch), 3);
      const [trade, order, system] = batch.records;
      assert.equal([trade!.type, trade!.px, trade!.qty, trade!.sideName, trade!.price], ['trade', 61837.63, 554.63987, 'sell', 61_837_630_000_000]);
      assert.equal([order!.type, order!.px, order!.qty, order!.sideName], ['order', 585.33, 300, 'buy']);
      assert.is(system!.type, 'system');
      assert.ok(Number.isNaN(system!.px) && Number.isNaN(system!.qty), 'no price, no instrument: no number pretends');
      const objs: MarketEvent[] = batch.records.slice(0, 3).map((rec) => rec.toObject());
      const t = objs[0]!;
      if (t.type !== 'trade') throw new Error(`expected a trade, got ${t.type}`);
      assert.equal([t.px, t.qty, t.side, t.printable, t.ref, t.instrumentIndex, t.last, t.action], [61837.63, 554.63987, 'sell', true, 77, btc, true, 'A']);
      const o = objs[1]!;
      if (o.type !== 'order') throw new Error(`expected an order event, got ${o.type}`);
      assert.equal([o.orderAction, o.side, o.px, o.qty, o.orderRef, o.instrumentIndex], ['delete', 'buy', 585.33, 300, 12, goog]);
      const s = objs[2]!;
      assert.equal([s.type, s.instrumentIndex, s.action], ['system', undefined, 'Q']);
      assert.equal(JSON.parse(JSON.stringify(t)).px, 61837.63, 'a plain object: serialisable as it is');
    } finally {
      ev.close();
    }
    const trades = EventReader.open(name, { kinds: ['trade', 'system'] });
    try {
      const batch = new EventBatch(8);
      assert.is(trades.poll(batch), 2);
      assert.equal([batch.records[0]!.type, batch.records[1]!.type], ['trade', 'system']);
    } finally {
      trades.close();
    }
    try {
      EventReader.open(name, { kinds: ['trades' as 'trade'] });
      assert.unreachable('an unknown kind name is refused');
    } catch (e) {
      assert.is((e as { code?: string }).code, ErrorCode.OPTIONS);
      assert.match(String(e), '"trades" is not an event kind');
    }
  } finally {
    w.close({ unlink: true });
  }
});

test('follow hands out books, tops and events already in units', async () => {
  const name = segName('followunits');
  const { w, btc } = market(name);
  try {
    const r = await BookReader.attach(name, { wait: 'spin' });
    try {
      const seen: string[] = [];
      const ac = new AbortController();
      const note = (u: Update): void => {
        if (u.kind === 'book' && u.instrument.slotIndex === btc) seen.push(`book ${u.book.bidPx(0)} x ${u.book.bidQty(0)}`);
        if (u.kind === 'event' && u.event.type === 'trade') seen.push(`trade ${u.event.px} x ${u.event.qty}`);
        if (seen.length === 2) ac.abort();
      };
      for await (const u of r.updates({ events: { kinds: ['trade'] }, signal: ac.signal, durationMs: 20_000 })) note(u);
      assert.equal(seen.sort(), ['book 61837.63 x 554.63987', 'trade 61837.63 x 554.63987']);
      const tops: number[] = [];
      const ac2 = new AbortController();
      await r.follow(
        {
          onTop(top, inst) {
            if (inst.slotIndex === btc) {
              tops.push(top.bidPx, top.askQty);
              ac2.abort();
            }
          },
        },
        { tops: true, signal: ac2.signal, durationMs: 20_000 },
      );
      assert.equal(tops, [61837.63, 0.01]);
    } finally {
      r.close();
    }
  } finally {
    w.close({ unlink: true });
  }
});

test('priceOf/sizeOf on a slot with no instrument throw MDFAN_ERR_NO_INSTRUMENT naming the slot', async () => {
  const name = segName('noinst');
  const { w } = market(name);
  try {
    const r = await BookReader.attach(name, { wait: 'spin' });
    try {
      for (const f of [() => r.priceOf(3, 1), () => r.sizeOf(3, 1)]) {
        try {
          f();
          assert.unreachable('slot 3 has no instrument');
        } catch (e) {
          assert.is((e as { code?: string }).code, ErrorCode.NO_INSTRUMENT);
          assert.match(String(e), 'no instrument in slot 3');
        }
      }
    } finally {
      r.close();
    }
  } finally {
    w.close({ unlink: true });
  }
});

test('a closed BookReader or EventReader says MDFAN_ERR_CLOSED for every call, never a TypeError on a detached buffer', async () => {
  const name = segName('closedreader');
  const { w } = market(name);
  try {
    const r = await BookReader.attach(name, { wait: 'spin' });
    const ev = EventReader.open(name);
    r.close();
    ev.close();
    r.close(); // twice is harmless
    ev.close();
    const out = new Int32Array(4);
    const calls: Array<[string, () => unknown]> = [
      ['next', () => r.next(10)],
      ['nextTop', () => r.nextTop(10)],
      ['poll', () => r.poll(out)],
      ['pollTops', () => r.pollTops(out)],
      ['changed', () => r.changed(out)],
      ['changedTops', () => r.changedTops(out)],
      ['waitSync', () => r.waitSync(1)],
      ['checkStory', () => r.checkStory()],
      ['read', () => r.read(0, r.newSnapshot())],
      ['readTop', () => r.readTop(0, new TopSnapshot())],
      ['updates', async () => {
        for await (const _ of r.updates({ durationMs: 10 })) break;
      }],
      ['follow', () => r.follow({}, { durationMs: 10 })],
      ['events next', () => ev.next(10)],
      ['events poll', () => ev.poll(new EventBatch(4))],
      ['events backlog', () => ev.backlog()],
      ['events waitForEvents', () => ev.waitForEvents(10)],
      ['events checkStory', () => ev.checkStory()],
    ];
    for (const [what, call] of calls) {
      try {
        await call();
        assert.unreachable(`${what} on a closed reader`);
      } catch (e) {
        assert.is((e as { code?: string }).code, ErrorCode.CLOSED, `${what}: ${String(e)}`);
      }
    }
  } finally {
    w.close({ unlink: true });
  }
});

test.run();
