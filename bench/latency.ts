/**
 * `mdfan bench latency`: publish -> observe through the segment, one writer publishing a 10-level
 * book at a steady rate, for 1, 2 and 4 readers and each wait strategy, readers in separate
 * processes and in the piscina pool; then the peers on the same payload in the same run
 * (worker postMessage, a Unix socket, ZeroMQ PUB/SUB over ipc://, and the C reader spinning on
 * the segment). `shm-seqlock-top` rows follow the one-line top of book instead of the whole book
 * (one reader); `floor` rows are both layouts (and a 1.x book, `book-1x`) written and read by C
 * threads (bench/peers/c_floor.c) in the same run: what the layout allows on this machine. Each row is the per-percentile median of K runs. Its ratio to the core-to-core
 * handoff is the median of per-run ratios, each to a handoff measured just before that run:
 * this machine's handoff switches between ~45 and ~200 ns as the hypervisor moves its vCPUs, and
 * one baseline for a whole run would mix the two.
 */
import { WAIT_STRATEGIES, type WaitStrategy } from '../workers/index.js';
import { median } from './machine.js';
import { measurePeer, type PeerTransport } from './peers/index.js';
import { type LatencyPercentiles, percentilesOf } from '../lib/percentiles.js';
import { LATENCY_COLUMNS, medianPercentiles } from './section.js';
import { newHistogram, shmSession } from './shm-session.js';
import type { Curve, Section } from './report/types.js';
import { c2cBaseline, c2cBaselineEntry, type C2cResult as C2c } from './c2c.js';
import { measureFloor } from './peers/floor.js';
import { loadZeromq } from './peers/zeromq-ipc.js';
import { ErrorCode, isMdfanError } from '../native/segment/errors.js';

export interface LatencyOptions {
  runs: number;
  seconds: number;
  rate: number;
  readerCounts: readonly number[];
  waits: readonly WaitStrategy[];
  peers: readonly PeerTransport[];
  log: (s: string) => void;
}

export const LATENCY_DEFAULTS = Object.freeze({
  readerCounts: Object.freeze([1, 2, 4]),
  waits: WAIT_STRATEGIES,
  peers: Object.freeze(['native-c', 'postMessage', 'unix-socket', 'zeromq-ipc'] as PeerTransport[]),
});

export interface LatencyRow {
  transport: string;
  host: string;
  readers: number;
  wait: string;
  latency_ns: LatencyPercentiles;
  count: number;
  ratio_to_c2c_p50: number;
  /** Median of the handoffs measured just before each run. */
  c2c_p50_ns: number;
  runs: number;
  [k: string]: unknown;
}

interface Measured {
  pct: LatencyPercentiles;
  count: number;
  hist: ReturnType<typeof newHistogram>;
  /** Reader CPU use, % of one core (readers' CPU time over their wall time), when known. */
  cpu?: number | null;
}

interface Repeated {
  pct: LatencyPercentiles;
  count: number;
  merged: ReturnType<typeof newHistogram>;
  ratio: number;
  c2cP50: number;
  cpu: number | null;
}

/** K runs of one configuration, each after its own handoff baseline: median percentiles, count and ratio; all runs merged for the curve. */
async function repeat(runs: number, once: () => Promise<Measured>): Promise<Repeated> {
  return (await repeatEach(runs, async () => [await once()]))[0];
}

/** The same for a run that measures several rows at once (the floor's layouts, one c_floor process): one result per row. */
async function repeatEach(runs: number, once: () => Promise<Measured[]>): Promise<Repeated[]> {
  const res: Measured[][] = [];
  const c2c: number[] = [];
  for (let r = 0; r < runs; r++) {
    c2c.push(c2cBaseline(1, 50_000).p50);
    res.push(await once());
  }
  return res[0].map((_, k) => summarise(res.map((row) => row[k]), c2c));
}

function summarise(res: Measured[], c2c: number[]): Repeated {
  const merged = newHistogram();
  for (const m of res) merged.add(m.hist);
  const cpus = res.flatMap((m) => (m.cpu === undefined || m.cpu === null ? [] : [m.cpu]));
  return {
    pct: medianPercentiles(res.map((m) => m.pct)),
    count: median(res.map((m) => m.count)),
    merged,
    ratio: median(res.map((m, i) => m.pct.p50 / c2c[i])),
    c2cP50: median(c2c),
    cpu: cpus.length > 0 ? Math.round(median(cpus)) : null,
  };
}

export async function latencyBench(o: LatencyOptions, c2c: C2c): Promise<Section> {
  const results: LatencyRow[] = [];
  const curves: Curve[] = [];
  const add = (
    transport: string,
    host: string,
    readers: number,
    wait: string,
    m: Repeated,
    receiver = `mdfan ${host === 'pool' ? 'pool worker' : 'read'} (${wait})`,
    layout: 'top' | 'book' | 'book-1x' = transport === 'shm-seqlock-top' ? 'top' : 'book',
    variant = '', // tells a curve (and its .hgrm file) from another row's of the same transport, host and wait
  ): void => {
    const row: LatencyRow = { transport, host, readers, wait, receiver, layout, latency_ns: m.pct, count: m.count, ratio_to_c2c_p50: m.ratio, c2c_p50_ns: m.c2cP50, reader_cpu_pct: m.cpu, runs: o.runs };
    results.push(row);
    curves.push({ label: `${transport}${transport === 'floor' ? ` ${layout}` : ''} ${host} ${readers}r ${wait}${variant}`, histogram: m.merged, plot: readers === 1 });
    o.log(`  ${transport} ${host} readers=${readers} wait=${wait}: p50 ${m.pct.p50} ns, p99 ${m.pct.p99} ns (${m.ratio.toFixed(1)}x c2c), ${m.count} observed`);
  };
  for (const host of ['process', 'pool'] as const) {
    for (const readers of o.readerCounts) {
      for (const wait of o.waits) {
        const m = await repeat(o.runs, async () => {
          const s = await shmSession({ readers, wait, host, rate: o.rate, seconds: o.seconds });
          return { pct: percentilesOf(s.histogram), count: s.observed, hist: s.histogram, cpu: s.readerCpuPct };
        });
        add('shm-seqlock', host, readers, wait, m);
      }
    }
    for (const wait of o.waits) {
      const m = await repeat(o.runs, async () => {
        const s = await shmSession({ readers: 1, wait, host, rate: o.rate, seconds: o.seconds, top: true });
        return { pct: percentilesOf(s.histogram), count: s.observed, hist: s.histogram, cpu: s.readerCpuPct };
      });
      add('shm-seqlock-top', host, 1, wait, m);
    }
    if (host === 'process' && o.waits.includes('block')) {
      // The other block path: the reader's thread sleeps in the futex itself (waitSync), no event-loop turn.
      for (const top of [false, true]) {
        const m = await repeat(o.runs, async () => {
          const s = await shmSession({ readers: 1, wait: 'block', host, rate: o.rate, seconds: o.seconds, top, sync: true });
          return { pct: percentilesOf(s.histogram), count: s.observed, hist: s.histogram, cpu: s.readerCpuPct };
        });
        add(top ? 'shm-seqlock-top' : 'shm-seqlock', host, 1, 'block', m, `mdfan read (block --sync: ${top ? 'waitTopSync' : 'waitSync'})`, undefined, ' sync');
      }
    }
  }
  // The C reader on the top line, beside the native-c peer on the book.
  {
    const m = await repeat(o.runs, async () => {
      const p = await measurePeer('native-c', { rate: o.rate, seconds: o.seconds, readers: 1, layout: 'top' });
      return { pct: percentilesOf(p.histogram), count: p.count, hist: p.histogram };
    });
    add('shm-seqlock-top', 'process', 1, 'spin', m, 'C, spinning on the top line\'s seq (c_latency_reader top)', 'top', ' C');
  }
  // The floor's layouts come from one c_floor process per run, taking turns on the same cores;
  // book-1x is an ABI 1.x book (12-byte levels): beside book, what the wider levels cost.
  {
    const [top, book, book1x] = await repeatEach(o.runs, async () => {
      const f = await measureFloor(o.rate, o.seconds);
      return [f.top, f.book, f.book1x].map((h) => ({ pct: percentilesOf(h), count: h.totalCount, hist: h }));
    });
    add('floor', 'thread', 1, 'spin', top, 'C writer + C reader, top line (c_floor)', 'top');
    add('floor', 'thread', 1, 'spin', book, 'C writer + C reader, 10-level book (c_floor)', 'book');
    add('floor', 'thread', 1, 'spin', book1x, 'C writer + C reader, 10-level ABI 1.x book, 12-byte levels (c_floor)', 'book-1x');
  }
  for (const transport of o.peers) {
    if (transport === 'zeromq-ipc') {
      try {
        await loadZeromq();
      } catch (e) {
        if (!isMdfanError(e) || e.code !== ErrorCode.MISSING_DEPENDENCY) throw e;
        o.log(`  zeromq-ipc: skipped (${e.message})`);
        continue;
      }
    }
    const m = await repeat(o.runs, async () => {
      const p = await measurePeer(transport, { rate: o.rate, seconds: o.seconds, readers: 1 });
      return { pct: percentilesOf(p.histogram), count: p.count, hist: p.histogram, wait: p.wait };
    });
    // The contract's wait values: the C reader spins; the Node peers' receivers block in the
    // kernel (epoll, via their event loop) until a message wakes them.
    const isC = transport === 'native-c';
    add(transport, transport === 'postMessage' ? 'thread' : 'process', 1, isC ? 'spin' : 'block', m, isC ? 'C, spinning on the seq' : 'Node event loop');
  }
  const best = results.filter((r) => !r.transport.startsWith('shm-seqlock') && r.transport !== 'native-c' && r.transport !== 'floor').reduce((a, r) => Math.min(a, r.latency_ns.p50), Infinity);
  const shm1 = results.find((r) => r.transport === 'shm-seqlock' && r.host === 'process' && r.readers === 1 && r.wait === 'spin');
  return {
    benchmark: 'latency',
    title: `Publish→observe latency, 10-level books at ${o.rate}/s for ${o.seconds} s, median of ${o.runs} runs`,
    baseline: { ...c2cBaselineEntry(c2c), rate_per_s: o.rate, best_peer_p50_ns: Number.isFinite(best) ? best : null, shm_spin_1r_vs_best_peer: shm1 && Number.isFinite(best) ? best / shm1.latency_ns.p50 : null },
    results,
    columns: [
      { key: 'transport', label: 'transport' },
      { key: 'host', label: 'readers in' },
      { key: 'readers', label: 'readers' },
      { key: 'wait', label: 'wait' },
      { key: 'receiver', label: 'receiver' },
      { key: 'layout', label: 'layout' },
      ...LATENCY_COLUMNS,
      { key: 'ratio_to_c2c_p50', label: '× c2c p50', digits: 1 },
      { key: 'c2c_p50_ns', label: 'c2c p50 ns', digits: 0 },
      { key: 'reader_cpu_pct', label: 'reader CPU %', digits: 0 },
      { key: 'count', label: 'observed' },
    ],
    note: 'Ratios: the median over runs of p50 / the core-to-core handoff measured just before that run. Readers record with coordinated-omission correction at the publish interval. A seqlock reader sees the latest book: updates that arrive faster than it looks are conflated, so "observed" may be below published × readers. More spinning readers than cores share CPUs with the writer, and their latency then includes scheduler time slices.',
    curves,
  };
}
