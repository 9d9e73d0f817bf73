/**
 * Bridge phase: the off-host path (bridge-rounds.ts): nats-server killed and restarted, the origin
 * killed and taken over, the mirror stale in between and equal after. A round takes seconds of
 * process starts, so it runs on the first turn and then every BRIDGE_EVERY_TURNS turns; skipped
 * (and said) where nats-server is not installed.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bridgeRound, bridgeRoundsPossible } from './bridge-rounds.js';
import type { Phase, SoakContext } from './phase.js';

export const BRIDGE_EVERY_TURNS = 8;

const GOOG = join(fileURLToPath(new URL('../../../', import.meta.url)), 'scenarios', 'data', 'itch', 'GOOG-2012-06-21.itch.gz');

export function bridgePhase(): Phase & { skipped: string | null } {
  return {
    name: 'bridge',
    skipped: bridgeRoundsPossible ? null : 'nats-server is not installed (Debian: nats-server)',
    async turn(ctx: SoakContext): Promise<void> {
      if (!bridgeRoundsPossible || (ctx.turn - 1) % BRIDGE_EVERY_TURNS !== 0) return;
      await bridgeRound(ctx.name('bridge'), GOOG, ctx.rand, ctx.totals.bridge);
    },
  };
}
