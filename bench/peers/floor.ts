/**
 * The floor rows: bench/peers/c_floor.c commits a 10-level book and its top line with mdfan's own
 * commit (mdfan_commit_book) from a C thread and reads each layout from another C thread, pinned
 * to two CPUs, at the benchmark's rate. What the layouts allow on this machine, in the same run as
 * the readers it is set beside. `book1x` is an ABI 1.x book (12-byte levels, 304 bytes against
 * 2.0's 544) committed the same way, taking turns with the others: what the wider levels cost.
 */
import type * as hdr from 'hdr-histogram-js';
import { native } from '../../native/segment/binding.js';
import { newLatencyHistogram } from '../../workers/index.js';
import { spawnChild } from './child.js';
import { cProgram } from './c-program.js';

const TIMEOUT_MS = 120_000;

export interface Floor {
  c2c: hdr.Histogram;
  top: hdr.Histogram;
  book: hdr.Histogram;
  book1x: hdr.Histogram;
}

export async function measureFloor(rate: number, seconds: number): Promise<Floor> {
  const cpus = native.getAffinity();
  if (cpus.length < 2) throw new Error('the floor needs two CPUs');
  const c = spawnChild('c_floor', cProgram('c_floor'), [String(rate), String(seconds), String(cpus[0]), String(cpus[1])]);
  try {
    await c.line(/^done /, TIMEOUT_MS);
    const out: Floor = { c2c: newLatencyHistogram(), top: newLatencyHistogram(), book: newLatencyHistogram(), book1x: newLatencyHistogram() };
    for (const l of c.stdout) {
      const sp = l.indexOf(' ');
      const kind = l.slice(0, sp);
      if (kind === 'c2c' || kind === 'top' || kind === 'book' || kind === 'book1x') out[kind].recordValue(Math.max(1, Number(l.slice(sp + 1))));
    }
    if (out.top.totalCount === 0 || out.book.totalCount === 0 || out.book1x.totalCount === 0) throw new Error(`c_floor observed nothing: ${c.describeExit()}`);
    return out;
  } finally {
    await c.kill().catch(() => {});
  }
}
