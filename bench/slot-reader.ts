/**
 * A reader process that watches ONE slot and nothing else (the false-sharing benchmark: the
 * SDK's changed() scan would also load the neighbouring slot's seq and so share its line in any
 * layout). Spins on the slot's seq word, reads each new commit (seqlock read), records
 * publish -> observe with coordinated-omission correction, and exits when the segment is CLOSED,
 * printing one JSON line { updates, retries, hist }.
 *   node slot-reader.js SEGMENT SLOT_INDEX EXPECTED_INTERVAL_NS [CPU]
 */
import * as hdr from 'hdr-histogram-js';
import { LogEvent, createLogger } from '../lib/log.js';
import { newLatencyHistogram } from '../workers/index.js';
import * as abi from '../native/segment/abi.js';
import { native } from '../native/segment/binding.js';
import { SegmentReader } from '../native/segment/reader.js';

const [name, slotText, intervalText, cpuText] = process.argv.slice(2);
if (cpuText !== undefined) native.setAffinity([Number(cpuText)]);
const slot = Number(slotText);
const intervalNs = Number(intervalText);
const r = await SegmentReader.attach(name, { timeoutMs: 10_000 });
createLogger('mdfan-slot-reader').info({ event: LogEvent.READER_ATTACHED, segment: name, slot }, 'attached');
const hist = newLatencyHistogram();
const snap = r.newSnapshot();
const u32 = r.map.u32;
const seqWord = r.slotWord(slot);
let last = 0;
let updates = 0;
for (let spins = 0; ; spins++) {
  const seq = Atomics.load(u32, seqWord); // acquire (x86: plain load); pairs with the commit's release
  if (seq !== last && (seq & 1) === 0) {
    r.read(slot, snap);
    last = snap.seq;
    hist.recordValueWithExpectedInterval(Math.max(1, Math.round(native.monotonicNs() - snap.publishTsNs)), intervalNs);
    updates++;
  }
  if ((spins & 4095) === 0 && Atomics.load(u32, abi.W.hdrState) === abi.STATE_CLOSED) break;
}
console.log(JSON.stringify({ updates, retries: r.retries, hist: hdr.encodeIntoCompressedBase64(hist) }));
r.close();
