/**
 * Corrupted segments, through the soak's fuzzer (scenarios/soak/fuzz.ts): thousands of random
 * corruptions of a real segment's bytes (header fields, directory, slots) and truncations.
 * Opening, listing and reading every slot must either work or fail with an MdfanError code: never
 * a crash, never a hang, never an out-of-range access. Seeded: a failure replays exactly.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { seededRandom } from '../lib/random.js';
import { fuzzSegment } from '../scenarios/soak/fuzz.js';
import { segName, cleanupSegments } from './helpers/segments.js';

test.after.each(cleanupSegments);

const SEED = 0xc0ffee;

test('random corruptions and truncations: every outcome is success or a coded refusal', () => {
  const r = fuzzSegment(3000, seededRandom(SEED), segName('fuzz'));
  assert.is(r.crashes, 0, `seed ${SEED}: ${r.firstCrash}`);
  assert.is(r.badFacts, 0, `seed ${SEED}: ${r.firstCrash}`);
  // The run must have exercised both paths and several refusal codes.
  assert.ok((r.outcomes.ok ?? 0) > 100, JSON.stringify(r.outcomes));
  for (const code of ['MDFAN_ERR_BAD_MAGIC', 'MDFAN_ERR_SEGMENT_SIZE', 'MDFAN_ERR_LAYOUT', 'MDFAN_ERR_ABI_VERSION'])
    assert.ok((r.outcomes[code] ?? 0) > 0, `${code} never produced: ${JSON.stringify(r.outcomes)}`);
});

test('hostile MoldUDP64 packets and scenario files: every one handled or refused with a code, never a crash', async () => {
  const { fuzzMold, fuzzScenario } = await import('../scenarios/soak/fuzz.js');
  const { loadFeed } = await import('../feed/itch/framing.js');
  const { GOOG_ITCH } = await import('./helpers/oracle.js');
  const { repoRoot } = await import('./helpers/paths.js');
  const { readdirSync } = await import('node:fs');
  const { join } = await import('node:path');
  const mold = fuzzMold(20_000, seededRandom(SEED), loadFeed(GOOG_ITCH).bytes, segName('fuzz-mold'));
  assert.is(mold.crashes, 0, `seed ${SEED}: ${mold.firstCrash}`);
  assert.is(mold.cases, 20_000);
  const files = readdirSync(join(repoRoot, 'scenarios')).filter((f) => f.endsWith('.json')).map((f) => join(repoRoot, 'scenarios', f));
  const sc = fuzzScenario(300, seededRandom(SEED), files);
  assert.is(sc.crashes, 0, `seed ${SEED}: ${sc.firstCrash}`);
  assert.ok((sc.outcomes.MDFAN_ERR_SCENARIO ?? 0) > 0, JSON.stringify(sc.outcomes));
});

test.run();
