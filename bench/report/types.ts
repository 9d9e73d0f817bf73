/**
 * What a benchmark run produces, for the console table, `--json`, `--hgrm` and `--html`.
 *
 * The JSON a benchmark writes is `{ machine, baseline, results }`. `mdfan bench all`
 * writes `{ machine, baseline: { c2c_one_way_ns }, results: [ { benchmark, title, baseline,
 * results }, ... ] }`: one entry per benchmark, same shape inside.
 *
 * Histograms are not in the JSON (they are in the .hgrm files and the HTML curves): each section
 * carries them beside its results, keyed by a label that names the result row they belong to.
 */
import type * as hdr from 'hdr-histogram-js';
import type { MachineInfo } from '../machine.js';

/** A column of a section's table: `key` is a dotted path into a result row ("latency_ns.p50"). */
export interface Column {
  key: string;
  label: string;
  /** Decimal places for numbers (default: integers as they are, others 2). */
  digits?: number;
}

export interface Curve {
  /** Unique within the section; also the .hgrm file name stem (sanitised). */
  label: string;
  /** Values in nanoseconds. */
  histogram: hdr.Histogram;
  /** false: written to .hgrm but left off the plot (too many curves to read). Default true. */
  plot?: boolean;
}

export interface Section {
  benchmark: string;
  title: string;
  baseline: Record<string, unknown>;
  results: Array<Record<string, unknown>>;
  columns: Column[];
  /** What bounds the figures: one short paragraph, plain text. */
  note?: string;
  curves: Curve[];
}

export interface FullReport {
  machine: MachineInfo;
  /** ISO time the run started. */
  started: string;
  runs: number;
  sections: Section[];
}
