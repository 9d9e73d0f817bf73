/**
 * `mdfan demo [--segment NAME] [--seconds S] [--rate N]`: a synthetic writer publishing 10-level
 * books at a steady rate and a spinning reader in a worker thread measuring publish->observe
 * latency. The smallest end-to-end run of the segment and the seqlock.
 */
import { Worker } from 'node:worker_threads';
import * as hdr from 'hdr-histogram-js';
import { parse, intOption, numOption, optString } from '../../native/ts/args.js';
import { native } from '../../native/ts/addon.js';
import { closeOnSignals } from '../../native/ts/shutdown.js';
import { SegmentWriter } from '../../native/ts/writer.js';

const USAGE = 'usage: mdfan demo [--segment NAME] [--seconds S (default 3)] [--rate MSGS_PER_S (default 200000)]';
const SYMBOLS = ['AAPL', 'GOOG', 'MSFT', 'AMZN'];
const LEVELS = 10;

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, { segment: { type: 'string' }, seconds: { type: 'string' }, rate: { type: 'string' } }, USAGE);
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const name = optString(values.segment, '--segment') ?? `mdfan-demo-${process.pid}`;
  const seconds = numOption(values.seconds, '--seconds', 0.1, 3600, 3);
  const rate = intOption(values.rate, '--rate', 1, 10_000_000, 200_000);
  const writer = SegmentWriter.open({ name, maxInstruments: SYMBOLS.length, levels: LEVELS });
  const stopSignals = closeOnSignals(writer, { unlink: true });
  SYMBOLS.forEach((s, i) => writer.addInstrument(s, i + 1, 10000));
  const reader = new Worker(new URL('./demo-reader.js', import.meta.url), { workerData: { name } });
  const result = new Promise<{ hist: string; reads: number; retries: number; bad: number }>((resolve, reject) => {
    reader.once('message', resolve);
    reader.once('error', reject);
  });
  await new Promise((r) => reader.once('online', r));
  console.log(`mdfan demo: segment ${name}, ${SYMBOLS.length} instruments x ${LEVELS} levels, ${rate} publishes/s for ${seconds} s`);

  // Synthetic books: a random walk of the mid, sizes from the step; always bid < ask.
  const src = { bidCount: LEVELS, askCount: LEVELS, bids: new Uint32Array(LEVELS * 3), asks: new Uint32Array(LEVELS * 3) };
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
  const r = await result;
  await reader.terminate();
  const h = hdr.decodeFromCompressedBase64(r.hist);
  const pct = (p: number): string => `${h.getValueAtPercentile(p)}`;
  console.log(`published ${k} books; reader observed ${h.totalCount} updates in ${r.reads} reads (${r.retries} retries), ${r.bad} inconsistent`);
  console.log(`publish->observe latency ns: p50 ${pct(50)}  p90 ${pct(90)}  p99 ${pct(99)}  p99.9 ${pct(99.9)}  max ${h.maxValue}`);
  return r.bad === 0 ? 0 : 1;
}
