/**
 * Every benchmark as a function from the run's context to a Section (table columns, results,
 * baseline, histograms). `mdfan bench all` runs them in this order, sharing one core-to-core
 * baseline measured first.
 */
import { c2cBaselineEntry, type C2cResult } from './c2c.js';
import { feedBench } from './feed.js';
import { binanceFeedBench } from './feed-binance.js';
import { dbnFeedBench } from './feed-dbn.js';
import { seqlockBench } from './seqlock-read.js';
import { stallBench } from './stall.js';
import { readersBench } from './readers.js';
import { latencyBench, LATENCY_DEFAULTS } from './latency.js';
import { fanoutBench, FANOUT_DEFAULTS } from './fanout.js';
import { falseSharingBench } from './false-sharing.js';
import { numaBench } from './numa.js';
import { eventsBench } from './events.js';
import { bridgeBench } from './bridge.js';
import { liveBench } from './feed-live.js';
import { scaleBench } from './scale.js';
import { ratesBench } from './rates.js';
import { reactionBench } from './reaction.js';
import { LATENCY_COLUMNS } from './section.js';
import type { Section } from './report/types.js';
import type { BenchmarkName } from './names.js';

export interface BenchContext {
  runs: number;
  /** Seconds per measured session (latency, fanout, false-sharing, numa, readers). */
  seconds: number;
  /** Steady publish rate for the latency sessions. */
  rate: number;
  c2c: C2cResult;
  log: (s: string) => void;
}

type Bench = (x: BenchContext) => Promise<Section>;

/** Exactly the names of bench/names.ts (`satisfies`: none missing, none more). */
export const BENCHMARKS: Record<string, Bench> = {
  c2c: async (x) => ({
    benchmark: 'c2c',
    title: `Core-to-core cache-line handoff, CPUs ${x.c2c.cpus.join(' -> ')} (native ping-pong, median of ${x.c2c.runs} runs)`,
    baseline: c2cBaselineEntry(x.c2c),
    results: [{ ...x.c2c }],
    columns: [
      { key: 'p50', label: 'one-way p50 ns', digits: 1 },
      { key: 'p99', label: 'p99 ns', digits: 1 },
      { key: 'p999', label: 'p99.9 ns', digits: 1 },
      { key: 'pinned', label: 'pinned' },
    ],
    note: 'The physical limit: half the round trip of one 128-byte-aligned line between two pinned threads, timed with the TSC.',
    curves: [],
  }),
  seqlock: async (x) => {
    const rows = await seqlockBench(x.runs, x.log);
    const base = rows[0];
    return {
      benchmark: 'seqlock',
      title: `Seqlock read cost of one 10-level snapshot (median of ${x.runs} runs)`,
      baseline: { plain_copy_ns: base.ns_per_read },
      results: rows.slice(1).map((r) => ({ ...r, ratio_to_plain_copy: r.ns_per_read / base.ns_per_read })),
      columns: [
        { key: 'case', label: 'case' },
        { key: 'ns_per_read', label: 'ns/read', digits: 1 },
        { key: 'ratio_to_plain_copy', label: '× plain copy', digits: 2 },
        { key: 'retries_per_read', label: 'retries/read', digits: 3 },
      ],
      curves: [],
    };
  },
  feed: async (x) => {
    const rows = await feedBench(x.runs, x.log);
    // The Binance rows carry `feed` (binance-coinm, binance-spot); the GOOG day's rows are as they were.
    const binance = await binanceFeedBench(x.runs, x.log);
    // The DBN rows (feed 'dbn'): the same GOOG day as DBN MBO records.
    const dbn = await dbnFeedBench(x.runs, x.log);
    return {
      benchmark: 'feed',
      title: `Feed handler throughput on the GOOG day (ITCH${dbn.length > 0 ? ' and DBN' : ''})${binance.length > 0 ? ' and the two Binance recordings' : ''}, by stage (median of ${x.runs} runs)`,
      baseline: { decode_msgs_per_s: rows[0].msgs_per_s },
      results: [...rows, ...binance, ...dbn].map((r) => ({ ...r, ns_per_msg: 1e9 / r.msgs_per_s })),
      columns: [
        { key: 'stage', label: 'stage' },
        { key: 'msgs_per_s', label: 'msg/s', digits: 0 },
        { key: 'ns_per_msg', label: 'ns/msg', digits: 0 },
      ],
      curves: [],
    };
  },
  readers: async (x) => {
    const rows = await readersBench(x.runs, x.log, x.rate, x.seconds);
    return {
      benchmark: 'readers',
      title: `One reader process per wait strategy at ${x.rate}/s (median of ${x.runs} runs)`,
      baseline: c2cBaselineEntry(x.c2c),
      results: rows.map((r) => ({ ...r, ratio_to_c2c_p50: r.latency_ns.p50 / x.c2c.p50 })),
      columns: [{ key: 'wait', label: 'wait' }, ...LATENCY_COLUMNS, { key: 'ratio_to_c2c_p50', label: '× c2c p50', digits: 1 }, { key: 'reader_cpu_ms', label: 'reader CPU ms' }],
      curves: [],
    };
  },
  latency: (x) => latencyBench({ runs: x.runs, seconds: x.seconds, rate: x.rate, readerCounts: LATENCY_DEFAULTS.readerCounts, waits: LATENCY_DEFAULTS.waits, peers: LATENCY_DEFAULTS.peers, log: x.log }, x.c2c),
  fanout: (x) => fanoutBench({ runs: x.runs, seconds: x.seconds, rate: x.rate, readerCounts: FANOUT_DEFAULTS.readerCounts, wait: FANOUT_DEFAULTS.wait, log: x.log }, x.c2c),
  'false-sharing': (x) => falseSharingBench({ runs: x.runs, seconds: x.seconds, rate: x.rate, log: x.log }, x.c2c),
  events: (x) => eventsBench({ runs: x.runs, seconds: x.seconds, rate: x.rate, log: x.log }, x.c2c),
  scale: (x) => scaleBench({ runs: x.runs, seconds: x.seconds, rate: x.rate, log: x.log }, x.c2c),
  rates: (x) => ratesBench({ runs: x.runs, seconds: x.seconds, log: x.log }, x.c2c),
  reaction: (x) => reactionBench({ runs: x.runs, seconds: x.seconds, log: x.log }, x.c2c),
  bridge: (x) => bridgeBench({ runs: x.runs, seconds: x.seconds, rate: x.rate, log: x.log }, x.c2c),
  // Not in `all`: it needs the recordings and replays them whole over the loopback.
  live: (x) => liveBench({ runs: x.runs, log: x.log }, x.c2c),
  numa: (x) => numaBench({ runs: x.runs, seconds: x.seconds, rate: x.rate, log: x.log }, x.c2c),
  stall: async (x) => {
    const rows = await stallBench(x.runs, x.log);
    return {
      benchmark: 'stall',
      title: `Writer throughput (GOOG day replay) with a reader running, and stopped (median of ${x.runs} runs)`,
      baseline: { no_reader_msgs_per_s: rows[0].msgs_per_s },
      results: rows.map((r) => ({ ...r, ratio_to_no_reader: r.msgs_per_s / rows[0].msgs_per_s })),
      columns: [
        { key: 'reader', label: 'reader' },
        { key: 'msgs_per_s', label: 'msg/s', digits: 0 },
        { key: 'ratio_to_no_reader', label: '× no reader', digits: 2 },
      ],
      curves: [],
    };
  },
} satisfies Record<BenchmarkName, Bench>;

/** What `all` runs ('readers' is left out: `latency` covers it with more readers and hosts). */
export const ALL = ['c2c', 'seqlock', 'feed', 'latency', 'events', 'fanout', 'false-sharing', 'numa', 'stall', 'reaction'];
