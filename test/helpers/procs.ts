/** Child processes for tests: the program's one runner (bin/lib/child.ts), always killed in teardown. */
import type { ChildProcess } from 'node:child_process';
import { killAllChildren, spawnChild } from '../../bin/lib/child.js';

export interface Proc {
  child: ChildProcess;
  /** Resolves with the next stdout line matching `re` (rejects if the process exits first). */
  line(re?: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves with { code, signal } when the process ends. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr(): string;
}

export function startNode(script: string | URL, args: string[], opts: { env?: NodeJS.ProcessEnv } = {}): Proc {
  const c = spawnChild(String(script), script, args, opts);
  return { child: c.proc, line: c.line, exited: c.exited, stderr: c.stderr };
}

export const killAll = killAllChildren;

process.on('exit', killAll);
