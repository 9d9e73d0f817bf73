/**
 * `--html FILE`: the replay as the bench's FullReport (bench/report/types.ts), rendered by
 * bench/report/html.ts: per run, one latency section with a curve per reader group and the pool,
 * and one section of stalls, faults and checks; a sweep adds a section with a curve per run.
 */
import { machineInfo } from '../../bench/machine.js';
import { renderHtml } from '../../bench/report/html.js';
import type { Column, Curve, FullReport, Section } from '../../bench/report/types.js';
import { percentileKey } from '../../lib/percentiles.js';
import type { ReplayReport, RunHistograms } from './types.js';
import { writeOutputFile } from '../../lib/out-file.js';

export function buildFullReport(rep: ReplayReport, hists: RunHistograms[]): FullReport {
  const pctCols: Column[] = [...rep.percentiles.map((p) => ({ key: `latency_ns.${percentileKey(p)}`, label: `p${p} ns` })), { key: 'latency_ns.max', label: 'max ns' }];
  const sections: Section[] = [];
  rep.runs.forEach((r, i) => {
    const tag = r.sweep_readers !== undefined ? ` (${r.sweep_readers} readers)` : '';
    const results: Array<Record<string, unknown>> = r.groups.map((g) => ({ who: `${g.group} (${g.wait})`, count: g.count, updates: g.updates, observed_pct: g.observed_pct, retries: g.retries, latency_ns: g.latency_ns }));
    if (r.pool) results.push({ who: `pool ${r.pool.strategy.split('/').pop()} (${r.pool.wait})`, count: r.pool.workers, updates: r.pool.updates, observed_pct: r.writer.publishes ? (100 * r.pool.updates) / r.pool.workers / r.writer.publishes : 0, retries: r.pool.retries, latency_ns: r.pool.latency_ns });
    const curves: Curve[] = hists[i].groups.map((g) => ({ label: g.label, histogram: g.hist }));
    if (hists[i].pool) curves.push({ label: 'pool', histogram: hists[i].pool! });
    sections.push({
      benchmark: 'replay',
      title: `${rep.scenario}${tag}: publish→observe latency`,
      baseline: { messages: r.writer.messages, publishes: r.writer.publishes, writer_msgs_per_s: r.writer.msgs_per_s, replay_s: r.writer.replay_s, wall_s: r.wall_ms / 1000, feed: `${r.feed.source} @ ${r.feed.speed}` },
      results,
      columns: [{ key: 'who', label: 'readers' }, { key: 'count', label: 'count' }, { key: 'updates', label: 'updates' }, { key: 'observed_pct', label: 'seen %', digits: 2 }, { key: 'retries', label: 'retries' }, ...pctCols],
      note: `${rep.description} Latency is publish (writer's commit) to observe (reader's read), CLOCK_MONOTONIC, from each reader's HDR histogram merged per group.`,
      curves,
    });
    const events: Array<Record<string, unknown>> = [
      ...r.stalls.map((s) => ({ what: `stall reader ${s.reader} ${s.for_s} s at ${s.at_s} s`, ok: s.ok ? 'ok' : 'FAIL', detail: `writer published ${s.writer_publishes_while_stopped} books meanwhile; ${s.updates_after_resume} updates after resuming; read latest: ${s.read_latest}`, detection_ms: null })),
      ...r.faults.map((f) => ({ what: `${f.kind} at ${f.at_s} s`, ok: f.ok ? 'ok' : 'FAIL', detail: f.reason ?? f.summary, detection_ms: f.detection_ms })),
      ...r.checks.map((c) => ({ what: 'check', ok: c.ok ? 'ok' : 'FAIL', detail: c.what, detection_ms: null })),
    ];
    sections.push({
      benchmark: 'replay-checks',
      title: `${rep.scenario}${tag}: stalls, faults and checks`,
      baseline: {},
      results: events,
      columns: [{ key: 'what', label: 'what' }, { key: 'ok', label: 'result' }, { key: 'detection_ms', label: 'detection ms', digits: 1 }, { key: 'detail', label: 'detail' }],
      curves: [],
    });
  });
  if (rep.runs.length > 1) {
    sections.push({
      benchmark: 'replay-sweep',
      title: `${rep.scenario}: per run`,
      baseline: {},
      results: rep.runs.map((r) => ({ readers: r.sweep_readers ?? null, writer_msgs_per_s: r.writer.msgs_per_s, replay_s: r.writer.replay_s, observed_pct: r.groups[0]?.observed_pct ?? null, latency_ns: r.groups[0]?.latency_ns ?? {} })),
      columns: [{ key: 'readers', label: 'readers' }, { key: 'writer_msgs_per_s', label: 'writer msg/s' }, { key: 'replay_s', label: 'replay s', digits: 2 }, { key: 'observed_pct', label: 'seen %', digits: 2 }, ...pctCols],
      note: 'The first reader group of each run; the writer figure is the feed handler’s own (messages over its replay time).',
      curves: rep.runs.map((r, i) => ({ label: `${r.sweep_readers ?? i} readers`, histogram: hists[i].groups[0]?.hist })).filter((c) => c.histogram !== undefined) as Curve[],
    });
  }
  return { machine: machineInfo(), started: rep.runs[0]?.started ?? new Date().toISOString(), runs: rep.runs.length, sections };
}

export function writeHtml(file: string, rep: ReplayReport, hists: RunHistograms[]): void {
  writeOutputFile(file, renderHtml(buildFullReport(rep, hists)));
}
