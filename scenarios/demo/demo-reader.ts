/** The demo's reader thread: spins over the slots, times each new commit, checks each book. */
import { parentPort, workerData } from 'node:worker_threads';
import * as hdr from 'hdr-histogram-js';
import * as abi from '../../native/ts/abi.js';
import { native } from '../../native/ts/addon.js';
import { SegmentReader } from '../../native/ts/reader.js';

const r = SegmentReader.openSync((workerData as { name: string }).name);
const snap = r.newSnapshot();
const n = r.layout.maxInstruments;
const lastSeq = new Uint32Array(n);
const hist = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 10_000_000_000, numberOfSignificantValueDigits: 3 });
let bad = 0;
const u32 = r.map.u32;
for (let spins = 0; ; spins++) {
  for (let i = 0; i < n; i++) {
    if (Atomics.load(u32, r.slotWord(i)) === lastSeq[i]) continue; // nothing new: one load per slot
    r.read(i, snap);
    const now = native.monotonicNs();
    lastSeq[i] = snap.seq;
    hist.recordValue(Math.max(1, Math.round(now - snap.publishTsNs)));
    if (snap.bidCount > 0 && snap.askCount > 0 && snap.bidPrice(0) >= snap.askPrice(0)) bad++;
  }
  if ((spins & 1023) === 0 && Atomics.load(u32, abi.W.hdrState) === abi.STATE_CLOSED) break;
}
parentPort!.postMessage({ hist: hdr.encodeIntoCompressedBase64(hist), reads: r.reads, retries: r.retries, bad });
