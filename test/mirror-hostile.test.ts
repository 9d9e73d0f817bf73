/**
 * A rogue NATS publisher against the mirror, on a real nats-server: a book from a bridge session
 * far in the future, a bucket entry with a giant layout, twenty thousand junk keys, a flood before
 * READY, symbols beyond the directory. Each is refused and counted, and the real books appear.
 * Also: SIGTERM removes the mirror's segment (unless --keep-segment).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { statSync } from 'node:fs';
import { pino } from 'pino';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { SegmentReader } from '../native/segment/index.js';
import { statSegment } from '../native/segment/stat.js';
import { LogEvent } from '../lib/log.js';
import { logLine } from '../lib/child.js';
import { type BookBody, type Head, MsgType, WireWriter } from '../lib/wire/wire.js';
import { BRIDGE_DEFAULTS } from '../lib/wire/defaults.js';
import * as abi from '../native/segment/abi.js';
import { NatsFeed } from '../feed/sources/nats/index.js';
import { bookShape, futureSession } from '../feed/sources/nats/books.js';
import { readBucket } from '../feed/sources/nats/bucket.js';
import type { KV } from '../lib/wire/nats.js';
import { binPath } from './helpers/paths.js';
import { killAll, type Proc, startNode } from './helpers/procs.js';
import { cleanupSegments, segName, shmExists } from './helpers/segments.js';
import { NatsServer, hasNatsServer } from './helpers/nats-server.js';
import { waitUntil } from './helpers/wait.js';

let server: NatsServer | null = null;
let client: NatsConnection | null = null;
test.after.each(async () => {
  killAll();
  await client?.close();
  client = null;
  await server?.stop();
  server = null;
  cleanupSegments();
});

const mdfan = (args: string[]): Proc => startNode(binPath, args);
const SKIP = '  (skipped: nats-server is not installed; .ci/ensure-packages installs it)';
const LONG_MS = 60_000;
/** A real bridge's session: it started a minute ago. */
const realSession = (): number => Math.floor(Date.now() / 1000) - 60;

interface BookSpec {
  symbol?: string;
  session: number;
  seq: number;
  msgIndex?: number;
  bid: number;
  levels?: number;
  maxInstruments?: number;
}

/** A book record as a bridge encodes it: one bid level at `bid`, one ask above it. */
function book(b: BookSpec): Uint8Array {
  const w = new WireWriter();
  w.head({ type: MsgType.BOOK, flags: 0, generation: 1, session: b.session, priceDecimals: 4, sizeDecimals: 0, seq: b.seq, msgIndex: b.msgIndex ?? b.seq, exchangeTsNs: 1, publishTsNs: 1, bridgeTsNs: 1, symbol: b.symbol ?? 'GOOG' });
  const len = w.book({ levels: b.levels ?? 10, feedId: 1, maxInstruments: b.maxInstruments ?? 16, bids: { count: 1, levels: new Uint32Array([b.bid, 100, 1]) }, asks: { count: 1, levels: new Uint32Array([b.bid + 100, 100, 1]) } });
  return w.buf.slice(0, len);
}

/** The mirror's best bid for `symbol` (0: no book yet). */
function bestBid(name: string, symbol = 'GOOG'): number {
  const r = SegmentReader.openSync(name, { anyState: true });
  try {
    const snap = r.newSnapshot();
    const slot = r.find(symbol);
    if (slot < 0) return 0;
    r.read(slot, snap);
    return snap.bidCount > 0 ? snap.bids[0]! : 0;
  } finally {
    r.close();
  }
}

/** SIGTERM, exit 0, the JSON summary. */
async function stopMirror(mirror: Proc): Promise<{ dropped: Record<string, number>; books: number; queueDropped: number; bucketTimeouts: number }> {
  mirror.child.kill('SIGTERM');
  assert.is((await mirror.exited).code, 0, mirror.stderr());
  return JSON.parse(mirror.run.stdout.at(-1)!);
}

test('one book from bridge session 0xFFFFFFFF is refused and counted; the real books after it appear; SIGTERM removes the segment', async () => {
  if (!hasNatsServer) return console.log(SKIP);
  server = await NatsServer.start();
  const local = segName('mh-future');
  const mirror = mdfan(['mirror', '--nats', server.url, '--segment', local]);
  await mirror.event(LogEvent.MIRROR_SUBSCRIBED, LONG_MS);
  client = await connect({ servers: server.url });
  client.publish('md.GOOG.book', book({ session: 0xffffffff, seq: 1, bid: 9_990_000 }));
  const session = realSession();
  for (let seq = 1; seq <= 3; seq++) client.publish('md.GOOG.book', book({ session, seq, bid: 1_000_000 + seq }));
  await client.flush();
  await waitUntil(() => bestBid(local) === 1_000_003, 30_000, { what: "the last real book in the mirror's segment" });
  const refused = await logLine(mirror.run, (l) => l.event === LogEvent.WIRE_MALFORMED && l.reason === 'session', 10_000);
  assert.is(refused.count, 1);
  const summary = await stopMirror(mirror);
  assert.is(summary.dropped.session, 1, 'the forged book counted under its reason');
  assert.not.ok(shmExists(local), 'the mirror removed its segment when stopped');
});

test('a bucket entry with a 50-level, 1,000,000-instrument book: the mirror keeps its own layout, refuses it, and real books appear', async () => {
  if (!hasNatsServer) return console.log(SKIP);
  server = await NatsServer.start();
  client = await connect({ servers: server.url });
  const kv = await new Kvm(client).create('md-books', { history: 1 });
  await kv.put('GOOG', book({ session: realSession(), seq: 1, bid: 7_000_000, levels: 50, maxInstruments: 1_000_000 }));
  const local = segName('mh-giant');
  const mirror = mdfan(['mirror', '--nats', server.url, '--segment', local, '--max-instruments', '64']);
  await mirror.event(LogEvent.MIRROR_READY, LONG_MS);
  const st = statSegment(local);
  assert.equal([st.layout.levels, st.layout.max_instruments], [10, 64], "the mirror's own layout");
  assert.ok(statSync(`/dev/shm/${local}`).size < 4 << 20, `a small segment (${statSync(`/dev/shm/${local}`).size} bytes)`);
  client.publish('md.GOOG.book', book({ session: realSession(), seq: 1, bid: 1_000_001 }));
  await client.flush();
  await waitUntil(() => bestBid(local) === 1_000_001, 30_000, { what: 'the real book in the mirror' });
  const summary = await stopMirror(mirror);
  assert.is(summary.dropped.shape, 1, 'the giant book counted as misshapen');
});

test('twenty thousand junk keys in the bucket: the read ends by its deadline, the mirror starts, and real books appear', async () => {
  if (!hasNatsServer) return console.log(SKIP);
  server = await NatsServer.start();
  client = await connect({ servers: server.url });
  const kv = await new Kvm(client).create('md-books', { history: 1 });
  const junk = new Uint8Array(40).fill(0x41);
  for (let i = 0; i < 20_000; i++) {
    client.publish(`$KV.md-books.J${i}`, junk);
    if (i % 1000 === 999) await client.flush();
  }
  await client.flush();
  await waitUntil(async () => (await kv.status()).values >= 20_000, LONG_MS, { what: 'the junk keys stored' });
  const local = segName('mh-junk');
  const mirror = mdfan(['mirror', '--nats', server.url, '--segment', local, '--bucket-timeout-ms', '2000']);
  const ready = await mirror.event(LogEvent.MIRROR_READY, LONG_MS);
  assert.ok(ready, 'the mirror started');
  client.publish('md.GOOG.book', book({ session: realSession(), seq: 1, bid: 1_000_001 }));
  await client.flush();
  await waitUntil(() => bestBid(local) === 1_000_001, 30_000, { what: 'the real book in the mirror' });
  const summary = await stopMirror(mirror);
  assert.ok((summary.dropped.short ?? 0) > 0 || summary.bucketTimeouts === 1, `junk counted (${JSON.stringify(summary.dropped)}) or the deadline said`);
});

test('a bucket read that never ends (a server that stops delivering) ends at its deadline, saying it is incomplete', async () => {
  // A watch that hands out one entry and then nothing, until stopped: what a stalled server looks like.
  let stopped = false;
  let wake: (() => void) | null = null;
  let given = false;
  const kv = {
    status: async () => ({ values: 20_000 }),
    watch: async () => ({
      stop: () => {
        stopped = true;
        wake?.();
      },
      [Symbol.asyncIterator]: () => ({
        next: async () => {
          if (!given) {
            given = true;
            return { done: false, value: { key: 'J1', value: new Uint8Array(4), operation: 'PUT', isUpdate: false } };
          }
          if (!stopped) await new Promise<void>((r) => (wake = r));
          return { done: true, value: undefined };
        },
      }),
    }),
  } as unknown as KV;
  let entries = 0;
  let ended = false;
  const read = readBucket(kv, 200, { requested: false }, () => entries++).finally(() => {
    ended = true;
  });
  await waitUntil(() => ended, 30_000, { what: 'the bucket read to end at its 200 ms deadline' });
  const outcome = await read;
  assert.equal(outcome, { entries: 1, complete: false });
  assert.is(entries, 1);
  assert.ok(stopped, 'the watch was stopped');
});

test('a flood before READY: the start queue holds at most its byte cap; the rest is dropped and counted', async () => {
  if (!hasNatsServer) return console.log(SKIP);
  server = await NatsServer.start();
  const cap = 64 * 1024;
  const feed = new NatsFeed({ url: server.url, prefix: 'md', symbols: null, levels: 10, queueBytes: cap });
  await feed.connect(pino({ level: 'silent' }));
  try {
    client = await connect({ servers: server.url });
    const w = new WireWriter();
    const session = realSession();
    const sent = 10_000;
    for (let seq = 1; seq <= sent; seq++) {
      w.head({ type: MsgType.TRADE, flags: 0, generation: 1, session, priceDecimals: 4, sizeDecimals: 0, seq, msgIndex: seq, exchangeTsNs: 1, publishTsNs: 1, bridgeTsNs: 1, symbol: 'GOOG' });
      client.publish('md.GOOG.trade', w.buf.slice(0, w.trade({ price: 1e8, size: 1, action: 0x45, side: 0x42, flags: 0, orderRef: seq })));
      if (seq % 1000 === 0) await client.flush();
    }
    await client.flush();
    // Nothing applies the queue (run() is not called): every record is either held or dropped.
    await waitUntil(() => feed.queuedNow.records + feed.drops.byReason.queue === sent, 30_000, { what: 'every record of the flood held or dropped' });
    assert.ok(feed.queuedNow.bytes <= cap, `${feed.queuedNow.bytes} bytes held, the cap is ${cap}`);
    assert.ok(feed.drops.byReason.queue > sent / 2, `${feed.drops.byReason.queue} records dropped and counted`);
    assert.is(feed.stats.queueDropped, feed.drops.byReason.queue);
  } finally {
    await feed.close();
  }
});

test('a full directory: the refused instrument is logged, its later records counted and logged; --keep-segment keeps the segment', async () => {
  if (!hasNatsServer) return console.log(SKIP);
  server = await NatsServer.start();
  const local = segName('mh-full');
  const mirror = mdfan(['mirror', '--nats', server.url, '--segment', local, '--max-instruments', '2', '--keep-segment']);
  await mirror.event(LogEvent.MIRROR_READY, LONG_MS);
  client = await connect({ servers: server.url });
  const session = realSession();
  for (const symbol of ['AAA', 'BBB', 'CCC']) client.publish(`md.${symbol}.book`, book({ symbol, session, seq: 1, bid: 1_000_000 }));
  for (let seq = 2; seq <= 6; seq++) client.publish('md.CCC.book', book({ symbol: 'CCC', session, seq, bid: 1_000_000 + seq }));
  await client.flush();
  const refused = await mirror.event(LogEvent.INSTRUMENT_REFUSED, 30_000);
  assert.is(refused.symbol, 'CCC');
  await logLine(mirror.run, (l) => l.event === LogEvent.MIRROR_DROPPED && l.reason === 'refused', 30_000);
  await waitUntil(() => statSegment(local).messages === 8, 10_000, { what: 'the eight records applied' });
  assert.is(statSegment(local).counters.instruments_refused, 1, 'the refusal counted in the segment');
  const summary = await stopMirror(mirror);
  assert.is(summary.dropped.refused, 6, "every record of the refused symbol counted");
  assert.ok(shmExists(local), '--keep-segment keeps it');
});

test('a bucket entry from bridge session 0xFFFFFFFF is refused like a live one: it never reaches the segment, and the real book after it is taken', async () => {
  if (!hasNatsServer) return console.log(SKIP);
  server = await NatsServer.start();
  client = await connect({ servers: server.url });
  const kv = await new Kvm(client).create('md-books', { history: 1 });
  await kv.put('GOOG', book({ session: 0xffffffff, seq: 1, bid: 9_990_000 }));
  const local = segName('mh-future-bucket');
  const mirror = mdfan(['mirror', '--nats', server.url, '--segment', local]);
  await mirror.event(LogEvent.MIRROR_READY, LONG_MS);
  assert.is.not(bestBid(local), 9_990_000, 'the forged book is not in the segment');
  client.publish('md.GOOG.book', book({ session: realSession(), seq: 1, bid: 1_000_001 }));
  await client.flush();
  await waitUntil(() => bestBid(local) === 1_000_001, 30_000, { what: 'the real book in the mirror (a forged session taken would make it look older)' });
  const summary = await stopMirror(mirror);
  assert.is(summary.dropped.session, 1, 'the forged bucket entry counted under its reason');
});

// ---- the record checks themselves (books.ts), at their bounds ----

test('futureSession: a session up to the allowed skew ahead is taken; one second more is refused', () => {
  const skew = BRIDGE_DEFAULTS.mirrorSessionSkewS;
  const nowMs = 1_700_000_000_500;
  const now = Math.floor(nowMs / 1000);
  const head = (session: number) => ({ session }) as Head;
  assert.is(futureSession(head(now - 60), nowMs, skew), 0, 'a past session');
  assert.is(futureSession(head(now + skew), nowMs, skew), 0, 'exactly the skew ahead');
  assert.is(futureSession(head(now + skew + 1), nowMs, skew), skew + 1, 'one second past the skew');
  assert.is(futureSession(head(0xffffffff), nowMs, skew), 0xffffffff - now);
});

test('bookShape: a level with price 0 or size 0, prices not strictly worse, or an instrument count out of range is refused', () => {
  const side = (...lv: number[]) => ({ count: lv.length / 3, levels: new Uint32Array(lv) });
  const body = (bids: number[], asks: number[], maxInstruments = 16): BookBody => ({ levels: 10, feedId: 1, maxInstruments, bids: side(...bids), asks: side(...asks) });
  assert.is(bookShape(body([1000, 10, 1, 990, 5, 1], [1010, 10, 1, 1020, 5, 1]), 10), null, 'a good book');
  assert.is(bookShape(body([], []), 10), null, 'an empty book');
  assert.ok(bookShape(body([1000, 10, 1, 990, 5, 1], [1010, 10, 1, 1020, 5, 1]), 5), 'another depth');
  assert.ok(bookShape(body([0, 10, 1], [1010, 10, 1]), 10), 'a bid at price 0');
  assert.ok(bookShape(body([1000, 10, 1], [0, 10, 1]), 10), 'an ask at price 0');
  assert.ok(bookShape(body([1000, 0, 1], [1010, 10, 1]), 10), 'a bid of size 0');
  assert.ok(bookShape(body([1000, 10, 1, 1000, 5, 1], [1010, 10, 1]), 10), 'two bids at one price');
  assert.ok(bookShape(body([1000, 10, 1, 1001, 5, 1], [1010, 10, 1]), 10), 'a bid better than the best');
  assert.ok(bookShape(body([1000, 10, 1], [1010, 10, 1, 1010, 5, 1]), 10), 'two asks at one price');
  assert.ok(bookShape(body([1000, 10, 1], [1010, 10, 1, 1009, 5, 1]), 10), 'an ask better than the best');
  assert.ok(bookShape(body([1000, 10, 1], [1010, 10, 1], 0), 10), '0 instruments');
  assert.ok(bookShape(body([1000, 10, 1], [1010, 10, 1], abi.MAX_INSTRUMENTS + 1), 10), 'more instruments than a segment can hold');
  assert.is(bookShape(body([1000, 10, 1], [1010, 10, 1], abi.MAX_INSTRUMENTS), 10), null, 'the most instruments a segment can hold');
});

test.run();
