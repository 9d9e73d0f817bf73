/**
 * Fuzz phase: every fuzzer's cases of the turn (FUZZ_PER_TURN), each split between the fuzz
 * workers (worker threads: both cores fuzz), each part with its own seed from the soak's
 * generator. A worker that does not answer within HANG_AFTER_MS (a case that hangs) is ended,
 * counted as a hang naming its job, and replaced; one that dies is a crash of its job.
 */
import { Worker } from 'node:worker_threads';
import { type FuzzJob, FUZZ_PER_TURN, JOB_KINDS, type JobKind, missingInputs, reportedAs } from './fuzz-jobs.js';
import type { JobResult } from './fuzz-worker.js';
import type { Phase, SoakContext } from './phase.js';
import { addFuzz } from './totals.js';

export const FUZZ_WORKERS = 2;
/** A worker silent this long on one turn's share is stuck in a case. */
const HANG_AFTER_MS = 300_000;
const READY_TIMEOUT_MS = 120_000;

interface FuzzWorker {
  worker: Worker;
  /** The job it said it started last (-1: none yet). */
  current: number;
}

function startWorker(): Promise<FuzzWorker> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./fuzz-worker.js', import.meta.url));
    const timer = setTimeout(() => {
      void worker.terminate();
      reject(new Error(`a fuzz worker did not read its inputs within ${READY_TIMEOUT_MS} ms`));
    }, READY_TIMEOUT_MS);
    worker.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    worker.once('message', () => {
      clearTimeout(timer);
      worker.removeAllListeners('error');
      resolve({ worker, current: -1 });
    });
  });
}

/** A share's end: every job answered, or why not (the worker is then ended). */
type Outcome = { failed: string; hang: boolean } | null;

/** Runs `jobs` on `w`, handing each job's result to `onResult` as it comes; resolves null when all came. */
function runShare(w: FuzzWorker, jobs: FuzzJob[], onResult: (job: FuzzJob, r: JobResult) => void): Promise<Outcome> {
  return new Promise((resolve) => {
    const finish = (o: Outcome): void => {
      clearTimeout(timer);
      w.worker.removeAllListeners('message');
      w.worker.removeAllListeners('error');
      w.worker.removeAllListeners('exit');
      resolve(o);
    };
    const timer = setTimeout(() => finish({ failed: `no answer within ${HANG_AFTER_MS / 1000} s`, hang: true }), HANG_AFTER_MS);
    w.current = -1;
    w.worker.on('message', (m: { started?: number; done?: number; finished?: boolean } & Partial<JobResult>) => {
      if (m.started !== undefined) w.current = m.started;
      else if (m.done !== undefined) onResult(jobs[m.done]!, { result: m.result!, seconds: m.seconds! });
      else if (m.finished) finish(null);
    });
    w.worker.once('error', (e) => finish({ failed: e.stack ?? String(e), hang: false }));
    w.worker.once('exit', (code) => finish({ failed: `the worker exited (${code})`, hang: false }));
    w.worker.postMessage({ jobs });
  });
}

const story = (j: FuzzJob): string => `${j.kind} job (${j.cases} cases, seed ${j.seed})`;

/** The fuzz phase, with its workers alive from start() to stop(). */
export function fuzzPhase(): Phase & { skipped: Partial<Record<JobKind, string>> } {
  let workers: FuzzWorker[] = [];
  const skipped = missingInputs();
  return {
    name: 'fuzz',
    skipped,
    async start(): Promise<void> {
      workers = await Promise.all(Array.from({ length: FUZZ_WORKERS }, startWorker));
    },
    async turn(ctx: SoakContext): Promise<void> {
      const t = ctx.totals;
      // Each kind's cases split between the workers, each part with its own seed.
      const shares: FuzzJob[][] = workers.map(() => []);
      for (const kind of JOB_KINDS) {
        if (skipped[kind] !== undefined) continue;
        const n = FUZZ_PER_TURN[kind];
        for (let k = 0; k < shares.length; k++) {
          const cases = Math.floor(n / shares.length) + (k < n % shares.length ? 1 : 0);
          shares[k]!.push({ kind, cases, seed: Math.floor(ctx.rand() * 2 ** 32), name: ctx.name(`fuzz-${kind}`) });
        }
      }
      const onResult = (job: FuzzJob, { result, seconds }: JobResult): void => {
        if (result.firstCrash) result.firstCrash = `${story(job)}: ${result.firstCrash}`;
        addFuzz(t.fuzz[reportedAs(job.kind)], result, seconds);
      };
      const outcomes = await Promise.all(workers.map((w, k) => runShare(w, shares[k]!, onResult)));
      for (let k = 0; k < outcomes.length; k++) {
        const o = outcomes[k];
        if (o === null) continue;
        const job = shares[k]![Math.max(0, workers[k]!.current)]!;
        if (o.hang) {
          t.hangs++;
          t.firstHang ||= `${story(job)}: ${o.failed}`;
        } else addFuzz(t.fuzz[reportedAs(job.kind)], { cases: 1, outcomes: {}, crashes: 1, badFacts: 0, firstCrash: `${story(job)}: ${o.failed}` }, 0);
        await workers[k]!.worker.terminate();
        workers[k] = await startWorker();
      }
    },
    async stop(): Promise<void> {
      await Promise.all(workers.map((w) => w.worker.terminate()));
      workers = [];
    },
  };
}
