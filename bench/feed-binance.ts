/**
 * `mdfan bench feed`, the Binance half: messages/s through the Binance feed handler on the two
 * recordings of ../shared/data/crypto (MDFAN_CRYPTO_DATA), each set's per-stream files merged by
 * recv_ns into one capture in a temp dir (removed after), every line in memory, in stages:
 * JSON.parse only; the decoder (JSON, fields, exact decimal conversion); + sequencing and books
 * (a sink that does nothing); + publication into a fresh segment with the event ring.
 *
 * The lines are framed while loading, so the stages time the market alone, not the capture's
 * framing (the replay source paces by recv_ns, which the market does not take).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BINANCE_VENUES, BinanceMarket, type BinanceVenueName, MessageDecoder, NullSink, Publisher, mergeCaptures, readCapture } from '../feed/index.js';
import { createLogger } from '../lib/log.js';
import { SegmentWriter } from '../native/segment/writer.js';
import { SEGMENT_DEFAULTS } from '../native/segment/defaults.js';
import * as abi from '../native/segment/abi.js';
import { onAbort } from './abort.js';
import type { FeedRow } from './feed.js';
import { median } from './machine.js';

/** The recordings (read-only, outside the repository). */
export const CRYPTO_DIR = process.env.MDFAN_CRYPTO_DATA ?? join(fileURLToPath(new URL('../../../', import.meta.url)), 'shared', 'data', 'crypto');

export const BINANCE_SETS: ReadonlyArray<{ prefix: string; feed: BinanceVenueName }> = Object.freeze([
  { prefix: 'cm-BTCUSD_PERP-2024-08-08', feed: 'binance-coinm' },
  { prefix: 'spot-BTCUSDT-2024-08-08', feed: 'binance-spot' },
]);
const STREAMS = ['depth', 'snapshot', 'trade', 'bookTicker'];
const LEVELS = 10;

export interface BinanceFeedRow extends FeedRow {
  /** The source kind (binance-coinm, binance-spot). */
  feed: string;
  messages: number;
}


interface Lines {
  payloads: string[];
}

async function loadSet(prefix: string): Promise<Lines> {
  const dir = mkdtempSync(join(tmpdir(), 'mdfan-bench-binance-'));
  const undo = onAbort(() => rmSync(dir, { recursive: true, force: true }));
  try {
    const capture = join(dir, `${prefix}.capture`);
    await mergeCaptures(
      STREAMS.map((s) => join(CRYPTO_DIR, `${prefix}.${s}.gz`)),
      capture,
    );
    const payloads: string[] = [];
    for await (const line of readCapture(capture)) {
      payloads.push(line.payload);
    }
    return { payloads };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    undo();
  }
}

/** Messages/s of one pass of `market` over every line. */
function driveMarket(lines: Lines, market: BinanceMarket): number {
  const { payloads } = lines;
  const n = payloads.length;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) market.onMessage(payloads[i]!, i);
  return n / ((performance.now() - t0) / 1000);
}

export async function binanceFeedBench(runs: number, log: (s: string) => void): Promise<BinanceFeedRow[]> {
  const missing = BINANCE_SETS.flatMap((s) => STREAMS.map((k) => join(CRYPTO_DIR, `${s.prefix}.${k}.gz`))).filter((f) => !existsSync(f));
  if (missing.length > 0) {
    log(`  Binance recordings not found (${missing[0]}${missing.length > 1 ? ` and ${missing.length - 1} more` : ''}; MDFAN_CRYPTO_DATA): skipped`);
    return [];
  }
  const logger = createLogger('mdfan-bench');
  const rows: BinanceFeedRow[] = [];
  for (const set of BINANCE_SETS) {
    const lines = await loadSet(set.prefix);
    const { payloads } = lines;
    const n = payloads.length;
    const venue = BINANCE_VENUES[set.feed];
    const futures = venue.sequencing === 'futures';
    let kept = 0;
    const stages: Array<[string, () => number]> = [
      [
        'JSON.parse only',
        () => {
          const t0 = performance.now();
          for (let i = 0; i < n; i++) if (JSON.parse(payloads[i]!) !== null) kept++;
          return n / ((performance.now() - t0) / 1000);
        },
      ],
      [
        'decoder (JSON + fields + exact decimals)',
        () => {
          const dec = new MessageDecoder(futures, 8, 8);
          const t0 = performance.now();
          for (let i = 0; i < n; i++) kept += dec.decode(payloads[i]!);
          return n / ((performance.now() - t0) / 1000);
        },
      ],
      ['+ sequencing + books + top-10 (no-op sink)', () => driveMarket(lines, new BinanceMarket(venue, new NullSink(), { levels: LEVELS, symbols: null, log: logger }))],
      [
        '+ publication + event ring (seqlock commits, trades appended)',
        () => {
          const name = `mdfan-bench-feed-binance-${process.pid}`;
          const w = SegmentWriter.open({ name, maxInstruments: SEGMENT_DEFAULTS.maxInstruments, levels: LEVELS, ringEvents: abi.EVENTS_DEFAULT_CAPACITY });
          const undo = onAbort(() => w.close({ unlink: true }));
          try {
            return driveMarket(lines, new BinanceMarket(venue, new Publisher(w), { levels: LEVELS, symbols: null, log: logger }));
          } finally {
            w.close({ unlink: true });
            undo();
          }
        },
      ],
    ];
    for (const [stage, f] of stages) {
      f(); // warm-up: JIT
      const res = Array.from({ length: runs }, f);
      rows.push({ feed: set.feed, stage: `${set.feed}: ${stage}`, msgs_per_s: median(res), runs: res, messages: n });
      log(`  ${set.feed} ${stage}: ${(median(res) / 1e6).toFixed(2)} M msg/s`);
    }
    if (kept < 0) log(String(kept)); // keeps the results observable
  }
  return rows;
}
