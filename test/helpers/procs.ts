/** Child processes for tests: the program's one runner (lib/child.ts), always killed in teardown. */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { addonPath } from '../../native/segment/binding.js';
import { type Child, type LogLine, type SpawnOptions, killAllChildren, logLine, spawnChild } from '../../lib/child.js';
import type { LogEvent } from '../../lib/log.js';

export interface Proc {
  child: ChildProcess;
  /** The runner's own record of the process (lib/child.ts): stdout lines, pino log lines (for logLine), exit. */
  run: Child;
  /** Resolves with the next stdout line matching `re` (rejects if the process exits first). */
  line(re?: RegExp, timeoutMs?: number): Promise<string>;
  /**
   * Resolves with the first log line whose `event` is `event` (already logged or still to come);
   * rejects if the process exits first or after timeoutMs. One wait per process at a time
   * (logLine chains one handler).
   */
  event(event: LogEvent, timeoutMs?: number): Promise<LogLine>;
  /** Resolves with { code, signal } when the process ends. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr(): string;
}

/** Deadline for a log event: generous, a wait that ends as soon as the line arrives. */
const EVENT_TIMEOUT_MS = 20_000;

export function startNode(script: string | URL, args: string[], opts: SpawnOptions = {}): Proc {
  const c = spawnChild(String(script), script, args, opts);
  const event = async (ev: LogEvent, timeoutMs = EVENT_TIMEOUT_MS): Promise<LogLine> => {
    try {
      return await logLine(c, (l) => l.event === ev, timeoutMs);
    } catch (e) {
      throw new Error(`waiting for the "${ev}" log line: ${(e as Error).message}; stderr: ${c.stderr().trim().slice(-2000)}`);
    }
  };
  return { child: c.proc, run: c, line: c.line, event, exited: c.exited, stderr: c.stderr };
}

export const killAll = killAllChildren;

process.on('exit', killAll);

/**
 * The process has loaded the native addon (/proc/PID/maps names the addon file this process uses): its command's modules
 * are loaded and linked. `mdfan read` polls for its segment a few synchronous steps later (the
 * same test `mdfan replay` makes before it starts the feed: scenarios/replay/procs.ts).
 */
export function addonLoaded(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    return readFileSync(`/proc/${pid}/maps`, 'latin1').includes(addonPath);
  } catch {
    return false; // gone
  }
}

/** The process's state letter from /proc/PID/stat (R running, S sleeping, T stopped, ...), or null if gone. */
export function procState(pid: number | undefined): string | null {
  if (pid === undefined) return null;
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return s.slice(s.lastIndexOf(')') + 2, s.lastIndexOf(')') + 3);
  } catch {
    return null;
  }
}

const SYS_FUTEX: Partial<Record<string, number>> = { x64: 202, arm64: 98 };

/**
 * The process's main thread is blocked in futex(FUTEX_WAIT) on the word at `byteOffset` of its
 * mapping of /dev/shm/NAME (from /proc/PID/syscall and /proc/PID/maps). Throws where the kernel
 * does not say (no /proc/PID/syscall, another architecture): a waitUntil then names the reason.
 */
export function inFutexWait(pid: number | undefined, shmName: string, byteOffset: number): boolean {
  const nr = SYS_FUTEX[process.arch];
  if (pid === undefined || nr === undefined) throw new Error(`cannot tell a futex wait on ${process.arch}`);
  const sc = readFileSync(`/proc/${pid}/syscall`, 'latin1').trim().split(' ');
  if (Number(sc[0]) !== nr) return false; // "running", or another system call
  const path = `/dev/shm/${shmName}`;
  const map = readFileSync(`/proc/${pid}/maps`, 'latin1')
    .split('\n')
    .find((l) => l.endsWith(` ${path}`));
  if (!map) return false;
  const start = BigInt(`0x${map.slice(0, map.indexOf('-'))}`);
  const FUTEX_CMD_MASK = 0x7fn; // the op without FUTEX_PRIVATE_FLAG / FUTEX_CLOCK_REALTIME
  return BigInt(sc[1]) === start + BigInt(byteOffset) && (BigInt(sc[2]) & FUTEX_CMD_MASK) === 0n; // FUTEX_WAIT
}
