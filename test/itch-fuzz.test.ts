/**
 * ITCH decoder and books under 300,000 mutated or truncated slices of the real GOOG day (and of
 * the pre-open fixture), through the soak's fuzzer (scenarios/soak/fuzz.ts): every outcome is a
 * clean replay or a coded feed error (TRUNCATED or CORRUPT, with an offset inside the input and the
 * message index); never a crash, a hang, an exception of another kind, or an offset out of range.
 * Seeded: a failure replays exactly.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadFeed } from '../feed/itch/framing.js';
import { seededRandom } from '../lib/random.js';
import { fuzzItch } from '../scenarios/soak/fuzz.js';
import { GOOG_ITCH } from './helpers/oracle.js';
import { repoRoot } from './helpers/paths.js';

const SEED = 0x5eed1234;

test('300,000 mutated and truncated real slices: clean or a coded error with a valid offset', () => {
  const goog = loadFeed(GOOG_ITCH).bytes;
  const preopen = readFileSync(join(repoRoot, 'scenarios', 'data', 'itch', 'nasdaq-preopen-1000.itch'));
  const r = fuzzItch(300_000, seededRandom(SEED), [goog, preopen]);
  assert.is(r.cases, 300_000);
  assert.is(r.crashes, 0, `seed ${SEED}: ${r.firstCrash}`);
  assert.is(r.badFacts, 0, `seed ${SEED}: ${r.firstCrash}`);
  for (const k of ['clean', 'MDFAN_ERR_FEED_TRUNCATED', 'MDFAN_ERR_FEED_CORRUPT']) assert.ok((r.outcomes[k] ?? 0) > 1000, `${k}: ${JSON.stringify(r.outcomes)}`);
  console.log(`  (${JSON.stringify(r.outcomes)})`);
});

test.run();
