/**
 * The one latency histogram every reader, pool, benchmark and replay records into, so that any
 * of them can be merged with any other (HDR histograms merge only with compatible ranges):
 * 1 ns to 100 s, 3 significant digits.
 */
import * as hdr from 'hdr-histogram-js';

export const newLatencyHistogram = (): hdr.Histogram =>
  hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 1e11, numberOfSignificantValueDigits: 3 });
