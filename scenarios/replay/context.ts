/**
 * The state of one running replay, shared by the orchestration (run.ts), the stalls (stalls.ts)
 * and the faults (faults.ts): the segment, the feed handler(s) started so far, the readers and
 * the pool, and the clock every `atS` counts from (the first feed handler's start).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { spawnMdfan, type Child, type LogLine } from './procs.js';
import type { WaitStrategy } from '../../workers/index.js';

export interface ReaderProc {
  index: number;
  group: string;
  wait: WaitStrategy;
  child: Child;
  /** Its --record file (stalled readers and kill-writer runs), or null. */
  record: string | null;
  stalled: boolean;
}

export class RunContext {
  /** Epoch ms when the first feed handler was spawned: every atS counts from here. */
  t0Epoch = 0;
  readonly feeds: Child[] = [];
  readonly readers: ReaderProc[] = [];
  pool: Child | null = null;
  /** Other processes a fault started (probes, second writers). */
  readonly extra: Child[] = [];
  /** A kill-writer fault will start another feed handler: the run is not over when the feed exits. */
  restartPending = false;
  /** Ctrl-C or durationS: faults not yet injected are skipped. */
  stopRequested = false;
  /** Notes for the progress display. */
  onNote: ((msg: string) => void) | null = null;

  constructor(
    readonly segment: string,
    readonly feedArgs: string[],
    readonly maxDetectionMs: number,
  ) {}

  get feed(): Child {
    return this.feeds[this.feeds.length - 1];
  }

  startFeed(): Child {
    const c = spawnMdfan(`feed ${this.feeds.length + 1}`, this.feedArgs);
    if (this.feeds.length === 0) this.t0Epoch = c.startedEpochMs;
    this.feeds.push(c);
    return c;
  }

  /** The run's feed is over: the last feed handler exited and no restart is coming. */
  get feedOver(): boolean {
    return this.feeds.length > 0 && this.feed.exit !== null && !this.restartPending;
  }

  elapsedS(): number {
    return (Date.now() - this.t0Epoch) / 1000;
  }

  /** Sleeps until atS after t0; false if the feed ended or a stop came first. */
  async at(atS: number): Promise<boolean> {
    const when = this.t0Epoch + atS * 1000;
    for (;;) {
      if (this.stopRequested || this.feedOver) return false;
      const left = when - Date.now();
      if (left <= 0) return true;
      await sleep(Math.min(left, 20));
    }
  }

  note(msg: string): void {
    this.onNote?.(msg);
  }

  /** Waits until `pred` holds for the child's log lines, or ms pass; the matching line or null. */
  static async logMatch(c: Child, pred: (l: LogLine) => boolean, ms: number): Promise<LogLine | null> {
    const end = Date.now() + ms;
    for (;;) {
      const hit = c.logs.find(pred);
      if (hit) return hit;
      if (c.exit || Date.now() >= end) return null;
      await sleep(5);
    }
  }
}
