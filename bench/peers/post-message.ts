/**
 * postMessage peer: R worker threads; the main thread posts each snapshot to every worker as a
 * Uint32Array (structured clone: one copy per message per worker, the usual way to use it).
 * The sender spins (bench/paced.ts) without yielding: delivery to a worker does not need this
 * thread's event loop.
 */
import { Worker } from 'node:worker_threads';
import { paced } from '../paced.js';
import { fillPayload, PAYLOAD_WORDS, stampPayload } from './payload.js';
import type { FromWorker, ToWorker } from './post-message-worker.js';
import { mergeReports, type PeerOptions, type PeerResult, type ReceiverReport } from './types.js';

const WORKER = new URL('./post-message-worker.js', import.meta.url);
const REPORT_TIMEOUT_MS = 30_000;

/** Why a worker is gone, once it is (its 'error', if any, comes before its 'exit'). */
const gone = new WeakMap<Worker, string>();

function track(w: Worker): Worker {
  let why = '';
  w.on('error', (e) => (why = `: ${e.message}`)); // without a listener an 'error' would throw in this thread
  w.once('exit', (code) => gone.set(w, `exited (code ${code})${why}`));
  return w;
}

/** Resolves with the worker's next message of the wanted shape; rejects if it dies or times out. */
function nextMessage<T>(w: Worker, what: string, pick: (m: FromWorker) => T | undefined, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const dead = gone.get(w);
    if (dead) return reject(new Error(`postMessage receiver ${dead} before ${what}`));
    const done = (e: Error | null, v?: T): void => {
      clearTimeout(timer);
      w.off('message', onMessage).off('error', onError).off('exit', onExit);
      if (e) reject(e);
      else resolve(v as T);
    };
    const onMessage = (m: FromWorker): void => {
      const v = pick(m);
      if (v !== undefined) done(null, v);
    };
    const onError = (e: Error): void => done(new Error(`postMessage receiver failed before ${what}: ${e.message}`));
    const onExit = (code: number): void => done(new Error(`postMessage receiver exited (code ${code}) before ${what}`));
    const timer = setTimeout(() => done(new Error(`postMessage receiver: no ${what} within ${timeoutMs} ms`)), timeoutMs);
    w.on('message', onMessage).on('error', onError).on('exit', onExit);
  });
}

export async function measurePostMessage(o: PeerOptions): Promise<PeerResult> {
  const intervalNs = 1e9 / o.rate;
  const workers: Worker[] = [];
  try {
    for (let i = 0; i < o.readers; i++) workers.push(track(new Worker(WORKER, { workerData: { intervalNs } })));
    await Promise.all(workers.map((w) => nextMessage(w, 'ready', (m) => (m === 'ready' ? true : undefined), REPORT_TIMEOUT_MS)));
    const words = new Uint32Array(PAYLOAD_WORDS);
    const { sent } = paced(o.rate, o.seconds, (k) => {
      fillPayload(words, k);
      stampPayload(words); // once per message: the fan-out to R workers is part of the cost
      for (const w of workers) w.postMessage(words satisfies ToWorker);
    });
    const reports = workers.map((w) => nextMessage(w, 'a report', (m) => (typeof m === 'object' ? m.report : undefined), REPORT_TIMEOUT_MS + o.seconds * 2000));
    for (const w of workers) w.postMessage('end' satisfies ToWorker);
    const got: ReceiverReport[] = await Promise.all(reports);
    return mergeReports('postMessage', 'event-loop', o.readers, sent, got);
  } finally {
    await Promise.all(workers.map((w) => w.terminate().catch(() => 0)));
  }
}
