/**
 * The child processes of a replay: `mdfan feed`, `mdfan read`, `mdfan strategies`, each spawned
 * with its stdout lines and its pino log lines (stderr) collected, and its exit awaited. Every
 * child started here is registered and can be ended by its pid (never by name).
 */
import { ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

export const mdfanBin = fileURLToPath(new URL('../../../bin/mdfan.js', import.meta.url));

/** A pino line as the commands write it on stderr (time: epoch ms). */
export interface LogLine {
  level: number;
  time: number;
  msg: string;
  code?: string;
  [k: string]: unknown;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Epoch ms when the exit was seen. */
  atEpochMs: number;
}

export interface Child {
  label: string;
  args: string[];
  proc: ChildProcess;
  pid: number;
  startedEpochMs: number;
  stdout: string[];
  logs: LogLine[];
  /** stderr text that was not a pino line (the CLI's error message, a stack). */
  errText: string;
  exit: Exit | null;
  exited: Promise<Exit>;
  /** Called for every pino line as it arrives. */
  onLog: ((l: LogLine) => void) | null;
}

const live = new Set<Child>();
const MAX_TEXT = 1 << 20;

function splitter(onLine: (l: string) => void): (d: Buffer) => void {
  let buf = '';
  return (d) => {
    buf += d.toString();
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      onLine(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  };
}

/** Starts `mdfan ARGS...` (logs at info unless MDFAN_LOG_LEVEL says otherwise). */
export function spawnMdfan(label: string, args: string[]): Child {
  const proc = spawn(process.execPath, [mdfanBin, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, MDFAN_LOG_LEVEL: process.env.MDFAN_REPLAY_CHILD_LOG_LEVEL ?? 'info' },
  });
  const c: Child = {
    label,
    args,
    proc,
    pid: proc.pid ?? -1,
    startedEpochMs: Date.now(),
    stdout: [],
    logs: [],
    errText: '',
    exit: null,
    exited: null as unknown as Promise<Exit>,
    onLog: null,
  };
  proc.stdout!.on(
    'data',
    splitter((l) => {
      if (c.stdout.length < 10_000) c.stdout.push(l);
    }),
  );
  proc.stderr!.on(
    'data',
    splitter((l) => {
      if (l.startsWith('{')) {
        try {
          const j = JSON.parse(l) as LogLine;
          if (typeof j.time === 'number' && typeof j.level === 'number') {
            if (c.logs.length < 10_000) c.logs.push(j);
            c.onLog?.(j);
            return;
          }
        } catch {
          /* not JSON: plain text */
        }
      }
      if (c.errText.length < MAX_TEXT) c.errText += l + '\n';
    }),
  );
  c.exited = new Promise<Exit>((resolve) => {
    const done = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (c.exit) return;
      c.exit = { code, signal, atEpochMs: Date.now() };
      live.delete(c);
      resolve(c.exit);
    };
    proc.once('close', done);
    proc.once('error', (e) => {
      c.errText += `spawn failed: ${e.message}\n`;
      done(null, null);
    });
  });
  live.add(c);
  return c;
}

/**
 * Resolves once the child has loaded the mdfan addon (its /proc/PID/maps lists mdfan.node): its
 * modules are loaded and it is about to attach, polling for the segment every 10 ms. False if it
 * exited or the timeout passed first.
 */
export async function waitLoaded(c: Child, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (c.exit) return false;
    try {
      if (readFileSync(`/proc/${c.pid}/maps`, 'latin1').includes('mdfan.node')) return true;
    } catch {
      return false; // gone
    }
    await sleep(20);
  }
  return false;
}

export function signal(c: Child, sig: NodeJS.Signals): void {
  if (!c.exit) {
    try {
      process.kill(c.pid, sig);
    } catch {
      /* already gone */
    }
  }
}

/** Waits for a child's exit up to ms; false if it is still running. */
export async function exitWithin(c: Child, ms: number): Promise<boolean> {
  if (c.exit) return true;
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([c.exited.then(() => true), t]);
  } finally {
    clearTimeout(timer);
  }
}

/** SIGCONT (a stopped child cannot handle SIGTERM), SIGTERM, then SIGKILL after graceMs. */
export async function stopChildren(cs: Child[], graceMs: number): Promise<void> {
  const running = cs.filter((c) => !c.exit);
  for (const c of running) {
    signal(c, 'SIGCONT');
    signal(c, 'SIGTERM');
  }
  const all = await Promise.all(running.map((c) => exitWithin(c, graceMs)));
  running.forEach((c, i) => {
    if (!all[i]) signal(c, 'SIGKILL');
  });
  await Promise.all(running.map((c) => exitWithin(c, 2000)));
}

/** Every child still running, for a last-resort SIGKILL (an error, Ctrl-C). */
export function killAllChildren(): void {
  for (const c of live) {
    signal(c, 'SIGCONT');
    signal(c, 'SIGKILL');
  }
}

/** The last stdout line that parses as a JSON object. */
export function lastJson<T>(c: Child): T | null {
  for (let i = c.stdout.length - 1; i >= 0; i--) {
    const l = c.stdout[i];
    if (!l.startsWith('{')) continue;
    try {
      return JSON.parse(l) as T;
    } catch {
      /* next */
    }
  }
  return null;
}
