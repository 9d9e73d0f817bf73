/**
 * One book through the product on whatever Node runs this (the arm64 Node under qemu, for the
 * prebuild test): a SegmentWriter opens segment argv[2], publishes the book given as JSON in
 * argv[3], a BookReader attaches and reads it back; prints what was read as one JSON line, with
 * the architecture and the addon file that did it. The caller compares it with what it sent.
 * Usage: node roundtrip-proc.js NAME BOOK_JSON
 */
import { addonPath } from '../../native/segment/binding.js';
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

const w = SegmentWriter.open({ name, maxInstruments: 2, levels: sent.levels });
try {
  const slot = w.addInstrument(sent.symbol, 1, ITCH_SPEC);
  w.publish(slot, { bidCount: sent.bids.length, askCount: sent.asks.length, bids: side(sent.bids), asks: side(sent.asks) }, sent.msgIndex, sent.exchangeTsNs);
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
    console.log(JSON.stringify({ arch: process.arch, addon: addonPath, nativeReads: NATIVE_ORDERING_REQUIRED, read }));
  } finally {
    r.close();
  }
} finally {
  w.close({ unlink: true });
}
