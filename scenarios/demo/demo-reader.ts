/**
 * The demo's reader thread: a strategy of a few lines on the one follow loop. It attaches (waiting
 * for READY), spins on every book, times each new commit (publish -> observe, the loop's sample
 * rule), checks each book is not crossed, and reports when the writer closes the segment.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as hdr from 'hdr-histogram-js';
import { BookReader, newLatencyHistogram } from '../../workers/index.js';

const { name, timeoutMs } = workerData as { name: string; timeoutMs: number };
const reader = await BookReader.attach(name, { timeoutMs, wait: 'spin' });
parentPort!.postMessage({ attached: true });
const hist = newLatencyHistogram();
let crossed = 0;
await reader.follow(
  {
    onBook(b) {
      if (b.bidCount > 0 && b.askCount > 0 && b.bidPrice(0) >= b.askPrice(0)) crossed++;
    },
  },
  { latency: hist },
);
const snap = reader.newSnapshot();
const books = reader.instruments.map((inst) => {
  reader.read(inst.slotIndex, snap);
  const side = (n: number, size: number, price: number): string => (n ? `${size} @ ${price / inst.priceScale}` : '-');
  return { symbol: inst.symbol, msgIndex: snap.msgIndex, bid: side(snap.bidCount, snap.bidSize(0), snap.bidPrice(0)), ask: side(snap.askCount, snap.askSize(0), snap.askPrice(0)) };
});
parentPort!.postMessage({ hist: hdr.encodeIntoCompressedBase64(hist), reads: reader.seg.reads, retries: reader.retries, bad: crossed, books });
reader.close();
