/**
 * The exporter's scrape: each segment's header read like `mdfan stat` does, turned into the
 * metric families of exporter-metrics.ts.
 * A segment is down (`mdfan_segment_up 0`) only when its name holds no mdfan segment: missing,
 * still being made, or something else (a foreign object). Any other failure (the exporter out of
 * descriptors, a permission) is no fact about the segment: it fails the scrape (HTTP 500 with
 * the code) rather than report a live segment down. One scrape at a time: requests that arrive
 * while one runs share its result, so the writers see one control connection whatever the load.
 */
import { Registry } from 'prom-client';
import { ErrorCode, isMdfanError } from '../../native/segment/errors.js';
import { type StatReport, statSegment } from '../../native/segment/stat.js';
import { listReaders, type ReaderInfo } from '../../native/segment/control.js';
import { SEGMENT_DEFAULTS } from '../../native/segment/defaults.js';
import { SEGMENT_STATES, exporterMetrics, setCounter } from './exporter-metrics.js';
import { buildInfo } from './exporter-build-info.js';

export const EXPORTER_DEFAULTS = Object.freeze({
  /** Per-instrument series at most, per segment: a market of 10,000 symbols must not flood the server. */
  maxInstrumentLabels: 100,
  /** HTTP connections at most at once (Prometheus needs one or two): a flood cannot take the exporter's descriptors. */
  maxConnections: 16,
  /** How long a scrape waits for a writer's list of readers (then: readers unknown, the rest served). */
  controlTimeoutMs: SEGMENT_DEFAULTS.controlAnswerMs,
  /** How long a client may take to send its request. */
  requestTimeoutMs: 10_000,
});

/** What the name holds when these are thrown: no mdfan segment (missing, not made yet, or foreign). */
const DOWN: ReadonlySet<string> = new Set<string>([
  ErrorCode.NO_SEGMENT,
  ErrorCode.NOT_READY,
  ErrorCode.BAD_MAGIC,
  ErrorCode.SEGMENT_SIZE,
  ErrorCode.LAYOUT,
  ErrorCode.ABI_VERSION,
  ErrorCode.UNSAFE_OBJECT,
]);

export interface ScrapeOptions {
  segments: string[];
  maxLabels: number;
  controlTimeoutMs: number;
}

/** The header as `mdfan stat --json` has it, with the writer's readers (asked first, so the counters read after include them). */
async function statOf(name: string, controlTimeoutMs: number): Promise<StatReport> {
  const path = statSegment(name).control_socket;
  const readers = path ? await listReaders(path, controlTimeoutMs) : null;
  const s = statSegment(name);
  s.readers = readers;
  return s;
}

/** Events read and lost per reader process (a process may attach several readers): the counters' series. */
function perProcess(readers: readonly ReaderInfo[]): Map<number, { read: number; lost: number }> {
  const out = new Map<number, { read: number; lost: number }>();
  for (const r of readers) {
    const t = out.get(r.pid) ?? { read: 0, lost: 0 };
    t.read += r.events_read ?? 0;
    t.lost += r.events_lost ?? 0;
    out.set(r.pid, t);
  }
  return out;
}

/** The registry and `scrape()`, the shared one-at-a-time scrape (rejects with the MdfanError that kept it from telling). */
export function scraper(o: ScrapeOptions): { registry: Registry; scrape: () => Promise<string> } {
  const registry = new Registry();
  const m = exporterMetrics(registry, o.maxLabels);
  const build = buildInfo();

  const once = async (): Promise<string> => {
    // Every series is set anew from the headers: a segment gone since the last scrape keeps none but up 0.
    registry.resetMetrics();
    m.buildInfo.set({ ...build }, 1);
    for (const name of o.segments) {
      let s: StatReport;
      try {
        s = await statOf(name, o.controlTimeoutMs);
      } catch (e) {
        if (!isMdfanError(e)) throw e;
        if (!DOWN.has(e.code)) throw e; // the error names the segment, the code and the errno
        m.up.set({ segment: name }, 0);
        continue;
      }
      const segment = { segment: name };
      m.up.set(segment, 1);
      for (const st of SEGMENT_STATES) m.state.set({ segment: name, state: st }, s.state === st ? 1 : 0);
      m.generation.set(segment, s.generation);
      m.instruments.set(segment, s.instrument_count);
      m.sizeBytes.set(segment, s.total_bytes);
      m.writerAlive.set(segment, s.writer_alive ? 1 : 0);
      if (s.heartbeat_age_ms !== null) m.heartbeatAgeSeconds.set(segment, s.heartbeat_age_ms / 1000);
      if (s.readers !== null) {
        m.readers.set(segment, s.readers.length);
        for (const [pid, t] of perProcess(s.readers)) {
          setCounter(m.readerEventsRead, { segment: name, pid }, t.read);
          setCounter(m.readerEventsLost, { segment: name, pid }, t.lost);
        }
      }
      for (const [f, c] of m.counters) setCounter(c, segment, s.counters[f]);
      for (const inst of s.instruments.slice(0, o.maxLabels)) if (inst.updates !== null) setCounter(m.instrumentUpdates, { segment: name, symbol: inst.symbol }, inst.updates);
    }
    return registry.metrics();
  };

  let running: Promise<string> | null = null;
  const scrape = (): Promise<string> => {
    running ??= once().finally(() => {
      running = null;
    });
    return running;
  };
  return { registry, scrape };
}
