/**
 * C reader phase: the C reader (c_latency_reader, the ABI header's reader), on the book and on the
 * top line of a writer publishing self-describing payloads, checks every commit it sees.
 */
import { measurePeer } from '../../bench/peers/index.js';
import type { Phase, SoakContext } from './phase.js';

/** The writer's rate, and how long each layout is read: the C path covered, not a bulk of reads. */
export const C_READER = Object.freeze({ rate: 200_000, seconds: 0.1 });

export const cReaderPhase: Phase = {
  name: 'c_reader',
  async turn(ctx: SoakContext): Promise<void> {
    for (const layout of ['book', 'top'] as const) {
      const c = await measurePeer('native-c', { rate: C_READER.rate, seconds: C_READER.seconds, readers: 1, layout, segment: ctx.name(`c-${layout}`) });
      ctx.totals.cReads += c.count;
      ctx.totals.cCorrupt += c.corrupt;
    }
  },
};
