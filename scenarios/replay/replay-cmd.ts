/**
 * `mdfan replay SCENARIO.json [--json FILE] [--html FILE] [--segment NAME] [--quiet]`
 *
 * Runs a scenario (docs/SCENARIOS.md): the feed handler, reader processes and the strategy pool
 * over one segment, with stalls and faults at their times; prints the report and writes it as
 * JSON and HTML. Exits 0 if every expectation was met, 1 otherwise (with the reasons), 2 on a
 * usage error. A scenario file that does not validate is MDFAN_ERR_SCENARIO, every problem named
 * by file and JSON path.
 */
import { parseArgs } from 'node:util';
import { optString } from '../../lib/cli/args.js';
import { ErrorCode, MdfanError } from '../../native/segment/errors.js';
import { segmentPath } from '../../native/segment/mapping.js';
import { loadScenario, type LoadedScenario } from './load.js';
import { killAllChildren, signal } from './procs.js';
import { countItchMessages } from './progress.js';
import { formatRun, formatSweep, formatVerdict } from './report.js';
import { runOnce, type RunOptions } from './run.js';
import { removeSegment } from './segment.js';
import type { ReplayReport, RunHistograms, RunReport } from './types.js';
import { LogEvent, createLogger } from '../../lib/log.js';
import { onStopSignals } from '../../lib/cli/signals.js';
import { writeOutputFile } from '../../lib/out-file.js';

export const USAGE = 'usage: mdfan replay SCENARIO.json [--json FILE] [--html FILE] [--segment NAME (default mdfan-replay-<pid>)] [--quiet (no progress on stderr)]';
export const EXAMPLE = 'mdfan replay scenarios/default.json --html report.html';
export const EXIT_CODES = '0 every check met; 1 a check failed, or another failure; 2 bad usage or a bad scenario';
const DEFAULT_PERCENTILES = [50, 90, 99, 99.9];

function parse(argv: string[]) {
  try {
    return parseArgs({ args: argv, options: { json: { type: 'string' }, html: { type: 'string' }, segment: { type: 'string' }, quiet: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (e) {
    throw new MdfanError(ErrorCode.OPTIONS, `${(e as Error).message}\n${USAGE}`);
  }
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv);
  if (positionals.length !== 1) throw new MdfanError(ErrorCode.OPTIONS, `give exactly one scenario file (got ${positionals.length})\n${USAGE}`);
  const segment = optString(values.segment, '--segment') ?? `mdfan-replay-${process.pid}`;
  segmentPath(segment); // a bad name fails here, before any process starts
  const jsonFile = optString(values.json, '--json');
  const htmlFile = optString(values.html, '--html');
  const quiet = values.quiet === true;
  const loaded = loadScenario(positionals[0]);
  return replay(loaded, { segment, jsonFile, htmlFile, quiet });
}

export async function replay(loaded: LoadedScenario, o: { segment: string; jsonFile?: string; htmlFile?: string; quiet: boolean }): Promise<number> {
  const s = loaded.scenario;
  const percentiles = s.report?.percentiles ?? DEFAULT_PERCENTILES;
  const perReader = s.report?.perReader ?? ((s.stalls ?? []).length > 0 || (s.faults ?? []).length > 0);
  const baseCounts = (s.readers ?? []).map((g) => g.count);
  const sweep = s.sweep ? s.sweep.readers : [undefined];
  const total = loaded.source.startsWith('itch:') ? await countItchMessages(loaded.source.slice(5)) : null;
  const stop: RunOptions['stop'] = { requested: false, ctx: null };
  let interrupts = 0;
  const onSignal = (): void => {
    stop.requested = true;
    if (++interrupts > 1) {
      killAllChildren();
      removeSegment(o.segment);
      process.exit(130);
    }
    createLogger('mdfan-replay').info({ event: LogEvent.STOPPING }, 'stopping: the feed gets SIGTERM and closes the segment; Ctrl-C again to kill everything');
    if (stop.ctx) {
      stop.ctx.stopRequested = true;
      signal(stop.ctx.feed, 'SIGTERM');
    }
  };
  const onExit = (): void => {
    killAllChildren();
    removeSegment(o.segment);
  };
  const offSignals = onStopSignals(onSignal);
  process.on('exit', onExit);
  console.log(`mdfan replay: ${s.name}${s.description ? ` — ${s.description}` : ''}`);
  console.log(`scenario ${loaded.file}, segment ${o.segment}${sweep.length > 1 ? `, ${sweep.length} runs (readers ${sweep.join(', ')})` : ''}`);
  const runs: RunReport[] = [];
  const hists: RunHistograms[] = [];
  try {
    for (const [i, n] of sweep.entries()) {
      if (stop.requested) break;
      const counts = [...baseCounts];
      if (n !== undefined) counts[s.sweep!.group ?? 0] = n;
      const label = sweep.length > 1 ? `replay ${s.name} [${n} readers]` : `replay ${s.name}`;
      const r = await runOnce({ loaded, segment: o.segment, counts, sweepReaders: n, percentiles, label, totalMessages: total, quiet: o.quiet, stop });
      runs.push(r.report);
      hists.push(r.hists);
      console.log(`\n== ${sweep.length > 1 ? `run ${i + 1}/${sweep.length}: ${n} readers` : 'result'} ==`);
      console.log(formatRun(r.report, percentiles, perReader, i === 0));
    }
  } finally {
    offSignals();
    process.off('exit', onExit);
  }
  const failures = runs.flatMap((r) => r.checks.filter((c) => !c.ok).map((c) => (r.sweep_readers !== undefined ? `[${r.sweep_readers} readers] ${c.what}` : c.what)));
  if (stop.requested) failures.push('interrupted');
  const rep: ReplayReport = { scenario: s.name, description: s.description ?? '', file: loaded.file, percentiles, runs, ok: failures.length === 0 && runs.length === sweep.length, failures };
  if (sweep.length > 1 && runs.length > 0) console.log(`\n== sweep ==\n${formatSweep(rep)}`);
  console.log(`\n${formatVerdict(rep)}`);
  if (o.jsonFile) writeOutputFile(o.jsonFile, JSON.stringify(rep, null, 2) + '\n');
  if (o.htmlFile) {
    const { writeHtml } = await import('./html.js');
    writeHtml(o.htmlFile, rep, hists);
  }
  if (o.jsonFile || o.htmlFile) console.log(`wrote ${[o.jsonFile, o.htmlFile].filter(Boolean).join(', ')}`);
  return rep.ok ? 0 : 1;
}
