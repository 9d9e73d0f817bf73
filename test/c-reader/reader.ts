/**
 * The C reader tests' shared parts: the full C reader (native/tools/mdfan_c_reader.c) built once
 * per process, a way to run it without blocking the event loop, a writer in its own process, and
 * books built independently of the C code.
 */
import { type ChildProcess, execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMainThread } from 'node:worker_threads';
import { type Child, spawnChild } from '../../lib/child.js';
import type { LevelSource } from '../../native/segment/index.js';
import { repoRoot } from '../helpers/paths.js';

export const source = join(repoRoot, 'native', 'tools', 'mdfan_c_reader.c');
// A test file may also run as a publisher thread (the concurrency test): only the main thread
// makes the build directory.
export const workDir = isMainThread ? mkdtempSync(join(tmpdir(), 'mdfan-c-reader-')) : '';
if (isMainThread) {
  chmodSync(workDir, 0o755); // the permission test runs the binary as nobody
  process.on('exit', () => rmSync(workDir, { recursive: true, force: true }));
}
export const bin = join(workDir, 'mdfan_c_reader');
export const children = new Set<Child>();

/** Kills what a test left running (registered as each file's test.after). */
export function killChildren(): void {
  for (const c of children) c.signal('SIGKILL');
}

let built = false;
/** Compiles the reader as C11 with -Wall -Wextra -Werror against native/include only (once per process). */
export function buildReader(): void {
  if (built) return;
  execFileSync('cc', ['-std=c11', '-O2', '-Wall', '-Wextra', '-Werror', '-I', join(repoRoot, 'native', 'include'), '-o', bin, source], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  built = true;
}

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  lines: string[];
}

/**
 * Runs the C reader as a child process without blocking the event loop (a publisher in this
 * process keeps running). onLine sees each stdout line as it arrives. The kill after 60 s only
 * guards against a hang: nothing is asserted about time.
 */
export function runReader(
  args: string[],
  opts: { onLine?: (line: string) => void; onSpawn?: (child: ChildProcess) => void; uid?: number; gid?: number } = {},
): Promise<Run> {
  const c = spawnChild('mdfan_c_reader', bin, args, { uid: opts.uid, gid: opts.gid, onStdoutLine: opts.onLine, maxStdoutLines: Infinity });
  children.add(c);
  opts.onSpawn?.(c.proc);
  const guard = setTimeout(() => c.signal('SIGKILL'), 60_000); // only against a hang: nothing is asserted about time
  return c.exited.then((e) => {
    clearTimeout(guard);
    children.delete(c);
    if (e.code === null && e.signal === null) throw new Error(c.describeExit());
    return { code: e.code, signal: e.signal, stdout: c.stdout.map((l) => `${l}\n`).join(''), stderr: c.stderr(), lines: c.stdout.filter((l) => l.length > 0) };
  });
}

/**
 * A writer in its own process (so the test can SIGKILL it: the kernel drops its lock, state stays
 * READY): one instrument of one level, one book (bid 100 x 1) at `msgIndex`, "ready" on stdout,
 * heartbeating; with `control`, its control plane listens (block readers get the registry).
 */
export function childWriter(name: string, o: { maxInstruments: number; symbol: string; msgIndex: number; control?: boolean }): Child {
  const script = `
    import { ITCH_SPEC, SegmentWriter } from ${JSON.stringify(join(repoRoot, 'dist', 'native', 'segment', 'index.js'))};
    const w = SegmentWriter.open({ name: ${JSON.stringify(name)}, maxInstruments: ${o.maxInstruments}, levels: 1 });
    ${o.control ? 'await w.startControl();' : ''}
    const k = w.addInstrument(${JSON.stringify(o.symbol)}, 1, ITCH_SPEC);
    w.publish(k, { bidCount: 1, askCount: 0, bids: new Float64Array([100, 1, 1]), asks: new Float64Array(3) }, ${o.msgIndex}, 0);
    console.log('ready');
    setInterval(() => w.heartbeat(), 10);`;
  const writer = spawnChild('writer', process.execPath, ['--input-type=module', '-e', script]);
  children.add(writer);
  return writer;
}

/** The first stderr line, which names the error code. */
export const errorLine = (r: Run): string => r.stderr.split('\n')[0] ?? '';

/** A book as [price, size, orders] per level, best first. */
export type Side = Array<[number, number, number]>;

export function levelSource(levels: number, bids: Side, asks: Side): LevelSource {
  const pack = (side: Side): Float64Array => {
    const a = new Float64Array(levels * 3);
    for (const [i, [p, s, o]] of side.entries()) a.set([p, s, o], i * 3);
    return a;
  };
  return { bidCount: bids.length, askCount: asks.length, bids: pack(bids), asks: pack(asks) };
}

/** The `mdfan feed --dump-books` line, built independently of the C code. */
export function dumpLine(msgIndex: number, symbol: string, levels: number, bids: Side, asks: Side): string {
  const cols: Array<string | number> = [msgIndex, symbol];
  for (let i = 0; i < levels; i++) {
    if (i < asks.length) cols.push(asks[i][0], asks[i][1]);
    else cols.push('9999999999', 0);
    if (i < bids.length) cols.push(bids[i][0], bids[i][1]);
    else cols.push('-9999999999', 0);
  }
  return cols.join(',');
}

/** Whether process `pid` is asleep in the kernel (state S in /proc/PID/stat): a spinner never is. */
export function asleep(pid: number): boolean {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'S';
}
