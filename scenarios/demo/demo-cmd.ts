/**
 * `mdfan demo [--source itch:FILE [--speed N]] [--segment NAME] [--seconds S] [--rate N]`
 *
 * With --source: the real feed handler (`mdfan feed`, a child process, the single writer)
 * replays a recorded ITCH file into a segment while a reader thread here follows the books (the
 * latest of each: a seqlock conflates), timing publish -> observe. Without: a synthetic writer in
 * this process publishes 10-level books at a steady rate.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import * as hdr from 'hdr-histogram-js';
import { parse, intOption, numOption, optString } from '../../lib/cli/args.js';
import { native } from '../../native/segment/binding.js';
import { closeOnSignals } from '../../lib/cli/signals.js';
import { SegmentWriter } from '../../native/segment/writer.js';
import { LogEvent, createLogger } from '../../lib/log.js';
import { percentilesOf } from '../../lib/percentiles.js';
import { ITCH_SPEC } from '../../native/segment/directory.js';

export const USAGE = 'usage: mdfan demo [--source itch:FILE [--speed max|1|N (default 500)]] [--segment NAME] [--seconds S (default 3)] [--rate MSGS_PER_S (default 200000)]';
export const EXAMPLE = 'mdfan demo --source itch:scenarios/data/itch/GOOG-2012-06-21.itch.gz --speed 500';
const SYMBOLS = ['AAPL', 'GOOG', 'MSFT', 'AMZN'];
const LEVELS = 10;

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, { segment: { type: 'string' }, seconds: { type: 'string' }, rate: { type: 'string' }, source: { type: 'string' }, speed: { type: 'string' } }, USAGE);
  const name = optString(values.segment, '--segment') ?? `mdfan-demo-${process.pid}`;
  const source = optString(values.source, '--source');
  if (source !== undefined) return replayDemo(name, source, optString(values.speed, '--speed') ?? '500');
  const seconds = numOption(values.seconds, '--seconds', 0.1, 3600, 3);
  const rate = intOption(values.rate, '--rate', 1, 10_000_000, 200_000);
  const writer = SegmentWriter.open({ name, maxInstruments: SYMBOLS.length, levels: LEVELS });
  const stopSignals = closeOnSignals(writer, { unlink: true });
  for (const [i, s] of SYMBOLS.entries()) writer.addInstrument(s, i + 1, ITCH_SPEC);
  const { reader, result, attached } = startReader(name, 1000);
  await attached;
  console.log(`mdfan demo: segment ${name}, ${SYMBOLS.length} instruments x ${LEVELS} levels, ${rate} publishes/s for ${seconds} s`);

  // Synthetic books: a random walk of the mid, sizes from the step; always bid < ask.
  const src = { bidCount: LEVELS, askCount: LEVELS, bids: new Float64Array(LEVELS * 3), asks: new Float64Array(LEVELS * 3) };
  const mids = SYMBOLS.map((_, i) => 1_000_000 * (i + 1));
  const gapNs = 1e9 / rate;
  const t0 = native.monotonicNs();
  const end = t0 + seconds * 1e9;
  let next = t0;
  let k = 0;
  for (;;) {
    const now = native.monotonicNs();
    if (now >= end) break;
    if (now < next) continue;
    next += gapNs;
    const inst = k % SYMBOLS.length;
    mids[inst] += ((k * 2654435761) >>> 28) - 8;
    for (let l = 0; l < LEVELS; l++) {
      src.bids.set([mids[inst] - 100 * (l + 1), 100 + ((k + l) % 900), 1 + (l % 5)], l * 3);
      src.asks.set([mids[inst] + 100 * (l + 1), 100 + ((k + 2 * l) % 900), 1 + (l % 7)], l * 3);
    }
    writer.publish(inst, src, k, now);
    writer.messages++;
    if ((k & 4095) === 0) {
      writer.heartbeat(now);
      writer.flushCounters();
    }
    k++;
  }
  writer.close({ unlink: true });
  stopSignals();
  console.log(`published ${k} books`);
  return report(await result, reader);
}

interface ReaderResult {
  hist: string;
  reads: number;
  retries: number;
  bad: number;
  books: Array<{ symbol: string; msgIndex: number; bid: string; ask: string }>;
}

function startReader(name: string, timeoutMs: number) {
  const reader = new Worker(new URL('./demo-reader.js', import.meta.url), { workerData: { name, timeoutMs } });
  let attachedResolve!: () => void;
  const attached = new Promise<void>((r) => (attachedResolve = r));
  const result = new Promise<ReaderResult>((resolve, reject) => {
    reader.on('message', (m: ReaderResult & { attached?: boolean }) => (m.attached ? attachedResolve() : resolve(m)));
    reader.once('error', reject);
  });
  return { reader, result, attached };
}

async function report(r: ReaderResult, reader: Worker): Promise<number> {
  await reader.terminate();
  const h = hdr.decodeFromCompressedBase64(r.hist);
  const p = percentilesOf(h);
  // A seqlock reader sees the latest book: commits faster than it looks are conflated, by design.
  console.log(`reader observed ${h.totalCount} updates in ${r.reads} reads (${r.retries} retries: torn or mid-commit), ${r.bad} crossed books`);
  console.log(`publish->observe latency ns: p50 ${p.p50}  p90 ${p.p90}  p99 ${p.p99}  p99.9 ${p.p999}  max ${p.max}`);
  for (const b of r.books.slice(0, 8)) console.log(`final book ${b.symbol.padEnd(6)} after message ${b.msgIndex}: bid ${b.bid}  ask ${b.ask}`);
  return r.bad === 0 ? 0 : 1;
}

/** The real feed handler in a child process, this process reading. */
async function replayDemo(name: string, source: string, speed: string): Promise<number> {
  const { reader, result, attached } = startReader(name, 30_000);
  console.log(`mdfan demo: replaying ${source} at --speed ${speed} (idle stretches cut to 1 s of exchange time) into segment ${name}; a reader thread follows every book`);
  const feed = spawn(process.execPath, [fileURLToPath(new URL('../../../bin/mdfan.js', import.meta.url)), 'feed', '--source', source, '--segment', name, '--speed', speed, '--max-gap', '1'], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, MDFAN_LOG_LEVEL: process.env.MDFAN_LOG_LEVEL ?? 'warn' },
  });
  const fed = new Promise<number>((resolve) => feed.once('exit', (c) => resolve(c ?? 1)));
  const stop = (): void => void feed.kill('SIGTERM');
  process.once('SIGINT', stop);
  await Promise.race([attached, fed]);
  const code = await fed;
  process.off('SIGINT', stop);
  if (code !== 0) {
    await reader.terminate();
    createLogger('mdfan-demo').error({ event: LogEvent.FEED_ERROR, exitCode: code }, `the feed handler exited ${code}`);
    return 1;
  }
  return report(await result, reader);
}
