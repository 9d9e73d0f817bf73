/**
 * The replay report explains itself: under the latency table, a legend with an entry for every
 * column the table prints; and, when the reader processes, pool workers and the writer outnumber
 * the cores, a note saying so and naming the groups that spin (their tail is the scheduler's).
 * A real replay with one reader more than os.availableParallelism() allows, then the same run's
 * report formatted again with the core count at the boundary.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { availableParallelism } from 'node:os';
import { formatRun } from '../scenarios/replay/report.js';
import type { RunReport } from '../scenarios/replay/types.js';
import { aaplBook, aaplMsg, replayCli, scenarioFile, seg, teardown } from './helpers/replay-run.js';

test.after.each(teardown);

const PERCENTILES = [50, 90, 99, 99.9];
const MAX_PER_GROUP = 64;

/** The printed table's header line (the line holding its column names) and the legend's entry names. */
function tableAndLegend(text: string): { columns: string[]; legend: string[] } {
  const lines = text.split('\n');
  const headerLine = lines.find((l) => /\bcount\s+updates\b/.test(l));
  assert.ok(headerLine, `a latency table in:\n${text}`);
  const columns = headerLine!.trim().split(/\s{2,}/);
  const at = lines.indexOf('legend');
  assert.ok(at > 0, `a legend in:\n${text}`);
  const legend: string[] = [];
  for (const l of lines.slice(at + 1)) {
    if (!l.startsWith('  ')) break;
    const m = /^ {2}(\S+(?: \S+)?)\s{2,}/.exec(l);
    if (m) legend.push(m[1]!);
  }
  return { columns, legend };
}

let run: RunReport | null = null;

test('readers outnumbering the cores: the legend names every column, and the note counts who shares the cores and names the spinning group', async () => {
  const cores = availableParallelism();
  // One spinning reader and `cores` blocking ones: with the writer, two more than the cores.
  const blocks: Array<{ name: string; count: number; wait: string }> = [];
  for (let left = cores, i = 0; left > 0; left -= MAX_PER_GROUP, i++) blocks.push({ name: `sleepers-${i}`, count: Math.min(left, MAX_PER_GROUP), wait: 'block' });
  const file = scenarioFile({
    name: 'legend',
    feed: { source: `lobster:${aaplMsg},${aaplBook}`, speed: 'max' },
    readers: [{ name: 'spinner', count: 1, wait: 'spin' }, ...blocks],
    expect: { readersObserve: false },
  });
  const r = await replayCli(file, seg('legend'), ['--quiet']);
  assert.ok(r.report, r.stdout + r.stderr);
  run = r.report.runs[0] as RunReport;
  assert.is(run.cores, cores, 'the report records the cores the run had');

  const { columns, legend } = tableAndLegend(r.stdout);
  for (const c of columns) {
    const entry = /^p[\d.]+ ns$/.test(c) ? 'pN ns' : c;
    assert.ok(legend.includes(entry), `the legend explains column "${c}" (entries: ${legend.join(', ')})`);
  }
  for (const c of ['seen %', 'retries']) assert.ok(columns.includes(c), `the table has "${c}"`);

  const readers = cores + 1;
  assert.match(r.stdout, `cores: the writer, ${readers} reader processes (${readers + 1} in all) share ${cores} core${cores === 1 ? '' : 's'}`);
  const note = r.stdout.slice(r.stdout.indexOf('cores: '));
  assert.match(note, /spinner \(spin\) waits by spinning/);
  assert.not.match(note, /sleepers-0/, 'a blocking group is not called a spinner');
});

test('the note appears exactly when the writer, readers and workers outnumber the cores', () => {
  assert.ok(run, 'the replay above ran');
  const busy = run!.readers.length + 1;
  const enough = formatRun({ ...run!, cores: busy }, PERCENTILES, false);
  assert.not.match(enough, 'cores: ', 'a core for each reader and the writer: no note');
  assert.match(enough, '\nlegend\n', 'the legend is always there');
  const short = formatRun({ ...run!, cores: busy - 1 }, PERCENTILES, false);
  assert.match(short, `cores: the writer, ${busy - 1} reader processes (${busy} in all) share ${busy - 1} core`);
  const withPool = formatRun({ ...run!, cores: busy, pool: { workers: 1, strategy: 'imbalance', wait: 'block', pid: 1, exit_code: 0, updates: 1, reads: 1, retries: 0, latency_ns: { p50: 1, p90: 1, p99: 1, p999: 1, max: 1, count: 1 }, writer_deaths: 0, per_worker: [] } }, PERCENTILES, false);
  assert.match(withPool, `and 1 pool worker thread (${busy + 1} in all) share ${busy} core`, 'a pool worker counts as a reader');
});

test('a sweep prints the legend once, under its first run, and the cores note with every run that needs it', async () => {
  const cores = availableParallelism();
  const crowded = Math.min(cores + 1, MAX_PER_GROUP);
  const file = scenarioFile({
    name: 'legend-sweep',
    feed: { source: `lobster:${aaplMsg},${aaplBook}`, speed: 'max' },
    readers: [{ name: 'sleepers', count: 1, wait: 'block' }],
    sweep: { readers: [1, crowded] },
    expect: { readersObserve: false },
  });
  const r = await replayCli(file, seg('legend-sweep'), ['--quiet']);
  assert.ok(r.report, r.stdout + r.stderr);
  assert.is(r.stdout.match(/^legend$/gm)?.length, 1, r.stdout);
  const second = r.stdout.slice(r.stdout.indexOf('== run 2/2'));
  assert.match(second, `cores: the writer, ${crowded} reader processes`, 'the crowded run has its note');
  assert.ok(r.stdout.indexOf('legend') < r.stdout.indexOf('== run 2/2'), 'the legend is under the first run');
});

test.run();
