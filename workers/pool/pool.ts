/**
 * The strategy pool: N piscina workers, each running one long-lived strategy task (so the pool's
 * idle timeout is effectively off and min = max = N threads; atomics 'disabled' so a worker's own
 * event loop keeps turning between waits). The pool supervises progress counters: a strategy
 * stuck inside onBook for longer than hangMs is reported as hung and its task aborted (piscina
 * then ends that worker thread); the others go on. At the end the workers' HDR histograms are
 * merged into one report.
 */
import { Piscina } from 'piscina';
import * as hdr from 'hdr-histogram-js';
import { newLatencyHistogram } from '../sdk/histogram.js';
import type { WaitStrategy } from '../sdk/book-reader.js';
import type { WorkerResult, WorkerTask } from './strategy-worker.js';
import type { ErrorDetails } from '../../native/segment/errors.js';
import { type LatencyPercentiles, percentilesOf } from '../../lib/percentiles.js';

/** The pool's defaults, each defined once. */
export const POOL_DEFAULTS = Object.freeze({
  workers: 1,
  /** Most workers a pool may have (one thread each). */
  maxWorkers: 64,
  /** A strategy inside onBook for longer than this is hung: reported and aborted. */
  hangMs: 2000,
});

export interface PoolOptions {
  segment: string;
  workers: number;
  strategyUrl: string;
  wait: WaitStrategy;
  durationMs: number;
  timeoutMs: number;
  hangMs: number;
  pin: boolean;
  cpus: number[];
  /** >0: coordinated-omission correction for a writer publishing at this fixed interval. */
  expectedIntervalNs?: number;
}

/** The pool's latency record: the standard one and how many samples it holds. */
export type PoolLatency = LatencyPercentiles & { count: number };

export interface WorkerReport {
  worker: number;
  status: 'ok' | 'error' | 'hung';
  updates: number;
  reads: number;
  retries: number;
  latency_ns: PoolLatency;
  error?: string;
  /** The error's stable code (MDFAN_ERR_*) and facts, when it had them. */
  error_code?: string;
  error_details?: ErrorDetails;
  writer_deaths: number;
  /** Events delivered to onTrade/onEvent and lost to lapping, for a strategy that takes events. */
  events?: { delivered: number; lost: number };
  stale_reads: number;
  cpu: number | null;
  summary: Record<string, unknown> | null;
}

export interface PoolReport {
  segment: string;
  workers: WorkerReport[];
  /** `hist`: the merged HDR histogram, hdr-histogram-js compressed base64 (for replays and benches). */
  merged: { latency_ns: PoolLatency; updates: number; reads: number; retries: number; hist: string };
}

const pct = (h: hdr.Histogram): PoolLatency => ({ ...percentilesOf(h), count: h.totalCount });

export async function runPool(o: PoolOptions, stop: { requested: boolean }): Promise<PoolReport> {
  const pool = new Piscina({
    filename: new URL('./strategy-worker.js', import.meta.url).href,
    minThreads: o.workers,
    maxThreads: o.workers,
    idleTimeout: 2 ** 31 - 1,
    concurrentTasksPerWorker: 1,
    atomics: 'disabled',
  });
  const control = new Int32Array(new SharedArrayBuffer(4 * (1 + o.workers)));
  const aborts = Array.from({ length: o.workers }, () => new AbortController());
  const hung = new Set<number>();
  const tasks = aborts.map((ac, i) => {
    const task: WorkerTask = {
      workerIndex: i,
      segment: o.segment,
      strategyUrl: o.strategyUrl,
      wait: o.wait,
      durationMs: o.durationMs,
      timeoutMs: o.timeoutMs,
      control,
      cpu: o.pin ? o.cpus[i % o.cpus.length] : null,
      expectedIntervalNs: o.expectedIntervalNs ?? 0,
    };
    return pool.run(task, { signal: ac.signal }).then(
      (r: WorkerResult) => ({ ok: true as const, r }),
      (e: unknown) => ({ ok: false as const, e: e as Error, i }),
    );
  });
  // Supervise: a worker whose progress counter stands still for hangMs is inside its strategy
  // for that long (the loop bumps it at least every 100 ms while waiting).
  const last = new Int32Array(o.workers).fill(-1);
  const since = new Float64Array(o.workers);
  let finished = 0;
  tasks.forEach((t) => void t.then(() => finished++));
  while (finished < o.workers) {
    await new Promise((r) => setTimeout(r, 50));
    if (stop.requested) Atomics.store(control, 0, 1);
    const now = performance.now();
    for (let i = 0; i < o.workers; i++) {
      const p = Atomics.load(control, 1 + i);
      if (p !== last[i]) {
        last[i] = p;
        since[i] = now;
      } else if (p > 0 && !hung.has(i) && now - since[i] > o.hangMs) {
        hung.add(i);
        aborts[i].abort(new Error(`strategy in worker ${i} made no progress for ${o.hangMs} ms`));
      }
    }
  }
  const settled = await Promise.all(tasks);
  await pool.destroy();
  const merged = newLatencyHistogram();
  const workers: WorkerReport[] = settled.map((s, i) => {
    if (!s.ok) {
      const empty = pct(newLatencyHistogram());
      // For a hung worker, say what the pool saw (piscina's own abort message is generic).
      const error = hung.has(i) ? `strategy made no progress for ${o.hangMs} ms: worker ${i} aborted and ended` : String(s.e?.message ?? s.e);
      return { worker: i, status: hung.has(i) ? 'hung' : 'error', updates: 0, reads: 0, retries: 0, latency_ns: empty, error, writer_deaths: 0, stale_reads: 0, cpu: null, summary: null };
    }
    const r = s.r;
    const h = hdr.decodeFromCompressedBase64(r.latency);
    merged.add(h);
    return {
      worker: r.workerIndex,
      status: r.error ? 'error' : 'ok',
      updates: r.updates,
      reads: r.reads,
      retries: r.retries,
      latency_ns: pct(h),
      ...(r.error ? { error: r.error.message.split('\n')[0], ...(r.error.code ? { error_code: r.error.code, error_details: r.error.details } : {}) } : {}),
      writer_deaths: r.writerDeaths,
      ...(r.events ? { events: r.events } : {}),
      stale_reads: r.staleReads,
      cpu: r.cpu,
      summary: r.summary,
    };
  });
  return {
    segment: o.segment,
    workers,
    merged: {
      latency_ns: pct(merged),
      updates: workers.reduce((a, w) => a + w.updates, 0),
      reads: workers.reduce((a, w) => a + w.reads, 0),
      retries: workers.reduce((a, w) => a + w.retries, 0),
      hist: hdr.encodeIntoCompressedBase64(merged),
    },
  };
}
