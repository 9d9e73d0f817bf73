/**
 * Failure injection, each reporting what was detected, by whom, with which code and how fast:
 * - kill-writer: SIGKILL the feed handler; every reader must log MDFAN_ERR_WRITER_DEAD (the
 *   writer lock is free). Optionally a new feed handler takes the segment over (generation + 1)
 *   and the readers go on reading its books.
 * - second-writer: another `mdfan feed` on the live segment must exit 1, its writer_refused event
 *   giving MDFAN_ERR_WRITER_ALIVE and the live writer's pid; the first writer goes on unaffected.
 * - version-mismatch: the live segment's header claims another ABI major for a moment; a reader
 *   attaching then must be refused with MDFAN_ERR_ABI_VERSION naming both versions.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import * as abi from '../../native/segment/abi.js';
import { SegmentReader } from '../../native/segment/reader.js';
import type { StatReport } from '../../native/segment/stat.js';
import { LogEvent } from '../../lib/log.js';
import { ErrorCode } from '../../native/segment/errors.js';
import { RunContext } from './context.js';
import type { LogLine } from './procs.js';
import { exitWithin, signal, spawnMdfan, stopChildren, type Child } from './procs.js';
import { scanRecord } from './record.js';
import type { FaultSpec } from './schema.js';
import { patchAbiMajor, tryStat } from './segment.js';
import type { Detection, FaultOutcome } from './types.js';

export interface FaultRun {
  spec: FaultSpec;
  done: Promise<void>;
  /** After the run (every process ended, the final stat taken): the outcome. */
  finish(finalStat: StatReport | null): FaultOutcome;
}

const DEAD = ErrorCode.WRITER_DEAD;
/** A reader's log line saying the writer died. */
const isDeath = (l: LogLine): boolean => l.event === LogEvent.WRITER_DEAD;
const worst = (ds: Detection[]): number | null => (ds.some((d) => d.ms === null) || ds.length === 0 ? null : Math.max(...ds.map((d) => d.ms!)));
const readyLog = (c: Child) => c.logs.find((l) => l.event === LogEvent.WRITER_READY) ?? null;

/** A command's error as the command table prints it, `mdfan CMD: CODE: message`, for the report (codes come from log events). */
function commandError(c: Child): { message: string | undefined } {
  return { message: c.errText.split('\n').find((l) => /^mdfan [a-z-]+: MDFAN_ERR_/.test(l))?.trim() };
}

function notInjected(spec: FaultSpec, atS: number, why: string): FaultOutcome {
  return { kind: spec.kind, at_s: atS, injected: false, summary: `not injected: ${why}`, detections: [], detection_ms: null, details: {}, ok: false, reason: `${spec.kind} at ${atS} s was not injected: ${why}` };
}

export function startFault(ctx: RunContext, spec: FaultSpec): FaultRun {
  if (spec.kind === 'kill-writer') return killWriter(ctx, spec);
  if (spec.kind === 'second-writer') return secondWriter(ctx, spec);
  return versionMismatch(ctx, spec);
}

function killWriter(ctx: RunContext, spec: Extract<FaultSpec, { kind: 'kill-writer' }>): FaultRun {
  let why: string | null = null;
  let killEpoch = 0;
  let victim: Child | null = null;
  let genBefore: number | null = null;
  let restarted: Child | null = null;
  const restart = spec.restartAfterS !== undefined;
  if (restart) ctx.restartPending = true;
  const done = (async () => {
    try {
      if (!(await ctx.at(spec.atS))) {
        why = ctx.stopRequested ? 'the run was stopped first' : `the feed had already ended (${ctx.elapsedS().toFixed(1)} s)`;
        return;
      }
      victim = ctx.feed;
      genBefore = (readyLog(victim)?.generation as number | undefined) ?? tryStat(ctx.segment)?.generation ?? null;
      killEpoch = Date.now();
      signal(victim, 'SIGKILL');
      ctx.note(`writer pid ${victim.pid} killed (SIGKILL)`);
      await victim.exited;
      // Every live reader must see it; wait for their log lines (bounded).
      const watchers = ctx.readers.filter((r) => !r.child.exit && !r.stalled);
      await Promise.all(watchers.map((r) => RunContext.logMatch(r.child, (l) => isDeath(l) && l.time >= killEpoch - 1, ctx.maxDetectionMs + 2000)));
      if (restart) {
        const wait = killEpoch + spec.restartAfterS! * 1000 - Date.now();
        if (wait > 0) await sleep(wait);
        if (ctx.stopRequested) return;
        restarted = ctx.startFeed();
        ctx.note(`new writer started (pid ${restarted.pid})`);
        await RunContext.logMatch(restarted, (l) => l.event === LogEvent.WRITER_READY, 30_000);
      } else {
        // No writer will come: end the readers and the pool (they print their summaries).
        await stopChildren([...ctx.readers.map((r) => r.child), ...(ctx.pool ? [ctx.pool] : [])], 5000);
      }
    } finally {
      ctx.restartPending = false;
    }
  })();

  return {
    spec,
    done,
    finish() {
      if (!victim) return notInjected(spec, spec.atS, why ?? 'unknown');
      const v: Child = victim;
      const detections: Detection[] = ctx.readers.map((r) => {
        const l = r.child.logs.find((x) => isDeath(x) && x.time >= killEpoch - 1);
        return { by: `reader ${r.index} (pid ${r.child.pid})`, code: l ? DEAD : null, ms: l ? Math.max(0, l.time - killEpoch) : null, ...(l ? { message: l.msg } : {}) };
      });
      const problems: string[] = [];
      const missed = detections.filter((d) => d.code === null && !ctx.readers.find((r) => d.by.startsWith(`reader ${r.index} `))?.stalled);
      if (missed.length > 0) problems.push(`${missed.map((d) => d.by).join(', ')} logged no ${DEAD}`);
      const slow = detections.filter((d) => d.ms !== null && d.ms > ctx.maxDetectionMs);
      if (slow.length > 0) problems.push(`detection slower than ${ctx.maxDetectionMs} ms: ${slow.map((d) => `${d.by} ${d.ms} ms`).join(', ')}`);
      const details: Record<string, unknown> = { killed_pid: v.pid, generation_before: genBefore };
      let summary = `writer pid ${v.pid} SIGKILLed at ${((killEpoch - ctx.t0Epoch) / 1000).toFixed(2)} s; ${detections.filter((d) => d.code).length}/${detections.length} readers logged ${DEAD}`;
      if (restart) {
        const rs: Child | null = restarted;
        const ready = rs ? readyLog(rs) : null;
        const genAfter = (ready?.generation as number | undefined) ?? null;
        details.restarted_pid = rs?.pid ?? null;
        details.restart_outcome = ready?.outcome ?? null;
        details.generation_after = genAfter;
        details.restart_exit_code = rs?.exit?.code ?? null;
        const readyEpoch = ready?.time ?? null;
        const after = ctx.readers.map((r) => {
          const nw = r.child.logs.find((l) => l.event === LogEvent.NEW_WRITER && l.time >= killEpoch);
          const scan = scanRecord(r.record);
          return { reader: r.index, new_writer_seen_ms: nw && readyEpoch !== null ? Math.max(0, nw.time - readyEpoch) : null, updates_after_restart: scan.afterRestart };
        });
        details.readers_after_restart = after;
        if (!rs || !ready) problems.push('the restarted writer never became ready');
        else if (genBefore === null || genAfter !== genBefore + 1) problems.push(`generation went ${genBefore} -> ${genAfter}, expected + 1`);
        if (rs && rs.exit?.code !== 0) problems.push(`the restarted writer exited ${rs.exit?.code ?? rs.exit?.signal}`);
        const stuck = after.filter((a) => a.updates_after_restart === 0);
        if (stuck.length > 0) problems.push(`reader(s) ${stuck.map((a) => a.reader).join(', ')} read nothing from the restarted writer`);
        summary += `; restarted as pid ${rs?.pid} (${ready?.outcome ?? '?'}, generation ${genBefore} -> ${genAfter}); readers then read ${after.map((a) => a.updates_after_restart).join('/')} books of the new writer`;
      }
      const ms = worst(detections);
      if (ms !== null) summary += `; detection ${ms} ms at worst`;
      return { kind: spec.kind, at_s: spec.atS, injected: true, summary, detections, detection_ms: ms, details, ok: problems.length === 0, ...(problems.length ? { reason: problems.join('; ') } : {}) };
    },
  };
}

function secondWriter(ctx: RunContext, spec: Extract<FaultSpec, { kind: 'second-writer' }>): FaultRun {
  let why: string | null = null;
  let first: Child | null = null;
  let second: Child | null = null;
  let before: StatReport | null = null;
  const done = (async () => {
    if (!(await ctx.at(spec.atS))) {
      why = ctx.stopRequested ? 'the run was stopped first' : `the feed had already ended (${ctx.elapsedS().toFixed(1)} s)`;
      return;
    }
    first = ctx.feed;
    before = tryStat(ctx.segment);
    second = spawnMdfan('second writer', ctx.feedArgs);
    ctx.extra.push(second);
    ctx.note(`second writer started (pid ${second.pid})`);
    if (!(await exitWithin(second, 30_000))) {
      // It was not refused: it must not stay around.
      signal(second, 'SIGKILL');
      await second.exited;
    }
  })();
  return {
    spec,
    done,
    finish(finalStat) {
      if (!first || !second) return notInjected(spec, spec.atS, why ?? 'unknown');
      const f: Child = first;
      const s: Child = second;
      const refused = s.logs.find((l) => l.event === LogEvent.WRITER_REFUSED);
      const code = refused?.code ?? null;
      const namesPid = refused?.pid === f.pid;
      const ms = s.exit ? s.exit.atEpochMs - s.startedEpochMs : null;
      const detections: Detection[] = [{ by: `second writer (pid ${s.pid})`, code, ms, message: commandError(s).message }];
      const problems: string[] = [];
      if (s.exit?.code !== 1) problems.push(`the second writer exited ${s.exit?.code ?? s.exit?.signal}, expected 1`);
      if (code !== 'MDFAN_ERR_WRITER_ALIVE') problems.push(`the second writer reported ${code ?? 'no code'}, expected MDFAN_ERR_WRITER_ALIVE`);
      if (!namesPid) problems.push(`its refusal does not name the live writer's pid ${f.pid}`);
      const deaths = ctx.readers.filter((r) => r.child.logs.some(isDeath));
      if (deaths.length > 0) problems.push(`reader(s) ${deaths.map((r) => r.index).join(', ')} saw the writer die`);
      if (f.exit?.code !== 0) problems.push(`the first writer exited ${f.exit?.code ?? f.exit?.signal}`);
      const b = before as StatReport | null;
      if (finalStat && b && (finalStat.generation !== b.generation || finalStat.writer_pid !== f.pid)) problems.push(`the segment changed hands: generation ${b.generation} -> ${finalStat.generation}, writer pid ${finalStat.writer_pid}`);
      const details = { first_pid: f.pid, second_pid: s.pid, second_exit_code: s.exit?.code ?? null, names_live_pid: namesPid, generation: b?.generation ?? null, generation_after: finalStat?.generation ?? null, first_exit_code: f.exit?.code ?? null, note: 'time to refusal is from spawn to exit: Node start-up and loading the input included' };
      const summary = `second writer pid ${s.pid} exited ${s.exit?.code} with ${code ?? 'no code'}${namesPid ? ` naming live pid ${f.pid}` : ''} ${ms} ms after spawn; first writer ${f.exit?.code === 0 ? 'finished normally' : `exited ${f.exit?.code}`}, generation ${b?.generation} -> ${finalStat?.generation}`;
      return { kind: spec.kind, at_s: spec.atS, injected: true, summary, detections, detection_ms: ms, details, ok: problems.length === 0, ...(problems.length ? { reason: problems.join('; ') } : {}) };
    },
  };
}

function versionMismatch(ctx: RunContext, spec: Extract<FaultSpec, { kind: 'version-mismatch' }>): FaultRun {
  const atS = spec.atS ?? 1;
  const major = spec.major ?? abi.ABI_MAJOR + 1;
  let why: string | null = null;
  const probes: Child[] = [];
  let inProc: { code: string | null; us: number; message: string } | null = null;
  let injected = false;
  const done = (async () => {
    if (!(await ctx.at(atS))) {
      why = ctx.stopRequested ? 'the run was stopped first' : `the feed had already ended (${ctx.elapsedS().toFixed(1)} s)`;
      return;
    }
    let old: number;
    try {
      old = patchAbiMajor(ctx.segment, major);
    } catch (e) {
      why = `cannot patch the segment header: ${(e as Error).message}`;
      return;
    }
    injected = true;
    ctx.note(`segment header now claims ABI ${major}.x`);
    try {
      const t = performance.now();
      try {
        SegmentReader.openSync(ctx.segment).close();
        inProc = { code: null, us: Math.round((performance.now() - t) * 1000), message: 'accepted' };
      } catch (e) {
        inProc = { code: (e as { code?: string }).code ?? null, us: Math.round((performance.now() - t) * 1000), message: (e as Error).message };
      }
      for (let i = 0; i < (spec.probes ?? 1); i++) {
        const p = spawnMdfan(`probe ${i}`, ['read', '--segment', ctx.segment, '--timeout', '5', '--duration', '5']);
        probes.push(p);
        ctx.extra.push(p);
      }
      await Promise.all(probes.map((p) => exitWithin(p, 20_000)));
    } finally {
      patchAbiMajor(ctx.segment, old);
      ctx.note(`segment header restored to ABI ${old}.x`);
    }
  })();
  return {
    spec,
    done,
    finish() {
      if (!injected) return notInjected(spec, atS, why ?? 'unknown');
      const theirs = `ABI ${major}.`;
      const ours = `ABI ${abi.ABI_MAJOR}.${abi.ABI_MINOR}`;
      const detections: Detection[] = probes.map((p) => {
        const refused = p.logs.find((l) => l.event === LogEvent.READER_REFUSED);
        return { by: `reader probe (pid ${p.pid}, a new mdfan read)`, code: refused?.code ?? null, ms: p.exit ? p.exit.atEpochMs - p.startedEpochMs : null, message: commandError(p).message };
      });
      const ip = inProc as { code: string | null; us: number; message: string } | null;
      if (ip) detections.push({ by: 'in-process attach (SegmentReader.openSync)', code: ip.code, ms: ip.us / 1000, message: ip.message });
      const problems: string[] = [];
      for (const [i, d] of detections.entries()) {
        if (d.code !== 'MDFAN_ERR_ABI_VERSION') problems.push(`${d.by}: ${d.code ?? 'no code'}, expected MDFAN_ERR_ABI_VERSION`);
        else if (!d.message?.includes(theirs) || !d.message?.includes(ours)) problems.push(`${d.by}: the message does not name both versions (${theirs}x and ${ours}): ${d.message}`);
        if (i < probes.length && probes[i].exit?.code !== 1) problems.push(`${d.by} exited ${probes[i].exit?.code ?? probes[i].exit?.signal}, expected 1`);
      }
      const deaths = ctx.readers.filter((r) => r.child.logs.some(isDeath));
      if (deaths.length > 0) problems.push(`running reader(s) ${deaths.map((r) => r.index).join(', ')} saw the writer die`);
      const ms = worst(detections);
      const summary = `header patched to ABI ${major}.x at ${atS} s: ${detections.filter((d) => d.code === 'MDFAN_ERR_ABI_VERSION').length}/${detections.length} attaches refused with MDFAN_ERR_ABI_VERSION (process: ${detections.filter((_, i) => i < probes.length).map((d) => `${d.ms} ms`).join(', ')} from spawn incl. Node start-up; in-process: ${ip ? `${ip.us} µs` : '-'}); running readers unaffected`;
      return { kind: spec.kind, at_s: atS, injected: true, summary, detections, detection_ms: ms, details: { claimed_major: major, this_abi: `${abi.ABI_MAJOR}.${abi.ABI_MINOR}` }, ok: problems.length === 0, ...(problems.length ? { reason: problems.join('; ') } : {}) };
    },
  };
}
