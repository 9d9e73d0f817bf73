/**
 * Tests wait for conditions, never for time: waitUntil polls a condition (sync or async) until it
 * holds or the deadline passes, then fails naming what it waited for.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export interface WaitOptions {
  /** Poll interval, ms (default 10). */
  everyMs?: number;
  /** Said in the error when the deadline passes. */
  what?: string;
}

export async function waitUntil<T>(condition: () => T | Promise<T>, timeoutMs: number, opts: WaitOptions = {}): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await condition();
      if (v) return v as NonNullable<T>;
    } catch (e) {
      last = e; // a condition may throw until it holds (a segment not there yet)
    }
    if (Date.now() >= end) {
      const why = last instanceof Error ? ` (last error: ${last.message})` : '';
      throw new Error(`waited ${timeoutMs} ms for ${opts.what ?? 'a condition'}; it never held${why}`);
    }
    await sleep(opts.everyMs ?? 10);
  }
}
