/** Child processes for tests: started, read line by line, and always killed in teardown. */
import { ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const live = new Set<ChildProcess>();

export interface Proc {
  child: ChildProcess;
  /** Resolves with the next stdout line matching `re` (rejects if the process exits first). */
  line(re?: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves with { code, signal } when the process ends. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr(): string;
}

export function startNode(script: string | URL, args: string[], opts: { env?: NodeJS.ProcessEnv } = {}): Proc {
  const file = typeof script === 'string' ? script : fileURLToPath(script);
  const child = spawn(process.execPath, [file, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: opts.env ?? process.env });
  live.add(child);
  const lines: string[] = [];
  let waiters: Array<() => void> = [];
  let buf = '';
  let err = '';
  let ended = false;
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      lines.push(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
    waiters.forEach((w) => w());
  });
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (code, signal) => {
      ended = true;
      live.delete(child);
      waiters.forEach((w) => w());
      resolve({ code, signal });
    }),
  );
  const line = (re = /.*/, timeoutMs = 10_000): Promise<string> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => finish(new Error(`no line matching ${re} within ${timeoutMs} ms; stderr: ${err}`)), timeoutMs);
      const finish = (e?: Error, v?: string): void => {
        clearTimeout(timer);
        waiters = waiters.filter((w) => w !== check);
        if (e) reject(e);
        else resolve(v!);
      };
      const check = (): void => {
        const k = lines.findIndex((l) => re.test(l));
        if (k >= 0) return finish(undefined, lines.splice(0, k + 1)[k]);
        if (ended) finish(new Error(`process exited before a line matching ${re}; stderr: ${err}`));
      };
      waiters.push(check);
      check();
    });
  return { child, line, exited, stderr: () => err };
}

export function killAll(): void {
  for (const c of live) c.kill('SIGKILL');
  live.clear();
}

process.on('exit', killAll);
