/**
 * Stalls: a reader process stopped (SIGSTOP) at atS for forS seconds, then resumed (SIGCONT) —
 * a strategy slow for seconds, a process paged out. The writer never waits for readers, so it
 * must publish on, and the other readers must go on; resumed, the stalled reader must read the
 * latest books (what it missed in between is conflated, by design).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { RunContext } from './context.js';
import { signal } from './procs.js';
import { scanRecord } from './record.js';
import type { StallSpec } from './schema.js';
import { tryStat } from './segment.js';
import type { StatReport } from '../../native/segment/stat.js';
import type { StallOutcome } from './types.js';

export interface StallRun {
  spec: StallSpec;
  done: Promise<void>;
  /** After the run: compare with the writer's final books. */
  finish(finalStat: StatReport | null): StallOutcome;
}

const msgIndexes = (s: StatReport | null): Map<string, number> => new Map((s?.instruments ?? []).filter((i) => i.msg_index !== null).map((i) => [i.symbol, i.msg_index!]));

export function startStall(ctx: RunContext, spec: StallSpec): StallRun {
  const r = ctx.readers[spec.reader];
  r.stalled = true;
  let stoppedAt = 0;
  let resumedAt = 0;
  let pubStop: number | null = null;
  let pubResume: number | null = null;
  let marks: Map<string, number> | null = null;
  let resumeMarks: Map<string, number> | null = null;
  let injected = false;
  const done = (async () => {
    // Stalls go on even once the feed is over (a stall can outlast it): only a stop cancels.
    while (Date.now() < ctx.t0Epoch + spec.atS * 1000) {
      if (ctx.stopRequested || r.child.exit) return;
      await sleep(10);
    }
    if (r.child.exit) return;
    signal(r.child, 'SIGSTOP');
    stoppedAt = Date.now();
    injected = true;
    await sleep(20); // let the stop land before marking what the writer had published
    const s = tryStat(ctx.segment);
    pubStop = s?.publishes ?? null;
    marks = msgIndexes(s);
    ctx.note(`reader ${spec.reader} (pid ${r.child.pid}) stopped for ${spec.forS} s`);
    const until = stoppedAt + spec.forS * 1000;
    while (Date.now() < until && !ctx.stopRequested) await sleep(Math.min(50, until - Date.now()));
    const atResume = tryStat(ctx.segment);
    pubResume = atResume?.publishes ?? pubStop;
    resumeMarks = msgIndexes(atResume);
    signal(r.child, 'SIGCONT');
    resumedAt = Date.now();
    ctx.note(`reader ${spec.reader} resumed`);
  })();

  return {
    spec,
    done,
    finish(finalStat) {
      const base = { reader: spec.reader, pid: r.child.pid, at_s: spec.atS, for_s: spec.forS };
      if (!injected)
        return { ...base, stopped_ms: 0, writer_publishes_while_stopped: 0, updates_after_resume: 0, others_updates_while_stopped: [], last_msg_index: {}, read_latest: false, ok: false, reason: `reader ${spec.reader} was not running at ${spec.atS} s` };
      const scan = scanRecord(r.record, marks);
      const writer = msgIndexes(finalStat);
      const last: StallOutcome['last_msg_index'] = {};
      let latest = writer.size > 0;
      for (const [sym, w] of writer) {
        const got = scan.last.get(sym) ?? null;
        last[sym] = { reader: got, writer: w };
        if (got !== w) latest = false;
      }
      // The others went on: the books each read while this one was stopped.
      const others = ctx.readers
        .filter((o) => o !== r && o.record)
        .map((o) => ({ reader: o.index, updates: scanRecord(o.record, marks, resumeMarks).between }));
      const idle = others.filter((o) => o.updates === 0);
      const exitOk = r.child.exit?.code === 0;
      const ok = latest && exitOk && idle.length === 0;
      const reason = idle.length > 0
        ? `reader(s) ${idle.map((o) => o.reader).join(', ')} read nothing while reader ${spec.reader} was stopped`
        : !exitOk
        ? `reader ${spec.reader} exited ${r.child.exit?.code ?? r.child.exit?.signal ?? 'never'}`
        : !latest
          ? `reader ${spec.reader} did not end on the writer's last books: ${JSON.stringify(last)}`
          : undefined;
      return {
        ...base,
        stopped_ms: resumedAt - stoppedAt,
        writer_publishes_while_stopped: pubStop !== null && pubResume !== null ? pubResume - pubStop : 0,
        updates_after_resume: scan.above,
        others_updates_while_stopped: others,
        last_msg_index: last,
        read_latest: latest,
        ok,
        ...(reason ? { reason } : {}),
      };
    },
  };
}
