/**
 * `mdfan bench live`: the live Binance path end to end, venue to reader, on one host. This
 * process runs the venue-replay server (feed/binance/venue-server) at speed max over a recording
 * and stamps each frame's send (CLOCK_MONOTONIC, one clock for every process here); a child
 * `mdfan feed --source VENUE:live` takes the frames over WebSocket and its snapshot over REST and
 * publishes the book; a child reader (live-reader-proc.ts) spins on the slot and stamps each book
 * it observes. Books are matched back to their depth frames by message index (live-match.ts).
 *
 * What it is and is not: at speed max the server writes frames in bursts (256 lines per event
 * loop turn, waiting only when a client has 4 MiB unsent), so a frame can wait behind the burst in
 * the socket and in the feed: the figures are a saturated path, not an idle one. "Sent" is when
 * ws handed the frame to the socket. A seqlock reader sees the newest book: books committed
 * faster than it looks are conflated, so the latency is of the observed books. Three busy
 * processes (server, feed, spinning reader) share this host's cores with whatever else runs.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as hdr from 'hdr-histogram-js';
import { NO_FAULTS, VenueServer, mergeCaptures, readCapture } from '../feed/index.js';
import { type Child, lastJson, spawnChild, spawnMdfan } from '../lib/child.js';
import { LogEvent, createLogger } from '../lib/log.js';
import { type LatencyPercentiles, percentilesOf } from '../lib/percentiles.js';
import { native } from '../native/segment/binding.js';
import { ErrorCode, MdfanError } from '../native/segment/errors.js';
import { SegmentReader } from '../native/segment/reader.js';
import { newLatencyHistogram } from '../workers/index.js';
import { onAbort } from './abort.js';
import { type C2cResult, c2cBaselineEntry } from './c2c.js';
import { BENCH_DEFAULTS } from './defaults.js';
import { CRYPTO_DIR } from './feed-binance.js';
import { type MatchCounts, type Sends, matchBooks } from './live-match.js';
import { median } from './machine.js';
import type { Section } from './report/types.js';
import { LATENCY_COLUMNS, medianPercentiles } from './section.js';
import { until } from './until.js';

const LIVE_READER = fileURLToPath(new URL('./live-reader-proc.js', import.meta.url));

export const LIVE_SETS: ReadonlyArray<{ prefix: string; feed: string; symbol: string }> = Object.freeze([
  { prefix: 'spot-BTCUSDT-2024-08-08', feed: 'binance-spot', symbol: 'BTCUSDT' },
  { prefix: 'cm-BTCUSD_PERP-2024-08-08', feed: 'binance-coinm', symbol: 'BTCUSD_PERP' },
]);
const STREAMS = ['depth', 'snapshot', 'trade', 'bookTicker'];
/** After the last line is sent: the feed is done when its book shows the last depth frame, or nothing moved this long. */
const SETTLE_MS = 2_000;

interface RunResult {
  counts: MatchCounts;
  sendToObserve: hdr.Histogram;
  sendToPublish: hdr.Histogram;
  publishToObserve: hdr.Histogram;
  frames: number;
  /** First send to last send, s. */
  replaySeconds: number;
}

let runCounter = 0;

/** One session: server here, feed and reader as children; everything is stopped and removed after. */
async function liveRun(capture: string, lines: number, isDepth: Uint8Array, set: (typeof LIVE_SETS)[number], dir: string): Promise<RunResult> {
  const segment = `mdfan-bench-live-${process.pid}-${++runCounter}`;
  const out = join(dir, `${segment}.f64`);
  const sends: Sends = { ns: new Float64Array(lines + 64), line: new Int32Array(lines + 64), count: 0 };
  const server = await VenueServer.open({
    capture,
    host: '127.0.0.1',
    port: 0,
    speed: 'max',
    faults: NO_FAULTS,
    log: createLogger('mdfan-bench-venue'),
    onSent: (k, line) => {
      if (k >= sends.ns.length) return;
      sends.ns[k] = native.monotonicNs();
      sends.line[k] = line;
      sends.count = k + 1;
    },
  });
  const children: Child[] = [];
  const off = onAbort(() => {
    for (const c of children) c.signal('SIGKILL');
    void server.close();
  });
  try {
    const { port } = server.address;
    // The reader first: it waits for the segment, which the feed makes before it connects.
    children.push(spawnChild('live reader', LIVE_READER, [segment, out]));
    const feed = spawnMdfan(
      'feed',
      ['feed', '--source', `${set.feed}:live`, '--symbols', set.symbol, '--ws-url', `ws://127.0.0.1:${port}`, '--rest-url', `http://127.0.0.1:${port}`, '--segment', segment],
      { env: { ...process.env, MDFAN_LOG_LEVEL: 'debug' } }, // the snapshot's message index is a debug line
    );
    children.push(feed);
    const reader = children[0]!;
    await until(() => reader.logs.some((l) => l.event === LogEvent.READER_ATTACHED) || reader.exit !== null, BENCH_DEFAULTS.readyTimeoutMs, 'the live reader to attach');
    await server.done;
    await settle(segment, sends, isDepth);
    feed.signal('SIGINT');
    const fx = await feed.exited;
    const rx = await reader.exited;
    if (fx.code !== 0) throw new MdfanError(ErrorCode.FEED_IO, `bench live: ${feed.describeExit()}`);
    if (rx.code !== 0 || lastJson(reader) === null) throw new MdfanError(ErrorCode.FEED_IO, `bench live: ${reader.describeExit()}`);
    const taken = feed.logs.find((l) => l.event === LogEvent.FEED_SESSION_END)?.frames;
    // The mapping counts on the feed having taken exactly the frames sent, in order, on one connection.
    if (taken !== sends.count) throw new MdfanError(ErrorCode.FEED_IO, `bench live: the feed took ${String(taken)} frames, the venue sent ${sends.count}`);
    const snapshots = feed.logs.filter((l) => l.event === LogEvent.VENUE_SNAPSHOT).map((l) => l.msgIndex as number);
    const raw = readFileSync(out);
    const triples = new Float64Array(raw.buffer, raw.byteOffset, raw.byteLength / 8);
    const h = { sendToObserve: newLatencyHistogram(), sendToPublish: newLatencyHistogram(), publishToObserve: newLatencyHistogram() };
    const counts = matchBooks(triples, snapshots, sends, isDepth, h);
    return { counts, ...h, frames: sends.count, replaySeconds: (sends.ns[sends.count - 1]! - sends.ns[0]!) / 1e9 };
  } finally {
    off();
    for (const c of children) c.signal('SIGKILL');
    await server.close();
    rmSync(out, { force: true });
  }
}

/** Waits until the feed's book shows the last depth frame sent (or nothing moves for SETTLE_MS). */
async function settle(segment: string, sends: Sends, isDepth: Uint8Array): Promise<void> {
  let lastDepth = sends.count - 1;
  while (lastDepth >= 0 && isDepth[sends.line[lastDepth]!] !== 1) lastDepth--;
  const r = await SegmentReader.attach(segment, { timeoutMs: BENCH_DEFAULTS.readyTimeoutMs });
  try {
    const snap = r.newSnapshot();
    let seen = -1;
    let since = performance.now();
    for (;;) {
      r.read(0, snap);
      // Frame f is message f + 1 after the one snapshot.
      if (snap.msgIndex >= lastDepth + 1) return;
      if (snap.msgIndex !== seen) {
        seen = snap.msgIndex;
        since = performance.now();
      } else if (performance.now() - since > SETTLE_MS) return;
      await new Promise((res) => setTimeout(res, 20));
    }
  } finally {
    r.close();
  }
}

/** The recording merged into one capture, and which of its lines are depth events. */
async function loadSet(prefix: string, dir: string): Promise<{ capture: string; lines: number; isDepth: Uint8Array }> {
  const capture = join(dir, `${prefix}.capture.gz`);
  await mergeCaptures(
    STREAMS.map((s) => join(CRYPTO_DIR, `${prefix}.${s}.gz`)),
    capture,
  );
  const kinds: number[] = [];
  for await (const l of readCapture(capture)) kinds.push(l.payload.includes('@depth') ? 1 : 0);
  return { capture, lines: kinds.length, isDepth: Uint8Array.from(kinds) };
}

const two = (h: hdr.Histogram): { p50: number; p99: number } => {
  const p = percentilesOf(h);
  return { p50: p.p50, p99: p.p99 };
};

export async function liveBench(o: { runs: number; log: (s: string) => void }, c2c: C2cResult): Promise<Section> {
  const results: Array<Record<string, unknown>> = [];
  const curves: Section['curves'] = [];
  const missing = LIVE_SETS.flatMap((s) => STREAMS.map((k) => join(CRYPTO_DIR, `${s.prefix}.${k}.gz`))).filter((f) => !existsSync(f));
  if (missing.length > 0) o.log(`  Binance recordings not found (${missing[0]}; MDFAN_CRYPTO_DATA): skipped`);
  const dir = mkdtempSync(join(tmpdir(), 'mdfan-bench-live-'));
  const undo = onAbort(() => rmSync(dir, { recursive: true, force: true }));
  try {
    for (const set of missing.length > 0 ? [] : LIVE_SETS) {
      const { capture, lines, isDepth } = await loadSet(set.prefix, dir);
      const runs: RunResult[] = [];
      for (let i = 0; i < o.runs; i++) {
        const r = await liveRun(capture, lines, isDepth, set, dir);
        const p = percentilesOf(r.sendToObserve);
        o.log(
          `  ${set.feed} run ${i + 1}: ${r.counts.matched} books of ${r.counts.depthFrames} depth frames, send->observe p50 ${(p.p50 / 1e3).toFixed(1)} us p99 ${(p.p99 / 1e3).toFixed(1)} us, ${r.frames} frames in ${r.replaySeconds.toFixed(2)} s`,
        );
        runs.push(r);
      }
      const pct = (f: (r: RunResult) => hdr.Histogram): LatencyPercentiles => medianPercentiles(runs.map((r) => percentilesOf(f(r))));
      const latency = pct((r) => r.sendToObserve);
      const cnt = (f: (c: MatchCounts) => number): number => median(runs.map((r) => f(r.counts)));
      results.push({
        feed: set.feed,
        symbol: set.symbol,
        latency_ns: latency,
        send_to_publish_ns: two(mergedOf(runs.map((r) => r.sendToPublish))),
        publish_to_observe_ns: two(mergedOf(runs.map((r) => r.publishToObserve))),
        ratio_to_c2c_p50: latency.p50 / c2c.p50,
        depth_frames: cnt((c) => c.depthFrames),
        books_observed: cnt((c) => c.matched),
        observed_pct: median(runs.map((r) => (100 * r.counts.matched) / Math.max(1, r.counts.depthFrames))),
        warmup: cnt((c) => c.warmup),
        unmatched: cnt((c) => c.unmatched),
        frames: median(runs.map((r) => r.frames)),
        frames_per_s: median(runs.map((r) => r.frames / Math.max(1e-9, r.replaySeconds))),
        runs: o.runs,
      });
      curves.push({ label: `${set.feed} send->observe`, histogram: mergedOf(runs.map((r) => r.sendToObserve)) });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    undo();
  }
  return {
    benchmark: 'live',
    title: `Binance live through venue-replay at speed max, venue send -> reader observe of the book (median of ${o.runs} runs)`,
    baseline: c2cBaselineEntry(c2c),
    results,
    columns: [
      { key: 'feed', label: 'feed' },
      ...LATENCY_COLUMNS,
      { key: 'send_to_publish_ns.p50', label: 'send->publish p50 ns' },
      { key: 'publish_to_observe_ns.p50', label: 'publish->observe p50 ns' },
      { key: 'ratio_to_c2c_p50', label: '× c2c p50', digits: 0 },
      { key: 'depth_frames', label: 'depth frames' },
      { key: 'books_observed', label: 'books observed' },
      { key: 'unmatched', label: 'unmatched' },
      { key: 'frames_per_s', label: 'frames/s', digits: 0 },
    ],
    note:
      'Venue send (the server, in the bench process, handing the frame to the socket) to a spinning reader process observing the book, on CLOCK_MONOTONIC. ' +
      'At speed max frames leave in bursts, so this is the path saturated, queueing included. A seqlock reader sees the newest book: ' +
      '"books observed" is below "depth frames" when commits are conflated, and the latency is of the observed books. send->publish and publish->observe split it at the writer\'s publish_ts (p50 of all runs\' books).',
    curves,
  };
}

function mergedOf(hs: hdr.Histogram[]): hdr.Histogram {
  const m = newLatencyHistogram();
  for (const h of hs) m.add(h);
  return m;
}
