/**
 * A Binance segment crosses the bridge exactly (wire version 2): prefixes of the spot and COIN-M
 * recordings fed into one segment (venue-qualified names of up to 32 characters, prices ~6e12 and
 * sizes at 8 decimals), bridged to a real nats-server and mirrored into another segment. Every
 * instrument of the mirror has the origin's symbol, decimals and last book (levels, counts,
 * message, exchange time, stale flag), and the mirror's ring holds the origin's printable trades.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBatch, EventRingReader } from '../native/segment/events.js';
import { SegmentReader, abi } from '../native/segment/index.js';
import { LogEvent } from '../lib/log.js';
import { CRYPTO_SETS, editCapture, mergedCapture } from './helpers/crypto-capture.js';
import { binPath } from './helpers/paths.js';
import { killAll, type Proc, startNode } from './helpers/procs.js';
import { cleanupSegments, segName } from './helpers/segments.js';
import { NatsServer, hasNatsServer } from './helpers/nats-server.js';
import { waitUntil } from './helpers/wait.js';

const dir = mkdtempSync(join(tmpdir(), 'mdfan-bridge-binance-'));
let server: NatsServer | null = null;
test.after.each(async () => {
  killAll();
  await server?.stop();
  server = null;
  cleanupSegments();
});
test.after(() => rmSync(dir, { recursive: true, force: true }));

const mdfan = (args: string[]): Proc => startNode(binPath, args);
const LONG_MS = 120_000;
/** Enough lines of each recording for its snapshot and some thousands of depth events and trades. */
const LINES = 6000;

/** Every instrument's directory entry and book, by symbol, as one comparable value. */
function books(name: string): Record<string, unknown> {
  const r = SegmentReader.openSync(name, { anyState: true });
  try {
    const snap = r.newSnapshot();
    const out: Record<string, unknown> = {};
    for (const inst of r.instruments()) {
      r.read(inst.slotIndex, snap);
      out[inst.symbol] = {
        decimals: [inst.priceDecimals, inst.sizeDecimals],
        counts: [snap.bidCount, snap.askCount],
        bids: [...snap.bids],
        asks: [...snap.asks],
        msgIndex: snap.msgIndex,
        exchangeTsNs: snap.exchangeTsNs,
        stale: snap.stale,
      };
    }
    return out;
  } finally {
    r.close();
  }
}

/** The printable trades of a segment's ring, oldest first, as the fields the wire carries. */
function trades(name: string): string[] {
  const seg = SegmentReader.openSync(name, { anyState: true });
  const symbols = new Map(seg.instruments().map((i) => [i.slotIndex, i.symbol]));
  seg.close();
  const ring = EventRingReader.open(name, 'oldest');
  try {
    const batch = new EventBatch(4096);
    const out: string[] = [];
    for (let n = ring.poll(batch); n > 0; n = ring.poll(batch)) {
      assert.is(batch.lost, 0, `${name}: no event lost to lapping`);
      for (let i = 0; i < n; i++) {
        const e = batch.records[i]!;
        if (e.kind !== abi.EVENT_KIND_TRADE || e.flags & abi.EVENT_FLAG_NOT_PRINTABLE) continue;
        out.push([symbols.get(e.instrumentIndex), e.msgIndex, e.exchangeTsNs, e.action, e.side, e.price, e.size, e.orderRef].join(','));
      }
    }
    return out;
  } finally {
    ring.close();
  }
}

test('spot and COIN-M through feed -> bridge -> NATS -> mirror: every instrument with its symbol, decimals and book, and every trade, exactly', async () => {
  if (!hasNatsServer) return console.log('  (skipped: nats-server is not installed; .ci/ensure-packages installs it)');
  const spot = editCapture(await mergedCapture('spot', dir), join(dir, 'spot.gz'), { lines: LINES });
  const cm = editCapture(await mergedCapture('cm', dir), join(dir, 'cm.gz'), { lines: LINES });
  server = await NatsServer.start();
  const origin = segName('brb-origin');
  const local = segName('brb-mirror');
  const mirror = mdfan(['mirror', '--nats', server.url, '--segment', local, '--ring-events', '65536']);
  const bridge = mdfan(['bridge', '--segment', origin, '--nats', server.url, '--book-interval-ms', '1']);
  await mirror.event(LogEvent.MIRROR_READY, LONG_MS); // subscribed, the (empty) bucket read: nothing sent from now on is missed
  await bridge.event(LogEvent.NATS_CONNECTED, LONG_MS);
  const feed = mdfan(['feed', '--source', `binance-spot:${spot}`, '--source', `binance-coinm:${cm}`, '--segment', origin, '--speed', 'max', '--ring-events', '65536', '--keep-segment']);
  assert.is((await feed.exited).code, 0, feed.stderr());
  assert.is((await bridge.exited).code, 0, bridge.stderr());
  const sent = JSON.parse(bridge.run.stdout.at(-1)!) as { books: number; trades: number; eventsLost: number; outOfRange: number };
  assert.is(sent.outOfRange, 0, 'every record fits the wire');
  assert.is(sent.eventsLost, 0);

  const want = books(origin);
  const symbols = Object.keys(want).sort();
  assert.equal(symbols, [`binance-coinm:${CRYPTO_SETS.cm.symbol}`, `binance-spot:${CRYPTO_SETS.spot.symbol}`]);
  for (const s of symbols) {
    const b = want[s] as { decimals: number[]; counts: number[]; bids: number[]; asks: number[] };
    assert.equal(b.decimals, [8, 8], `${s}: Binance decimals`);
    assert.ok(b.counts[0]! > 0 && b.counts[1]! > 0, `${s}: both sides of the origin book are there`);
    assert.ok(b.bids[0]! > 2 ** 32 && b.asks[0]! > 2 ** 32, `${s}: prices beyond 32 bits (${b.bids[0]})`);
  }
  // The mirror takes the last books as they come (each book is whole): wait for them, then every field must be equal.
  const same = (): boolean => JSON.stringify(books(local)) === JSON.stringify(want);
  await waitUntil(same, 30_000, { what: "the mirror's books to be the origin's" });
  assert.equal(books(local), want);

  const tradesWant = trades(origin);
  assert.is(tradesWant.length, sent.trades, 'the bridge sent every printable trade of the ring');
  assert.ok(tradesWant.length > 100, `${tradesWant.length} trades`);
  await waitUntil(() => trades(local).length >= tradesWant.length, 30_000, { what: "the mirror's ring to hold every trade" });
  assert.equal(trades(local), tradesWant, 'trades equal, field by field');

  mirror.child.kill('SIGTERM');
  assert.is((await mirror.exited).code, 0, mirror.stderr());
  const got = JSON.parse(mirror.run.stdout.at(-1)!) as { dropped: Record<string, number>; gaps: number };
  assert.equal(got.dropped, {}, 'no record refused');
  assert.is(got.gaps, 0);
});

test.run();
