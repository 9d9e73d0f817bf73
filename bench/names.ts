/**
 * Every benchmark's name, in `mdfan bench`'s order: the registry (bench/registry.ts) implements
 * exactly these (the compiler holds the two together), and `mdfan --help` lists them from here
 * without loading a benchmark.
 */
export const BENCHMARK_NAMES = ['c2c', 'seqlock', 'feed', 'readers', 'latency', 'fanout', 'false-sharing', 'events', 'scale', 'rates', 'reaction', 'bridge', 'live', 'numa', 'stall'] as const;
export type BenchmarkName = (typeof BENCHMARK_NAMES)[number];
