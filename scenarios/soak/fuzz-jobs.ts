/**
 * The fuzz phase's work as jobs: one fuzzer, a number of cases, its own seed (drawn from the
 * soak's generator, so a job replays alone: `fuzzX(cases, seededRandom(seed), ...)`), and a name
 * under the soak's prefix for what it creates. Jobs run in the fuzz workers (fuzz-worker.ts) on
 * inputs each worker reads once.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readInput } from '../../feed/index.js';
import { seededRandom } from '../../lib/random.js';
import { type BinanceSet, fuzzBinance, fuzzBinanceCapture, loadBinanceSets } from './fuzz-binance.js';
import { fuzzControl } from './fuzz-control.js';
import { type DbnInputs, fuzzDbn, loadDbnInputs } from './fuzz-dbn.js';
import { fuzzNats } from './fuzz-nats.js';
import { type FuzzResult, fuzzItch, fuzzMold, fuzzScenario, fuzzSegment } from './fuzz.js';
import type { FuzzerName } from './totals.js';

/** The kinds of job; a Binance capture's cases count as `fuzz.binance`. */
export const JOB_KINDS = ['itch', 'segment', 'mold', 'scenario', 'control', 'nats', 'binance', 'binance_capture', 'dbn'] as const;
export type JobKind = (typeof JOB_KINDS)[number];
export const reportedAs = (k: JobKind): FuzzerName => (k === 'binance_capture' ? 'binance' : k);

/**
 * Cases per turn. ITCH slices are cheap (a few µs) and carry the count; the others cost 20 µs
 * (packets, records, payloads) to 1–2 ms (a file through a source) and are there for what they reach.
 */
export const FUZZ_PER_TURN: Readonly<Record<JobKind, number>> = Object.freeze({
  itch: 560_000,
  segment: 500,
  mold: 2500,
  scenario: 60,
  control: 600,
  nats: 3000,
  binance: 2000,
  binance_capture: 60,
  dbn: 60,
});

export interface FuzzJob {
  kind: JobKind;
  cases: number;
  seed: number;
  /** For what the job creates (segments, scratch files are elsewhere). */
  name: string;
}

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const ITCH_DIR = join(repoRoot, 'scenarios', 'data', 'itch');
/** The recorded venues' data beside the repository (the benchmarks' defaults too). */
export const CRYPTO_DIR = process.env.MDFAN_CRYPTO_DATA ?? join(repoRoot, '..', 'shared', 'data', 'crypto');
export const DBN_DIR = process.env.MDFAN_DBN_DATA ?? join(repoRoot, '..', 'shared', 'data', 'dbn');

/** Jobs whose inputs are missing (the shared data is not there), each with why. */
export function missingInputs(): Partial<Record<JobKind, string>> {
  const out: Partial<Record<JobKind, string>> = {};
  if (!existsSync(join(CRYPTO_DIR, 'README.md'))) out.binance = out.binance_capture = `no Binance recordings in ${CRYPTO_DIR} (MDFAN_CRYPTO_DATA)`;
  if (!existsSync(join(DBN_DIR, 'samples'))) out.dbn = `no DBN data in ${DBN_DIR} (MDFAN_DBN_DATA)`;
  return out;
}

export interface FuzzInputs {
  itch: Buffer[];
  scenarios: string[];
  binance: BinanceSet[] | null;
  dbn: DbnInputs | null;
}

export async function loadFuzzInputs(): Promise<FuzzInputs> {
  const missing = missingInputs();
  return {
    // Bounded reads: a bomb in their place is refused.
    itch: [await readInput(join(ITCH_DIR, 'GOOG-2012-06-21.itch.gz')), await readInput(join(ITCH_DIR, 'nasdaq-preopen-1000.itch'))],
    scenarios: readdirSync(join(repoRoot, 'scenarios'))
      .filter((f) => f.endsWith('.json'))
      .map((f) => join(repoRoot, 'scenarios', f)),
    binance: missing.binance ? null : await loadBinanceSets(CRYPTO_DIR),
    dbn: missing.dbn ? null : await loadDbnInputs(DBN_DIR),
  };
}

/** Runs one job on `inputs`. */
export async function runJob(job: FuzzJob, inputs: FuzzInputs): Promise<FuzzResult> {
  const rand = seededRandom(job.seed);
  const n = job.cases;
  switch (job.kind) {
    case 'itch':
      return fuzzItch(n, rand, inputs.itch);
    case 'segment':
      return fuzzSegment(n, rand, job.name);
    case 'mold':
      return fuzzMold(n, rand, inputs.itch[0]!, job.name);
    case 'scenario':
      return fuzzScenario(n, rand, inputs.scenarios);
    case 'control':
      return fuzzControl(n, rand, job.name);
    case 'nats':
      return fuzzNats(n, rand, job.name);
    case 'binance':
      return fuzzBinance(n, rand, inputs.binance!, job.name);
    case 'binance_capture':
    case 'dbn': {
      // Files through a source: written in a private directory, removed with it.
      const dir = mkdtempSync(join(tmpdir(), `mdfan-fuzz-${job.kind}-`));
      try {
        return job.kind === 'dbn' ? await fuzzDbn(n, rand, inputs.dbn!, dir) : await fuzzBinanceCapture(n, rand, inputs.binance!, dir);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }
}
