/**
 * `--hgrm DIR`: each curve's percentile distribution in HdrHistogram's `.hgrm` text format, the
 * one HdrHistogram's plotter (and most tools around it) reads, one file per histogram.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FullReport } from './types.js';
import { writeOutputFile } from '../../lib/out-file.js';

/** Reporting points per halving of the distance to 100%: HdrHistogram's own default. */
const TICKS_PER_HALF = 5;
/** Values are written in nanoseconds, as recorded: a scaling ratio of 1 (no unit conversion). */
const NS_SCALING_RATIO = 1;

/** `<benchmark>-<label>.hgrm`, every character outside [A-Za-z0-9._-] replaced by "_". */
export function hgrmName(benchmark: string, label: string): string {
  return `${benchmark}-${label}`.replace(/[^A-Za-z0-9._-]/g, '_') + '.hgrm';
}

/** Writes one .hgrm per curve of every section into `dir` (created if missing); returns the paths. */
export function writeHgrm(dir: string, report: FullReport): string[] {
  mkdirSync(dir, { recursive: true });
  const used = new Set<string>();
  const paths: string[] = [];
  for (const section of report.sections) {
    for (const curve of section.curves) {
      const name = unique(hgrmName(section.benchmark, curve.label), used);
      const path = join(dir, name);
      writeOutputFile(path, curve.histogram.outputPercentileDistribution(TICKS_PER_HALF, NS_SCALING_RATIO));
      paths.push(path);
    }
  }
  return paths;
}

/** Two labels can sanitise to the same name ("a b", "a_b"): number the later ones, never overwrite. */
function unique(name: string, used: Set<string>): string {
  const stem = name.slice(0, -'.hgrm'.length);
  let candidate = name;
  for (let n = 2; used.has(candidate); n++) candidate = `${stem}-${n}.hgrm`;
  used.add(candidate);
  return candidate;
}
