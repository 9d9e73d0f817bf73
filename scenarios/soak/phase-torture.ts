/**
 * Torture phase: a writer thread commits self-checking payloads to one slot at full speed while
 * readers in worker threads and in separate processes, on the JavaScript and the native read
 * path, read it and its top line and check every copy (torture.ts).
 */
import { unlinkSegmentObjects } from '../../native/segment/index.js';
import type { Phase, SoakContext } from './phase.js';
import { type ReaderSpec, tortureRound } from './torture.js';

/**
 * Each reader's reads of the book per turn (as many of the top line beside them). Eight readers on
 * two cores: the writer's share of the CPU is smaller, and a reader's reads while the writer is off
 * the CPU are cheap ones. Most are threads (a process costs a Node start); the native path costs
 * about twice the JavaScript path's CPU a read: it is covered, not leaned on.
 */
export const TORTURE_READERS: readonly ReaderSpec[] = Object.freeze([
  ...Array.from({ length: 4 }, (): ReaderSpec => ({ host: 'thread', path: 'js', reads: 3_300_000 })),
  { host: 'thread', path: 'native', reads: 1_000_000 },
  ...Array.from({ length: 2 }, (): ReaderSpec => ({ host: 'process', path: 'js', reads: 3_300_000 })),
  { host: 'process', path: 'native', reads: 1_000_000 },
]);

export const torturePhase: Phase = {
  name: 'torture',
  async turn(ctx: SoakContext): Promise<void> {
    const t = ctx.totals;
    const seg = ctx.name('torture');
    try {
      const tr = await tortureRound(seg, TORTURE_READERS);
      t.reads += tr.reads;
      t.retries += tr.retries;
      t.torn += tr.torn;
      t.backwards += tr.backwards;
      t.firstTorn ||= tr.firstError ?? '';
      t.tortureRounds++;
    } finally {
      unlinkSegmentObjects(seg);
    }
  },
};
