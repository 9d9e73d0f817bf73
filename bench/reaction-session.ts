/**
 * One run of `mdfan bench reaction` for one strategy: a real segment (this process its writer), the
 * reply object, the strategy in its own process (JavaScript on the SDK, or C on the ABI headers),
 * then the benchmark addon's writer-and-spinner loop on this thread (native/bench/reaction.cc).
 * Everything it made is removed at the end, also when it fails: the strategy SIGKILLed, the
 * segment and the reply object unlinked.
 */
import { fileURLToPath } from 'node:url';
import { type Child, spawnChild } from '../lib/child.js';
import { ITCH_SPEC } from '../native/segment/directory.js';
import { ErrorCode, MdfanError } from '../native/segment/errors.js';
import { type Mapping, unlinkSegment } from '../native/segment/mapping.js';
import { SegmentWriter } from '../native/segment/writer.js';
import { onAbort } from './abort.js';
import { benchNative, type ReactionRunResult } from './bench-addon.js';
import { BENCH_DEFAULTS } from './defaults.js';
import { cProgram } from './peers/c-program.js';
import { createReply, replyName } from './reaction-reply.js';
import { writerSession } from './writer-session.js';
import { makeBook } from './shm-session.js';

export type ReactionStrategy = 'js' | 'c';
/** How the JavaScript strategy looks for a new top (bench/reaction-strategy-proc.ts). */
export type JsLoop = 'poll' | 'copy';

export interface ReactionSessionOptions {
  strategy: ReactionStrategy;
  jsLoop: JsLoop;
  /** Measured seconds, after the warm-up rounds. */
  seconds: number;
  warmupRounds: number;
  /** The pause between an order and the next book, drawn uniformly from [min, max] ms. */
  paceMs: readonly [number, number];
  /** A book with no order after this long fails the run. */
  roundTimeoutMs: number;
  /** Tests only: the strategy's fault (bench/peers/c_reaction_strategy.c). */
  fault?: string;
}

const STRATEGY_PROC = fileURLToPath(new URL('./reaction-strategy-proc.js', import.meta.url));
/** How long a strategy may take to exit once the segment is CLOSED. */
const EXIT_MS = 5_000;
let sessions = 0;

function spawnStrategy(o: ReactionSessionOptions, segment: string, reply: string): Child {
  const fault = o.fault ?? 'none';
  if (o.strategy === 'c') return spawnChild('C strategy', cProgram('c_reaction_strategy'), [segment, reply, fault]);
  return spawnChild(`JavaScript strategy (${o.jsLoop})`, STRATEGY_PROC, [segment, reply, o.jsLoop, fault], { stdin: 'pipe' });
}

/** The exit, if the strategy is gone (or goes within `ms`), as a phrase for an error. */
async function exitOf(c: Child, ms: number): Promise<string> {
  const e = c.exit ?? (await Promise.race([c.exited, new Promise<null>((r) => setTimeout(() => r(null), ms))]));
  return e === null ? 'it is still running' : c.describeExit();
}

export async function reactionSession(o: ReactionSessionOptions): Promise<ReactionRunResult> {
  const name = `mdfan-bench-reaction-${process.pid}-s${++sessions}`;
  const w = SegmentWriter.open({ name, maxInstruments: 1, levels: 10 });
  const session = writerSession(w, name);
  let reply: Mapping | null = null;
  const dropReply = (): void => {
    if (reply === null) return;
    reply.close();
    unlinkSegment(reply.name);
    reply = null;
  };
  const off = onAbort(dropReply);
  try {
    // Beats while the strategy starts (a slow start on a loaded machine must not look like a dead
    // writer to it); the run itself beats from the addon.
    w.startIdleHeartbeat();
    w.addInstrument('BENCH', 1, ITCH_SPEC);
    w.publish(0, makeBook(), 0, 0);
    reply = createReply(replyName());
    const c = spawnStrategy(o, name, reply.name);
    session.children.push(c);
    await c.line(/^ready$/, BENCH_DEFAULTS.readyTimeoutMs);
    const paceNs = o.paceMs.map((ms) => Math.round(ms * 1e6));
    const r = benchNative().reactionRun(w.map.buffer, w.tops.map.buffer, reply.buffer, {
      slotsOffset: w.layout.slotsOffset,
      slotStride: w.layout.slotStride,
      levels: w.layout.levels,
      warmupRounds: o.warmupRounds,
      maxRounds: o.warmupRounds + Math.ceil((o.seconds * 1e9) / Math.max(1, paceNs[0]!)),
      durationNs: Math.round(o.seconds * 1e9),
      paceMinNs: paceNs[0]!,
      paceMaxNs: paceNs[1]!,
      roundTimeoutNs: Math.round(o.roundTimeoutMs * 1e6),
      seed: (process.pid * 2654435761 + sessions) >>> 0,
    });
    if (r.timedOutRound > 0)
      throw new MdfanError(
        ErrorCode.STALE,
        `bench reaction: the ${o.strategy === 'js' ? 'JavaScript' : 'C'} strategy sent no order for book ${r.timedOutRound} within ${o.roundTimeoutMs} ms (${await exitOf(c, 200)})`,
        { strategy: o.strategy, round: r.timedOutRound, timeout_ms: o.roundTimeoutMs },
      );
    w.close({ unlink: false }); // CLOSED: the strategy leaves its loop and exits
    const e = c.exit ?? (await Promise.race([c.exited, new Promise<null>((res) => setTimeout(() => res(null), EXIT_MS))]));
    if (e === null || e.code !== 0) throw new MdfanError(ErrorCode.STALE, `bench reaction: the ${o.strategy} strategy did not end cleanly after the run (${await exitOf(c, 0)})`, { strategy: o.strategy });
    return r;
  } finally {
    off();
    session.end();
    dropReply();
    await Promise.all(session.children.map((c) => c.kill())); // reaped: no strategy outlives its run
  }
}
