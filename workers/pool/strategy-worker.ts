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
import { BookReader, WaitResult, type WaitStrategy } from '../sdk/book-reader.js';
import { isMdfanError, serializeError, type SerializedError } from '../../native/segment/errors.js';
import { loadStrategy, type Strategy, type StrategyContext } from './strategy.js';
import { abi, EventBatch } from '../../native/segment/index.js';
import { EventReader } from '../sdk/event-reader.js';
import { READER_DEFAULTS } from '../sdk/defaults.js';
import { TopSnapshot } from '../../native/segment/tops.js';
import { setTimeout as sleep, setImmediate as yieldNow } from 'node:timers/promises';


/** The event ring, if the strategy takes events: trades only for onTrade alone, every kind for onEvent. */
function openEvents(segment: string, s: Strategy): { reader: EventReader; batch: EventBatch } | null {
  if (!s.onTrade && !s.onEvent) return null;
  const kinds = s.onEvent ? undefined : [abi.EVENT_KIND_TRADE];
  return { reader: EventReader.open(segment, { from: 'oldest', kinds }), batch: new EventBatch(256) };
}

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
  const symbols: string[] = [];
  const scales: number[] = [];
  const learn = (): void => {
    for (const i of reader.instruments) {
      symbols[i.slotIndex] = i.symbol;
      scales[i.slotIndex] = i.priceScale;
    }
  };
  learn();
  const ctx: StrategyContext = { workerIndex: task.workerIndex, segment: task.segment, symbolOf: (s) => symbols[s] ?? '', priceScaleOf: (s) => scales[s] ?? 1 };
  const events = openEvents(task.segment, strategy);
  let nextReportMs = 0;
  const onEvents = (): void => {
    if (events === null) return;
    if (performance.now() >= nextReportMs) {
      nextReportMs = performance.now() + READER_DEFAULTS.eventsReportMs; // the counts for `mdfan stat`
      reader.reportEvents(events.reader.delivered, events.reader.lost);
    }
    for (;;) {
      const n = events.reader.poll(events.batch);
      if (events.batch.lost > 0) strategy.onEventsLost?.(events.batch.lost, ctx);
      if (n === 0 && events.batch.lost === 0) return;
      if (reader.instruments.length > symbols.length) learn();
      for (let i = 0; i < n; i++) {
        const ev = events.batch.records[i]!;
        if (ev.kind === abi.EVENT_KIND_TRADE) strategy.onTrade?.(ev, ctx);
        strategy.onEvent?.(ev, ctx);
      }
    }
  };
  let snap = reader.newSnapshot();
  let changed = new Int32Array(reader.seg.layout.maxInstruments);
  const progressIndex = 1 + task.workerIndex;
  const intervalNs = task.expectedIntervalNs ?? 0;
  const end = performance.now() + task.durationMs;
  // onTop: the worker follows the top lines. spin (without events): the synchronous poll loop,
  // with an event-loop turn, the stop flag and the clock every 2^16 empty polls.
  const top = typeof strategy.onTop === 'function' ? new TopSnapshot() : null;
  if (top) reader.seg.tops(); // refused now, by name, if the writer has no top lines
  const spinSync = task.wait === 'spin' && events === null;
  let polls = 0;
  try {
    for (;;) {
      let n = -1;
      let r: WaitResult;
      if (spinSync) {
        n = top ? reader.pollTops(changed) : reader.poll(changed);
        if (n === 0) {
          if (reader.isWriterDead) {
            // Nothing will come until a new writer: no core burnt on a dead one.
            if (Atomics.load(task.control, 0) !== 0 || performance.now() >= end) break;
            Atomics.add(task.control, progressIndex, 1);
            await sleep(READER_DEFAULTS.deadBackoffMs);
            continue;
          }
          if ((++polls & 0xffff) === 0) {
            Atomics.add(task.control, progressIndex, 1);
            if (Atomics.load(task.control, 0) !== 0 || performance.now() >= end) break;
            await yieldNow();
          }
          continue;
        }
        r = n < 0 ? (-n as WaitResult) : WaitResult.UPDATED;
      } else {
        Atomics.add(task.control, progressIndex, 1); // alive, outside the strategy
        if (Atomics.load(task.control, 0) !== 0) break;
        const left = end - performance.now();
        if (left <= 0) break;
        onEvents();
        const wait = Math.min(left, events ? READER_DEFAULTS.eventsPollMs : 100);
        r = await (top ? reader.nextTop(wait) : reader.next(wait));
      }
      if (r === WaitResult.CLOSED) {
        onEvents(); // the last ones
        break;
      }
      if (r === WaitResult.WRITER_DEAD) {
        result.writerDeaths++;
        strategy.onStale?.(reader.lastDeath?.message ?? 'writer dead', ctx);
        continue;
      }
      if (r === WaitResult.NEW_WRITER) {
        // A new writer may use another layout: the buffers follow it.
        if (snap.levels !== reader.levels) snap = reader.newSnapshot();
        if (changed.length !== reader.seg.layout.maxInstruments) changed = new Int32Array(reader.seg.layout.maxInstruments);
        onEvents(); // the old generation's ring to its end, then the new one
        events?.reader.reopen();
        learn();
      }
      if (r !== WaitResult.UPDATED && r !== WaitResult.NEW_WRITER) continue;
      if (reader.instruments.length > symbols.length) learn();
      if (n <= 0) n = top ? reader.changedTops(changed) : reader.changed(changed);
      for (let k = 0; k < n; k++) {
        const slot = changed[k];
        let retries: number;
        const got = top ?? snap;
        try {
          retries = top ? reader.readTop(slot, top) : reader.read(slot, snap);
        } catch (e) {
          // Mid-commit past the stale timeout: the strategy hears it; the slot is re-read once its
          // seq moves (a dead writer is reported by next() as WRITER_DEAD).
          if (!isMdfanError(e, 'MDFAN_ERR_STALE')) throw e;
          result.staleReads++;
          strategy.onStale?.(e.message, ctx);
          continue;
        }
        if (got.seq === 0) continue;
        if (reader.isSample(got)) {
          const ns = Math.max(1, Math.round(native.monotonicNs() - got.publishTsNs));
          if (intervalNs > 0) latency.recordValueWithExpectedInterval(ns, intervalNs);
          else latency.recordValue(ns);
        }
        retriesHist.recordValue(retries + 1); // +1: HDR needs values >= 1
        result.updates++;
        if (top) strategy.onTop!(top, slot, ctx);
        else strategy.onBook!(snap, ctx);
        Atomics.add(task.control, progressIndex, 1);
      }
    }
    if (events) result.events = { delivered: events.reader.delivered, lost: events.reader.lost };
    result.summary = strategy.onClose?.(ctx) ?? null;
  } catch (e) {
    result.error = serializeError(e);
  } finally {
    events?.reader.close();
    result.reads = reader.seg.reads;
    result.retries = reader.retries;
    reader.close();
  }
  result.latency = hdr.encodeIntoCompressedBase64(latency);
  result.retriesPerRead = hdr.encodeIntoCompressedBase64(retriesHist);
  return result;
}
