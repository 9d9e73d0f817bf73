/**
 * A reader process for `mdfan bench events`: spins on the event ring, records publish -> observe
 * for every event it reads, and exits when the segment is CLOSED and the ring drained, printing
 * { read, lost, hist }. No coordinated-omission correction: every event is recorded (nothing is
 * conflated), and the correction's cost grows with the latency it corrects, which would slow a
 * reader that fell behind further behind.
 *   node event-reader-proc.js SEGMENT [CPU]
 */
import * as hdr from 'hdr-histogram-js';
import { LogEvent, createLogger } from '../lib/log.js';
import { EventBatch, EventRingReader, SegmentReader, abi } from '../native/segment/index.js';
import { native } from '../native/segment/binding.js';
import { newLatencyHistogram } from '../workers/index.js';

const [name, cpuText] = process.argv.slice(2);
if (cpuText !== undefined) native.setAffinity([Number(cpuText)]);
const seg = await SegmentReader.attach(name!, { timeoutMs: 10_000 });
const ring = EventRingReader.open(name!, 'oldest');
createLogger('mdfan-event-reader').info({ event: LogEvent.READER_ATTACHED, segment: name }, 'attached');
const hist = newLatencyHistogram();
const batch = new EventBatch(64);
for (let spins = 0; ; spins++) {
  const n = ring.poll(batch);
  if (n > 0) {
    const now = native.monotonicNs();
    for (let i = 0; i < n; i++) {
      hist.recordValue(Math.max(1, Math.round(now - batch.records[i]!.publishTsNs)));
    }
  } else if ((spins & 4095) === 0 && Atomics.load(seg.map.u32, abi.W.hdrState) === abi.STATE_CLOSED && ring.backlog() === 0) break;
}
console.log(JSON.stringify({ read: ring.read, lost: ring.lost, hist: hdr.encodeIntoCompressedBase64(hist) }));
ring.close();
seg.close();
