/**
 * The addon's state is per environment: worker threads that load it, bind writers, commit and
 * exit, many at once and many times over, each see a table of their own (not the main thread's
 * writers, which stay intact), get right books, and leave no state behind when they end.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Worker } from 'node:worker_threads';
import { abi } from '../native/segment/index.js';
import { native } from '../native/segment/binding.js';
import type { CommitWorkerInput, CommitWorkerResult } from './helpers/commit-worker.js';
import { waitUntil } from './helpers/wait.js';

const workerUrl = new URL('./helpers/commit-worker.js', import.meta.url);
const CONCURRENT = 4;
const ROUNDS = 6;
const WRITERS = 3;

/** One worker's life: its result, and its exit code. */
function runWorker(input: CommitWorkerInput): Promise<{ result: CommitWorkerResult | null; code: number; error: unknown }> {
  return new Promise((resolve) => {
    const w = new Worker(workerUrl, { workerData: input });
    let result: CommitWorkerResult | null = null;
    let error: unknown = null;
    w.on('message', (m: CommitWorkerResult) => (result = m));
    w.on('error', (e) => (error = e));
    w.on('exit', (code) => resolve({ result, code, error }));
  });
}

test('workers bind and commit in tables of their own, concurrently, and leave no addon state when they exit', async () => {
  const LEVELS = 5;
  const MAX = 4;
  const layout = abi.computeLayout(MAX, LEVELS);
  const mainMap = new ArrayBuffer(layout.totalBytes);
  const stage = new ArrayBuffer(abi.commitStageBytes(LEVELS));
  const mainHandles = Array.from({ length: WRITERS }, () => native.commitBind(mainMap, layout.slotsOffset, layout.slotStride, LEVELS, MAX, null, stage));
  const baseline = native.addonStates();
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const lives = await Promise.all(
        Array.from({ length: CONCURRENT }, (_, i) => runWorker({ id: round * CONCURRENT + i + 1, foreignHandles: mainHandles, writers: WRITERS })),
      );
      for (const { result, code, error } of lives) {
        assert.is(error, null, String(error));
        assert.is(code, 0);
        assert.ok(result, 'the worker reported');
        assert.equal(result!.errors, []);
        assert.equal(result!.foreign, mainHandles.map(() => -1), "the main thread's writers are not bound in a worker");
        assert.equal(result!.handles, [0, 1, 2], 'a worker numbers its writers from 0: a table of its own');
        assert.ok(result!.states > baseline, `a live worker holds a state of its own (${result!.states} > ${baseline})`);
      }
    }
    // The main thread's writers were untouched by the workers' binds and unbinds of the same numbers.
    for (const h of mainHandles) assert.ok(native.commitBook(h, 0) > 0, `main handle ${h} still commits`);
    await waitUntil(() => native.addonStates() === baseline, 10_000, { what: `addon states back to ${baseline} after ${ROUNDS * CONCURRENT} worker lifetimes` });
  } finally {
    for (const h of mainHandles) native.commitUnbind(h);
  }
});

test.run();
