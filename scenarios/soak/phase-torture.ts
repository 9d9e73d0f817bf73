/**
 * Torture phase: a writer thread commits self-checking payloads to one slot at full speed while
 * readers in worker threads and in separate processes, on the JavaScript and the native read
 * path, read it and its top line and check every copy (torture.ts).
 */
import { unlinkSegmentObjects } from '../../native/segment/index.js';
import type { Phase, SoakContext } from './phase.js';
import { type ReaderSpec, tortureRound } from './torture.js';

/** Each reader's reads of the book per turn (as many of the top line beside them). */
export const TORTURE_READERS: readonly ReaderSpec[] = Object.freeze([
  { host: 'thread', path: 'js', reads: 3_000_000 },
  { host: 'thread', path: 'native', reads: 1_000_000 },
  { host: 'process', path: 'js', reads: 3_000_000 },
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
