/**
 * Writes a run's outputs: `--json` ({ machine, baseline, results }; for several benchmarks the
 * results are the sections, each { benchmark, title, baseline, results }), `--hgrm DIR` (one
 * .hgrm per histogram) and `--html FILE` (the self-contained report).
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { FullReport } from './types.js';
import { renderHtml } from './html.js';
import { writeHgrm } from './hgrm.js';
import { writeOutputFile } from '../../lib/out-file.js';

export interface OutputFiles {
  json?: string;
  hgrm?: string;
  html?: string;
}

/** The JSON document for a report: one section flat, several nested. */
export function reportJson(r: FullReport): Record<string, unknown> {
  if (r.sections.length === 1) {
    const s = r.sections[0];
    return { machine: r.machine, started: r.started, runs: r.runs, benchmark: s.benchmark, baseline: s.baseline, results: s.results };
  }
  const c2c = r.sections.find((s) => s.benchmark === 'c2c');
  return {
    machine: r.machine,
    started: r.started,
    runs: r.runs,
    baseline: c2c ? c2c.baseline : {},
    results: r.sections.map((s) => ({ benchmark: s.benchmark, title: s.title, baseline: s.baseline, results: s.results })),
  };
}

export function writeOutputs(r: FullReport, files: OutputFiles): string[] {
  const written: string[] = [];
  const put = (file: string, text: string): void => {
    mkdirSync(dirname(file), { recursive: true });
    writeOutputFile(file, text);
    written.push(file);
  };
  if (files.json) put(files.json, JSON.stringify(reportJson(r), null, 2) + '\n');
  if (files.html) put(files.html, renderHtml(r));
  if (files.hgrm) written.push(...writeHgrm(files.hgrm, r));
  return written;
}
