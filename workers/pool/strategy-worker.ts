/**
 * One pool worker: a long-lived task that attaches a BookReader, feeds every changed book to the
 * strategy, and records publish->observe latency and retries per read in HDR histograms. It ends
 * when the writer closes, the duration ends, or the pool raises the stop flag, and returns its
 * histograms encoded (the pool merges them). Progress is published in a shared counter so the
 * pool can tell a strategy that hangs from one that waits.
 */
import * as hdr from 'hdr-histogram-js';
import { newLatencyHistogram } from '../sdk/histogram.js';
import { native } from '../../native/segment/binding.js';
import { BookReader, type WaitStrategy } from '../sdk/book-reader.js';
import { serializeError, type SerializedError } from '../../native/segment/errors.js';
import { loadStrategy, type Strategy, type StrategyContext } from './strategy.js';
import { abi } from '../../native/segment/index.js';
import type { BookSnapshot } from '../../native/segment/seqlock.js';
import type { TopSnapshot } from '../../native/segment/tops.js';
import type { FollowHandler } from '../sdk/update.js';

/** The event ring, if the strategy takes events: trades only for onTrade alone, every kind for onEvent. */
const eventsOf = (s: Strategy): { kinds?: number[] } | undefined => (!s.onTrade && !s.onEvent ? undefined : { kinds: s.onEvent ? undefined : [abi.EVENT_KIND_TRADE] });

export interface WorkerTask {
  workerIndex: number;
  segment: string;
  strategyUrl: string;
  wait: WaitStrategy;
  durationMs: number;
  timeoutMs: number;
  /** [0]: stop flag; [1 + i]: worker i's progress counter. */
  control: Int32Array;
  cpu: number | null;
  /** >0: record with coordinated-omission correction for a writer publishing at this interval. */
  expectedIntervalNs?: number;
}

export interface WorkerResult {
  workerIndex: number;
  updates: number;
  reads: number;
  retries: number;
  latency: string;
  retriesPerRead: string;
  error: SerializedError | null;
  writerDeaths: number;
  /** Events delivered to onTrade/onEvent and lost to lapping (null: the strategy takes none). */
  events: { delivered: number; lost: number } | null;
  /** Reads refused with MDFAN_ERR_STALE (a slot left mid-commit past the stale timeout). */
  staleReads: number;
  summary: Record<string, unknown> | null;
  cpu: number | null;
}

/**
 * The task: never rejects. An error anywhere (attach, loading the strategy, the strategy itself)
 * comes back as result.error with its stable code and facts, which a rejection across the
 * thread boundary would lose.
 */
export default async function run(task: WorkerTask): Promise<WorkerResult> {
  try {
    return await runTask(task);
  } catch (e) {
    const empty = hdr.encodeIntoCompressedBase64(newLatencyHistogram());
    return { workerIndex: task.workerIndex, updates: 0, reads: 0, retries: 0, latency: empty, retriesPerRead: empty, error: serializeError(e), writerDeaths: 0, events: null, staleReads: 0, summary: null, cpu: task.cpu };
  }
}

async function runTask(task: WorkerTask): Promise<WorkerResult> {
  if (task.cpu !== null) native.setAffinity([task.cpu]); // pins this worker thread only
  const latency = newLatencyHistogram();
  const retriesHist = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 1e9, numberOfSignificantValueDigits: 2 });
  const result: WorkerResult = { workerIndex: task.workerIndex, updates: 0, reads: 0, retries: 0, latency: '', retriesPerRead: '', error: null, writerDeaths: 0, events: null, staleReads: 0, summary: null, cpu: task.cpu };
  const reader = await BookReader.attach(task.segment, { wait: task.wait, timeoutMs: task.timeoutMs });
  const strategy = await loadStrategy(task.strategyUrl);
  const ctx: StrategyContext = { workerIndex: task.workerIndex, segment: task.segment, symbolOf: (s) => reader.symbolOf(s) ?? '', priceScaleOf: (s) => reader.priceScaleOf(s) ?? 1 };
  const progressIndex = 1 + task.workerIndex;
  const stop = new AbortController();
  const events = eventsOf(strategy);
  let delivered = 0;
  let lost = 0;
  /** A book or top the strategy gets: its retries, the progress counter. */
  const took = (snap: BookSnapshot | TopSnapshot): void => {
    retriesHist.recordValue(snap.retries + 1); // +1: HDR needs values >= 1
    result.updates++;
    Atomics.add(task.control, progressIndex, 1);
  };
  // onTop: the worker follows the top lines (its onBook is not called).
  const handler: FollowHandler = {
    onBook(snap) {
      strategy.onBook!(snap, ctx);
      took(snap);
    },
    onTop(top, inst) {
      strategy.onTop!(top, inst.slotIndex, ctx);
      took(top);
    },
    onEvent(ev) {
      delivered++;
      if (ev.kind === abi.EVENT_KIND_TRADE) strategy.onTrade?.(ev, ctx);
      strategy.onEvent?.(ev, ctx);
    },
    onEventsLost(n) {
      lost += n;
      strategy.onEventsLost?.(n, ctx);
    },
    // Mid-commit past the stale timeout: the strategy hears it; the slot is read again once its seq moves.
    onStale(_inst, e) {
      result.staleReads++;
      strategy.onStale?.(e.message, ctx);
    },
    onWriterDead(e) {
      result.writerDeaths++;
      strategy.onStale?.(e.message, ctx);
    },
    onTurn() {
      Atomics.add(task.control, progressIndex, 1); // alive, outside the strategy
      if (Atomics.load(task.control, 0) !== 0) stop.abort();
    },
  };
  try {
    await reader.follow(handler, {
      tops: typeof strategy.onTop === 'function',
      events,
      latency,
      expectedIntervalNs: task.expectedIntervalNs ?? 0,
      signal: stop.signal,
      durationMs: task.durationMs,
    });
    if (events) result.events = { delivered, lost };
    result.summary = strategy.onClose?.(ctx) ?? null;
  } catch (e) {
    result.error = serializeError(e);
  } finally {
    result.reads = reader.seg.reads;
    result.retries = reader.retries;
    reader.close();
  }
  result.latency = hdr.encodeIntoCompressedBase64(latency);
  result.retriesPerRead = hdr.encodeIntoCompressedBase64(retriesHist);
  return result;
}
