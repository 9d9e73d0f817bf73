/**
 * postMessage receiver (a worker thread): records each Uint32Array the main thread posts, and on
 * 'end' posts its report back. Messages on one port arrive in order, so 'end' follows the data.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { native } from '../../native/segment/binding.js';
import { LatencyRecorder } from './payload.js';

export type ToWorker = Uint32Array | 'end';
export type FromWorker = 'ready' | { report: ReturnType<LatencyRecorder['report']> };

const port = parentPort;
if (!port) throw new Error('post-message-worker.js runs as a worker thread only');
const rec = new LatencyRecorder((workerData as { intervalNs: number }).intervalNs);
port.on('message', (m: ToWorker) => {
  if (m === 'end') {
    port.postMessage({ report: rec.report() } satisfies FromWorker); // the main thread then terminates us
    return;
  }
  rec.record(m, native.monotonicNs());
});
port.postMessage('ready' satisfies FromWorker);
