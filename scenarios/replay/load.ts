/**
 * Loading a scenario file: JSON, the schema, then what a schema cannot say (a stall naming a
 * reader that does not exist, a feed file that is not there). Every problem is reported at once
 * in one MDFAN_ERR_SCENARIO error, each line `FILE: /json/path message`.
 *
 * Relative paths in a scenario (the feed files, a strategy module) resolve against the scenario
 * file's own directory, so the shipped files say `data/itch/GOOG-2012-06-21.itch.gz`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { ErrorCode, MdfanError } from '../../native/segment/errors.js';
import { schemaErrors, type Scenario } from './schema.js';

export const BUILT_IN_STRATEGIES = ['imbalance', 'spread-monitor'];

export interface LoadedScenario {
  file: string;
  scenario: Scenario;
  /** The feed source with absolute paths: itch:/abs/file or lobster:/abs/m.csv,/abs/b.csv. */
  source: string;
  /** The pool's strategy: a built-in name or an absolute path. */
  strategy: string | null;
}

function fail(file: string, problems: string[]): never {
  throw new MdfanError(ErrorCode.SCENARIO, `${file}: ${problems.length} problem${problems.length > 1 ? 's' : ''}\n${problems.map((p) => `  ${file}: ${p}`).join('\n')}`, {
    file,
    problems: problems.length,
  });
}

/** The position of a JSON syntax error as line:column, when node tells the offset. */
function jsonProblem(text: string, e: Error): string {
  const m = /position (\d+)/.exec(e.message);
  if (!m) return `/ is not valid JSON: ${e.message}`;
  const pos = Number(m[1]);
  const before = text.slice(0, pos).split('\n');
  return `/ is not valid JSON at line ${before.length}, column ${before[before.length - 1].length + 1}: ${e.message}`;
}

export function loadScenario(file: string): LoadedScenario {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new MdfanError(ErrorCode.SCENARIO, `${file}: cannot read the scenario file (${(e as Error).message})`, { file });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    fail(file, [jsonProblem(text, e as Error)]);
  }
  return checkScenario(file, doc);
}

/** Validates a parsed scenario (schema, then cross-field rules and files on disk). */
export function checkScenario(file: string, doc: unknown): LoadedScenario {
  const problems = schemaErrors(doc);
  const schemaOk = problems.length === 0;
  const base = dirname(resolve(file));
  const abs = (p: string): string => (isAbsolute(p) ? p : resolve(base, p));

  // The feed's files (checked even when the schema found problems: all of them at once).
  const text = (doc as { feed?: { source?: unknown } } | null)?.feed?.source;
  const m = typeof text === 'string' ? /^(itch):(.+)$|^(lobster):([^,]+,[^,]+)$/.exec(text) : null;
  const kind = m ? (m[1] ?? m[3]) : '';
  const files = m ? (m[2] !== undefined ? [m[2]] : m[4].split(',')) : [];
  const absFiles = files.map(abs);
  absFiles.forEach((f, i) => {
    if (!existsSync(f)) problems.push(`/feed/source names ${JSON.stringify(files[i])}: no such file ${f} (relative paths resolve against the scenario file's directory)`);
  });
  const source = `${kind}:${absFiles.join(',')}`;
  if (!schemaOk) fail(file, problems); // the checks below rely on the schema's shape
  const s = doc as Scenario;

  // The pool's strategy.
  let strategy: string | null = null;
  if (s.pool) {
    strategy = BUILT_IN_STRATEGIES.includes(s.pool.strategy) ? s.pool.strategy : abs(s.pool.strategy);
    if (!BUILT_IN_STRATEGIES.includes(strategy) && !existsSync(strategy))
      problems.push(`/pool/strategy ${JSON.stringify(s.pool.strategy)} is neither a built-in (${BUILT_IN_STRATEGIES.join(', ')}) nor an existing module (${strategy})`);
  }

  // Readers: stalls name one by its number across groups; the sweep names a group.
  const groups = s.readers ?? [];
  const sweepGroup = s.sweep?.group ?? 0;
  if (s.sweep && sweepGroup >= groups.length) problems.push(`/sweep/group is ${sweepGroup} but there ${groups.length === 1 ? 'is 1 reader group' : `are ${groups.length} reader groups`}`);
  const counts = groups.map((g) => g.count);
  if (s.sweep && sweepGroup < groups.length) counts[sweepGroup] = Math.min(...s.sweep.readers);
  const total = counts.reduce((a, b) => a + b, 0);
  (s.stalls ?? []).forEach((st, i) => {
    if (st.reader >= total) problems.push(`/stalls/${i}/reader is ${st.reader} but the scenario starts ${total} reader process${total === 1 ? '' : 'es'} (numbered 0..${total - 1} across groups${s.sweep ? ', with the sweep at its smallest' : ''})`);
  });

  // Faults.
  const faults = s.faults ?? [];
  const kills = faults.filter((f) => f.kind === 'kill-writer').length;
  if (kills > 1) problems.push(`/faults has ${kills} kill-writer faults: at most one per scenario`);
  faults.forEach((f, i) => {
    if ((f.kind === 'kill-writer' || f.kind === 'second-writer') && total === 0 && !s.pool)
      problems.push(`/faults/${i} (${f.kind}) needs at least one reader or a pool to observe it`);
    if (f.kind === 'kill-writer' && s.durationS !== undefined && f.atS >= s.durationS) problems.push(`/faults/${i}/atS (${f.atS}) is not before /durationS (${s.durationS})`);
  });
  if (problems.length > 0) fail(file, problems);
  return { file, scenario: s, source, strategy };
}
