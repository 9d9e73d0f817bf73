/**
 * The one latency histogram every reader, pool, benchmark and replay records into, so that any
 * of them can be merged with any other (HDR histograms merge only with compatible ranges):
 * 1 ns to 100 s, 3 significant digits.
 */
import * as hdr from 'hdr-histogram-js';
import { READER_DEFAULTS } from './defaults.js';

export const newLatencyHistogram = (): hdr.Histogram =>
  hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 1e11, numberOfSignificantValueDigits: 3 });

/** Each histogram's correction budget left and the latencies recorded without correction. */
const correction = new WeakMap<hdr.Histogram, { budget: number; uncorrected: number }>();

/**
 * Records `ns` with coordinated-omission correction for a writer publishing every `intervalNs`
 * (hdr's recordValueWithExpectedInterval: one more value per interval the latency spans), as long
 * as the histogram's budget of added values lasts; past it, `ns` alone, counted
 * (uncorrectedCount). The correction's work is what a reader far behind cannot afford.
 */
export function recordCorrected(h: hdr.Histogram, ns: number, intervalNs: number, budget: number = READER_DEFAULTS.correctionBudget): void {
  let c = correction.get(h);
  if (c === undefined) {
    c = { budget, uncorrected: 0 };
    correction.set(h, c);
  }
  const added = ns > intervalNs ? Math.floor(ns / intervalNs) - 1 : 0;
  if (added <= c.budget) {
    c.budget -= added;
    h.recordValueWithExpectedInterval(ns, intervalNs);
  } else {
    h.recordValue(ns);
    c.uncorrected++;
  }
}

/** Latencies recordCorrected recorded without their correction (its budget spent). */
export const uncorrectedCount = (h: hdr.Histogram): number => correction.get(h)?.uncorrected ?? 0;
