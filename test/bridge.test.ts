/**
 * The bridge and the mirror against a real nats-server (JetStream on): the GOOG day through
 * feed -> bridge -> NATS -> mirror, checked against the book oracle at every checkpoint a reader
 * of the mirror recorded and against the feed's last book, with the trades equal to the event
 * oracle; the server killed and restarted mid-replay (stale, reload, right again); a mirror started
 * late (every book from the bucket before any update); and hostile records on the wire. The record
 * format alone: bridge-wire.test.ts.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { connect } from '@nats-io/transport-node';
import { SegmentReader } from '../native/segment/index.js';
import { statSegment } from '../native/segment/stat.js';
import { formatBookLine, readBookLines } from '../lib/book-line.js';
import { LogEvent } from '../lib/log.js';
import { HEAD, MsgType, WireWriter } from '../lib/wire/wire.js';
import { GOOG_EVENTS, GOOG_ITCH, oracle } from './helpers/oracle.js';
import { binPath } from './helpers/paths.js';
import { killAll, type Proc, startNode } from './helpers/procs.js';
import { cleanupSegments, segName, shmExists } from './helpers/segments.js';
import { NatsServer, hasNatsServer } from './helpers/nats-server.js';
import { waitUntil } from './helpers/wait.js';

const dir = mkdtempSync(join(tmpdir(), 'mdfan-bridge-test-'));
let server: NatsServer | null = null;
test.after.each(async () => {
  killAll();
  await server?.stop();
  server = null;
  cleanupSegments();
});
test.after(() => rmSync(dir, { recursive: true, force: true }));

const mdfan = (args: string[]): Proc => startNode(binPath, args);
const SKIP = '  (skipped: nats-server is not installed; .ci/ensure-packages installs it)';
const LONG_MS = 120_000;

/** The book oracle by message index: the 40 values after `msgIndex,SYMBOL,`. */
function oracleByIndex(): Map<number, string> {
  return new Map(oracle().map((r) => [r.index, r.levels]));
}

/** Every recorded book whose message is an oracle checkpoint must equal it; returns how many were checked. */
function checkRecord(file: string): number {
  const byIndex = oracleByIndex();
  let checked = 0;
  const bad: string[] = [];
  for (const line of readBookLines(file)) {
    const c1 = line.indexOf(',');
    const c2 = line.indexOf(',', c1 + 1);
    const want = byIndex.get(Number(line.slice(0, c1)));
    if (want === undefined) continue;
    checked++;
    if (line.slice(c2 + 1) !== want && bad.length < 3) bad.push(`${line.slice(0, 80)}… vs oracle ${want.slice(0, 60)}…`);
  }
  assert.equal(bad, [], 'books recorded from the mirror at oracle checkpoints');
  return checked;
}

/** The mirror's GOOG book, as a dump line. */
function mirrorBook(name: string): string {
  const r = SegmentReader.openSync(name, { anyState: true });
  try {
    const slot = r.find('GOOG');
    const snap = r.newSnapshot();
    r.read(slot, snap);
    return formatBookLine(snap.msgIndex, 'GOOG', snap, snap.levels);
  } finally {
    r.close();
  }
}

/** The last line of the feed's own dump: the book after the last message. */
const lastDumped = (file: string): string => readFileSync(file, 'latin1').trim().split('\n').pop()!;

test('the GOOG day through feed -> bridge -> NATS -> mirror: recorded books equal the oracle, the last book the feed\'s, trades the event oracle', async () => {
  if (!hasNatsServer) return console.log(SKIP);
  server = await NatsServer.start();
  const origin = segName('br-origin');
  const local = segName('br-mirror');
  const rec = join(dir, 'mirror-books.txt');
  const events = join(dir, 'mirror-events.csv');
  const dump = join(dir, 'feed-dump.txt');
  const mirror = mdfan(['mirror', '--nats', server.url, '--segment', local, '--symbols', 'GOOG']); // a subscription per symbol
  // The mirror's readers wait for its segment (it exists once the mirror is connected), so they attach
  // at once whatever the machine's load; the event reader starts from the oldest event anyway.
  const books = mdfan(['read', '--segment', local, '--wait', 'yield', '--record', rec, '--timeout', '120']);
  const trades = mdfan(['read', '--segment', local, '--events', '--record-events', events, '--wait', 'yield', '--timeout', '120']);
  const bridge = mdfan(['bridge', '--segment', origin, '--nats', server.url, '--book-interval-ms', '1']);
  await mirror.event(LogEvent.MIRROR_SUBSCRIBED, LONG_MS); // before the first record is sent
  await bridge.event(LogEvent.NATS_CONNECTED);
  const feed = mdfan(['feed', '--source', `itch:${GOOG_ITCH}`, '--segment', origin, '--speed', '150', '--max-gap', '0.02', '--ring-events', '65536', '--dump-books', dump]);
  await mirror.event(LogEvent.MIRROR_READY, LONG_MS);
  await books.event(LogEvent.READER_ATTACHED, LONG_MS);
  await trades.event(LogEvent.READER_ATTACHED, LONG_MS);
  assert.is((await feed.exited).code, 0, feed.stderr());
  assert.is((await bridge.exited).code, 0, bridge.stderr());
  const summary = JSON.parse(bridge.run.stdout.at(-1)!) as { trades: number; books: number; eventsLost: number };
  assert.is(summary.trades, 11771, 'every trade of the day was sent');
  assert.is(summary.eventsLost, 0);
  await waitUntil(() => mirrorBook(local) === lastDumped(dump), 30_000, { what: "the mirror's last book to be the feed's" });
  const goog = SegmentReader.openSync(local, { anyState: true });
  try {
    const inst = goog.instruments().find((i) => i.symbol === 'GOOG');
    assert.equal([inst?.priceDecimals, inst?.sizeDecimals], [4, 0], "the mirror's GOOG has ITCH's decimals, from the records");
  } finally {
    goog.close();
  }
  mirror.child.kill('SIGTERM');
  assert.is((await mirror.exited).code, 0, mirror.stderr());
  assert.is((await books.exited).code, 0, books.stderr());
  assert.is((await trades.exited).code, 0, trades.stderr());
  const mirrorSummary = JSON.parse(mirror.run.stdout.at(-1)!) as { books: number; dropped: Record<string, number> };
  assert.equal(mirrorSummary.dropped, {}, "no record of the bridge's is refused: real books fit the mirror's shape and clock");
  const applied = mirrorSummary.books;
  assert.ok(applied >= 1000, `the mirror applied ${applied} books (the bridge sent ${summary.books}): it followed the replay`);
  const checked = checkRecord(rec);
  assert.ok(checked >= 100, `${checked} recorded books at oracle checkpoints (at least 100)`);
  const want = gunzipSync(readFileSync(GOOG_EVENTS)).toString('latin1').trim().split('\n');
  const got = readFileSync(events, 'latin1').trim().split('\n');
  assert.is(got.length, want.length, 'as many trades as the oracle');
  assert.equal(got, want, 'trades through the mirror equal the event oracle, line for line');
});

test('the server killed and restarted mid-replay: bridge and mirror reconnect, the mirror marks stale, reloads, and its books are right again', async () => {
  if (!hasNatsServer) return console.log(SKIP);
  server = await NatsServer.start();
  const origin = segName('br-kill-origin');
  const local = segName('br-kill-mirror');
  const rec = join(dir, 'kill-books.txt');
  const dump = join(dir, 'kill-dump.txt');
  const mirror = mdfan(['mirror', '--nats', server.url, '--segment', local]);
  const bridge = mdfan(['bridge', '--segment', origin, '--nats', server.url, '--book-interval-ms', '5']);
  await mirror.event(LogEvent.MIRROR_SUBSCRIBED, LONG_MS);
  await bridge.event(LogEvent.NATS_CONNECTED);
  const feed = mdfan(['feed', '--source', `itch:${GOOG_ITCH}`, '--segment', origin, '--speed', '30', '--max-gap', '0.02', '--ring-events', '65536', '--dump-books', dump]);
  await mirror.event(LogEvent.MIRROR_READY, LONG_MS);
  const books = mdfan(['read', '--segment', local, '--wait', 'yield', '--record', rec]);
  await waitUntil(() => (statSegment(local).instruments[0]?.updates ?? 0) >= 20, LONG_MS, { what: 'the mirror to publish 20 books' });
  await server.kill();
  await mirror.event(LogEvent.MIRROR_STALE, 30_000);
  const staleSeen = await waitUntil(() => {
    const r = SegmentReader.openSync(local, { anyState: true });
    try {
      const snap = r.newSnapshot();
      r.read(r.find('GOOG'), snap);
      return snap.stale;
    } finally {
      r.close();
    }
  }, 10_000, { what: "the mirror's GOOG book marked stale" });
  assert.ok(staleSeen);
  assert.is(feed.run.exit, null, 'the replay is still running: the outage is mid-replay');
  await server.restart();
  await mirror.event(LogEvent.MIRROR_RELOADED, 60_000);
  assert.is((await feed.exited).code, 0, feed.stderr());
  assert.is((await bridge.exited).code, 0, bridge.stderr());
  await waitUntil(() => mirrorBook(local) === lastDumped(dump), 60_000, { what: "the mirror's last book to be the feed's after the outage" });
  const r = SegmentReader.openSync(local, { anyState: true });
  try {
    const snap = r.newSnapshot();
    r.read(r.find('GOOG'), snap);
    assert.not.ok(snap.stale, 'the stale mark is cleared');
  } finally {
    r.close();
  }
  mirror.child.kill('SIGTERM');
  assert.is((await mirror.exited).code, 0, mirror.stderr());
  await books.exited;
  checkRecord(rec);
  const stat = JSON.parse(mirror.run.stdout.at(-1)!) as { staleMarks: number; recovered: number; reloads: number };
  assert.ok(stat.staleMarks >= 1 && stat.recovered >= 1 && stat.reloads >= 1, JSON.stringify(stat));
});

test('a mirror started late has every book from the bucket at READY; hostile records are counted, never fatal', async () => {
  if (!hasNatsServer) return console.log(SKIP);
  server = await NatsServer.start();
  const origin = segName('br-late-origin');
  const dump = join(dir, 'late-dump.txt');
  const bridge = mdfan(['bridge', '--segment', origin, '--nats', server.url]);
  await bridge.event(LogEvent.NATS_CONNECTED);
  const feed = mdfan(['feed', '--source', `itch:${GOOG_ITCH}`, '--segment', origin, '--speed', 'max', '--ring-events', '65536', '--dump-books', dump]);
  assert.is((await feed.exited).code, 0, feed.stderr());
  assert.is((await bridge.exited).code, 0, bridge.stderr());

  const local = segName('br-late-mirror');
  const mirror = mdfan(['mirror', '--nats', server.url, '--segment', local]);
  const ready = await mirror.event(LogEvent.MIRROR_READY, LONG_MS);
  assert.is(ready.books, 1, 'one book in the bucket');
  assert.is(mirrorBook(local), lastDumped(dump), 'the last book, from the bucket, with no update after it');

  // Hostile records: short, another version, a foreign type token, a record naming another symbol,
  // a symbol no segment can list (a space inside).
  const nc = await connect({ servers: server.url });
  try {
    const w = new WireWriter();
    w.head({ type: MsgType.BOOK, flags: 0, generation: 1, session: 1, priceDecimals: 4, sizeDecimals: 0, seq: 1, msgIndex: 1, exchangeTsNs: 1, publishTsNs: 1, bridgeTsNs: 1, symbol: 'AAPL' });
    const len = w.book({ levels: 10, feedId: 1, maxInstruments: 16, bids: { count: 0, levels: new Uint32Array(0) }, asks: { count: 0, levels: new Uint32Array(0) } });
    const v9 = w.buf.slice(0, len);
    v9[HEAD.version] = 9;
    nc.publish('md.GOOG.book', new Uint8Array(10));
    nc.publish('md.GOOG.book', v9);
    nc.publish('md.GOOG.quote', w.buf.slice(0, len));
    nc.publish('md.GOOG.book', w.buf.slice(0, len)); // says AAPL on GOOG's subject
    w.head({ type: MsgType.BOOK, flags: 0, generation: 1, session: 1, priceDecimals: 4, sizeDecimals: 0, seq: 1, msgIndex: 1, exchangeTsNs: 1, publishTsNs: 1, bridgeTsNs: 1, symbol: 'A B' });
    nc.publish('md.A=20B.book', w.buf.slice(0, w.book({ levels: 10, feedId: 1, maxInstruments: 16, bids: { count: 0, levels: new Uint32Array(0) }, asks: { count: 0, levels: new Uint32Array(0) } })));
    await nc.flush();
  } finally {
    await nc.close();
  }
  await waitUntil(() => statSegment(local).counters.malformed_messages === 5, 10_000, { what: 'five malformed records counted' });
  assert.is(mirror.run.exit, null, 'the mirror is still running');
  assert.is(mirrorBook(local), lastDumped(dump), 'and its book is untouched');
  mirror.child.kill('SIGTERM');
  assert.is((await mirror.exited).code, 0, mirror.stderr());
});

test('a server that is not there, or has no JetStream: MDFAN_ERR_NATS at once, naming the URL or the bucket', async () => {
  if (!hasNatsServer) return console.log(SKIP);
  server = await NatsServer.start(false);
  const url = server.url;
  const noJs = mdfan(['bridge', '--segment', segName('br-nojs'), '--nats', url]);
  assert.is((await noJs.exited).code, 1);
  assert.match(noJs.stderr(), /MDFAN_ERR_NATS: the key-value bucket md-books is not available \(is JetStream enabled/);
  await server.stop();
  server = null;
  const gone = mdfan(['mirror', '--segment', segName('br-gone'), '--nats', url]);
  assert.is((await gone.exited).code, 1);
  assert.match(gone.stderr(), new RegExp(`MDFAN_ERR_NATS: cannot connect to NATS at ${url.replaceAll('.', '\\.')}`));
  // The same venue behind mdfan feed: the same refusal, and no segment left behind.
  const feedName = segName('br-gone-feed');
  const feed = mdfan(['feed', '--source', `nats:${url}`, '--segment', feedName]);
  assert.is((await feed.exited).code, 1);
  assert.match(feed.stderr(), new RegExp(`MDFAN_ERR_NATS: cannot connect to NATS at ${url.replaceAll('.', '\\.')}`));
  assert.not.ok(shmExists(feedName), 'the segment is removed');
});

test.run();
