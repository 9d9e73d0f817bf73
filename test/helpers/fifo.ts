/** FIFOs for the test pauses (native/segment/test-pause.ts): one per pause, in the temp dir, removed with its ".reached" mark. */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let counter = 0;

/** A new FIFO named for this process and `tag`. */
export function makeFifo(tag: string): string {
  const path = join(tmpdir(), `mdfan-test-${process.pid}-${++counter}-${tag}.fifo`);
  execFileSync('mkfifo', [path]);
  return path;
}

export function removeFifo(path: string): void {
  rmSync(path, { force: true });
  rmSync(`${path}.reached`, { force: true });
}
