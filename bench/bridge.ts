/**
 * `mdfan bench bridge`: publish -> observe through NATS on this host, beside the shared-memory
 * reader of the same run. This process is the writer (a 10-level book whose best bid moves on
 * every publish); `mdfan bridge` follows the segment and publishes the top changes; a subscriber
 * process (bridge-subscriber.ts) records the origin writer's commit -> receipt, both on this host's
 * CLOCK_MONOTONIC. Latency rows at the steady rate for the bridge blocking and spinning, and the
 * shm top reader (spinning) for comparison; a throughput row with the writer back to back: the
 * top records the bridge sent, and the subscriber received, per second. A local nats-server
 * (JetStream on) is started for the run and removed after it.
 */
import * as hdr from 'hdr-histogram-js';
import { logLine, spawnChild, spawnMdfan } from '../lib/child.js';
import { LogEvent } from '../lib/log.js';
import { native } from '../native/segment/binding.js';
import { SegmentWriter } from '../native/segment/writer.js';
import { c2cBaselineEntry, type C2cResult } from './c2c.js';
import { median } from './machine.js';
import { NatsServer } from './nats-server.js';
import { paced } from './paced.js';
import type { Curve, Section } from './report/types.js';
import { type LatencyPercentiles, percentilesOf } from '../lib/percentiles.js';
import { LATENCY_COLUMNS, medianPercentiles } from './section.js';
import { makeBook, newHistogram, publishBackToBack, shmSession } from './shm-session.js';
import { writerSession } from './writer-session.js';
import { wire } from '../workers/index.js';
import { ITCH_SPEC } from '../native/segment/directory.js';

export interface BridgeBenchOptions {
  runs: number;
  seconds: number;
  rate: number;
  log: (s: string) => void;
}

const SUBSCRIBER = new URL('./bridge-subscriber.js', import.meta.url);
const LEVELS = 10;
const READY_MS = 30_000;
/** Records per run of the NATS-alone floor. */
const FLOOR_RECORDS = 2000;
let sessions = 0;

interface BridgeSession {
  histogram: hdr.Histogram;
  received: number;
  /** Top records the bridge sent. */
  sent: number;
  published: number;
  seconds: number;
}

async function bridgeSession(url: string, wait: 'block' | 'spin', rate: number | 'max', seconds: number): Promise<BridgeSession> {
  const name = `mdfan-bench-bridge-${process.pid}-${++sessions}`;
  const prefix = `bench${process.pid}x${sessions}`;
  const intervalNs = rate === 'max' ? 0 : 1e9 / rate;
  const w = SegmentWriter.open({ name, maxInstruments: 1, levels: LEVELS });
  const session = writerSession(w, name);
  const children = session.children;
  try {
    w.addInstrument('BENCH', 1, ITCH_SPEC);
    await w.startControl(); // as mdfan feed: a blocking bridge gets its registry line here, then sleeps on the futex
    w.startIdleHeartbeat();
    const src = makeBook();
    w.publish(0, src, 0, 0);
    const sub = spawnChild('bridge subscriber', SUBSCRIBER, [url, `${prefix}.BENCH.top`, String(intervalNs)]);
    children.push(sub);
    await sub.line(/^ready$/, READY_MS);
    const bridge = spawnMdfan('bridge', ['bridge', '--segment', name, '--nats', url, '--prefix', prefix, '--wait', wait], { env: { ...process.env, MDFAN_LOG_LEVEL: 'info' } });
    children.push(bridge);
    await logLine(bridge, (l) => l.event === LogEvent.BRIDGE_READY, READY_MS);
    const t0 = native.monotonicNs();
    let published = 0;
    if (rate === 'max') {
      published = publishBackToBack(w, src, seconds);
    } else {
      published = paced(rate, seconds, (k) => {
        src.bids[0] = 990_000 + (k & 1023);
        w.publish(0, src, k, k);
        w.wakeIfSleepers();
      }).sent;
    }
    const elapsedS = (native.monotonicNs() - t0) / 1e9;
    w.close({ unlink: false }); // CLOSED: the bridge sends what is left and exits with its summary
    const b = await bridge.exited;
    if (b.code !== 0) throw new Error(bridge.describeExit());
    const sent = (JSON.parse(bridge.stdout.at(-1) ?? '{}') as { tops?: number }).tops ?? 0;
    sub.signal('SIGTERM');
    const r = JSON.parse(await sub.line(/^\{/, READY_MS)) as { count: number; hist: string };
    return { histogram: hdr.decodeFromCompressedBase64(r.hist), received: r.count, sent, published, seconds: elapsedS };
  } finally {
    session.end();
  }
}

/**
 * NATS alone on this host: one record at a time from one connection to a subscriber on another,
 * in this process (no bridge, no segment): the transport's own floor here.
 */
async function natsFloor(url: string, count: number): Promise<hdr.Histogram> {
  const { connect } = await import('@nats-io/transport-node');
  const pub = await connect({ servers: url });
  const sub = await connect({ servers: url });
  const hist = newHistogram();
  try {
    let sentNs = 0;
    let wake: () => void = () => {};
    sub.subscribe('floor', { callback: () => {
      hist.recordValue(Math.max(1, Math.round(native.monotonicNs() - sentNs)));
      wake();
    } });
    await sub.flush();
    const record = new Uint8Array(wire.TOP_BYTES);
    for (let i = 0; i < count; i++) {
      const got = new Promise<void>((r) => {
        wake = r;
      });
      sentNs = native.monotonicNs();
      pub.publish('floor', record);
      await got;
    }
  } finally {
    await pub.close();
    await sub.close();
  }
  return hist;
}

export async function bridgeBench(o: BridgeBenchOptions, c2c: C2cResult): Promise<Section> {
  const server = await NatsServer.start();
  const results: Array<Record<string, unknown>> = [];
  const curves: Curve[] = [];
  try {
    const shm: LatencyPercentiles[] = [];
    const shmMerged = newHistogram();
    for (let r = 0; r < o.runs; r++) {
      const s = await shmSession({ readers: 1, wait: 'spin', host: 'process', rate: o.rate, seconds: o.seconds, top: true });
      shm.push(percentilesOf(s.histogram));
      shmMerged.add(s.histogram);
    }
    const floor: LatencyPercentiles[] = [];
    for (let r = 0; r < o.runs; r++) floor.push(percentilesOf(await natsFloor(server.url, FLOOR_RECORDS)));
    const floorP = medianPercentiles(floor);
    o.log(`  NATS alone (one record at a time, in one process): p50 ${floorP.p50} ns, p99 ${floorP.p99} ns`);
    const shmP = medianPercentiles(shm);
    results.push({ path: 'shared memory: mdfan read --top (spin)', wait: 'spin', latency_ns: shmP, ratio_to_c2c_p50: shmP.p50 / c2c.p50, ratio_to_shm_p50: 1 });
    results.push({ path: 'NATS alone: publish -> subscriber, one record at a time', wait: 'event loop', latency_ns: floorP, ratio_to_c2c_p50: floorP.p50 / c2c.p50, ratio_to_shm_p50: floorP.p50 / shmP.p50 });
    curves.push({ label: 'shm top reader', histogram: shmMerged });
    o.log(`  shm top reader: p50 ${shmP.p50} ns, p99 ${shmP.p99} ns`);
    for (const wait of ['block', 'spin'] as const) {
      const lat: LatencyPercentiles[] = [];
      const merged = newHistogram();
      let received = 0;
      for (let r = 0; r < o.runs; r++) {
        const s = await bridgeSession(server.url, wait, o.rate, o.seconds);
        lat.push(percentilesOf(s.histogram));
        merged.add(s.histogram);
        received += s.received;
      }
      const p = medianPercentiles(lat);
      results.push({ path: `NATS: mdfan bridge (${wait}) -> PREFIX.SYM.top -> subscriber`, wait, latency_ns: p, ratio_to_c2c_p50: p.p50 / c2c.p50, ratio_to_shm_p50: p.p50 / shmP.p50, received });
      curves.push({ label: `NATS, bridge ${wait}`, histogram: merged });
      o.log(`  NATS, bridge ${wait}: p50 ${p.p50} ns, p99 ${p.p99} ns (${(p.p50 / shmP.p50).toFixed(0)}x the shm reader)`);
    }
    const sent: number[] = [];
    const got: number[] = [];
    const pub: number[] = [];
    for (let r = 0; r < o.runs; r++) {
      const s = await bridgeSession(server.url, 'spin', 'max', o.seconds);
      sent.push(s.sent / s.seconds);
      got.push(s.received / s.seconds);
      pub.push(s.published / s.seconds);
    }
    results.push({ path: 'throughput: writer back to back, bridge spinning', wait: 'spin', writer_publishes_per_s: median(pub), bridge_sent_per_s: median(sent), received_per_s: median(got) });
    o.log(`  throughput: writer ${median(pub).toFixed(0)}/s, bridge sent ${median(sent).toFixed(0)}/s, subscriber received ${median(got).toFixed(0)}/s`);
  } finally {
    await server.stop();
  }
  return {
    benchmark: 'bridge',
    title: `NATS bridge: publish -> observe on this host at ${o.rate}/s, and throughput (median of ${o.runs} runs)`,
    baseline: { ...c2cBaselineEntry(c2c), rate_per_s: o.rate },
    results,
    columns: [
      { key: 'path', label: 'path' },
      ...LATENCY_COLUMNS,
      { key: 'ratio_to_c2c_p50', label: '× c2c p50', digits: 1 },
      { key: 'ratio_to_shm_p50', label: '× shm p50', digits: 0 },
      { key: 'bridge_sent_per_s', label: 'bridge sent/s', digits: 0 },
      { key: 'received_per_s', label: 'received/s', digits: 0 },
    ],
    note: 'Latency: the origin writer commit (its publish_ts) to the subscriber callback, both CLOCK_MONOTONIC on this host; coordinated-omission corrected at the steady rate. The bridge reads the top line like any reader, copies the record into the client, and the client writes it to the server on its event loop; the server forwards it to the subscriber process. Throughput: the writer commits back to back; a seqlock reader conflates, so the bridge sends fewer records than the writer commits.',
    curves,
  };
}
