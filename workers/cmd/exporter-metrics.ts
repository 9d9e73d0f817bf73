/**
 * The exporter's metric families, named by Prometheus conventions: a count that only grows is a
 * counter ending in `_total`, a level that can go down is a gauge; times in seconds, sizes in
 * bytes; each with its HELP. The names are the exporter's interface to dashboards and alerts: a
 * rename breaks them (docs/EXPORTER.md lists the old names).
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { CounterName } from '../../native/segment/header.js';

/** HELP of each header counter, exported as `mdfan_<field>_total` (the field as `mdfan stat --json` and docs/ABI.md name it). */
export const COUNTER_HELP: Readonly<Record<CounterName, string>> = Object.freeze({
  messages: 'Input messages the writer processed',
  publishes: 'Book commits to the slots',
  input_bytes: 'Input bytes the writer processed',
  events: 'Records appended to the event ring',
  unknown_message_types: 'Input messages of a type the decoder skips',
  unknown_order_refs: 'Messages naming an order the book does not know',
  feed_gaps: 'Sequence gaps detected in a live feed',
  feed_duplicates: 'Duplicate packets dropped',
  reader_attaches: 'Reader attaches the writer learned of through its control plane',
  reader_detaches: 'Reader detaches the writer learned of through its control plane',
  version_mismatches: 'Attach attempts refused for an ABI mismatch that the writer learned of',
  takeovers: 'Times a writer took the segment over from a dead one (writer restarts)',
  stale_marks: 'Books marked stale',
  reveals: 'LOBSTER levels entering the window from below',
  malformed_messages: 'Input messages and packets dropped as malformed',
  unannounced_messages: 'Order messages for stock locates no directory message named',
  feed_recovered: 'Messages a gap lost that a re-request brought back',
  feed_unrecovered: 'Messages lost for good (recovery gave up)',
  instruments_refused: 'Instruments given no slot because the directory was full',
});

/** The segment states a scrape reports (UNINITIALIZED is a segment not made yet: down). */
export const SEGMENT_STATES = ['INITIALIZING', 'READY', 'BROKEN', 'CLOSED'] as const;

export interface ExporterMetrics {
  buildInfo: Gauge;
  up: Gauge;
  state: Gauge;
  generation: Gauge;
  instruments: Gauge;
  sizeBytes: Gauge;
  writerAlive: Gauge;
  heartbeatAgeSeconds: Gauge;
  readers: Gauge;
  counters: ReadonlyMap<CounterName, Counter>;
  instrumentUpdates: Counter;
  readerEventsLost: Counter;
  readerEventsRead: Counter;
}

/** Registers every family on `registry`; `maxLabels` is only quoted in a HELP. */
export function exporterMetrics(registry: Registry, maxLabels: number): ExporterMetrics {
  const registers = [registry];
  const gauge = (name: string, help: string, labelNames: string[] = ['segment']) => new Gauge({ name, help, labelNames, registers });
  const counter = (name: string, help: string, labelNames: string[] = ['segment']) => new Counter({ name, help, labelNames, registers });
  return {
    buildInfo: gauge('mdfan_build_info', 'Always 1: the mdfan version, the segment ABI this exporter speaks, and its Node.js version', ['version', 'abi_major', 'abi_minor', 'node']),
    up: gauge('mdfan_segment_up', 'The name holds an mdfan segment (1) or not: missing, not made yet, or a foreign object (0)'),
    state: gauge('mdfan_segment_state', 'The segment state: 1 for the current one, 0 for the others', ['segment', 'state']),
    generation: gauge('mdfan_segment_generation', 'Writer generation of the segment (1 when made, +1 at each takeover)'),
    instruments: gauge('mdfan_segment_instruments', 'Instruments in the segment directory'),
    sizeBytes: gauge('mdfan_segment_size_bytes', 'Size of the segment object in bytes'),
    writerAlive: gauge('mdfan_writer_alive', 'The writer holds its lock and its heartbeat is fresh (1) or not (0)'),
    heartbeatAgeSeconds: gauge('mdfan_writer_heartbeat_age_seconds', 'Seconds since the writer last stored its heartbeat'),
    readers: gauge('mdfan_readers', 'Readers attached through the control plane'),
    counters: new Map(Object.entries(COUNTER_HELP).map(([f, help]) => [f as CounterName, counter(`mdfan_${f}_total`, `${help} (as the writer last flushed it)`)])),
    instrumentUpdates: counter('mdfan_instrument_updates_total', `Commits to an instrument's slot in this writer generation (the first ${maxLabels} instruments of each segment)`, ['segment', 'symbol']),
    readerEventsLost: counter('mdfan_reader_events_lost_total', 'Events the attached readers of a process lost to lapping, as they last reported', ['segment', 'pid']),
    readerEventsRead: counter('mdfan_reader_events_read_total', 'Events the attached readers of a process read from the ring, as they last reported', ['segment', 'pid']),
  };
}

/** Sets a counter series to the absolute value read from the segment (the registry is reset before each scrape, so adding is setting). */
export function setCounter(c: Counter, labels: Record<string, string | number>, value: number): void {
  c.inc(labels, value);
}
