/**
 * A fuzz worker thread: reads the fuzzers' inputs once, says `{ ready }`, then for each
 * `{ jobs }` it is sent runs them in order, saying `{ started: i }` before each (so a job that
 * hangs is named), `{ done: i, result, seconds }` after each, and `{ finished }` at the end.
 *
 * Errors are made without stack traces while the cases run: an MdfanError's stack is most of what
 * a refused case costs, and refusals are most cases. A job with a crash is run again from its
 * seed with stacks, for the crash's story.
 */
import { parentPort } from 'node:worker_threads';
import { type FuzzJob, loadFuzzInputs, runJob } from './fuzz-jobs.js';
import type { FuzzResult } from './fuzz.js';

export interface JobResult {
  result: FuzzResult;
  seconds: number;
}

const STACK_FRAMES = 12;
const inputs = await loadFuzzInputs();

parentPort!.on('message', async ({ jobs }: { jobs: FuzzJob[] }) => {
  for (let i = 0; i < jobs.length; i++) {
    const job = jobs[i]!;
    parentPort!.postMessage({ started: i });
    const t0 = performance.now();
    Error.stackTraceLimit = 0;
    let result: FuzzResult;
    try {
      result = await runJob(job, inputs);
    } finally {
      Error.stackTraceLimit = STACK_FRAMES;
    }
    const seconds = (performance.now() - t0) / 1000;
    if (result.crashes > 0) {
      const again = await runJob(job, inputs);
      if (again.firstCrash) result.firstCrash = again.firstCrash;
    }
    parentPort!.postMessage({ done: i, result, seconds } satisfies JobResult & { done: number });
  }
  parentPort!.postMessage({ finished: true });
});
parentPort!.postMessage({ ready: true });
