/**
 * Helpers every benchmark shares: the median of K runs per percentile, and printing a Section
 * as a console table (the same columns the HTML shows).
 */
import type { LatencyPercentiles } from '../lib/percentiles.js';
import { median } from './machine.js';
import type { Column, Section } from './report/types.js';
import { formatCell, getPath } from './report/html.js';

/** Per-percentile median over runs (each run's own percentile, then the median). */
export const medianPercentiles = (runs: LatencyPercentiles[]): LatencyPercentiles => ({
  p50: median(runs.map((r) => r.p50)),
  p90: median(runs.map((r) => r.p90)),
  p99: median(runs.map((r) => r.p99)),
  p999: median(runs.map((r) => r.p999)),
  max: median(runs.map((r) => r.max)),
});

/** The standard latency columns for rows that carry `latency_ns`. */
export const LATENCY_COLUMNS: Column[] = [
  { key: 'latency_ns.p50', label: 'p50 ns' },
  { key: 'latency_ns.p90', label: 'p90 ns' },
  { key: 'latency_ns.p99', label: 'p99 ns' },
  { key: 'latency_ns.p999', label: 'p99.9 ns' },
  { key: 'latency_ns.max', label: 'max ns' },
];

export function printSection(s: Section, log: (line: string) => void = console.log): void {
  log(`\n${s.title}`);
  if (Object.keys(s.baseline).length > 0) log(`baseline: ${JSON.stringify(s.baseline)}`);
  console.table(s.results.map((r) => Object.fromEntries(s.columns.map((c) => [c.label, formatCell(getPath(r, c.key), c.digits)]))));
  if (s.note) log(s.note);
}
