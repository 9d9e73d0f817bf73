/**
 * One measured session through the segment: this process is the writer (pinned if asked), R
 * `mdfan read` processes or one `mdfan strategies` pool of R workers follow it, and the writer
 * publishes a 10-level book either at a steady rate (latency) or back to back (writer cost).
 * Readers record publish -> observe with coordinated-omission correction at the steady rate and
 * hand back their HDR histograms; this merges them. Children and the segment are always cleaned
 * up, also when something throws.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as hdr from 'hdr-histogram-js';
import { type Child, lastJson, spawnMdfan } from '../lib/child.js';
import { LogEvent } from '../lib/log.js';
import { newLatencyHistogram, type WaitStrategy } from '../workers/index.js';
import { native } from '../native/segment/binding.js';
import { SegmentWriter } from '../native/segment/writer.js';
import { paced } from './paced.js';
import { onAbort } from './abort.js';
import { until } from './until.js';
import { BENCH_DEFAULTS } from './defaults.js';
import { ITCH_SPEC } from '../native/segment/directory.js';

/** SIGKILLs the children still running (their cleanup is the segment's: they see it go). */
const killAllOf = (children: Child[]): void => {
  for (const c of children) c.signal('SIGKILL');
};

const LEVELS = 10;
let sessionCounter = 0;

export const newHistogram = newLatencyHistogram;

export interface SessionOptions {
  readers: number;
  wait: WaitStrategy;
  /** 'process': R `mdfan read` processes; 'pool': one `mdfan strategies` pool of R workers. */
  host: 'process' | 'pool';
  /** Steady publishes per second, or 'max' for back-to-back publishing (writer cost). */
  rate: number | 'max';
  seconds: number;
  writerCpu?: number;
  /** CPU per reader (index i), for the NUMA/L3 placement runs. */
  readerCpus?: number[];
  packed?: boolean;
  /** Readers follow the top-of-book lines (`--top`) instead of whole books. */
  top?: boolean;
  /** 'process' readers with wait 'block' sleep in the futex on their thread (`--sync`, waitSync). */
  sync?: boolean;
  /** Hook on the writer before publishing starts (e.g. bind its memory to a NUMA node). */
  prepare?: (w: SegmentWriter) => void;
}

export interface SessionResult {
  histogram: hdr.Histogram;
  /** Books observed by all readers together. */
  observed: number;
  published: number;
  /** Publishes that left more than one interval late (steady rate only). */
  late: number;
  /** Writer wall time and CPU time (this thread's process) per publish. */
  publish_wall_ns: number;
  publish_cpu_ns: number;
  /** Steady rate only: each publish() timed on its own (two clock reads around it; empty at 'max'). */
  publishHistogram: hdr.Histogram;
  retries: number;
  /** Readers' CPU time over their wall time, % of one core (median over the readers; null for the pool). */
  readerCpuPct: number | null;
}

/**
 * The writer cost and throughput sessions' load: slot 0 committed back to back for `seconds`, its
 * best bid moving every time (a top change on every commit). Returns the commits made.
 */
export function publishBackToBack(w: SegmentWriter, src: ReturnType<typeof makeBook>, seconds: number): number {
  const end = native.monotonicNs() + seconds * 1e9;
  let k = 1;
  for (; ; k++) {
    src.bids[0] = 990_000 + (k & 1023);
    w.publish(0, src, k, k);
    w.wakeIfSleepers();
    if ((k & 1023) === 0 && native.monotonicNs() >= end) break;
  }
  return k;
}

/** The benchmarks' 10-level book (both sides full), a LevelSource to publish. */
export function makeBook(): { bidCount: number; askCount: number; bids: Float64Array; asks: Float64Array } {
  const src = { bidCount: LEVELS, askCount: LEVELS, bids: new Float64Array(LEVELS * 3), asks: new Float64Array(LEVELS * 3) };
  for (let l = 0; l < LEVELS; l++) {
    src.bids.set([1_000_000 - 100 * (l + 1), 100 * (l + 1), l + 1], l * 3);
    src.asks.set([1_000_000 + 100 * (l + 1), 100 * (l + 1), l + 1], l * 3);
  }
  return src;
}

export async function shmSession(o: SessionOptions): Promise<SessionResult> {
  const name = `mdfan-bench-shm-${process.pid}-${++sessionCounter}`;
  const intervalNs = o.rate === 'max' ? 0 : 1e9 / o.rate;
  const allowed = native.getAffinity();
  const tmp = mkdtempSync(join(tmpdir(), 'mdfan-bench-'));
  const children: Child[] = [];
  const w = SegmentWriter.open({ name, maxInstruments: 1, levels: LEVELS, packed: o.packed ?? false });
  let closed = false;
  const off = onAbort(() => {
    killAllOf(children);
    if (!closed) w.close({ unlink: true });
    rmSync(tmp, { recursive: true, force: true });
  });
  try {
    w.addInstrument('BENCH', 1, ITCH_SPEC);
    await w.startControl(); // readers announce themselves on it: how the pool's attach is seen
    o.prepare?.(w);
    const env = { ...process.env, MDFAN_LOG_LEVEL: 'info' };
    const co = intervalNs > 0 ? ['--expected-interval-ns', String(intervalNs)] : [];
    if (o.host === 'process') {
      for (let i = 0; i < o.readers; i++) {
        const cpu = o.readerCpus?.[i];
        const args = ['read', '--segment', name, '--wait', o.wait, '--histogram', ...co, ...(o.top ? ['--top'] : []), ...(o.sync ? ['--sync'] : []), ...(cpu === undefined ? [] : ['--cpu', String(cpu)])];
        children.push(spawnMdfan(`reader ${i}`, args, { env }));
      }
      // Each reader logs "attached" once it has mapped the segment; block readers then go to sleep.
      await until(() => children.every((c) => c.logs.some((l) => l.event === LogEvent.READER_ATTACHED)), BENCH_DEFAULTS.readyTimeoutMs, () => `readers did not attach: ${children.map((c) => c.describeExit()).join('\n')}`);
    } else if (o.readers > 0) {
      const args = ['strategies', '--segment', name, '--workers', String(o.readers), '--strategy', o.top ? 'microprice' : 'imbalance', '--wait', o.wait, '--json', join(tmp, 'pool.json'), ...co];
      children.push(spawnMdfan('pool', args, { env }));
      await until(() => w.counter('reader_attaches') >= o.readers, BENCH_DEFAULTS.readyTimeoutMs, () => `pool workers did not attach: ${children[0].describeExit()}`);
    }
    // Block readers measure from asleep on the futex: wait until every one sleeps.
    if (o.wait === 'block') await until(() => w.registry.sleepers() + w.registry.topSleepers() >= o.readers, BENCH_DEFAULTS.readyTimeoutMs, 'the block readers to sleep on the futex');
    if (o.writerCpu !== undefined) native.setAffinity([o.writerCpu]);
    const src = makeBook();
    const publishHistogram = newHistogram();
    const cpu0 = process.cpuUsage();
    const t0 = native.monotonicNs();
    let published = 0;
    let late = 0;
    if (o.rate === 'max') {
      published = publishBackToBack(w, src, o.seconds);
    } else {
      const r = paced(o.rate, o.seconds, (k) => {
        src.bids[0] = 990_000 + (k & 1023);
        const before = native.monotonicNs();
        w.publish(0, src, k, k);
        w.wakeIfSleepers();
        publishHistogram.recordValue(Math.max(1, Math.round(native.monotonicNs() - before)));
      });
      published = r.sent;
      late = r.late;
    }
    const wallNs = native.monotonicNs() - t0;
    const cpu = process.cpuUsage(cpu0);
    native.setAffinity(allowed);
    w.close({ unlink: true });
    closed = true;
    const codes = (await Promise.all(children.map((c) => c.exited))).map((e) => e.code);
    const histogram = newHistogram();
    let observed = 0;
    let retries = 0;
    const cpuPcts: number[] = [];
    children.forEach((c, i) => {
      if (codes[i] !== 0) throw new Error(`bench: ${c.describeExit()}`);
      const s = o.host === 'pool' ? JSON.parse(readFileSync(join(tmp, 'pool.json'), 'utf8')).merged : lastJson<{ hist: string; updates: number; retries: number; cpu_ms: number; wall_ms: number }>(c)!;
      if (o.host === 'process' && s.wall_ms > 0) cpuPcts.push((100 * s.cpu_ms) / s.wall_ms);
      histogram.add(hdr.decodeFromCompressedBase64(s.hist));
      observed += s.updates;
      retries += s.retries;
    });
    return {
      histogram,
      observed,
      published,
      late,
      publish_wall_ns: wallNs / Math.max(1, published),
      publish_cpu_ns: ((cpu.user + cpu.system) * 1000) / Math.max(1, published),
      publishHistogram,
      retries,
      readerCpuPct: cpuPcts.length > 0 ? cpuPcts.sort((a, b) => a - b)[cpuPcts.length >> 1]! : null,
    };
  } finally {
    off();
    native.setAffinity(allowed);
    if (!closed) w.close({ unlink: true });
    killAllOf(children);
    rmSync(tmp, { recursive: true, force: true });
  }
}

