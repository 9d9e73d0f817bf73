/**
 * native-c peer: the best a reader can do. This process is the mdfan writer (SegmentWriter,
 * publishing the 10-level book to slot 0 at the paced rate); R c_latency_reader processes spin
 * on slot 0's seq (or, with layout 'top', on its top-of-book line's) and measure
 * CLOCK_MONOTONIC - publish_ts_ns. A seqlock reader sees the latest
 * book, so a reader that looks less often than the writer commits conflates (count <= sent).
 */
import { SegmentWriter } from '../../native/segment/writer.js';
import { paced } from '../paced.js';
import { killAll, spawnChild, type Child } from './child.js';
import { LatencyRecorder, payloadWord } from './payload.js';
import { mergeReports, type PeerOptions, type PeerResult, type ReceiverReport } from './types.js';
import { onAbort } from '../abort.js';
import { cProgram } from './c-program.js';
import { ITCH_SPEC } from '../../native/segment/directory.js';

const READY_TIMEOUT_MS = 15_000;
const REPORT_TIMEOUT_MS = 30_000;
const LEVELS = 10;
const BIDS_WORD = 16; // slot word of the first bid level (64-byte slot header)
const ASKS_WORD = BIDS_WORD + LEVELS * 3;

let segments = 0;

/**
 * Starts one C reader on `segment` and resolves once it has attached ("ready"); rejects with its
 * error (e.g. MDFAN_ERR_NO_SEGMENT) if it cannot, after making sure it is gone.
 */
export async function startCReader(segment: string, capacity: number, label = 'native-c reader', layout: 'book' | 'top' = 'book'): Promise<Child> {
  const c = spawnChild(label, cProgram('c_latency_reader'), [segment, String(Math.max(1, Math.ceil(capacity))), layout]);
  try {
    await c.line(/^ready$/, READY_TIMEOUT_MS);
    return c;
  } catch (e) {
    await c.kill();
    throw e;
  }
}

/** Parses a finished reader's stdout: latencies, one per line, then "done <observed> <corrupt> <dropped>". */
function collect(c: Child, intervalNs: number): ReceiverReport {
  const rec = new LatencyRecorder(intervalNs);
  let done: string | undefined;
  for (const l of c.stdout) {
    if (l === 'ready') continue;
    if (l.startsWith('done ')) done = l;
    else rec.recordNs(Number(l));
  }
  const [observed, corrupt, dropped] = (done ?? '').split(' ').slice(1).map(Number);
  if (done === undefined || !Number.isInteger(observed)) throw new Error(`${c.label}: no summary line in its output`);
  if (dropped > 0) throw new Error(`${c.label}: ${dropped} values did not fit its buffer`);
  rec.count = observed;
  rec.corrupt = corrupt;
  return rec.report();
}

export async function measureNativeC(o: PeerOptions): Promise<PeerResult> {
  const intervalNs = 1e9 / o.rate;
  const name = o.segment ?? `mdfan-bench-peer-${process.pid}-${++segments}`;
  const w = SegmentWriter.open({ name, maxInstruments: 1, levels: LEVELS });
  const children: Child[] = [];
  let open = true;
  const off = onAbort(() => {
    if (open) w.close({ unlink: true }); // the C readers die with this process
  });
  try {
    w.addInstrument('PEER', 1, ITCH_SPEC);
    const capacity = Math.ceil(o.rate * o.seconds) + 16; // at most one value per commit
    const started = await Promise.allSettled(Array.from({ length: o.readers }, (_, i) => startCReader(name, capacity, `native-c reader ${i}`, o.layout)));
    for (const s of started) if (s.status === 'fulfilled') children.push(s.value);
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;

    const src = { bidCount: LEVELS, askCount: LEVELS, bids: new Float64Array(LEVELS * 3), asks: new Float64Array(LEVELS * 3) };
    const { sent } = paced(o.rate, o.seconds, (k) => {
      for (let j = 0; j < LEVELS * 3; j++) {
        src.bids[j] = payloadWord(k, BIDS_WORD + j);
        src.asks[j] = payloadWord(k, ASKS_WORD + j);
      }
      w.publish(0, src, k, k); // stamps publish_ts_ns at commit
    });
    open = false;
    w.close({ unlink: true }); // CLOSED: the readers print their values and exit
    await Promise.all(children.map((c) => c.line(/^done /, REPORT_TIMEOUT_MS)));
    return mergeReports('native-c', 'spin', o.readers, sent, children.map((c) => collect(c, intervalNs)));
  } finally {
    off();
    if (open) w.close({ unlink: true });
    await killAll(children);
  }
}
