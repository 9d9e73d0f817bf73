/**
 * After a run: each reader's summary and histogram, merged per group; the pool's report; the
 * checks every scenario must pass (the writer finished, every reader observed books, the pool's
 * workers are ok, the expected message count).
 */
import { existsSync, readFileSync } from 'node:fs';
import * as hdr from 'hdr-histogram-js';
import { newLatencyHistogram } from '../../workers/index.js';
import type { PoolReport } from '../../workers/index.js';
import { LogEvent } from '../../lib/log.js';
import { percentilesOf } from '../../lib/percentiles.js';
import type { ReaderProc } from './context.js';
import { lastJson, type Child } from './procs.js';
import type { Scenario } from './schema.js';
import type { Check, GroupOutcome, Latency, PoolOutcome, ReaderOutcome } from './types.js';

interface ReadSummary {
  updates: number;
  reads: number;
  retries: number;
  cpu_ms: number;
  hist?: string;
}

export const newHist = newLatencyHistogram;

/** The configured percentiles (keyed by percentileKey), max and count; zeros without a histogram. */
export const latency = (h: hdr.Histogram | null, percentiles: number[]): Latency => ({ ...percentilesOf(h ?? [], percentiles), count: h ? h.totalCount : 0 });

export function collectReaders(readers: ReaderProc[], percentiles: number[]): { outcomes: ReaderOutcome[]; hists: Array<hdr.Histogram | null> } {
  const hists: Array<hdr.Histogram | null> = [];
  const outcomes = readers.map((r) => {
    const s = lastJson<ReadSummary>(r.child);
    const h = s?.hist ? hdr.decodeFromCompressedBase64(s.hist) : null;
    hists.push(h);
    const err = r.child.errText.split('\n').find((l) => l.includes('MDFAN_ERR_') || l.includes('Error'));
    return {
      index: r.index,
      group: r.group,
      wait: r.wait,
      pid: r.child.pid,
      exit_code: r.child.exit?.code ?? null,
      signal: r.child.exit?.signal ?? null,
      updates: s?.updates ?? 0,
      reads: s?.reads ?? 0,
      retries: s?.retries ?? 0,
      cpu_ms: s?.cpu_ms ?? 0,
      latency_ns: latency(h, percentiles),
      stalled: r.stalled,
      writer_deaths: r.child.logs.filter((l) => l.event === LogEvent.WRITER_DEAD).length,
      ...(s ? {} : { error: err?.trim() ?? 'no summary line' }),
    };
  });
  return { outcomes, hists };
}

export function mergeGroups(
  readers: ReaderOutcome[],
  hists: Array<hdr.Histogram | null>,
  percentiles: number[],
  publishes: number | null,
  withHist: boolean,
): { groups: GroupOutcome[]; curves: Array<{ label: string; hist: hdr.Histogram }> } {
  const names = [...new Set(readers.map((r) => r.group))];
  const curves: Array<{ label: string; hist: hdr.Histogram }> = [];
  const groups = names.map((g) => {
    const rs = readers.filter((r) => r.group === g);
    const merged = newHist();
    rs.forEach((r) => {
      const h = hists[readers.indexOf(r)];
      if (h) merged.add(h);
    });
    curves.push({ label: g, hist: merged });
    const updates = rs.reduce((a, r) => a + r.updates, 0);
    return {
      group: g,
      wait: rs[0].wait,
      count: rs.length,
      updates,
      reads: rs.reduce((a, r) => a + r.reads, 0),
      retries: rs.reduce((a, r) => a + r.retries, 0),
      latency_ns: latency(merged, percentiles),
      observed_pct: publishes ? Math.round((10000 * updates) / rs.length / publishes) / 100 : 0,
      ...(withHist ? { hist: hdr.encodeIntoCompressedBase64(merged) } : {}),
    };
  });
  return { groups, curves };
}

export function collectPool(pool: Child | null, jsonFile: string, spec: Scenario['pool'], strategy: string | null, percentiles: number[], withHist: boolean): { outcome: PoolOutcome | null; hist: hdr.Histogram | null } {
  if (!pool || !spec) return { outcome: null, hist: null };
  const rep = existsSync(jsonFile) ? (JSON.parse(readFileSync(jsonFile, 'utf8')) as PoolReport) : null;
  const h = rep ? hdr.decodeFromCompressedBase64(rep.merged.hist) : null;
  const outcome: PoolOutcome = {
    workers: spec.workers,
    strategy: strategy ?? spec.strategy,
    wait: spec.wait ?? 'yield',
    pid: pool.pid,
    exit_code: pool.exit?.code ?? null,
    updates: rep?.merged.updates ?? 0,
    reads: rep?.merged.reads ?? 0,
    retries: rep?.merged.retries ?? 0,
    latency_ns: latency(h, percentiles),
    writer_deaths: rep ? rep.workers.reduce((a, w) => a + w.writer_deaths, 0) : 0,
    per_worker: (rep?.workers ?? []).map((w) => ({ worker: w.worker, status: w.status, updates: w.updates, retries: w.retries, p50_ns: w.latency_ns.p50, p99_ns: w.latency_ns.p99, writer_deaths: w.writer_deaths, ...(w.error ? { error: w.error } : {}) })),
    ...(withHist && rep ? { hist: rep.merged.hist } : {}),
    ...(rep ? {} : { error: pool.errText.split('\n').find((l) => l.includes('MDFAN_ERR_'))?.trim() ?? 'the pool wrote no report' }),
  };
  return { outcome, hist: h };
}

/** The checks every run must pass, beside its stalls' and faults' own. */
export function baseChecks(s: Scenario, o: { readers: ReaderOutcome[]; pool: PoolOutcome | null; lastFeed: Child; feedKilledForGood: boolean; messages: number | null }): Check[] {
  const checks: Check[] = [];
  const observe = s.expect?.readersObserve ?? true;
  if (!o.feedKilledForGood) {
    const e = o.lastFeed.exit;
    const why = o.lastFeed.errText.split('\n').find((l) => l.includes('MDFAN_ERR_'))?.trim();
    checks.push({ ok: e?.code === 0, what: `the feed handler (pid ${o.lastFeed.pid}) exited ${e?.code ?? e?.signal ?? 'never'}${why ? `: ${why}` : ''}` });
  }
  if (s.expect?.messages !== undefined) {
    const got = o.messages;
    checks.push({ ok: got === s.expect.messages, what: `the writer published ${got} input messages (expected ${s.expect.messages})` });
  }
  for (const r of o.readers) {
    const fine = r.exit_code === 0 && !r.error;
    if (!fine) checks.push({ ok: false, what: `reader ${r.index} (pid ${r.pid}) exited ${r.exit_code ?? r.signal}${r.error ? `: ${r.error}` : ''}` });
    if (observe && r.updates === 0) checks.push({ ok: false, what: `reader ${r.index} (pid ${r.pid}) observed no update` });
  }
  if (o.readers.length > 0) checks.push({ ok: o.readers.every((r) => r.exit_code === 0 && !r.error && (!observe || r.updates > 0)), what: `${o.readers.length} reader process(es) finished with their summaries${observe ? ', each having observed updates' : ''}` });
  if (o.pool) {
    const bad = o.pool.per_worker.filter((w) => w.status !== 'ok' || (observe && w.updates === 0));
    const ok = o.pool.exit_code === 0 && !o.pool.error && bad.length === 0 && o.pool.per_worker.length === o.pool.workers;
    checks.push({ ok, what: `the pool (pid ${o.pool.pid}, ${o.pool.workers} workers) exited ${o.pool.exit_code}${o.pool.error ? `: ${o.pool.error}` : ''}${bad.length ? `; workers not ok or idle: ${bad.map((w) => `${w.worker} ${w.status}${w.error ? ` (${w.error})` : ''}`).join(', ')}` : ', every worker ok'}` });
  }
  return checks;
}
