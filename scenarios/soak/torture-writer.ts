/** Torture writer thread: commits self-checking payloads to slot 0 as fast as it can until told to stop. */
import { parentPort, workerData } from 'node:worker_threads';
import { SegmentWriter } from '../../native/segment/index.js';
import { TORTURE_LEVELS, fill } from './payload.js';
import { specOf } from '../../native/segment/directory.js';

const { name, stop } = workerData as { name: string; stop: Int32Array };
const w = SegmentWriter.open({ name, maxInstruments: 1, levels: TORTURE_LEVELS });
w.addInstrument('TORT', 1, specOf(0));
const src = { bidCount: TORTURE_LEVELS, askCount: TORTURE_LEVELS, bids: new Float64Array(TORTURE_LEVELS * 3), asks: new Float64Array(TORTURE_LEVELS * 3) };
parentPort!.postMessage({ ready: true });
let k = 0;
while (Atomics.load(stop, 0) === 0) {
  k++;
  fill(src, k);
  w.publish(0, src, k, 3 * k);
  if ((k & 8191) === 0) w.heartbeat();
}
w.close({ unlink: false });
parentPort!.postMessage({ commits: k });
