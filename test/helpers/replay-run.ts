/**
 * For the replay tests: write a scenario to a temp file, run `mdfan replay` on it as a child
 * process with --segment and --json, and read its report. A replay still running at teardown is
 * interrupted twice (SIGINT: it kills its own children and removes its segment), then killed.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exitWithin } from '../../lib/child.js';
import { LogEvent } from '../../lib/log.js';
import { binPath, repoRoot } from './paths.js';
import { killAll, startNode, type Proc } from './procs.js';
import { cleanupSegments, segName } from './segments.js';

export const goog = join(repoRoot, 'scenarios', 'data', 'itch', 'GOOG-2012-06-21.itch.gz');
export const aaplMsg = join(repoRoot, 'scenarios', 'data', 'lobster', 'AAPL_2012-06-21_34200000_34249000_message_10.csv');
export const aaplBook = join(repoRoot, 'scenarios', 'data', 'lobster', 'AAPL_2012-06-21_34200000_34249000_orderbook_10.csv');

export const tmp = mkdtempSync(join(tmpdir(), 'mdfan-replay-test-'));
let n = 0;
const running = new Set<Proc>();

/** Writes a scenario object (or raw text) to a temp file; returns its path. */
export function scenarioFile(doc: unknown, name = `s${++n}.json`): string {
  const f = join(tmp, name);
  writeFileSync(f, typeof doc === 'string' ? doc : JSON.stringify(doc, null, 2));
  return f;
}

export interface ReplayResult {
  code: number | null;
  stdout: string;
  stderr: string;
  // biome-ignore lint/suspicious/noExplicitAny: the report's JSON, read field by field by each test
  report: any;
}

/** Runs `mdfan replay FILE --segment SEG --json OUT [...extra]` to its end. */
export async function replayCli(file: string, segment: string, extra: string[] = []): Promise<ReplayResult> {
  const out = join(tmp, `report-${++n}.json`);
  const p = startNode(binPath, ['replay', file, '--segment', segment, '--json', out, ...extra]);
  running.add(p);
  let stdout = '';
  p.child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  const { code } = await p.exited;
  running.delete(p);
  const report = existsSync(out) ? JSON.parse(readFileSync(out, 'utf8')) : null;
  return { code, stdout, stderr: p.stderr(), report };
}

/** Teardown: interrupt (twice: its children killed, its segment removed), then SIGKILL. */
export async function stopReplays(): Promise<void> {
  for (const p of running) {
    p.child.kill('SIGINT');
    // The second Ctrl-C only once the first was taken ("stopping" logged), or the replay has ended.
    await p.event(LogEvent.STOPPING, 3000).catch(() => undefined);
    p.child.kill('SIGINT');
    if (!(await exitWithin(p.run, 3000))) p.child.kill('SIGKILL');
  }
  running.clear();
}

/** The temp directory goes when the test process ends (test files share this module). */
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

/** The control socket a killed writer can leave beside its segment. */
export function removeCtl(segment: string): void {
  rmSync(`/dev/shm/${segment}.ctl`, { force: true });
}

const segs: string[] = [];
/** A unique test segment name, also remembered so teardown removes its control socket. */
export function seg(tag: string): string {
  const s = segName(tag);
  segs.push(s);
  return s;
}

/** test.after.each for replay tests: replays, child processes, sockets and segments, always. */
export async function teardown(): Promise<void> {
  await stopReplays();
  killAll();
  segs.splice(0).forEach(removeCtl);
  cleanupSegments();
}
