/**
 * The reader of `mdfan bench live`: spins on slot 0's seq (the one symbol the feed publishes; a
 * top-only commit leaves the slot untouched, so each change is a book), reads each new commit
 * (seqlock read) and keeps (msgIndex, publish_ts_ns, observe time) for the bench to match with the
 * venue's send times; exits when the segment is CLOSED, writing them to OUT as float64 triples and
 * printing { observed, retries }. Nothing is computed here: the matching needs the send times.
 *   node live-reader-proc.js SEGMENT OUT
 */
import { writeFileSync } from 'node:fs';
import { LogEvent, createLogger } from '../lib/log.js';
import * as abi from '../native/segment/abi.js';
import { native } from '../native/segment/binding.js';
import { SegmentReader } from '../native/segment/reader.js';

const [name, out] = process.argv.slice(2) as [string, string];
const r = await SegmentReader.attach(name, { timeoutMs: 20_000 });
createLogger('mdfan-live-reader').info({ event: LogEvent.READER_ATTACHED, segment: name }, 'attached');
const snap = r.newSnapshot();
const u32 = r.map.u32;
const seqWord = r.slotWord(0);
// Grown by doubling: a capture's depth events are known only to the bench.
let rec = new Float64Array(3 * 65_536);
let n = 0;
let last = 0;
for (let spins = 0; ; spins++) {
  const seq = Atomics.load(u32, seqWord); // acquire (x86: plain load); pairs with the commit's release
  if (seq !== last && (seq & 1) === 0) {
    r.read(0, snap);
    const observed = native.monotonicNs();
    last = snap.seq;
    if (3 * n + 3 > rec.length) {
      const grown = new Float64Array(rec.length * 2);
      grown.set(rec);
      rec = grown;
    }
    rec[3 * n] = snap.msgIndex;
    rec[3 * n + 1] = snap.publishTsNs;
    rec[3 * n + 2] = observed;
    n++;
  }
  if ((spins & 4095) === 0 && Atomics.load(u32, abi.W.hdrState) === abi.STATE_CLOSED) break;
}
writeFileSync(out, rec.subarray(0, 3 * n));
console.log(JSON.stringify({ observed: n, retries: r.retries }));
r.close();
