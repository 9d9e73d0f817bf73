/**
 * The off-host path survives its origin: with `mdfan bridge` and `mdfan mirror` on a real
 * nats-server, the origin writer killed -9 and restarted (the mirror's books stale in between,
 * the new writer's books after, whatever their message index), the bridge restarted, the mirror
 * restarted, the server restarted while an instrument changed only during the outage, and a
 * per-subject sequence number that goes back (never a false gap).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SegmentReader } from '../native/segment/index.js';
import { statSegment } from '../native/segment/stat.js';
import { formatBookLine } from '../lib/book-line.js';
import { LogEvent } from '../lib/log.js';
import { MsgType, decode } from '../lib/wire/wire.js';
import { booksBucket, connectNats } from '../lib/wire/nats.js';
import { BRIDGE_DEFAULTS } from '../lib/wire/defaults.js';
import { bucketOf, escapeSymbol } from '../lib/wire/subjects.js';
import { pino } from 'pino';
import { checkSeq, newSymbolState } from '../feed/sources/nats/books.js';
import { newCounters } from '../feed/sink.js';
import { GOOG_ITCH } from './helpers/oracle.js';
import { binPath } from './helpers/paths.js';
import { killAll, type Proc, startNode } from './helpers/procs.js';
import { cleanupSegments, segName } from './helpers/segments.js';
import { NatsServer, hasNatsServer } from './helpers/nats-server.js';
import { waitUntil } from './helpers/wait.js';

const dir = mkdtempSync(join(tmpdir(), 'mdfan-bridge-origin-'));
let server: NatsServer | null = null;
test.after.each(async () => {
  killAll();
  await server?.stop();
  server = null;
  cleanupSegments();
});
test.after(() => rmSync(dir, { recursive: true, force: true }));

const mdfan = (args: string[]): Proc => startNode(binPath, args);
const originProc = new URL('./helpers/origin-proc.js', import.meta.url);
const quiet = pino({ level: 'silent' });
const SKIP = '  (skipped: nats-server is not installed; .ci/ensure-packages installs it)';
const LONG_MS = 120_000;

/** An origin writer the test drives (helpers/origin-proc.ts): send() resolves with the message index. */
interface Origin {
  proc: Proc;
  generation: number;
  send(line: string): Promise<number>;
}
async function startOrigin(name: string): Promise<Origin> {
  const proc = startNode(originProc, [name], { stdin: 'pipe' });
  const ready = await proc.line(/^ready /, LONG_MS);
  return {
    proc,
    generation: Number(ready.split(' ')[1]),
    async send(line) {
      proc.child.stdin!.write(`${line}\n`);
      return Number((await proc.line(/^ok /)).split(' ')[1]);
    },
  };
}

interface Held {
  bid: number;
  stale: boolean;
  msgIndex: number;
  bidCount: number;
}
/** `symbol`'s book in segment `name` (null: not listed or never published), or its dump line with `line`. */
function held(name: string, symbol: string): Held | null {
  const r = SegmentReader.openSync(name, { anyState: true });
  try {
    const slot = r.find(symbol);
    if (slot < 0) return null;
    const snap = r.newSnapshot();
    r.read(slot, snap);
    if (snap.seq === 0) return null;
    return { bid: snap.bidCount > 0 ? snap.bids[0]! : 0, stale: snap.stale, msgIndex: snap.msgIndex, bidCount: snap.bidCount };
  } finally {
    r.close();
  }
}
function bookLine(name: string, symbol: string): string {
  const r = SegmentReader.openSync(name, { anyState: true });
  try {
    const snap = r.newSnapshot();
    r.read(r.find(symbol), snap);
    return formatBookLine(snap.msgIndex, symbol, snap, snap.levels);
  } finally {
    r.close();
  }
}
const isBook = (h: Held | null, bid: number, stale: boolean): boolean => h !== null && h.bid === bid && h.stale === stale;
const lastDumped = (file: string): string => readFileSync(file, 'latin1').trim().split('\n').pop()!;
const countEvents = (p: Proc, ev: LogEvent): number => p.run.logs.filter((l) => l.event === ev).length;

test('the origin killed -9 mid-day and restarted: the mirror is stale in between, and equals the new writer after', async () => {
  if (!hasNatsServer) return console.log(SKIP);
  server = await NatsServer.start();
  const origin = segName('bo-origin');
  const local = segName('bo-mirror');
  const dump = join(dir, 'restart-dump.txt');
  const mirror = mdfan(['mirror', '--nats', server.url, '--segment', local]);
  const bridge = mdfan(['bridge', '--segment', origin, '--nats', server.url, '--book-interval-ms', '5', '--timeout', '120']);
  await mirror.event(LogEvent.MIRROR_SUBSCRIBED, LONG_MS);
  await bridge.event(LogEvent.NATS_CONNECTED, LONG_MS);
  const first = mdfan(['feed', '--source', `itch:${GOOG_ITCH}`, '--segment', origin, '--speed', '30', '--max-gap', '0.02', '--ring-events', '65536']);
  await mirror.event(LogEvent.MIRROR_READY, LONG_MS);
  await waitUntil(() => (statSegment(local).instruments.find((i) => i.symbol === 'GOOG')?.updates ?? 0) >= 20, LONG_MS, { what: 'the mirror to publish 20 GOOG books' });
  first.child.kill('SIGKILL');
  await first.exited;
  const death = await bridge.event(LogEvent.BRIDGE_ORIGIN_DEAD, 30_000);
  assert.is(death.code, 'MDFAN_ERR_WRITER_DEAD');
  await mirror.event(LogEvent.MIRROR_ORIGIN_DEAD, 30_000);
  await waitUntil(() => held(local, 'GOOG')?.stale, 30_000, { what: "the mirror's GOOG book marked stale after the origin's death" });
  const before = held(local, 'GOOG')!;
  assert.ok(before.bidCount > 0, 'the dead origin\'s last book is kept, stale');
  assert.is(statSegment(local).state, 'READY', 'the mirror itself is alive: only its books are stale');
  // The new writer replays the day from its start: its message indexes are below the dead one's.
  const second = mdfan(['feed', '--source', `itch:${GOOG_ITCH}`, '--segment', origin, '--speed', 'max', '--ring-events', '65536', '--dump-books', dump]);
  assert.is((await second.exited).code, 0, second.stderr());
  assert.is((await bridge.exited).code, 0, bridge.stderr());
  const sent = JSON.parse(bridge.run.stdout.at(-1)!) as { originDeaths: number; newWriters: number };
  assert.is(sent.originDeaths, 1);
  assert.is(sent.newWriters, 1);
  await waitUntil(() => bookLine(local, 'GOOG') === lastDumped(dump), 60_000, { what: "the mirror's GOOG book to be the new writer's last" });
  assert.not.ok(held(local, 'GOOG')!.stale, 'the new writer\'s book is not stale');
  await mirror.event(LogEvent.MIRROR_ORIGIN_BACK, 10_000);
  mirror.child.kill('SIGTERM');
  assert.is((await mirror.exited).code, 0, mirror.stderr());
});

test('an instrument that changed only while NATS was down, a bridge restarted, a mirror restarted, an origin restarted: the mirror ends equal', async () => {
  if (!hasNatsServer) return console.log(SKIP);
  server = await NatsServer.start();
  const name = segName('bo-drv');
  const local = segName('bo-drv-mirror');
  let origin = await startOrigin(name);
  let mirror = mdfan(['mirror', '--nats', server.url, '--segment', local, '--levels', '2']);
  let bridge = mdfan(['bridge', '--segment', name, '--nats', server.url, '--book-interval-ms', '1']);
  await mirror.event(LogEvent.MIRROR_READY, LONG_MS);
  await bridge.event(LogEvent.NATS_CONNECTED, LONG_MS);
  await origin.send('book AAA 1');
  await origin.send('book BBB 1');
  await waitUntil(() => isBook(held(local, 'AAA'), 1001, false) && isBook(held(local, 'BBB'), 1001, false), LONG_MS, { what: 'both books at the mirror' });

  // NATS down: BBB changes only meanwhile. The bridge must send it again once reconnected.
  await server.kill();
  await bridge.event(LogEvent.NATS_DISCONNECTED, 30_000);
  await origin.send('book BBB 2');
  await server.restart();
  await bridge.event(LogEvent.NATS_RECONNECTED, LONG_MS);
  await mirror.event(LogEvent.MIRROR_RELOADED, LONG_MS);
  await waitUntil(() => isBook(held(local, 'BBB'), 1002, false), 30_000, { what: "the mirror's BBB: the book it changed to while NATS was down" });
  assert.ok(isBook(held(local, 'AAA'), 1001, false), 'AAA unchanged, not stale');

  // The bridge killed: AAA changes while no bridge runs; the next bridge sends it.
  bridge.child.kill('SIGKILL');
  await bridge.exited;
  await origin.send('book AAA 3');
  bridge = mdfan(['bridge', '--segment', name, '--nats', server.url, '--book-interval-ms', '1']);
  await waitUntil(() => isBook(held(local, 'AAA'), 1003, false), LONG_MS, { what: "the mirror's AAA from the restarted bridge" });

  // The mirror killed: AAA changes while no mirror runs; the next mirror (a takeover of its own segment) has it from the bucket.
  mirror.child.kill('SIGKILL');
  await mirror.exited;
  await origin.send('book AAA 4');
  await waitUntil(() => bucketBid(server!.url, 'AAA').then((bid) => bid === 1004), LONG_MS, { what: "the bridge to put AAA's new book into the bucket" });
  mirror = mdfan(['mirror', '--nats', server.url, '--segment', local, '--levels', '2']);
  await mirror.event(LogEvent.MIRROR_READY, LONG_MS);
  await waitUntil(() => isBook(held(local, 'AAA'), 1004, false) && isBook(held(local, 'BBB'), 1002, false), 30_000, { what: "the restarted mirror's books" });

  // The origin killed: every mirror book stale, still readable; a new writer (generation + 1)
  // numbers its messages from 1 again, and its books are taken.
  const deadIndex = held(local, 'AAA')!.msgIndex;
  origin.proc.child.kill('SIGKILL');
  await origin.proc.exited;
  await bridge.event(LogEvent.BRIDGE_ORIGIN_DEAD, 30_000);
  await waitUntil(() => isBook(held(local, 'AAA'), 1004, true) && isBook(held(local, 'BBB'), 1002, true), 30_000, { what: "both mirror books stale after the origin's death" });
  origin = await startOrigin(name);
  assert.is(origin.generation, 2, 'a takeover');
  const idx = await origin.send('book AAA 9');
  assert.ok(idx < deadIndex, `the new writer's message ${idx} is before the dead one's ${deadIndex}`);
  await waitUntil(() => isBook(held(local, 'AAA'), 1009, false), 30_000, { what: "the new writer's AAA at the mirror, not stale" });
  // BBB: the new writer has published none, and the bridge sent what it holds (an empty stale
  // book): the mirror shows the origin's book, stale until the new writer publishes it.
  await waitUntil(() => bookLine(local, 'BBB') === bookLine(name, 'BBB'), 30_000, { what: "the mirror's BBB to be the new writer's (empty) book" });
  assert.ok(isBook(held(local, 'BBB'), 0, true), 'BBB: empty and stale until the new writer publishes it');
  await origin.send('book BBB 9');
  await waitUntil(() => isBook(held(local, 'BBB'), 1009, false), 30_000, { what: "the new writer's BBB at the mirror" });
  assert.is(countEvents(bridge, LogEvent.BRIDGE_NEW_ORIGIN), 1);
  assert.is(statSegment(local).state, 'READY', 'the mirror stayed up throughout');
});

/** The best bid of `symbol`'s book in the default prefix's bucket (null: none). */
async function bucketBid(url: string, symbol: string): Promise<number | null> {
  const nc = await connectNats(url, 'mdfan-test', quiet);
  try {
    const entry = await (await booksBucket(nc, bucketOf(BRIDGE_DEFAULTS.prefix))).get(escapeSymbol(symbol));
    if (entry === null || entry.value.length === 0) return null;
    const d = decode(entry.value);
    return 'book' in d && d.book.bids.count > 0 ? d.book.bids.levels[0]! : null;
  } finally {
    await nc.close();
  }
}

test('a per-subject sequence number that goes back within a session is no gap, and leaves the next in-order record no gap either', () => {
  const s = newSymbolState(0, 2);
  const c = newCounters();
  const head = (seq: number) => ({ type: MsgType.TRADE, flags: 0, generation: 1, session: 7, priceDecimals: 4, sizeDecimals: 0, seq, msgIndex: seq, exchangeTsNs: 0, publishTsNs: 0, bridgeTsNs: 0, symbol: 'AAA' });
  assert.is(checkSeq(s, head(1), c), 0);
  assert.is(checkSeq(s, head(2), c), 0);
  assert.is(checkSeq(s, head(3), c), 0);
  assert.is(checkSeq(s, head(2), c), 0, 'a replayed older record is no gap');
  assert.is(checkSeq(s, head(4), c), 0, 'the next record after the last one seen is in order');
  assert.is(checkSeq(s, head(6), c), 1, 'a real jump is one lost');
  assert.is(c.gaps, 1);
});

test.run();
