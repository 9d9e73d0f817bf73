/**
 * Receiver processes for the peer benchmarks: spawned with pipes, read line by line, and always
 * killed in the caller's finally. stdin stays an open pipe so a Node receiver notices when this
 * process dies (stdin ends) instead of waiting forever for its publisher.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Child {
  name: string;
  proc: ChildProcess;
  /** "NAME exited with code 2: <stderr>", once it has exited. */
  describeExit(): string;
  /** Resolves with the next stdout line matching `re`; rejects if the child exits first or on timeout. */
  line(re: RegExp, timeoutMs: number): Promise<string>;
  /** Every stdout line received so far (consumed ones included), for bulk output. */
  allLines(): string[];
  exited: Promise<Exit>;
  stderr(): string;
  /** SIGKILL if still running; resolves when it has exited. */
  kill(): Promise<void>;
}

/** `file` is a script for node (when it ends in .js) or an executable. */
export function spawnChild(what: string, file: string | URL, args: string[]): Child {
  const path = typeof file === 'string' ? file : fileURLToPath(file);
  const [cmd, argv] = path.endsWith('.js') ? [process.execPath, [path, ...args]] : [path, args];
  const proc = spawn(cmd, argv, { stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let next = 0; // first line line() has not consumed
  let partial = '';
  let err = '';
  let done: Exit | null = null;
  let spawnError: Error | null = null;
  const waiters = new Set<() => void>();
  const poke = (): void => waiters.forEach((w) => w());
  proc.stdout!.setEncoding('utf8');
  proc.stdout!.on('data', (d: string) => {
    partial += d;
    let i: number;
    while ((i = partial.indexOf('\n')) >= 0) {
      lines.push(partial.slice(0, i));
      partial = partial.slice(i + 1);
    }
    poke();
  });
  proc.stderr!.setEncoding('utf8');
  proc.stderr!.on('data', (d: string) => (err += d));
  proc.stdin!.on('error', () => {}); // EPIPE when the child is gone: nothing to do
  let settle!: (e: Exit) => void;
  const exited = new Promise<Exit>((resolve) => (settle = resolve));
  const end = (e: Exit): void => {
    if (done) return;
    done = e;
    settle(e);
    poke();
  };
  proc.once('close', (code, signal) => end({ code, signal }));
  proc.on('error', (e) => {
    spawnError = e;
    if (proc.pid === undefined) end({ code: null, signal: null }); // never started (ENOENT, EACCES)
  });
  const describe = (): string => {
    const why = spawnError ? `could not start (${spawnError.message})` : done?.signal ? `was killed by ${done.signal}` : `exited with code ${done?.code}`;
    return `${what} ${why}${err.trim() ? `: ${err.trim()}` : ''}`;
  };
  const line = (re: RegExp, timeoutMs: number): Promise<string> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => finish(new Error(`${what}: no output matching ${re} within ${timeoutMs} ms${err.trim() ? `; stderr: ${err.trim()}` : ''}`)), timeoutMs);
      const finish = (e: Error | null, v?: string): void => {
        clearTimeout(timer);
        waiters.delete(check);
        if (e) reject(e);
        else resolve(v!);
      };
      const check = (): void => {
        for (; next < lines.length; next++) if (re.test(lines[next])) return finish(null, lines[next++]);
        if (done) finish(new Error(describe()));
      };
      waiters.add(check);
      check();
    });
  const kill = async (): Promise<void> => {
    if (!done && proc.pid !== undefined) proc.kill('SIGKILL');
    await exited;
  };
  return { name: what, proc, describeExit: describe, line, allLines: () => lines, exited, stderr: () => err, kill };
}

/** Kills every child (in parallel) and waits for them; never throws. */
export async function killAll(children: Child[]): Promise<void> {
  await Promise.all(children.map((c) => c.kill().catch(() => {})));
}

/** Awaits `p`, failing early if a child exits, or after `timeoutMs`. */
export async function waitFor<T>(p: Promise<T>, children: Child[], what: string, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
  });
  const death = children.map((c) =>
    c.exited.then((): never => {
      throw new Error(`while waiting for ${what}: ${c.describeExit()}`);
    }),
  );
  try {
    return await Promise.race([p, timeout, ...death]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * For a paced send loop: check() throws once any child has exited, so a receiver that dies
 * mid-run fails the measurement at once instead of at the end of the period.
 */
export function exitWatch(children: Child[]): { check(): void } {
  let dead: Child | null = null;
  for (const c of children) void c.exited.then(() => (dead ??= c));
  return {
    check(): void {
      if (dead) throw new Error(`receiver died during the measured period: ${dead.describeExit()}`);
    },
  };
}
