/**
 * `mdfan replay`: scenario validation (every problem at once, each naming the file and the JSON
 * path), a real replay of the GOOG day at max speed with readers and a pool (--json, --html), and
 * an expectation that is not met (exit 1 with the reason). The failure scenarios are in
 * replay-faults.test.ts.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadScenario } from '../scenarios/replay/load.js';
import { run as replayRun } from '../scenarios/replay/replay-cmd.js';
import { schemaPath } from '../scenarios/replay/schema.js';
import { isMdfanError, type MdfanError } from '../native/segment/errors.js';
import { SEGMENT_NAME_MAX } from '../native/segment/mapping.js';
import { WAIT_STRATEGIES } from '../workers/index.js';
import { repoRoot } from './helpers/paths.js';
import { aaplBook, aaplMsg, goog, replayCli, scenarioFile, seg, teardown, tmp } from './helpers/replay-run.js';

test.after.each(teardown);

function problems(doc: unknown): { file: string; lines: string[]; err: MdfanError } {
  const file = scenarioFile(doc);
  try {
    loadScenario(file);
  } catch (e) {
    if (!isMdfanError(e)) throw e;
    return { file, lines: e.message.split('\n').slice(1).map((l) => l.trim()), err: e };
  }
  throw new Error('expected MDFAN_ERR_SCENARIO');
}

const ok = { name: 'ok', feed: { source: `itch:${goog}`, speed: 'max' }, readers: [{ count: 1, wait: 'block' }] };

test('every shipped scenario validates', () => {
  const dir = join(repoRoot, 'scenarios');
  const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  assert.ok(files.length >= 9, files.join(', '));
  for (const f of files) loadScenario(join(dir, f));
});

test('schema errors: all at once, each naming the file and the JSON path', () => {
  const { file, lines, err } = problems({
    name: 'bad',
    bogus: 1,
    feed: { source: 'itch:missing.itch', speed: 'fast' },
    readers: [{ count: 2, wait: 'sleep' }, { count: -1, wait: 'spin', extra: true }],
    pool: { workers: 2 },
    faults: [{ kind: 'kill-writer', when: 3 }, { kind: 'meteor' }],
  });
  assert.is(err.code, 'MDFAN_ERR_SCENARIO');
  assert.match(err.message, 'MDFAN_ERR_SCENARIO');
  const want = [
    '/ has an unknown key "bogus"',
    '/feed/speed must be "max" or a number > 0',
    '/readers/0/wait must be one of "spin", "yield", "block"',
    '/readers/1/count must be >= 0',
    '/readers/1 has an unknown key "extra"',
    '/pool is missing the required key "strategy"',
    '/faults/0 is missing the required key "atS"',
    '/faults/0 has an unknown key "when"',
    '/faults/1/kind must be one of "kill-writer", "second-writer", "version-mismatch"',
    '/feed/source names "missing.itch": no such file',
  ];
  for (const w of want) assert.ok(lines.some((l) => l.startsWith(`${file}: ${w}`)), `no line "${file}: ${w}" in:\n${lines.join('\n')}`);
  assert.is(lines.length, want.length, lines.join('\n'));
});

test('the schema lists the SDK\'s wait strategies, no other', () => {
  // The JSON schema must hold a literal enum: this keeps it equal to the one definition.
  const schema = JSON.parse(readFileSync(schemaPath, 'utf8'));
  assert.equal(schema.properties.readers.items.properties.wait.enum, [...WAIT_STRATEGIES]);
  assert.equal(schema.properties.pool.properties.wait.enum, [...WAIT_STRATEGIES]);
});

test('--segment takes only what the segment API takes, refused before the scenario is read', async () => {
  for (const bad of ['a/b', '..', 'x'.repeat(SEGMENT_NAME_MAX + 1)]) {
    const e = await replayRun(['no-such-scenario.json', '--segment', bad]).then(
      () => null,
      (x: unknown) => x,
    );
    assert.ok(isMdfanError(e) && e.code === 'MDFAN_ERR_OPTIONS' && e.message.includes('segment name'), `${bad.slice(0, 20)}: ${String(e)}`);
  }
});

test('times and paces out of range are refused, not turned into a timer that fires at once or a replay that never ends', () => {
  const a = problems({ ...ok, durationS: 1e308, feed: { ...ok.feed, speed: 1e-300 }, stalls: [{ reader: 0, atS: 1e308, forS: 1 }] });
  assert.ok(a.lines.some((l) => l.startsWith(`${a.file}: /durationS must be <= 86400`)), a.lines.join('\n'));
  assert.ok(a.lines.some((l) => l.startsWith(`${a.file}: /feed/speed must be "max" or a number > 0`)), a.lines.join('\n'));
  assert.ok(a.lines.some((l) => l.startsWith(`${a.file}: /stalls/0/atS must be <= 86400`)), a.lines.join('\n'));
});

test('a missing feed file, a bad strategy, a stall of a reader that does not exist, bad JSON', () => {
  const a = problems({ ...ok, feed: { source: 'itch:no/such/file.itch', speed: 1 }, pool: { workers: 1, strategy: 'nope.js' }, stalls: [{ reader: 3, atS: 1, forS: 1 }] });
  assert.ok(a.lines.some((l) => l.startsWith(`${a.file}: /feed/source`) && l.includes('no such file') && l.includes(join(tmp, 'no/such/file.itch'))), a.lines.join('\n'));
  assert.ok(a.lines.some((l) => l.startsWith(`${a.file}: /pool/strategy`)), a.lines.join('\n'));
  assert.ok(a.lines.some((l) => l.startsWith(`${a.file}: /stalls/0/reader is 3`)), a.lines.join('\n'));
  assert.is(a.lines.length, 3);
  const b = problems('{ "name": "x", ');
  assert.match(b.lines[0], `${b.file}: / is not valid JSON`);
  assert.is(b.err.code, 'MDFAN_ERR_SCENARIO');
});

test('the command: a bad scenario exits 1 with MDFAN_ERR_SCENARIO; no file exits 2', async () => {
  const file = scenarioFile({ ...ok, readers: [{ count: 1, wait: 'nap' }] });
  const r = await replayCli(file, seg('bad'));
  assert.is(r.code, 1);
  assert.match(r.stderr, `MDFAN_ERR_SCENARIO`);
  assert.match(r.stderr, `${file}: /readers/0/wait must be one of "spin", "yield", "block"`);
  const u = await replayCli(join(tmp, 'absent.json'), seg('absent'));
  assert.is(u.code, 1);
  assert.match(u.stderr, 'MDFAN_ERR_SCENARIO');
});

test('GOOG at max speed: 2 readers and a pool; every message published, every reader observed books; --json and --html', async () => {
  const name = seg('goog');
  const html = join(tmp, 'goog.html');
  const file = scenarioFile({
    name: 'goog-test',
    feed: { source: `itch:${goog}`, speed: 'max' },
    readers: [{ name: 'b', count: 1, wait: 'block' }, { name: 'y', count: 1, wait: 'yield' }],
    pool: { workers: 1, strategy: 'imbalance', wait: 'block' },
    expect: { messages: 157217 },
  });
  const r = await replayCli(file, name, ['--html', html, '--quiet']);
  assert.is(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, 'mdfan replay: goog-test: PASS');
  const run = r.report.runs[0];
  assert.is(r.report.ok, true);
  assert.is(run.writer.messages, 157217);
  assert.ok(run.writer.publishes > 100_000);
  assert.is(run.writer.exit_code, 0);
  assert.is(run.readers.length, 2);
  for (const x of run.readers) {
    assert.is(x.exit_code, 0);
    assert.ok(x.updates > 0, `reader ${x.index} observed nothing`);
    assert.ok(x.latency_ns.count > 0 && x.latency_ns.p50 > 0);
  }
  assert.equal(run.groups.map((g: { group: string }) => g.group), ['b', 'y']);
  for (const g of run.groups) assert.ok(g.latency_ns.count > 0 && g.latency_ns.max >= g.latency_ns.p99);
  assert.ok(run.pool.updates > 0 && run.pool.latency_ns.count > 0);
  assert.is(run.pool.per_worker[0].status, 'ok');
  assert.ok(existsSync(html));
  const page = readFileSync(html, 'utf8');
  assert.match(page, '<svg');
  assert.match(page, 'goog-test');
  assert.equal(readdirSync('/dev/shm').filter((f) => f === name || f.startsWith(`${name}.`)), [], 'the replay removed its segment and every object beside it (registry, event ring, socket)');
});

test('an expectation not met: exit 1 naming it (LOBSTER AAPL sample)', async () => {
  const file = scenarioFile({ name: 'aapl', feed: { source: `lobster:${aaplMsg},${aaplBook}`, speed: 'max' }, readers: [{ count: 1, wait: 'block' }], expect: { messages: 5, readersObserve: false } });
  const r = await replayCli(file, seg('aapl'), ['--quiet']);
  assert.is(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, 'mdfan replay: aapl: FAIL');
  assert.match(r.stdout, '(expected 5)');
  assert.is(r.report.ok, false);
  assert.ok(r.report.failures.some((f: string) => f.includes('expected 5')));
  assert.ok(r.report.runs[0].writer.messages > 900);
});

test.run();
