/**
 * kill -9 at random moments under load (scenarios/soak/kills.ts): a writer process commits to a
 * slot as fast as it can, a reader reads it as fast as it can, and the writer is SIGKILLed at a
 * random moment (possibly mid-commit). The reader must never get a torn book (every read is whole
 * or MDFAN_ERR_STALE), must see the writer dead, and must carry on when the next writer takes over
 * (generation + 1). The same for the top-of-book line, read beside the book.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { freshSeed, seededRandom } from '../lib/random.js';
import { killRounds } from '../scenarios/soak/kills.js';
import { segName, cleanupSegments } from './helpers/segments.js';

test.after.each(cleanupSegments);

// Kill times come from a seed, printed with any failure, so a failing run can be replayed.
const seed = Number(process.env.MDFAN_TEST_SEED ?? freshSeed());

test('SIGKILL at random moments under load: never torn, death seen, takeover with generation + 1', async () => {
  const r = await killRounds(segName('kill9'), 6, seededRandom(seed));
  const replay = `(kill times from seed ${seed}: MDFAN_TEST_SEED=${seed} replays them)`;
  assert.is(r.torn, 0, `${r.torn} torn books returned; first: ${r.firstTorn} ${replay}`);
  assert.is(r.rounds, 6);
  assert.is(r.takeovers, 5, `${r.firstProblem} ${replay}`);
  assert.is(r.badStarts, 0, r.firstProblem);
  assert.is(r.deathsMissed, 0, r.firstProblem);
  assert.ok(r.whole > 1000, `only ${r.whole} whole reads: the test did not read under load`);
  assert.ok(r.topsWhole > 1000, `only ${r.topsWhole} whole top reads`);
  console.log(`  (${r.whole} whole reads, ${r.stale} STALE refusals, ${r.empty} reads before the first commit, across 6 kills; seed ${seed})`);
});

test.run();
