/**
 * `mdfan strategies --segment NAME --workers N --strategy PATH|imbalance|spread-monitor|microprice
 *   [--wait spin|yield|block] [--duration S] [--json FILE] [--pin] [--hang-ms MS] [--expected-interval-ns NS]`
 * Runs the piscina pool, prints merged latency percentiles and per-worker reads, retries and
 * updates, writes them as JSON with --json. Exits 1 if a strategy threw or hung.
 */
import { fileURLToPath } from 'node:url';
import { intOption, numOption, optString, parse, required } from '../../lib/cli/args.js';
import { native } from '../../native/segment/binding.js';
import { parseWait } from '../sdk/book-reader.js';
import { resolveStrategy } from '../pool/strategy.js';
import { assertStrategyLoadable } from '../pool/typescript-strategy.js';
import { POOL_DEFAULTS, type PoolReport, runPool } from '../pool/pool.js';
import { READER_DEFAULTS, WAIT_HELP } from '../sdk/defaults.js';
import { onStopSignals } from '../../lib/cli/signals.js';
import { writeOutputFile } from '../../lib/out-file.js';

export const USAGE = `usage: mdfan strategies --segment NAME --workers N --strategy PATH|imbalance|spread-monitor|microprice [--duration S] [--json FILE] [--pin]
  [--hang-ms MS (default ${POOL_DEFAULTS.hangMs})] [--timeout S (wait for the segment, default ${READER_DEFAULTS.attachTimeoutMs / 1000})] [--expected-interval-ns NS]
  [${WAIT_HELP}]
  PATH: a module exporting the strategy, .js, or .ts where Node strips types (>=22.18)`;
export const EXAMPLE = 'mdfan strategies --segment books --workers 2 --strategy microprice --wait spin --json pool.json';
export const EXIT_CODES = '0 every worker ok; 1 a strategy threw or hung, or another failure; 2 bad usage';

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(
    argv,
    {
      segment: { type: 'string' },
      workers: { type: 'string' },
      strategy: { type: 'string' },
      wait: { type: 'string' },
      duration: { type: 'string' },
      json: { type: 'string' },
      pin: { type: 'boolean' },
      'hang-ms': { type: 'string' },
      timeout: { type: 'string' },
      'expected-interval-ns': { type: 'string' },
    },
    USAGE,
  );
  const segment = required(values.segment, '--segment', USAGE);
  const workers = intOption(values.workers, '--workers', 1, POOL_DEFAULTS.maxWorkers, POOL_DEFAULTS.workers);
  const strategyUrl = resolveStrategy(required(values.strategy, '--strategy', USAGE));
  await assertStrategyLoadable(fileURLToPath(strategyUrl)); // before any worker starts
  const wait = parseWait(optString(values.wait, '--wait'));
  const durationS = numOption(values.duration, '--duration', 0.001, 1e7, 1e7);
  const hangMs = intOption(values['hang-ms'], '--hang-ms', 100, 3_600_000, POOL_DEFAULTS.hangMs);
  const timeoutS = numOption(values.timeout, '--timeout', 0, 1e6, READER_DEFAULTS.attachTimeoutMs / 1000);
  const jsonFile = optString(values.json, '--json');
  const expectedIntervalNs = numOption(values['expected-interval-ns'], '--expected-interval-ns', 1, 1e12, 0);
  const stop = { requested: false };
  const onSignal = (): void => {
    stop.requested = true;
  };
  const offSignals = onStopSignals(onSignal);
  let report: PoolReport;
  try {
    report = await runPool({ segment, workers, strategyUrl, wait, durationMs: durationS * 1000, timeoutMs: timeoutS * 1000, hangMs, pin: values.pin === true, cpus: native.getAffinity(), expectedIntervalNs }, stop);
  } finally {
    offSignals();
  }
  const m = report.merged.latency_ns;
  console.log(`mdfan strategies: ${workers} workers on ${segment}; merged publish->observe latency ns: p50 ${m.p50}  p90 ${m.p90}  p99 ${m.p99}  p99.9 ${m.p999}  max ${m.max} (${m.count} updates)`);
  console.table(report.workers.map((w) => ({ worker: w.worker, status: w.status, updates: w.updates, reads: w.reads, retries: w.retries, 'p50 ns': w.latency_ns.p50, 'p99 ns': w.latency_ns.p99, error: w.error ?? '' })));
  for (const w of report.workers) if (w.summary) console.log(`worker ${w.worker} strategy summary: ${JSON.stringify(w.summary)}`);
  if (jsonFile) writeOutputFile(jsonFile, JSON.stringify(report, null, 2));
  return report.workers.every((w) => w.status === 'ok') ? 0 : 1;
}
