/**
 * Test hygiene: unique segment names per test, and unlinking in teardown whatever happens
 * (uvu's after hooks, plus a process 'exit' hook for a test that throws past them).
 */
import { readdirSync, rmSync } from 'node:fs';
import { unlinkSegmentObjects } from '../../native/segment/index.js';

let counter = 0;
const live = new Set<string>();

/** What every segment name this process makes starts with: mdfan-test-<pid>- (for `mdfan gc --prefix`). */
export const ownPrefix = (): string => `mdfan-test-${process.pid}-`;

/** A fresh segment name, registered for cleanup: mdfan-test-<pid>-<n>-<tag>. */
export function segName(tag = 'seg'): string {
  const n = `${ownPrefix()}${++counter}-${tag}`;
  live.add(n);
  return n;
}

/** Unlinks every segment this process named (ignores ones already gone). */
export function cleanupSegments(): void {
  for (const n of live) {
    unlinkSegmentObjects(n); // the segment, its reader registry and its event ring
    rmSync(`/dev/shm/${n}.ctl`, { force: true }); // the control socket a killed writer leaves behind
  }
  live.clear();
}

export function shmExists(name: string): boolean {
  return readdirSync('/dev/shm').includes(name);
}

process.on('exit', cleanupSegments);

/** The MdfanError code `fn` throws ('no error' if it returns): for refusal tests. */
export function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('MDFAN_ERR_')) return code;
    throw e;
  }
  return 'no error';
}
