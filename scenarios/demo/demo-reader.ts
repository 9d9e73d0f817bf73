/**
 * The demo's reader thread: attaches (waiting for READY), spins over the instruments in the
 * directory, times each new commit (publish -> observe), checks each book is not crossed, and
 * reports when the writer closes the segment.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as hdr from 'hdr-histogram-js';
import { newLatencyHistogram } from '../../workers/index.js';
import * as abi from '../../native/segment/abi.js';
import { native } from '../../native/segment/binding.js';
import { SegmentReader } from '../../native/segment/reader.js';

const { name, timeoutMs } = workerData as { name: string; timeoutMs: number };
const r = await SegmentReader.attach(name, { timeoutMs });
parentPort!.postMessage({ attached: true });
const snap = r.newSnapshot();
const lastSeq = new Uint32Array(r.layout.maxInstruments);
const hist = newLatencyHistogram();
const u32 = r.map.u32;
let crossed = 0;
let n = Atomics.load(u32, abi.W.hdrInstrumentCount);
for (let spins = 0; ; spins++) {
  for (let i = 0; i < n; i++) {
    if (Atomics.load(u32, r.slotWord(i)) === lastSeq[i]) continue; // nothing new: one load per slot
    r.read(i, snap);
    const now = native.monotonicNs();
    lastSeq[i] = snap.seq;
    hist.recordValue(Math.max(1, Math.round(now - snap.publishTsNs)));
    if (snap.bidCount > 0 && snap.askCount > 0 && snap.bidPrice(0) >= snap.askPrice(0)) crossed++;
  }
  if ((spins & 1023) === 0) {
    n = Atomics.load(u32, abi.W.hdrInstrumentCount); // instruments announced since
    const state = Atomics.load(u32, abi.W.hdrState);
    if (state === abi.STATE_CLOSED || state === abi.STATE_BROKEN) break;
  }
}
const books = r.instruments().map((inst) => {
  r.read(inst.slotIndex, snap);
  return { symbol: inst.symbol, msgIndex: snap.msgIndex, bid: snap.bidCount ? `${snap.bidSize(0)} @ ${snap.bidPrice(0) / inst.priceScale}` : '-', ask: snap.askCount ? `${snap.askSize(0)} @ ${snap.askPrice(0) / inst.priceScale}` : '-' };
});
parentPort!.postMessage({ hist: hdr.encodeIntoCompressedBase64(hist), reads: r.reads, retries: r.retries, bad: crossed, books });
r.close();
