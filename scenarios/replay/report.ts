/**
 * The printed report: the writer's figures, a latency table per reader group and the pool (and
 * per reader where it matters), stalls, faults, the checks and the verdict. For a sweep, one
 * summary table with a row per run after the runs.
 */
import { percentileKey } from '../../lib/percentiles.js';
import { LEGEND, coresNote } from './legend.js';
import type { ReplayReport, RunReport } from './types.js';

const n = (x: number | null | undefined): string => (x === null || x === undefined ? '-' : Math.round(x).toLocaleString('en-US'));

/** A plain text table: first column left-aligned, the others right-aligned. */
export function table(head: string[], rows: string[][]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]): string => r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ');
  return [line(head), ...rows.map(line)].join('\n');
}

const pctLabel = (p: number): string => `p${p}`;

function latencyTable(r: RunReport, percentiles: number[], perReader: boolean): string {
  const head = ['', 'count', 'updates', 'seen %', 'retries', ...percentiles.map((p) => `${pctLabel(p)} ns`), 'max ns'];
  const lat = (l: Record<string, number>): string[] => [...percentiles.map((p) => n(l[percentileKey(p)])), n(l.max)];
  const rows: string[][] = r.groups.map((g) => [`${g.group} (${g.wait})`, String(g.count), n(g.updates), g.observed_pct.toFixed(2), n(g.retries), ...lat(g.latency_ns)]);
  if (r.pool) {
    const p = r.pool;
    const seen = r.writer.publishes ? ((100 * p.updates) / p.workers / r.writer.publishes).toFixed(2) : '-';
    rows.push([`pool ${p.strategy.split('/').pop()} (${p.wait})`, String(p.workers), n(p.updates), seen, n(p.retries), ...lat(p.latency_ns)]);
  }
  if (perReader)
    for (const x of r.readers)
      rows.push([`  reader ${x.index} pid ${x.pid}${x.stalled ? ' STALLED' : ''}`, '1', n(x.updates), r.writer.publishes ? ((100 * x.updates) / r.writer.publishes).toFixed(2) : '-', n(x.retries), ...lat(x.latency_ns)]);
  return table(head, rows);
}

/** `legend`: the columns explained under the table (a sweep's runs share one: printed with the first). */
export function formatRun(r: RunReport, percentiles: number[], perReader: boolean, legend = true): string {
  const out: string[] = [];
  const w = r.writer;
  const speed = r.feed.speed === 'max' ? 'max speed' : `${r.feed.speed}x`;
  out.push(`feed     ${r.feed.source} at ${speed}${r.feed.max_gap_s !== null ? ` (idle gaps cut to ${r.feed.max_gap_s} s)` : ''}${r.sweep_readers !== undefined ? ` — sweep: ${r.sweep_readers} readers` : ''}`);
  out.push(
    `writer   ${n(w.messages)} messages, ${n(w.publishes)} publishes, ${n(w.instruments)} instrument(s); ` +
      `${w.replay_s !== null ? `replay ${w.replay_s.toFixed(2)} s, ${n(w.msgs_per_s)} msg/s` : 'no throughput line (killed)'}; generation ${w.generation ?? '-'}${w.writers_started > 1 ? ` (${w.writers_started} writers started)` : ''}; wall ${(r.wall_ms / 1000).toFixed(1)} s`,
  );
  if (r.groups.length > 0 || r.pool) {
    out.push('', latencyTable(r, percentiles, perReader));
    if (legend) out.push('', ...LEGEND);
    const note = coresNote(r);
    if (note) out.push('', ...note);
  }
  if (r.pool?.per_worker.some((x) => x.status !== 'ok' || x.writer_deaths > 0))
    out.push(...r.pool.per_worker.map((x) => `  pool worker ${x.worker}: ${x.status}, ${n(x.updates)} updates${x.writer_deaths ? `, ${x.writer_deaths} writer death(s) seen` : ''}${x.error ? `: ${x.error}` : ''}`));
  if (r.stalls.length > 0) {
    out.push('', 'stalls');
    for (const s of r.stalls) {
      const books = Object.entries(s.last_msg_index).map(([sym, v]) => `${sym} ${v.reader ?? '-'}${v.reader === v.writer ? ' =' : ' !='} writer ${v.writer ?? '-'}`);
      out.push(
        `  ${s.ok ? 'ok  ' : 'FAIL'} reader ${s.reader} (pid ${s.pid}) stopped at ${s.at_s} s for ${(s.stopped_ms / 1000).toFixed(2)} s: the writer published ${n(s.writer_publishes_while_stopped)} books meanwhile; ` +
          `${s.others_updates_while_stopped.length ? `the other readers read ${s.others_updates_while_stopped.map((o) => `${n(o.updates)} (reader ${o.reader})`).join(', ')}; ` : ''}` +
          `resumed, it read ${n(s.updates_after_resume)} updates; last msgIndex ${books.join(', ') || '-'}${s.reason ? ` — ${s.reason}` : ''}`,
      );
    }
  }
  if (r.faults.length > 0) {
    out.push('', 'faults');
    for (const f of r.faults) {
      out.push(`  ${f.ok ? 'ok  ' : 'FAIL'} ${f.kind} at ${f.at_s} s: ${f.summary}`);
      for (const d of f.detections) out.push(`         ${d.by}: ${d.code ?? 'nothing detected'}${d.ms !== null ? ` after ${d.ms < 10 ? d.ms.toFixed(3) : Math.round(d.ms)} ms` : ''}`);
      if (f.reason) out.push(`         why it failed: ${f.reason}`);
    }
  }
  out.push('', 'checks');
  for (const c of r.checks) out.push(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.what}`);
  return out.join('\n');
}

export function formatSweep(rep: ReplayReport): string {
  const head = ['readers', 'writer msg/s', 'replay s', 'wall s', 'seen %', 'p50 ns', 'p99 ns', 'p99.9 ns', 'max ns', 'ok'];
  const rows = rep.runs.map((r) => {
    const g = r.groups[0];
    return [String(r.sweep_readers ?? '-'), n(r.writer.msgs_per_s), r.writer.replay_s?.toFixed(2) ?? '-', (r.wall_ms / 1000).toFixed(1), g ? g.observed_pct.toFixed(2) : '-', n(g?.latency_ns.p50), n(g?.latency_ns.p99), n(g?.latency_ns.p999), n(g?.latency_ns.max), r.ok ? 'ok' : 'FAIL'];
  });
  return table(head, rows);
}

export function formatVerdict(rep: ReplayReport): string {
  if (rep.ok) return `mdfan replay: ${rep.scenario}: PASS (${rep.runs.length} run${rep.runs.length > 1 ? 's' : ''}, every check met)`;
  return `mdfan replay: ${rep.scenario}: FAIL\n${rep.failures.map((f) => `  - ${f}`).join('\n')}`;
}
