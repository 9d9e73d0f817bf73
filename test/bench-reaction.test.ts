/**
 * `mdfan bench reaction`'s mechanics with short runs (no timing is asserted): the rows the contract
 * names for both strategies, every order matched to the book it answered, an order for another book
 * counted and never timed, a strategy that never answers or dies failing the run with a clear error
 * within a bounded time, and nothing left in /dev/shm or running, after success as after failure.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { type ReactionOptions, type ReactionRow, reactionBench } from '../bench/reaction.js';
import { isMdfanError } from '../native/segment/index.js';

const c2c = { p50: 50, p99: 100, p999: 200, cpus: [0, 1], runs: 1, pinned: true } as never;
/** Short rounds: a fast pace, a small warm-up. */
const SHORT: ReactionOptions = { runs: 1, seconds: 0.2, log: () => {}, warmupRounds: 5, paceMs: [0.2, 0.5] };

const leftInShm = (): string[] => readdirSync('/dev/shm').filter((f) => f.startsWith(`mdfan-bench-reaction-${process.pid}-`));
/** Strategy processes of this test still running (children of this process). */
const strategiesLeft = (): string =>
  spawnSync('pgrep', ['-a', '-P', String(process.pid)], { encoding: 'utf8' })
    .stdout.split('\n')
    .filter((l) => l.includes('reaction'))
    .join('\n');

test('rows {strategy, reaction_ns {p50, p99}, handoff_ns} for js and c; every order matched its book; nothing left', async () => {
  const section = await reactionBench(SHORT, c2c);
  const rows = section.results as ReactionRow[];
  assert.equal(rows.map((r) => r.strategy), ['js', 'c']);
  for (const r of rows) {
    assert.ok(r.count > 0, `${r.strategy} reacted to something`);
    assert.ok(r.reaction_ns.p50 > 0 && r.reaction_ns.p99 >= r.reaction_ns.p50, JSON.stringify(r.reaction_ns));
    assert.ok(r.handoff_ns > 0, 'a handoff measured in the run');
    assert.is(r.mismatches, 0, `${r.strategy}: every order named the book just committed and its best bid`);
    assert.ok(Math.abs(r.ratio_to_handoff - r.reaction_ns.p50 / r.handoff_ns) < 1e-9, "one run: p50 over that run's handoff");
    assert.ok(Math.abs(r.ratio_to_two_handoffs - r.ratio_to_handoff / 2) < 1e-9);
    assert.is(r.runs, 1);
  }
  const [js, c] = rows as [ReactionRow, ReactionRow];
  assert.ok(Math.abs(js.ratio_js_to_c! - js.reaction_ns.p50 / c.reaction_ns.p50) < 1e-9, 'JavaScript p50 over C p50 of the same run');
  assert.is(c.ratio_js_to_c, 1);
  assert.is(section.benchmark, 'reaction');
  assert.equal(leftInShm(), []);
  assert.is(strategiesLeft(), '');
});

test('an order for another book is counted as a mismatch and never timed (both strategies)', async () => {
  const section = await reactionBench({ ...SHORT, fault: 'wrong-index' }, c2c);
  for (const r of section.results as ReactionRow[]) {
    assert.ok(r.mismatches > 0, `${r.strategy}: the wrong orders were counted`);
    assert.is(r.count, 0, `${r.strategy}: no wrong order became a reaction`);
  }
  assert.equal(leftInShm(), []);
});

/** Runs the bench expecting a failure; returns the error and how long it took. */
async function failing(o: ReactionOptions): Promise<{ err: unknown; ms: number }> {
  const t0 = performance.now();
  let err: unknown = null;
  try {
    await reactionBench(o, c2c);
  } catch (e) {
    err = e;
  }
  return { err, ms: performance.now() - t0 };
}

for (const strategy of ['js', 'c'] as const) {
  test(`a ${strategy} strategy that never answers fails the run within the round's timeout, clearly; nothing left`, async () => {
    const { err, ms } = await failing({ ...SHORT, strategies: [strategy], fault: 'silent', roundTimeoutMs: 300 });
    assert.ok(isMdfanError(err, 'MDFAN_ERR_STALE'), String(err));
    assert.match((err as Error).message, 'sent no order for book 1 within 300 ms');
    assert.match((err as Error).message, 'still running', (err as Error).message);
    assert.ok(ms < 15_000, `bounded: ${ms} ms`);
    assert.equal(leftInShm(), []);
    assert.is(strategiesLeft(), '');
  });

  test(`a ${strategy} strategy that dies mid-run fails the run naming its exit; nothing left`, async () => {
    // A run long enough to reach book 21 however slow the machine: it ends there, when the strategy dies.
    const { err, ms } = await failing({ ...SHORT, seconds: 30, strategies: [strategy], fault: 'exit-after=20', roundTimeoutMs: 300 });
    assert.ok(isMdfanError(err, 'MDFAN_ERR_STALE'), String(err));
    assert.match((err as Error).message, 'sent no order for book 21', (err as Error).message);
    assert.match((err as Error).message, 'exited with code 3');
    assert.ok(ms < 15_000, `bounded: ${ms} ms`);
    assert.equal(leftInShm(), []);
    assert.is(strategiesLeft(), '');
  });
}

test.run();
