/**
 * The child processes of a replay: `mdfan feed`, `mdfan read`, `mdfan strategies`, each spawned
 * with its stdout lines and its pino log lines (stderr) collected, and its exit awaited. Every
 * child started here is registered and can be ended by its pid (never by name).
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Child, spawnMdfan as spawn } from '../../lib/child.js';
import { addonPath } from '../../native/segment/binding.js';

export { exitWithin, killAllChildren, lastJson, mdfanBin, stopChildren } from '../../lib/child.js';
export type { Child, Exit, LogLine } from '../../lib/child.js';

/**
 * Resolves once the child has loaded the mdfan addon (its /proc/PID/maps lists the addon this
 * process loaded: a child of the same package resolves the same file): its
 * modules are loaded and it is about to attach, polling for the segment every 10 ms. False if it
 * exited or the timeout passed first.
 */
export async function waitLoaded(c: Child, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (c.exit) return false;
    try {
      if (readFileSync(`/proc/${c.pid}/maps`, 'latin1').includes(addonPath)) return true;
    } catch {
      return false; // gone
    }
    await sleep(20);
  }
  return false;
}

/** Starts `mdfan ARGS...`, logging at info (the replay reads the children's events) unless told otherwise. */
export const spawnMdfan = (label: string, args: string[]): Child =>
  spawn(label, args, { env: { ...process.env, MDFAN_LOG_LEVEL: process.env.MDFAN_REPLAY_CHILD_LOG_LEVEL ?? 'info' } });

export function signal(c: Child, sig: NodeJS.Signals): void {
  c.signal(sig);
}

