/**
 * The one latency record every command, report and benchmark prints, and the one function that
 * builds it, from an HDR histogram or from raw samples. Its field names are read by the docs, the
 * tests and people's scripts: `p50`, `p90`, `p99`, `p999` (99.9), `max`.
 */
import type * as hdr from 'hdr-histogram-js';

/** Latency in ns at the STANDARD_PERCENTILES, and the largest value. */
export interface LatencyPercentiles {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

/** The percentiles of a LatencyPercentiles, in its field order. */
export const STANDARD_PERCENTILES: readonly number[] = Object.freeze([50, 90, 99, 99.9]);

/** The field name of percentile p: `p50`, `p999` for 99.9, `p9999` for 99.99. */
export const percentileKey = (p: number): string => `p${String(p).replace('.', '')}`;

const isHistogram = (s: hdr.Histogram | ArrayLike<number>): s is hdr.Histogram => typeof (s as hdr.Histogram).getValueAtPercentile === 'function';

/** Nearest rank (the sample below the percentile's position) in ascending samples; 0 when there are none. */
const rankOf = (sorted: Float64Array, p: number): number => (sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]);

/**
 * The record of a histogram or of samples (in any order): the standard percentiles, or the given
 * ones keyed by percentileKey, then `max`. Empty input gives zeros.
 */
export function percentilesOf(source: hdr.Histogram | ArrayLike<number>): LatencyPercentiles;
export function percentilesOf(source: hdr.Histogram | ArrayLike<number>, percentiles: readonly number[]): Record<string, number>;
export function percentilesOf(source: hdr.Histogram | ArrayLike<number>, percentiles: readonly number[] = STANDARD_PERCENTILES): LatencyPercentiles | Record<string, number> {
  const out: Record<string, number> = {};
  if (isHistogram(source)) {
    // A percentile is its bucket's highest equivalent value, which can pass the exact largest
    // value recorded (121,663 against 121,625 at 3 digits): no sample is above max.
    const max = source.maxValue;
    for (const p of percentiles) out[percentileKey(p)] = Math.min(source.getValueAtPercentile(p), max);
    out.max = max;
  } else {
    const sorted = Float64Array.from(source).sort();
    for (const p of percentiles) out[percentileKey(p)] = rankOf(sorted, p);
    out.max = sorted.length === 0 ? 0 : sorted[sorted.length - 1];
  }
  return out;
}
