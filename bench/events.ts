/**
 * `mdfan bench events`: the event ring on its own. Throughput: events appended per second at the
 * writer's top rate with 0, 1, 2 and 4 spinning reader processes, the writer's cost per event,
 * and what the readers lost to lapping. Latency: publish -> observe per event at a steady rate
 * (coordinated-omission corrected), against the same-run core-to-core handoff.
 */
import { fileURLToPath } from 'node:url';
import * as hdr from 'hdr-histogram-js';
import { type Child, lastJson, logLine, spawnChild } from '../lib/child.js';
import { LogEvent } from '../lib/log.js';
import { SegmentWriter, newEventFields } from '../native/segment/index.js';
import { native } from '../native/segment/binding.js';
import { onAbort } from './abort.js';
import { BENCH_DEFAULTS } from './defaults.js';
import { median } from './machine.js';
import { paced } from './paced.js';
import { c2cBaselineEntry, type C2cResult } from './c2c.js';
import type { Curve, Section } from './report/types.js';
import { type LatencyPercentiles, percentilesOf } from '../lib/percentiles.js';
import { LATENCY_COLUMNS, medianPercentiles } from './section.js';
import { newHistogram } from './shm-session.js';
import { ITCH_SPEC } from '../native/segment/directory.js';
import { NativeItchVenue, Publisher } from '../feed/index.js';

const READER = fileURLToPath(new URL('./event-reader-proc.js', import.meta.url));
/** A ring large enough that a paced reader is never lapped, small enough to stay in cache levels that matter. */
const RING_EVENTS = 65536;
export const EVENTS_DEFAULTS = Object.freeze({ readerCounts: Object.freeze([0, 1, 2, 4]) });

let counter = 0;

interface Once {
  events_per_s: number;
  writer_ns_per_event: number;
  lost: number;
  read: number;
  hist: hdr.Histogram;
}

/** Who appends: the TypeScript ring writer (SegmentWriter.appendEvent), or the addon's ITCH engine (a trade message a call). */
type EventWriter = 'js' | 'addon';

/** A stock directory naming locate 1 BENCH, then one ITCH trade (P): a message whose only output is one event. */
function itchTradeFrames(): { directory: Buffer; trade: Buffer } {
  const directory = Buffer.alloc(2 + 39, 0x20);
  directory.writeUInt16BE(39, 0);
  directory[2] = 0x52; // R
  directory.writeUInt16BE(1, 3);
  directory.writeUInt32BE(0, 5);
  directory.writeUInt32BE(0, 9);
  directory.write('BENCH   ', 13, 'latin1');
  const trade = Buffer.alloc(2 + 44, 0);
  trade.writeUInt16BE(44, 0);
  trade[2] = 0x50; // P
  trade.writeUInt16BE(1, 3);
  trade.writeBigUInt64BE(7n, 13); // order reference
  trade[21] = 0x42; // B
  trade.writeUInt32BE(100, 22);
  trade.write('BENCH   ', 26, 'latin1');
  trade.writeUInt32BE(5_794_000, 34);
  return { directory, trade };
}

/** One session: `readers` spinning reader processes; the writer appends for `seconds`, paced at `rate` or flat out. */
async function once(readers: number, seconds: number, rate: number | 'max', writer: EventWriter = 'js'): Promise<Once> {
  const name = `mdfan-bench-events-${process.pid}-${++counter}`;
  const w = SegmentWriter.open({ name, maxInstruments: 1, levels: 1, ringEvents: RING_EVENTS });
  const children: Child[] = [];
  let closed = false;
  const off = onAbort(() => {
    for (const c of children) c.signal('SIGKILL');
    if (!closed) w.close({ unlink: true });
  });
  const engine = writer === 'addon' ? NativeItchVenue.for(new Publisher(w), 1) : null;
  try {
    if (engine === null) w.addInstrument('BENCH', 1, ITCH_SPEC);
    for (let i = 0; i < readers; i++) children.push(spawnChild(`event reader ${i}`, READER, [name]));
    await Promise.all(children.map((c) => logLine(c, (l) => l.event === LogEvent.READER_ATTACHED, BENCH_DEFAULTS.readyTimeoutMs)));
    const e = newEventFields();
    e.kind = 0x54; // 'T'
    e.action = 0x45;
    e.instrumentIndex = 0;
    e.price = 579_400_000_000;
    e.size = 100;
    const t0 = native.monotonicNs();
    let appended = 0;
    if (engine !== null) {
      // The engine's own clock read stamps each record just before it appends it (C, release
      // stores): the figure is the addon's append to the reader's observation.
      const { directory, trade } = itchTradeFrames();
      engine.run(directory, 0, directory.length, 0, 1);
      appended =
        rate === 'max'
          ? 0
          : paced(rate, seconds, (k) => {
              engine.run(trade, 0, trade.length, k + 1, 1);
            }).sent;
    } else if (rate === 'max') {
      const end = t0 + seconds * 1e9;
      for (let k = 1; ; k++) {
        e.msgIndex = k;
        w.appendEvent(e);
        appended++;
        if ((k & 1023) === 0 && native.monotonicNs() >= end) break;
      }
    } else {
      appended = paced(rate, seconds, (k) => {
        e.msgIndex = k;
        w.appendEvent(e);
      }).sent;
    }
    const wallNs = native.monotonicNs() - t0;
    engine?.free();
    w.close({ unlink: true });
    closed = true;
    const hist = newHistogram();
    let lost = 0;
    let read = 0;
    for (const c of children) {
      const ex = await c.exited;
      const s = lastJson<{ read: number; lost: number; hist: string }>(c);
      if (ex.code !== 0 || !s) throw new Error(`bench events: ${c.describeExit()}`);
      hist.add(hdr.decodeFromCompressedBase64(s.hist));
      lost += s.lost;
      read += s.read;
    }
    return { events_per_s: appended / (wallNs / 1e9), writer_ns_per_event: wallNs / appended, lost, read, hist };
  } finally {
    off();
    engine?.free();
    for (const c of children) c.signal('SIGKILL');
    if (!closed) w.close({ unlink: true });
  }
}

export async function eventsBench(o: { runs: number; seconds: number; rate: number; log: (s: string) => void; readerCounts?: readonly number[] }, c2c: C2cResult): Promise<Section> {
  const readerCounts = o.readerCounts ?? EVENTS_DEFAULTS.readerCounts;
  const results: Array<Record<string, unknown>> = [];
  const curves: Curve[] = [];
  for (const n of readerCounts) {
    const runs: Once[] = [];
    for (let r = 0; r < o.runs; r++) runs.push(await once(n, o.seconds, 'max'));
    const row = {
      mode: 'max rate',
      readers: n,
      events_per_s: median(runs.map((x) => x.events_per_s)),
      writer_ns_per_event: median(runs.map((x) => x.writer_ns_per_event)),
      lost_pct: n === 0 ? 0 : median(runs.map((x) => (100 * x.lost) / Math.max(1, x.lost + x.read))),
    };
    results.push(row);
    o.log(`  max rate, ${n} reader(s): ${(row.events_per_s / 1e6).toFixed(2)} M events/s, writer ${row.writer_ns_per_event.toFixed(0)} ns/event, ${row.lost_pct.toFixed(1)} % lost to lapping`);
  }
  // The paced rows: the TypeScript writer with 1, 2 and 4 readers; the addon's ITCH engine (the
  // writer `mdfan feed` uses at full speed) with one.
  const paced_: Array<[number, EventWriter]> = [...readerCounts.filter((k) => k > 0).map((k): [number, EventWriter] => [k, 'js']), [1, 'addon']];
  for (const [n, writer] of paced_) {
    const runs: Once[] = [];
    for (let r = 0; r < o.runs; r++) runs.push(await once(n, o.seconds, o.rate, writer));
    const merged = newHistogram();
    for (const x of runs) merged.add(x.hist);
    const lat: LatencyPercentiles = medianPercentiles(runs.map((x) => percentilesOf(x.hist)));
    const mode = writer === 'js' ? `${o.rate}/s` : `${o.rate}/s, addon engine`;
    results.push({ mode, writer, readers: n, read: runs.reduce((a, x) => a + x.read, 0), latency_ns: lat, ratio_to_c2c_p50: lat.p50 / c2c.p50, lost: runs.reduce((a, x) => a + x.lost, 0) });
    curves.push({ label: `events, ${n} reader(s) at ${mode}`, histogram: merged });
    o.log(`  ${mode}, ${n} reader(s): p50 ${lat.p50} ns (${(lat.p50 / c2c.p50).toFixed(1)}x handoff), p99 ${lat.p99} ns`);
  }
  return {
    benchmark: 'events',
    title: `The event ring: throughput and publish->observe latency with spinning reader processes (median of ${o.runs} runs)`,
    baseline: c2cBaselineEntry(c2c),
    results,
    columns: [
      { key: 'mode', label: 'writer' },
      { key: 'readers', label: 'readers' },
      { key: 'events_per_s', label: 'events/s', digits: 0 },
      { key: 'writer_ns_per_event', label: 'writer ns/event', digits: 0 },
      { key: 'lost_pct', label: 'lost %', digits: 1 },
      ...LATENCY_COLUMNS,
      { key: 'ratio_to_c2c_p50', label: '× c2c p50', digits: 1 },
    ],
    note: `Ring of ${RING_EVENTS} records. "addon engine": the writer is the addon's ITCH engine, one trade message a call, its record stamped by its own clock read just before the append (the path of mdfan feed at full speed); the others, the TypeScript ring writer. At the writer's top rate a reader that is slower than the writer is lapped: "lost %" is its share of events lost, each one counted. Latency rows are paced; every event is recorded (not conflated, so no coordinated-omission correction); publish time is read once per input message (here once per event). More spinning readers than cores share CPUs with the writer, and their latency then includes scheduler time slices.`,
    curves,
  };
}
