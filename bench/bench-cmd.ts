/**
 * `mdfan bench <name> [--json FILE] [--hgrm DIR] [--html FILE] [--runs K] [--seconds S] [--rate N]`
 *
 * Prints a table per benchmark; --json writes { machine, baseline, results } (for `all`, the
 * results are one entry per benchmark, each { benchmark, title, baseline, results }); --hgrm
 * writes every histogram in HdrHistogram's .hgrm format; --html writes one self-contained report.
 * Every figure is the median of K runs (default 5), compared with a baseline measured in the same
 * run: the core-to-core handoff is measured first, whatever the benchmark.
 */
import { intOption, numOption, optString, parse } from '../lib/cli/args.js';
import { ErrorCode, MdfanError } from '../native/segment/errors.js';
import { machineInfo } from './machine.js';
import { c2cBaseline } from './c2c.js';
import { ALL, BENCHMARKS, type BenchContext } from './registry.js';
import { printSection } from './section.js';
import { writeOutputs } from './report/output.js';
import type { FullReport } from './report/types.js';
import { installAbortHandlers } from './abort.js';
import { LogEvent, createLogger } from '../lib/log.js';
import { BENCH_DEFAULTS } from './defaults.js';

const NAMES = [...Object.keys(BENCHMARKS), 'all'];
export const USAGE = `usage: mdfan bench <${NAMES.join('|')}> [--json FILE] [--hgrm DIR] [--html FILE] [--runs K (default ${BENCH_DEFAULTS.runs})] [--seconds S per session (default ${BENCH_DEFAULTS.seconds})] [--rate PUBLISHES_PER_S (default ${BENCH_DEFAULTS.rate})]`;
export const EXAMPLE = 'mdfan bench latency --runs 3 --json latency.json --html report.html';

export async function run(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const spec = { json: { type: 'string' }, hgrm: { type: 'string' }, html: { type: 'string' }, runs: { type: 'string' }, seconds: { type: 'string' }, rate: { type: 'string' } } as const;
  const { values } = parse(rest, spec, USAGE);
  if (name === undefined) {
    console.log(USAGE);
    return 2;
  }
  const names = name === 'all' ? ALL : [name];
  if (!(name in BENCHMARKS) && name !== 'all') throw new MdfanError(ErrorCode.OPTIONS, `unknown benchmark ${JSON.stringify(name)}\n${USAGE}`);
  const runs = intOption(values.runs, '--runs', 1, 100, BENCH_DEFAULTS.runs);
  const seconds = numOption(values.seconds, '--seconds', 0.05, 600, BENCH_DEFAULTS.seconds);
  const rate = intOption(values.rate, '--rate', 1, 10_000_000, BENCH_DEFAULTS.rate);
  const files = { json: optString(values.json, '--json'), hgrm: optString(values.hgrm, '--hgrm'), html: optString(values.html, '--html') };
  const log = createLogger('mdfan-bench');
  installAbortHandlers((s) => log.info({ event: LogEvent.STOPPING }, s));
  const machine = machineInfo();
  const started = new Date().toISOString();
  console.log(`mdfan bench ${name}: ${machine.cpu_model}, ${machine.cores} cores, ${machine.numa_nodes} NUMA node(s), ${machine.l3_groups} L3 group(s), node ${machine.node_version}, kernel ${machine.kernel}; median of ${runs} runs`);
  const c2c = c2cBaseline(Math.min(runs, 3));
  console.log(`baseline: core-to-core one-way p50 ${c2c.p50.toFixed(1)} ns, p99 ${c2c.p99.toFixed(1)} ns (CPUs ${c2c.cpus.join('->')})`);
  const ctx: BenchContext = { runs, seconds, rate, c2c, log: (s) => console.log(s) };
  const report: FullReport = { machine, started, runs, sections: [] };
  for (const n of names) {
    console.log(`\n== ${n}`);
    const section = await BENCHMARKS[n](ctx);
    report.sections.push(section);
    printSection(section);
  }
  for (const f of writeOutputs(report, files)) console.log(`wrote ${f}`);
  return 0;
}
