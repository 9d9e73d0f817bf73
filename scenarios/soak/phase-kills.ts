/** kill -9 phase: rounds of a writer process SIGKILLed under load and taken over (kills.ts), on a fresh segment each turn. */
import { unlinkSegmentObjects } from '../../native/segment/index.js';
import { killRounds } from './kills.js';
import type { Phase, SoakContext } from './phase.js';

export const KILL_ROUNDS_PER_TURN = 52;

export const killPhase: Phase = {
  name: 'kills',
  async turn(ctx: SoakContext): Promise<void> {
    const t = ctx.totals;
    const ks = ctx.name('kills');
    try {
      const k = await killRounds(ks, KILL_ROUNDS_PER_TURN, ctx.rand);
      t.killRounds += k.rounds;
      t.takeovers += k.takeovers;
      t.killReads += k.whole + k.topsWhole;
      t.staleRefusals += k.stale;
      t.midCommitKills += k.midCommit;
      t.torn += k.torn;
      t.firstTorn ||= k.firstTorn;
      t.missedDeaths += k.deathsMissed + k.badStarts;
    } finally {
      unlinkSegmentObjects(ks);
    }
  },
};
