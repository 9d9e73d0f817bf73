/**
 * `mdfan bench reaction`: a strategy's reaction, with no clock read in the strategy. A C thread of
 * this process commits a 10-level book into a real segment (t0, the commit's publish time) and spins
 * on a one-line reply slot; the strategy, in its own process, sees the new top of book and writes an
 * order (the msg_index and best bid it saw) into that line; the C thread stamps its arrival (t1).
 * Reaction = t1 - t0, per book, for a JavaScript strategy on the SDK and a C one on the ABI headers.
 * Each run measures its own core-to-core handoff first; a row is the median over runs of each
 * percentile and of each ratio. The aim: the JavaScript strategy's p50 within 1.3x the C one's.
 */
import { type LatencyPercentiles, percentilesOf } from '../lib/percentiles.js';
import { c2cBaseline, c2cBaselineEntry, type C2cResult } from './c2c.js';
import { median } from './machine.js';
import { type JsLoop, type ReactionStrategy, reactionSession } from './reaction-session.js';
import type { Section } from './report/types.js';
import { medianPercentiles } from './section.js';

export const REACTION_DEFAULTS = Object.freeze({
  /** The pause between an order and the next book (ms, drawn uniformly): a quiet symbol, a few hundred books a second. */
  paceMs: Object.freeze([1, 5]) as readonly [number, number],
  /** Rounds before the measured ones (the strategy's JIT, caches, page tables). */
  warmupRounds: 200,
  /** A book with no order after this long fails the run (a GC pause is far shorter). */
  roundTimeoutMs: 1_000,
  /** The JavaScript strategy's loop (bench/reaction-strategy-proc.ts). */
  jsLoop: 'poll' as JsLoop,
  /** The aim: the JavaScript strategy's reaction p50 over the C strategy's. */
  aimJsToC: 1.3,
});

export interface ReactionOptions {
  runs: number;
  seconds: number;
  log: (s: string) => void;
  strategies?: readonly ReactionStrategy[];
  paceMs?: readonly [number, number];
  warmupRounds?: number;
  roundTimeoutMs?: number;
  jsLoop?: JsLoop;
  /** Tests only: the strategies' fault (bench/peers/c_reaction_strategy.c). */
  fault?: string;
}

export interface ReactionRow {
  strategy: ReactionStrategy;
  /** How the strategy looks for a new top. */
  loop: string;
  reaction_ns: LatencyPercentiles;
  /** The one-way core-to-core handoff p50 (median over the runs, each measured before its run). */
  handoff_ns: number;
  /** reaction p50 over the handoff p50, and over two handoffs (a book out, an order back). */
  ratio_to_handoff: number;
  ratio_to_two_handoffs: number;
  /** This strategy's reaction p50 over the C strategy's in the same run (median over runs; null without a C row). */
  ratio_js_to_c: number | null;
  /** Reactions measured per run (median). */
  count: number;
  /** Orders for another book or another price than the one committed, over all runs. */
  mismatches: number;
  runs: number;
  [k: string]: unknown;
}

/** Each row's `loop`: how its strategy looks for a new top. */
const LOOPS: Record<'c' | JsLoop, string> = {
  c: "C: spins on the top line's seq, seqlock copy on a change",
  poll: 'JavaScript: BookReader.pollTops(), readTop() on a change',
  copy: 'JavaScript: BookReader.readTop() on every look',
};

export async function reactionBench(o: ReactionOptions, c2c: C2cResult): Promise<Section> {
  const strategies = o.strategies ?? (['js', 'c'] as const);
  const jsLoop = o.jsLoop ?? REACTION_DEFAULTS.jsLoop;
  const per = new Map<ReactionStrategy, { pcts: LatencyPercentiles[]; counts: number[]; mismatches: number }>(strategies.map((s) => [s, { pcts: [], counts: [], mismatches: 0 }]));
  const handoffs: number[] = [];
  for (let r = 0; r < o.runs; r++) {
    handoffs.push(c2cBaseline(1, 50_000).p50);
    // Both strategies in every run, one after the other: a slow period of the machine hits both.
    for (const strategy of strategies) {
      const res = await reactionSession({
        strategy,
        jsLoop,
        seconds: o.seconds,
        warmupRounds: o.warmupRounds ?? REACTION_DEFAULTS.warmupRounds,
        paceMs: o.paceMs ?? REACTION_DEFAULTS.paceMs,
        roundTimeoutMs: o.roundTimeoutMs ?? REACTION_DEFAULTS.roundTimeoutMs,
        fault: o.fault,
      });
      const p = percentilesOf(res.reactionNs);
      const acc = per.get(strategy)!;
      acc.pcts.push(p);
      acc.counts.push(res.reactionNs.length);
      acc.mismatches += res.mismatches;
      o.log(`  run ${r + 1}, ${strategy}: reaction p50 ${p.p50} ns, p99 ${p.p99} ns (${(p.p50 / handoffs[r]!).toFixed(1)}x handoff ${handoffs[r]!.toFixed(0)} ns), ${res.reactionNs.length} books, ${res.mismatches} mismatched`);
    }
  }
  const cPcts = per.get('c')?.pcts;
  const rows: ReactionRow[] = strategies.map((strategy) => {
    const acc = per.get(strategy)!;
    return {
      strategy,
      loop: LOOPS[strategy === 'js' ? jsLoop : 'c'],
      reaction_ns: medianPercentiles(acc.pcts),
      handoff_ns: median(handoffs),
      ratio_to_handoff: median(acc.pcts.map((p, i) => p.p50 / handoffs[i]!)),
      ratio_to_two_handoffs: median(acc.pcts.map((p, i) => p.p50 / (2 * handoffs[i]!))),
      ratio_js_to_c: cPcts ? median(acc.pcts.map((p, i) => p.p50 / cPcts[i]!.p50)) : null,
      count: median(acc.counts),
      mismatches: acc.mismatches,
      runs: o.runs,
    };
  });
  const js = rows.find((r) => r.strategy === 'js');
  const aimMet = js && js.ratio_js_to_c !== null ? js.ratio_js_to_c <= REACTION_DEFAULTS.aimJsToC : null;
  if (js && js.ratio_js_to_c !== null) o.log(`  JavaScript over C, reaction p50: ${js.ratio_js_to_c.toFixed(2)}x (aim: <= ${REACTION_DEFAULTS.aimJsToC}: ${aimMet ? 'met' : 'not met'})`);
  return {
    benchmark: 'reaction',
    title: `A strategy's reaction: book committed (C) -> order seen (C), strategy in its own process (median of ${o.runs} runs)`,
    baseline: { ...c2cBaselineEntry(c2c), aim_js_to_c_p50: REACTION_DEFAULTS.aimJsToC, aim_met: aimMet, pace_ms: [...(o.paceMs ?? REACTION_DEFAULTS.paceMs)] },
    results: rows,
    columns: [
      { key: 'strategy', label: 'strategy' },
      { key: 'reaction_ns.p50', label: 'p50 ns' },
      { key: 'reaction_ns.p90', label: 'p90 ns' },
      { key: 'reaction_ns.p99', label: 'p99 ns' },
      { key: 'ratio_to_two_handoffs', label: '× 2 handoffs', digits: 1 },
      { key: 'ratio_js_to_c', label: '× C p50', digits: 2 },
      { key: 'handoff_ns', label: 'handoff p50 ns', digits: 0 },
      { key: 'count', label: 'books' },
      { key: 'mismatches', label: 'mismatches' },
      { key: 'loop', label: 'loop' },
    ],
    note: "Reaction: the writer's CLOCK_MONOTONIC at the commit (the slot's publish_ts_ns) to the same C thread's clock when the order's sequence moved in the reply line; no clock is read in the strategy. One book per round, then a pause drawn from pace_ms. × 2 handoffs: a book out and an order back can take no less. × C p50: over the C strategy's p50 in the same run (aim: the JavaScript strategy within 1.3).",
    curves: [],
  };
}
