/** The benchmarks' defaults, each defined once (`mdfan bench --help` prints them from here). */
export const BENCH_DEFAULTS = Object.freeze({
  /** Runs per benchmark; the tables report their median. */
  runs: 5,
  /** Length of one measured session. */
  seconds: 2,
  /** Publishes per second of a paced writer: a busy instrument's rate. */
  rate: 20_000,
  /** How long reader processes may take to start, attach and (block) fall asleep. */
  readyTimeoutMs: 20_000,
});
