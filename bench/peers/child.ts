/**
 * Receiver processes for the peer benchmarks: spawned with pipes, read line by line, and always
 * killed in the caller's finally. stdin stays an open pipe so a Node receiver notices when this
 * process dies (stdin ends) instead of waiting forever for its publisher.
 */
import { type Child, type SpawnOptions, spawnChild as spawn } from '../../lib/child.js';

export type { Child } from '../../lib/child.js';

/** A receiver: stdin stays an open pipe, so a Node receiver notices when this process dies. */
export const spawnChild = (what: string, file: string | URL, args: string[], opts: SpawnOptions = {}): Child => spawn(what, file, args, { stdin: 'pipe', maxStdoutLines: Infinity, ...opts });

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
