/**
 * One book through the product on whatever Node runs this (the arm64 Node under qemu, for the
 * prebuild test): a SegmentWriter opens segment argv[2], publishes the book given as JSON in
 * argv[3] and appends a trade to its event ring; a BookReader and a ring reader read them back; prints what was read as one JSON line, with
 * the architecture and the addon file that did it. The caller compares it with what it sent.
 * Usage: node roundtrip-proc.js NAME BOOK_JSON
 */
import * as abi from '../../native/segment/abi.js';
import { addonPath } from '../../native/segment/binding.js';
import { EventBatch, EventRingReader, newEventFields } from '../../native/segment/events.js';
import { ITCH_SPEC } from '../../native/segment/directory.js';
import { NATIVE_ORDERING_REQUIRED } from '../../native/segment/seqlock.js';
import { SegmentWriter } from '../../native/segment/writer.js';
import { BookReader } from '../../workers/sdk/book-reader.js';

/** A book as the test sends it and expects it back: levels are [price, size, orders], best first. */
export interface RoundTripBook {
  symbol: string;
  levels: number;
  msgIndex: number;
  exchangeTsNs: number;
  bids: number[][];
  asks: number[][];
}

const [name, json] = process.argv.slice(2);
if (!name || !json) throw new Error('usage: roundtrip-proc.js NAME BOOK_JSON');
const sent = JSON.parse(json) as RoundTripBook;

const side = (levels: number[][]): Float64Array => {
  const out = new Float64Array(sent.levels * 3);
  for (const [i, l] of levels.entries()) out.set(l, i * 3);
  return out;
};

const w = SegmentWriter.open({ name, maxInstruments: 2, levels: sent.levels, ringEvents: 64 });
try {
  const slot = w.addInstrument(sent.symbol, 1, ITCH_SPEC);
  w.publish(slot, { bidCount: sent.bids.length, askCount: sent.asks.length, bids: side(sent.bids), asks: side(sent.asks) }, sent.msgIndex, sent.exchangeTsNs);
  // A trade at the best bid, through the event ring's paths for this architecture.
  const e = newEventFields();
  Object.assign(e, { kind: abi.EVENT_KIND_TRADE, action: 0x45, side: 0x42, instrumentIndex: slot, msgIndex: sent.msgIndex, exchangeTs: sent.exchangeTsNs, price: -585_330_000_123, size: sent.bids[0]![1]!, orderRef: 2 ** 40 + 1 });
  w.appendEvent(e);
  const ring = EventRingReader.open(name, 'oldest');
  const batch = new EventBatch(4);
  const n = ring.poll(batch);
  const t = batch.records[0]!;
  const event = n === 1 ? { type: t.type, side: t.sideName, price: t.price, size: t.size, orderRef: t.orderRef, msgIndex: t.msgIndex, exchangeTsNs: t.exchangeTsNs } : { polled: n };
  ring.close();
  const r = await BookReader.attach(name, { wait: 'spin' });
  try {
    const index = r.find(sent.symbol);
    const snap = r.newSnapshot();
    r.read(index, snap);
    const read: RoundTripBook = {
      symbol: r.symbolOf(index) ?? '',
      levels: snap.levels,
      msgIndex: snap.msgIndex,
      exchangeTsNs: snap.exchangeTsNs,
      bids: Array.from({ length: snap.bidCount }, (_, i) => [snap.bidPrice(i), snap.bidSize(i), snap.bidOrders(i)]),
      asks: Array.from({ length: snap.askCount }, (_, i) => [snap.askPrice(i), snap.askSize(i), snap.askOrders(i)]),
    };
    console.log(JSON.stringify({ arch: process.arch, addon: addonPath, nativeReads: NATIVE_ORDERING_REQUIRED, read, event }));
  } finally {
    r.close();
  }
} finally {
  w.close({ unlink: true });
}
