/** Writer thread for the contended seqlock benchmark: commits to slot 0 until told to stop. */
import { parentPort, workerData } from 'node:worker_threads';
import { SegmentWriter } from '../native/segment/writer.js';
import { ITCH_SPEC } from '../native/segment/directory.js';

const { name, stop } = workerData as { name: string; stop: Int32Array };
const w = SegmentWriter.open({ name, maxInstruments: 1, levels: 10 });
w.addInstrument('BENCH', 1, ITCH_SPEC);
const src = { bidCount: 10, askCount: 10, bids: new Float64Array(30).fill(7), asks: new Float64Array(30).fill(9) };
w.publish(0, src, 0, 0);
parentPort!.postMessage('ready');
let k = 0;
while (Atomics.load(stop, 0) === 0) w.publish(0, src, ++k, k);
w.close({ unlink: true });
