/**
 * The one child-process runner, for the commands (replay, benchmarks) and the tests: a child
 * started with pipes, its stdout split into lines (awaitable with line()), its stderr split into
 * pino log lines (logs, with the `event` field to react to) and other text, its exit awaited,
 * and every child registered so that a last-resort cleanup can end them all by pid.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** A pino line as the commands write it on stderr (time: epoch ms). */
export interface LogLine {
  level: number;
  time: number;
  msg: string;
  event?: string;
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
  readonly label: string;
  readonly args: readonly string[];
  readonly proc: ChildProcess;
  readonly pid: number;
  readonly startedEpochMs: number;
  /** Every stdout line so far (the first SpawnOptions.maxStdoutLines). */
  readonly stdout: string[];
  /** stderr lines that are pino log lines (the first MAX_LINES). */
  readonly logs: LogLine[];
  /** stderr text that is not a pino line (the CLI's error message, a stack). */
  errText: string;
  /** All of stderr as received (the first MAX_TEXT bytes). */
  stderr(): string;
  exit: Exit | null;
  exited: Promise<Exit>;
  /** Called for every pino line as it arrives. */
  onLog: ((l: LogLine) => void) | null;
  /** The next stdout line matching `re` not yet taken; rejects if the child exits first or on timeout. */
  line(re?: RegExp, timeoutMs?: number): Promise<string>;
  /** "LABEL exited with code 2: <stderr>" once it has exited. */
  describeExit(): string;
  /** Sends a signal if it is still running. */
  signal(sig: NodeJS.Signals): void;
  /** SIGKILL if still running; resolves when it has exited. */
  kill(): Promise<void>;
}

export interface SpawnOptions {
  env?: NodeJS.ProcessEnv;
  /** 'pipe' keeps stdin open, so a Node child notices this process's death (stdin ends). */
  stdin?: 'ignore' | 'pipe';
  /** stdout lines kept (default MAX_LINES): a benchmark receiver that prints one value per line wants them all. */
  maxStdoutLines?: number;
  /** Called with each stdout line as it arrives. */
  onStdoutLine?: (line: string) => void;
  /** Run as this user and group (tests of permissions run a reader as nobody). */
  uid?: number;
  gid?: number;
}

const MAX_LINES = 10_000;
const MAX_TEXT = 1 << 20;
const DEFAULT_LINE_TIMEOUT_MS = 10_000;
const live = new Set<Child>();

/** The mdfan command, for spawnMdfan. */
export const mdfanBin = fileURLToPath(new URL('../../bin/mdfan.js', import.meta.url));

function splitter(onLine: (l: string) => void): (d: string) => void {
  let buf = '';
  return (d) => {
    buf += d;
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      onLine(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  };
}

const asLogLine = (l: string): LogLine | null => {
  if (!l.startsWith('{')) return null;
  try {
    const j = JSON.parse(l) as LogLine;
    return typeof j.time === 'number' && typeof j.level === 'number' ? j : null;
  } catch {
    return null;
  }
};

/** Starts `file` (a script for node when it ends in .js, else an executable) with `args`. */
export function spawnChild(label: string, file: string | URL, args: string[], opts: SpawnOptions = {}): Child {
  const path = typeof file === 'string' ? file : fileURLToPath(file);
  const [cmd, argv] = path.endsWith('.js') ? [process.execPath, [path, ...args]] : [path, args];
  const proc = spawn(cmd, argv, { stdio: [opts.stdin ?? 'ignore', 'pipe', 'pipe'], env: opts.env ?? process.env, uid: opts.uid, gid: opts.gid });
  const stdout: string[] = [];
  const maxStdout = opts.maxStdoutLines ?? MAX_LINES;
  const logs: LogLine[] = [];
  let next = 0; // first stdout line line() has not taken
  let raw = '';
  let spawnError: Error | null = null;
  const waiters = new Set<() => void>();
  const poke = (): void => {
    for (const w of waiters) w();
  };
  const c: Child = {
    label,
    args,
    proc,
    pid: proc.pid ?? -1,
    startedEpochMs: Date.now(),
    stdout,
    logs,
    errText: '',
    stderr: () => raw,
    exit: null,
    exited: null as unknown as Promise<Exit>,
    onLog: null,
    line: (re = /.*/, timeoutMs = DEFAULT_LINE_TIMEOUT_MS) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => finish(new Error(`${label}: no output matching ${re} within ${timeoutMs} ms${raw.trim() ? `; stderr: ${raw.trim()}` : ''}`)), timeoutMs);
        const finish = (e: Error | null, v?: string): void => {
          clearTimeout(timer);
          waiters.delete(check);
          if (e) reject(e);
          else resolve(v!);
        };
        const check = (): void => {
          for (; next < stdout.length; next++) {
            if (re.test(stdout[next])) {
              finish(null, stdout[next++]);
              return;
            }
          }
          if (c.exit) finish(new Error(`${c.describeExit()} before a line matching ${re}`));
        };
        waiters.add(check);
        check();
      }),
    describeExit: () => {
      const e = c.exit;
      const why = spawnError ? `could not start (${spawnError.message})` : !e ? 'is still running' : e.signal ? `was killed by ${e.signal}` : `exited with code ${e.code}`;
      return `${label} ${why}${raw.trim() ? `: ${raw.trim().slice(-4000)}` : ''}`;
    },
    signal: (sig) => {
      if (c.exit || c.pid < 0) return;
      try {
        process.kill(c.pid, sig);
      } catch {
        /* already gone */
      }
    },
    kill: async () => {
      c.signal('SIGCONT'); // a stopped child cannot die until continued
      c.signal('SIGKILL');
      await c.exited;
    },
  };
  proc.stdout!.setEncoding('utf8');
  proc.stdout!.on(
    'data',
    splitter((l) => {
      if (stdout.length < maxStdout) stdout.push(l);
      opts.onStdoutLine?.(l);
      poke();
    }),
  );
  proc.stderr!.setEncoding('utf8');
  proc.stderr!.on('data', (d: string) => {
    if (raw.length < MAX_TEXT) raw += d;
  });
  proc.stderr!.on(
    'data',
    splitter((l) => {
      const j = asLogLine(l);
      if (j === null) {
        if (c.errText.length < MAX_TEXT) c.errText += l + '\n';
        return;
      }
      if (logs.length < MAX_LINES) logs.push(j);
      c.onLog?.(j);
    }),
  );
  proc.stdin?.on('error', () => {}); // EPIPE when the child is gone: nothing to do
  c.exited = new Promise<Exit>((resolve) => {
    const done = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (c.exit) return;
      c.exit = { code, signal, atEpochMs: Date.now() };
      live.delete(c);
      resolve(c.exit);
      poke();
    };
    proc.once('close', done);
    proc.once('error', (e) => {
      spawnError = e;
      c.errText += `spawn failed: ${e.message}\n`;
      if (proc.pid === undefined) done(null, null); // never started (ENOENT, EACCES)
    });
  });
  live.add(c);
  return c;
}

/** Starts `mdfan ARGS...`. */
export const spawnMdfan = (label: string, args: string[], opts: SpawnOptions = {}): Child => spawnChild(label, mdfanBin, args, opts);

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
export async function stopChildren(cs: readonly Child[], graceMs: number): Promise<void> {
  const running = cs.filter((c) => !c.exit);
  for (const c of running) {
    c.signal('SIGCONT');
    c.signal('SIGTERM');
  }
  const all = await Promise.all(running.map((c) => exitWithin(c, graceMs)));
  await Promise.all(running.filter((_, i) => !all[i]).map((c) => c.kill()));
}

/** SIGKILLs every child still running (an error, Ctrl-C, a test's teardown) without waiting. */
export function killAllChildren(): void {
  for (const c of live) {
    c.signal('SIGCONT');
    c.signal('SIGKILL');
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

/** Resolves with the first log line for which `pred` holds (already seen or to come); rejects on exit or timeout. */
export function logLine(c: Child, pred: (l: LogLine) => boolean, timeoutMs: number): Promise<LogLine> {
  const seen = c.logs.find(pred);
  if (seen) return Promise.resolve(seen);
  return new Promise((resolve, reject) => {
    const prev = c.onLog;
    const timer = setTimeout(() => done(new Error(`${c.label}: no matching log line within ${timeoutMs} ms`)), timeoutMs);
    let settled = false;
    const done = (e: Error | null, l?: LogLine): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      c.onLog = prev;
      if (e) reject(e);
      else resolve(l!);
    };
    c.onLog = (l) => {
      prev?.(l);
      if (pred(l)) done(null, l);
    };
    void c.exited.then(() => {
      const l = c.logs.find(pred);
      if (l) done(null, l);
      else done(new Error(`${c.describeExit()} before a matching log line`));
    });
  });
}
