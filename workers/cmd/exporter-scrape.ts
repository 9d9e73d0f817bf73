/**
 * The exporter's scrape: each segment's header read like `mdfan stat` does, turned into gauges.
 * A segment is down (`mdfan_segment_up 0`) only when its name holds no mdfan segment: missing,
 * still being made, or something else (a foreign object). Any other failure (the exporter out of
 * descriptors, a permission) is no fact about the segment: it fails the scrape (HTTP 500 with
 * the code) rather than report a live segment down. One scrape at a time: requests that arrive
 * while one runs share its result, so the writers see one control connection whatever the load.
 */
import { Gauge, Registry } from 'prom-client';
import { ErrorCode, isMdfanError } from '../../native/segment/errors.js';
import { type StatReport, statSegment } from '../../native/segment/stat.js';
import { listReaders } from '../../native/segment/control.js';
import { COUNTER_FIELDS } from '../../native/segment/header.js';
import { SEGMENT_DEFAULTS } from '../../native/segment/defaults.js';

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

const STATES = ['INITIALIZING', 'READY', 'BROKEN', 'CLOSED'];

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

/** The registry and `scrape()`, the shared one-at-a-time scrape (rejects with the MdfanError that kept it from telling). */
export function scraper(o: ScrapeOptions): { registry: Registry; scrape: () => Promise<string> } {
  const registry = new Registry();
  const g = (name: string, help: string, labels: string[] = ['segment']) => new Gauge({ name, help, labelNames: labels, registers: [registry] });
  const up = g('mdfan_segment_up', 'The segment exists and is an mdfan segment (1) or not (0)');
  const state = g('mdfan_segment_state', 'The segment state: 1 for the current one', ['segment', 'state']);
  const generation = g('mdfan_segment_generation', 'Writer generation (+1 at each takeover)');
  const alive = g('mdfan_writer_alive', 'The writer holds its lock and beats (1) or not (0)');
  const heartbeat = g('mdfan_writer_heartbeat_age_seconds', 'Age of the writer heartbeat');
  const instruments = g('mdfan_segment_instruments', 'Instruments in the directory');
  const readers = g('mdfan_readers', 'Readers attached through the control plane');
  const eventsLost = g('mdfan_reader_events_lost', 'Events the attached readers lost to lapping, as they last reported');
  const counters = new Map(COUNTER_FIELDS.map((f) => [f, g(`mdfan_${f}`, `The segment counter ${f} (as the writer last flushed it)`)]));
  const updates = g('mdfan_instrument_updates', `Commits to an instrument's slot in this generation (the first ${o.maxLabels} instruments)`, ['segment', 'symbol']);

  const once = async (): Promise<string> => {
    registry.resetMetrics();
    for (const name of o.segments) {
      let s: StatReport;
      try {
        s = await statOf(name, o.controlTimeoutMs);
      } catch (e) {
        if (!isMdfanError(e)) throw e;
        if (!DOWN.has(e.code)) throw e; // the error names the segment, the code and the errno
        up.set({ segment: name }, 0);
        continue;
      }
      up.set({ segment: name }, 1);
      for (const st of STATES) state.set({ segment: name, state: st }, s.state === st ? 1 : 0);
      generation.set({ segment: name }, s.generation);
      alive.set({ segment: name }, s.writer_alive ? 1 : 0);
      if (s.heartbeat_age_ms !== null) heartbeat.set({ segment: name }, s.heartbeat_age_ms / 1000);
      instruments.set({ segment: name }, s.instrument_count);
      if (s.readers !== null) {
        readers.set({ segment: name }, s.readers.length);
        eventsLost.set({ segment: name }, s.readers.reduce((a, r) => a + (r.events_lost ?? 0), 0));
      }
      for (const [f, gauge] of counters) gauge.set({ segment: name }, s.counters[f]);
      for (const inst of s.instruments.slice(0, o.maxLabels)) if (inst.updates !== null) updates.set({ segment: name, symbol: inst.symbol }, inst.updates);
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
