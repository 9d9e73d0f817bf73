/**
 * A writer for the top-before-book test: `node top-order-proc.js NAME` opens the segment (one
 * instrument, AAA), publishes book 1 (best bid 1001), prints "ready"; on SIGUSR2 publishes book 2
 * (best bid 1002; with MDFAN_TEST_PAUSE_BETWEEN_COMMITS it stops between the two commits) and
 * prints "published 2". Heartbeats until killed.
 */
import { SegmentWriter } from '../../native/segment/index.js';
import { ITCH_SPEC } from '../../native/segment/directory.js';

const [name] = process.argv.slice(2);
const w = SegmentWriter.open({ name: name!, maxInstruments: 1, levels: 2 });
w.addInstrument('AAA', 1, ITCH_SPEC);
const book = (k: number) => ({ bidCount: 2, askCount: 1, bids: new Float64Array([1000 + k, 10, 1, 900, 20, 2]), asks: new Float64Array([2000, 30, 3, 0, 0, 0]) });
w.publish(0, book(1), 1, 1);
setInterval(() => w.heartbeat(), 100);
process.on('SIGUSR2', () => {
  w.publish(0, book(2), 2, 2);
  console.log('published 2');
});
console.log('ready');
