/**
 * `mdfan bench scale`: how costs grow with the market. For N = 1, 100, 1,000 and 10,000
 * instruments, in one run:
 *  - feed throughput with publication, on a `gen-market` file of N relabelled copies of the GOOG
 *    day (the whole day for N = 1; 2 million messages, interleaved by time, above);
 *  - the writer's memory: the segment's bytes for N instruments, and the peak RSS of `mdfan feed`
 *    replaying that file;
 *  - at the largest N, all of it again with the segment on 2 MiB pages where /dev/shm allows
 *    them (mounted huge=advise), against 4 KiB pages;
 *  - two spinning readers in other processes, one at a time (this machine has two cores): one
 *    watching a single symbol (`mdfan read --symbols`), one watching all. The writer (this
 *    process) paces at the steady rate: every tenth publish goes to the watched symbol at every N
 *    (so its update rate is the same), the rest spread over the others (none at N = 1: the quiet
 *    baseline). Each reader records publish -> observe (coordinated-omission corrected at the
 *    interval it sees) and its CPU per observed update.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastJson, spawnMdfan } from '../lib/child.js';
import { LogEvent } from '../lib/log.js';
import { type LoadedFeed, copySymbol, generateMarket, readMarketSources } from '../feed/index.js';
import { SegmentWriter } from '../native/segment/writer.js';
import { unlinkSegmentObjects } from '../native/segment/objects.js';
import { statSegment } from '../native/segment/stat.js';
import { checkHugePages } from '../native/segment/huge-pages.js';
import { ErrorCode, isMdfanError } from '../native/segment/errors.js';
import { c2cBaselineEntry, type C2cResult } from './c2c.js';
import { GOOG_FILE, type ItchEngineKind, publicationRate } from './feed.js';
import { median } from './machine.js';
import { paced } from './paced.js';
import type { Section } from './report/types.js';
import type { LatencyPercentiles } from '../lib/percentiles.js';
import { medianPercentiles } from './section.js';
import { until } from './until.js';
import { writerSession } from './writer-session.js';
import { makeBook } from './shm-session.js';
import { ITCH_SPEC } from '../native/segment/directory.js';

export const SCALE_DEFAULTS = Object.freeze({
  instruments: Object.freeze([1, 100, 1000, 10000]),
  /** Messages of the generated file above one instrument. */
  messages: 2_000_000,
  /** Every this-many-th publish goes to the watched symbol. */
  watchedEvery: 10,
});

export interface ScaleOptions {
  runs: number;
  seconds: number;
  rate: number;
  log: (s: string) => void;
  /** The market sizes (default SCALE_DEFAULTS.instruments) and generated messages (default SCALE_DEFAULTS.messages). */
  instruments?: readonly number[];
  messages?: number;
}

export interface ScaleRow {
  instruments: number;
  /** The segment's pages: 4 KiB, or 2 MiB (shared-memory huge pages) where /dev/shm allows them. */
  pages: '4 KiB' | '2 MiB';
  /** The addon's engine with no slot to publish to: framing, decode, books and top-N change alone. */
  feed_books_msgs_per_s: number;
  /** The feed with publication (the addon's engine, `mdfan feed`'s path at full speed). */
  feed_msgs_per_s: number;
  /** The same with the event ring on. */
  feed_ring_msgs_per_s: number;
  /** What the ring costs: 1 - feed_ring_msgs_per_s / feed_msgs_per_s. */
  ring_cost: number;
  /** The TypeScript engine (the reference) with the event ring. */
  feed_ts_ring_msgs_per_s: number;
  reader: 'one' | 'all';
  latency_ns: Pick<LatencyPercentiles, 'p50' | 'p99'>;
  cpu_ns_per_update: number;
  updates: number;
  segment_bytes: number;
  writer_rss_bytes: number;
}

const LEVELS = 10;
const READY_MS = 30_000;
let sessions = 0;

/** The generated market for N instruments, written to `file`; returns its message count and bytes (kept: the file is not read back). */
async function writeMarket(n: number, file: string, total: number): Promise<{ messages: number; feed: LoadedFeed }> {
  const o = { sources: [GOOG_FILE], instruments: n, messages: n === 1 ? Number.MAX_SAFE_INTEGER : total };
  const parts: Uint8Array[] = [];
  let count = 0;
  for (const framed of generateMarket(o, await readMarketSources(o))) {
    parts.push(framed);
    count++;
  }
  const bytes = Buffer.concat(parts);
  writeFileSync(file, bytes);
  return { messages: count, feed: { file, bytes, gzipProblem: null } };
}

/** Peak RSS (VmHWM) of `mdfan feed` replaying `file` at full speed, sampled until it exits. */
async function feedRss(file: string): Promise<number> {
  const name = `mdfan-bench-scale-feed-${process.pid}-${++sessions}`;
  const c = spawnMdfan('feed', ['feed', '--source', `itch:${file}`, '--segment', name, '--speed', 'max']);
  let peak = 0;
  try {
    while (c.exit === null) {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${c.pid}/status`, 'utf8'));
        if (m) peak = Math.max(peak, Number(m[1]) * 1024);
      } catch {
        /* exiting */
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    if (c.exit.code !== 0) throw new Error(c.describeExit());
    return peak;
  } finally {
    await c.kill();
    unlinkSegmentObjects(name);
  }
}

interface ReaderResult {
  latency: LatencyPercentiles;
  cpuNsPerUpdate: number;
  updates: number;
  segmentBytes: number;
}

/** One reader process (`one`: watching the first symbol) following a paced writer of N instruments. */
async function readerSession(n: number, reader: 'one' | 'all', rate: number, seconds: number, hugePages: boolean): Promise<ReaderResult> {
  const name = `mdfan-bench-scale-${process.pid}-${++sessions}`;
  const intervalNs = 1e9 / rate;
  const every = SCALE_DEFAULTS.watchedEvery;
  const w = SegmentWriter.open({ name, maxInstruments: n, levels: LEVELS, hugePages });
  const session = writerSession(w, name);
  const children = session.children;
  try {
    const src = makeBook();
    const symbols = Array.from({ length: n }, (_, k) => copySymbol('GOOG', k, n));
    for (let k = 0; k < n; k++) {
      w.addInstrument(symbols[k]!, k + 1, ITCH_SPEC);
      w.publish(k, src, 0, 0);
    }
    const segmentBytes = statSegment(name).total_bytes;
    const co = ['--expected-interval-ns', String(reader === 'one' || n === 1 ? intervalNs * every : intervalNs)];
    const args = ['read', '--segment', name, '--wait', 'spin', '--histogram', ...co, ...(reader === 'one' ? ['--symbols', symbols[0]!] : [])];
    const c = spawnMdfan(`reader ${reader}`, args, { env: { ...process.env, MDFAN_LOG_LEVEL: 'info' } });
    children.push(c);
    await until(() => c.logs.some((l) => l.event === LogEvent.READER_ATTACHED), READY_MS, () => `the reader did not attach: ${c.describeExit()}`);
    paced(rate, seconds, (k) => {
      // The watched symbol gets every tenth publish at every N; the rest go to the others (at
      // N = 1 there are none: a quiet market, the baseline).
      if (k % every !== 0 && n === 1) return;
      const slot = k % every === 0 ? 0 : 1 + (k % (n - 1));
      src.bids[0] = 990_000 + (k & 1023);
      w.publish(slot, src, k, k);
    });
    w.close({ unlink: false }); // CLOSED: the reader prints its summary and exits
    await c.exited;
    const s = lastJson<{ updates: number; cpu_ms: number; latency_ns: LatencyPercentiles }>(c);
    if (s === null) throw new Error(`no summary from the ${reader} reader: ${c.describeExit()}`);
    return { latency: s.latency_ns, cpuNsPerUpdate: (s.cpu_ms * 1e6) / Math.max(1, s.updates), updates: s.updates, segmentBytes };
  } finally {
    session.end();
  }
}

export async function scaleBench(o: ScaleOptions, c2c: C2cResult): Promise<Section> {
  const dir = mkdtempSync(join(tmpdir(), 'mdfan-bench-scale-'));
  const rows: ScaleRow[] = [];
  try {
    const sizes = o.instruments ?? SCALE_DEFAULTS.instruments;
    const largest = Math.max(...sizes);
    let huge = true;
    try {
      checkHugePages('bench');
    } catch (e) {
      if (!isMdfanError(e, ErrorCode.NO_HUGE_PAGES)) throw e;
      huge = false;
      o.log(`  2 MiB pages: not measured (${e.message})`);
    }
    for (const n of sizes) {
      const file = join(dir, `market-${n}.itch`);
      const { messages, feed } = await writeMarket(n, file, o.messages ?? SCALE_DEFAULTS.messages);
      const rss = await feedRss(file);
      // 4 KiB pages at every size; 2 MiB pages as well at the largest, where /dev/shm allows them.
      for (const pages of n === largest && huge ? (['4 KiB', '2 MiB'] as const) : (['4 KiB'] as const)) {
        const hugePages = pages === '2 MiB';
        // The product's path (the addon's engine) without and with the event ring, and the
        // TypeScript engine (the reference) with it, each warmed once (JIT, page faults).
        const rate = (ring: boolean, engine: ItchEngineKind, publish = true): number => {
          publicationRate(feed, ring, hugePages, engine, publish);
          return median(Array.from({ length: o.runs }, () => publicationRate(feed, ring, hugePages, engine, publish)));
        };
        const booksRate = rate(false, 'addon', false);
        const feedRate = rate(false, 'addon');
        const feedRingRate = rate(true, 'addon');
        const feedTsRingRate = rate(true, 'ts');
        o.log(
          `  ${n} instruments, ${pages} pages: ${messages} messages, feed ${(feedRate / 1e6).toFixed(2)} M msg/s, with the event ring ${(feedRingRate / 1e6).toFixed(2)} M msg/s (TypeScript engine ${(feedTsRingRate / 1e6).toFixed(2)}), feed RSS ${(rss / 2 ** 20).toFixed(0)} MiB`,
        );
        for (const reader of ['one', 'all'] as const) {
          const results: ReaderResult[] = [];
          for (let r = 0; r < o.runs; r++) results.push(await readerSession(n, reader, o.rate, o.seconds, hugePages));
          const lat = medianPercentiles(results.map((x) => x.latency));
          const row: ScaleRow = {
            instruments: n,
            pages,
            feed_books_msgs_per_s: booksRate,
            feed_msgs_per_s: feedRate,
            feed_ring_msgs_per_s: feedRingRate,
            ring_cost: 1 - feedRingRate / feedRate,
            feed_ts_ring_msgs_per_s: feedTsRingRate,
            reader,
            latency_ns: { p50: lat.p50, p99: lat.p99 },
            cpu_ns_per_update: median(results.map((x) => x.cpuNsPerUpdate)),
            updates: median(results.map((x) => x.updates)),
            segment_bytes: results[0]!.segmentBytes,
            writer_rss_bytes: rss,
          };
          rows.push(row);
          o.log(`    reader ${reader}: p50 ${lat.p50} ns, p99 ${lat.p99} ns, ${row.cpu_ns_per_update.toFixed(0)} CPU ns per update (${row.updates} updates)`);
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const at = (n: number, reader: 'one' | 'all'): ScaleRow | undefined => rows.find((r) => r.instruments === n && r.reader === reader && r.pages === '4 KiB');
  const one1 = at(1, 'one');
  const one10k = at(10000, 'one');
  return {
    benchmark: 'scale',
    title: `Scale: 1 to 10,000 instruments, readers at ${o.rate}/s (median of ${o.runs} runs)`,
    baseline: {
      ...c2cBaselineEntry(c2c),
      rate_per_s: o.rate,
      one_reader_p50_ratio_10000_to_1: one1 && one10k ? one10k.latency_ns.p50 / one1.latency_ns.p50 : null,
      feed_ratio_10000_to_1: one1 && one10k ? one10k.feed_msgs_per_s / one1.feed_msgs_per_s : null,
      feed_ring_ratio_10000_to_1: one1 && one10k ? one10k.feed_ring_msgs_per_s / one1.feed_ring_msgs_per_s : null,
    },
    results: rows.map((r) => ({ ...r, segment_bytes_per_instrument: r.segment_bytes / r.instruments })),
    columns: [
      { key: 'instruments', label: 'instruments' },
      { key: 'pages', label: 'pages' },
      { key: 'feed_books_msgs_per_s', label: 'books msg/s', digits: 0 },
      { key: 'feed_msgs_per_s', label: 'feed msg/s', digits: 0 },
      { key: 'feed_ring_msgs_per_s', label: '+ ring msg/s', digits: 0 },
      { key: 'ring_cost', label: 'ring cost', digits: 3 },
      { key: 'feed_ts_ring_msgs_per_s', label: 'TS engine + ring msg/s', digits: 0 },
      { key: 'reader', label: 'reader' },
      { key: 'latency_ns.p50', label: 'p50 ns' },
      { key: 'latency_ns.p99', label: 'p99 ns' },
      { key: 'cpu_ns_per_update', label: 'CPU ns/update', digits: 0 },
      { key: 'segment_bytes', label: 'segment bytes', digits: 0 },
      { key: 'writer_rss_bytes', label: 'feed RSS bytes', digits: 0 },
    ],
    note: 'Feed: decode, books and a seqlock commit per change (the addon\'s engine, as `mdfan feed` at full speed; books: the same with no slot to publish to; + ring: every event appended too; TS: the TypeScript engine, the reference), in memory at full speed, on N relabelled copies of the GOOG day (the whole day at N = 1, 2 M messages above). Readers: spinning, one at a time; "one" watches a single symbol (BookReader symbols: its slot alone is loaded), "all" loads every slot on each poll. Every tenth paced publish goes to the watched symbol at every N, the others to the other instruments (none at N = 1).',
    curves: [],
  };
}
