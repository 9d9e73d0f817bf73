/**
 * One run of a scenario: readers and the pool first (they wait for the segment), then the feed
 * handler; stalls and faults at their times; wait for the feed to end (CLOSED: the readers and
 * the pool finish and print their summaries); collect; and always remove the segment and stop
 * every process this run started, whatever happened.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCode, MdfanError } from '../../native/segment/errors.js';
import { baseChecks, collectPool, collectReaders, mergeGroups } from './collect.js';
import { LogEvent } from '../../lib/log.js';
import { RunContext } from './context.js';
import { startFault } from './faults.js';
import type { LoadedScenario } from './load.js';
import { exitWithin, signal, spawnMdfan, stopChildren, waitLoaded, type Child } from './procs.js';
import { Progress } from './progress.js';
import { startStall } from './stalls.js';
import { removeSegment, segmentExists, tryStat } from './segment.js';
import type { RunHistograms, RunReport } from './types.js';

export interface RunOptions {
  loaded: LoadedScenario;
  segment: string;
  /** Reader count per group for this run (a sweep changes one). */
  counts: number[];
  sweepReaders?: number;
  percentiles: number[];
  label: string;
  totalMessages: number | null;
  quiet: boolean;
  /** Set by Ctrl-C: end the run early (the feed gets SIGTERM, the segment goes CLOSED). */
  stop: { requested: boolean; ctx: RunContext | null };
}

/** How long readers and the pool may take to finish after the feed is over. */
const DRAIN_MS = 20_000;

export async function runOnce(o: RunOptions): Promise<{ report: RunReport; hists: RunHistograms }> {
  const s = o.loaded.scenario;
  const seg = o.segment;
  if (segmentExists(seg)) {
    const st = tryStat(seg);
    if (st?.writer_alive) throw new MdfanError(ErrorCode.SCENARIO, `segment ${seg} has a live writer (pid ${st.writer_pid}): pick another --segment`, { segment: seg });
    removeSegment(seg); // a leftover of a crashed run
  }
  const tmp = mkdtempSync(join(tmpdir(), 'mdfan-replay-'));
  const f = s.feed;
  const feedArgs = ['feed', '--source', o.loaded.source, '--segment', seg, '--speed', String(f.speed), '--keep-segment'];
  if (f.maxGapS !== undefined) feedArgs.push('--max-gap', String(f.maxGapS));
  if (f.levels !== undefined) feedArgs.push('--levels', String(f.levels));
  if (f.symbols) feedArgs.push('--symbols', f.symbols.join(','));
  const ctx = new RunContext(seg, feedArgs, s.expect?.maxDetectionMs ?? 5000);
  o.stop.ctx = ctx;
  const kill = (s.faults ?? []).find((x) => x.kind === 'kill-writer');
  const stalled = new Set((s.stalls ?? []).map((x) => x.reader));
  const progress = new Progress(ctx, o.label, o.totalMessages, o.quiet);
  const startedIso = new Date().toISOString();
  const wall0 = performance.now();
  try {
    // Readers and the pool first: they wait for the segment to be READY.
    let index = 0;
    (s.readers ?? []).forEach((g, gi) => {
      const group = g.name ?? `readers-${gi}-${g.wait}`;
      for (let k = 0; k < o.counts[gi]; k++, index++) {
        const record = stalled.size > 0 || kill ? join(tmp, `reader-${index}.txt`) : null;
        const args = ['read', '--segment', seg, '--wait', g.wait, '--histogram', '--timeout', '60'];
        if (g.symbols) args.push('--symbols', g.symbols.join(','));
        if (g.top) args.push('--top');
        if (record) args.push('--record', record);
        ctx.readers.push({ index, group, wait: g.wait, child: spawnMdfan(`reader ${index}`, args), record, stalled: false });
      }
    });
    const poolJson = join(tmp, 'pool.json');
    if (s.pool) {
      const args = ['strategies', '--segment', seg, '--workers', String(s.pool.workers), '--strategy', o.loaded.strategy!, '--wait', s.pool.wait ?? 'yield', '--json', poolJson, '--timeout', '60'];
      if (s.pool.hangMs !== undefined) args.push('--hang-ms', String(s.pool.hangMs));
      ctx.pool = spawnMdfan('pool', args);
    }
    const waiting: Child[] = [...ctx.readers.map((r) => r.child), ...(ctx.pool ? [ctx.pool] : [])];
    const loaded = await Promise.all(waiting.map((c) => waitLoaded(c, 60_000)));
    const bad = waiting.filter((_, i) => !loaded[i]);
    if (bad.length > 0)
      throw new MdfanError(ErrorCode.SCENARIO, `${bad.map((c) => `${c.label} (pid ${c.pid})`).join(', ')} did not start: ${bad.map((c) => c.errText.trim().split('\n')[0] ?? '').join('; ')}`);
    await sleep(ctx.pool ? 500 : 100); // polling for the segment (the pool: its worker threads starting)
    if (o.stop.requested) throw new MdfanError(ErrorCode.SCENARIO, 'interrupted before the feed started');

    ctx.startFeed();
    progress.start();
    const stalls = (s.stalls ?? []).filter((st) => st.reader < ctx.readers.length).map((st) => startStall(ctx, st));
    const faults = (s.faults ?? []).map((x) => startFault(ctx, x));
    let durationTimer: NodeJS.Timeout | null = null;
    if (s.durationS !== undefined)
      durationTimer = setTimeout(() => {
        ctx.stopRequested = true;
        ctx.note(`duration ${s.durationS} s reached: stopping the feed`);
        signal(ctx.feed, 'SIGTERM');
      }, s.durationS * 1000);
    while (!ctx.feedOver) await sleep(50);
    if (durationTimer) clearTimeout(durationTimer);
    await Promise.all([...stalls.map((x) => x.done), ...faults.map((x) => x.done)]);
    // CLOSED: the readers and the pool finish by themselves.
    const rest: Child[] = [...ctx.readers.map((r) => r.child), ...(ctx.pool ? [ctx.pool] : [])];
    const finished = await Promise.all(rest.map((c) => exitWithin(c, DRAIN_MS)));
    const late = rest.filter((_, i) => !finished[i]);
    if (late.length > 0) {
      ctx.note(`${late.map((c) => c.label).join(', ')} still running ${DRAIN_MS / 1000} s after the feed ended: stopping them`);
      await stopChildren(late, 5000);
    }
    const finalStat = tryStat(seg);
    const wallMs = Math.round(performance.now() - wall0);
    progress.stop();

    const { outcomes: readers, hists } = collectReaders(ctx.readers, o.percentiles);
    const withHist = s.report?.histograms === true;
    const { groups, curves } = mergeGroups(readers, hists, o.percentiles, publishesForPct(finalStat, ctx), withHist);
    const { outcome: pool, hist: poolHist } = collectPool(ctx.pool, poolJson, s.pool, o.loaded.strategy, o.percentiles, withHist);
    const stallOutcomes = stalls.map((x) => x.finish(finalStat));
    const faultOutcomes = faults.map((x) => x.finish(finalStat));
    const last = ctx.feed;
    const feedKilledForGood = kill !== undefined && kill.restartAfterS === undefined && ctx.feeds.length === 1 && last.exit?.signal === 'SIGKILL';
    // The feed handler's own last line is the authority on what it replayed (the segment's
    // counters are flushed periodically); the counters serve when it was killed.
    const feedLine = last.stdout.find((l) => l.startsWith('mdfan feed:')) ?? '';
    const m = /: (\d+) messages in ([\d.]+) s \((\d+) msg\/s\), (\d+) publishes/.exec(feedLine);
    const messages = m ? Number(m[1]) : (finalStat?.messages ?? null);
    const publishes = m ? Number(m[4]) : (finalStat?.publishes ?? null);
    const checks = baseChecks(s, { readers, pool, lastFeed: last, feedKilledForGood, messages });
    for (const st of stallOutcomes) checks.push({ ok: st.ok, what: st.ok ? `stalled reader ${st.reader}: the others read on while it was stopped; resumed, it read the latest books (${st.updates_after_resume} updates after resuming)` : st.reason! });
    for (const x of faultOutcomes) checks.push({ ok: x.ok, what: x.ok ? `${x.kind}: ${x.summary}` : `${x.kind}: ${x.reason}` });
    const gen = (last.logs.find((l) => l.event === LogEvent.WRITER_READY)?.generation as number | undefined) ?? finalStat?.generation ?? null;
    const report: RunReport = {
      scenario: s.name,
      segment: seg,
      ...(o.sweepReaders !== undefined ? { sweep_readers: o.sweepReaders } : {}),
      started: startedIso,
      wall_ms: wallMs,
      cores: availableParallelism(),
      feed: { source: s.feed.source, speed: s.feed.speed, max_gap_s: s.feed.maxGapS ?? null },
      writer: {
        pid: last.pid,
        exit_code: last.exit?.code ?? null,
        generation: gen,
        messages,
        publishes,
        instruments: finalStat?.instrument_count ?? null,
        msgs_per_s: m ? Number(m[3]) : null,
        replay_s: m ? Number(m[2]) : null,
        writers_started: ctx.feeds.length,
      },
      groups,
      readers,
      pool,
      stalls: stallOutcomes,
      faults: faultOutcomes,
      checks,
      ok: checks.every((c) => c.ok),
    };
    return { report, hists: { groups: curves, pool: poolHist } };
  } finally {
    progress.stop();
    o.stop.ctx = null;
    await stopChildren([...ctx.feeds, ...ctx.extra, ...ctx.readers.map((r) => r.child), ...(ctx.pool ? [ctx.pool] : [])], 2000);
    removeSegment(seg);
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** The publishes the readers could have seen: the last writer's (its line, else the counters). */
function publishesForPct(st: { publishes: number } | null, ctx: RunContext): number | null {
  const m = / (\d+) publishes/.exec(ctx.feed.stdout.find((l) => l.startsWith('mdfan feed:')) ?? '');
  return m ? Number(m[1]) : (st?.publishes ?? null);
}
