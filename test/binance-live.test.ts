/**
 * The live Binance source (`mdfan feed --source binance-*:live`) against `mdfan venue-replay`
 * serving a cut of the shared recordings: its books equal the recorded replay's of the same
 * capture (after the snapshot it took, one book per depth event), with and without faults on the
 * way (a dropped event, a disconnect, a late snapshot, duplicates, garbage), for spot and COIN-M,
 * one symbol and two on one connection. And the pieces alone: the weight budget, the back-off,
 * the REST client's answers to 429, 418, 400 and junk.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { EventBatch, EventRingReader } from '../native/segment/events.js';
import { SegmentReader } from '../native/segment/index.js';
import { formatBookLine } from '../lib/book-line.js';
import { once } from 'node:events';
import { WebSocketServer, type WebSocket } from 'ws';
import { Backoff } from '../feed/binance/live/backoff.js';
import { WsStream } from '../feed/binance/live/ws-stream.js';
import { SnapshotFetcher } from '../feed/binance/live/rest.js';
import { WINDOW_MS, WeightBudget } from '../feed/binance/live/weight-budget.js';
import { BINANCE_VENUES } from '../feed/binance/venues.js';
import { createLogger } from '../lib/log.js';
import type { MdfanError } from '../native/segment/errors.js';
import type { CryptoSet } from './helpers/crypto-capture.js';
import { binPath } from './helpers/paths.js';
import { killAll, startNode, type Proc } from './helpers/procs.js';
import { cleanupSegments, segName } from './helpers/segments.js';
import { waitUntil } from './helpers/wait.js';
import { type DumpLine, captureLines, compareAfter, cutCapture, mergedSet, readDump, recordedDump, servedSnapshots, startVenueReplay } from './helpers/venue-replay.js';

const dir = mkdtempSync(join(tmpdir(), 'mdfan-binance-live-'));
test.after.each(cleanupSegments);
test.after(() => rmSync(dir, { recursive: true, force: true }));

/** Lines of each cut: enough for several hundred depth events (spot sends one every 100 ms). */
const SPOT_LINES = 20_000;
const CM_LINES = 12_000;

interface Cut {
  file: string;
  lastTradeId: number;
  /** The recorded replay's books. */
  recorded: DumpLine[];
  /** 0-based line numbers of the depth events. */
  depthLines: number[];
  /** Each depth event's u, by line. */
  updateIds: Map<number, number>;
  venue: string;
}

const cuts = new Map<string, Cut>();
const mergedSets = new Set<string>();

/** A cut of a shared recording, made once, with its recorded replay. */
async function cut(name: string, set: CryptoSet, venue: string, lines: number, twin?: { symbol: string; idShift: number }): Promise<Cut> {
  const have = cuts.get(name);
  if (have) return have;
  const merged = join(dir, `${set}-merged.gz`);
  if (!mergedSets.has(set)) {
    await mergedSet(set, merged);
    mergedSets.add(set);
  }
  const file = join(dir, `${name}.gz`);
  const { lastTradeId } = await cutCapture(merged, file, { lines, twin });
  const dump = join(dir, `${name}.recorded.dump`);
  recordedDump(venue, file, segName('blrec'), dump);
  const depthLines: number[] = [];
  const updateIds = new Map<number, number>();
  (await captureLines(file)).lines.forEach((p, i) => {
    if (!p.includes('@depth')) return;
    depthLines.push(i);
    updateIds.set(i, (JSON.parse(p) as { data: { u: number } }).data.u);
  });
  const c: Cut = { file, lastTradeId, recorded: readDump(dump), depthLines, updateIds, venue };
  cuts.set(name, c);
  return c;
}

interface LiveRun {
  live: DumpLine[];
  /** The feed's closing log line: the market's, the stream's and the REST client's counters. */
  end: Record<string, unknown>;
  snapshots: Array<{ symbol: string; line: number; lastUpdateId: number }>;
  stale: boolean[];
  stdout: string;
}

/** Waits until the ring of `segment` holds the trade `tradeId` (the capture's last message: everything before it was taken). */
async function waitForTrade(segment: string, tradeId: number, feed: Proc): Promise<void> {
  const ring = await waitUntil(() => EventRingReader.open(segment, 'oldest'), 20_000, { what: `the event ring of ${segment}` });
  const batch = new EventBatch(1024);
  try {
    await waitUntil(
      () => {
        if (feed.run.exit) throw new Error(feed.run.describeExit());
        for (let n = ring.poll(batch); n > 0; n = ring.poll(batch)) for (let i = 0; i < n; i++) if (batch.records[i]!.orderRef === tradeId) return true;
        return false;
      },
      60_000,
      { what: `trade ${tradeId} (the capture's last line) in the live feed's ring` },
    );
  } finally {
    ring.close();
  }
}

/**
 * Waits until every symbol's slot shows its recorded last book, not STALE: the snapshot (which may
 * come after the last trade when the stream is fast) and the events after it were all applied.
 */
async function waitForLastBooks(segment: string, c: Cut, symbols: string[], feed: Proc): Promise<void> {
  const r = SegmentReader.openSync(segment, { anyState: true });
  const snap = r.newSnapshot();
  try {
    await waitUntil(
      () => {
        if (feed.run.exit) throw new Error(feed.run.describeExit());
        return symbols.every((s) => {
          const want = c.recorded.filter((l) => l.symbol === s).at(-1)?.book;
          const slot = r.find(s);
          if (slot < 0 || want === undefined) return false;
          r.read(slot, snap);
          const line = formatBookLine(0, s, snap, r.layout.levels);
          return !snap.stale && line.slice(line.indexOf(',', line.indexOf(',') + 1) + 1) === want;
        });
      },
      60_000,
      { what: `the recorded last book of ${symbols.join(', ')} in the live feed's slots` },
    );
  } finally {
    r.close();
  }
}

/** The live source against venue-replay of `c` with `faults`, until the capture's last trade has come. */
async function liveRun(c: Cut, symbols: string[], vrArgs: string[]): Promise<LiveRun> {
  const vr = await startVenueReplay(c.file, ['--speed', 'max', ...vrArgs]);
  let feed: Proc | null = null;
  try {
    const segment = segName('bllive');
    const dump = join(dir, `live-${segment}.dump`);
    feed = startNode(binPath, ['feed', '--source', `${c.venue}:live`, '--symbols', symbols.join(','), '--ws-url', vr.ws, '--rest-url', vr.rest, '--segment', segment, '--dump-books', dump, '--keep-segment']);
    await waitForTrade(segment, c.lastTradeId, feed);
    await waitForLastBooks(segment, c, symbols, feed);
    feed.child.kill('SIGTERM');
    const exit = await feed.exited;
    assert.is(exit.code, 0, feed.run.describeExit());
    const end = feed.run.logs.find((l) => l.event === 'feed_session_end');
    assert.ok(end, 'the feed logs its session end');
    const st = spawnSync(process.execPath, [binPath, 'stat', '--segment', segment, '--json'], { encoding: 'utf8' });
    assert.is(st.status, 0, st.stderr);
    const stale = (JSON.parse(st.stdout) as { instruments: Array<{ stale: boolean }> }).instruments.map((i) => i.stale);
    return { live: readDump(dump), end: end as Record<string, unknown>, snapshots: servedSnapshots(vr), stale, stdout: feed.run.stdout.join('\n') };
  } finally {
    await feed?.run.kill();
    await vr.proc.run.kill();
  }
}

/** Every symbol's live books after its last snapshot equal the recorded ones; returns the books compared. */
function assertBooksAfterLastSnapshot(c: Cut, r: LiveRun, symbols: string[]): number {
  let compared = 0;
  for (const s of symbols) {
    const last = r.snapshots.filter((x) => x.symbol === s).at(-1);
    assert.ok(last, `a snapshot was served for ${s}`);
    const L = last!.lastUpdateId;
    const futures = c.venue !== 'binance-spot';
    const { bad, compared: n } = compareAfter(r.live, c.recorded, s, (line) => {
      const u = c.updateIds.get(line)!;
      return futures ? u >= L : u > L;
    });
    assert.is(bad, '');
    compared += n;
  }
  return compared;
}

const spot = (): Promise<Cut> => cut('spot', 'spot', 'binance-spot', SPOT_LINES);

test('spot, no fault: the live books are the recorded replay books, one for one, from the snapshot on; no gap, no stale mark', async () => {
  const c = await spot();
  const r = await liveRun(c, ['BTCUSDT'], []);
  assert.is(r.snapshots.length, 1, 'one snapshot');
  const n = assertBooksAfterLastSnapshot(c, r, ['BTCUSDT']);
  assert.is(r.live.length, n, 'no book but the ones after the snapshot');
  assert.ok(n > 100, `${n} books compared`);
  assert.is(r.end.gaps, 0);
  assert.is(r.end.staleMarks, 0);
  assert.is(r.end.malformed, 0);
  assert.equal(r.stale, [false]);
});

test('COIN-M (futures rules, a snapshot that names its symbol): live books equal the recorded replay', async () => {
  const c = await cut('cm', 'cm', 'binance-coinm', CM_LINES);
  const r = await liveRun(c, ['BTCUSD_PERP'], []);
  const n = assertBooksAfterLastSnapshot(c, r, ['BTCUSD_PERP']);
  assert.is(r.live.length, n);
  assert.ok(n > 1000, `${n} books compared`);
  assert.is(r.end.gaps, 0);
});

test('a dropped depth event: the book goes STALE, a new snapshot is fetched, the mark clears, and the books after it are the recorded ones', async () => {
  const c = await spot();
  const drop = c.depthLines[Math.floor(c.depthLines.length / 3)]!;
  // Paced (20x): the stream goes on for seconds after the drop, so the resync snapshot is always
  // followed by events to apply (at max speed the stream may end before it comes back: no resync).
  const r = await liveRun(c, ['BTCUSDT'], ['--drop-line', String(drop), '--speed', '20']);
  assert.is(r.snapshots.length, 2, 'the first snapshot and the resync');
  assert.ok(r.snapshots[1]!.line >= drop, `the resync snapshot (line ${r.snapshots[1]!.line}) comes after the dropped line ${drop}`);
  assert.is(r.end.gaps, 1);
  assert.is(r.end.staleMarks, 1);
  assert.is(r.end.resyncs, 1);
  assert.ok(assertBooksAfterLastSnapshot(c, r, ['BTCUSDT']) > 10);
  assert.equal(r.stale, [false], 'the mark is cleared at the end');
});

test('a disconnect mid-stream: every book STALE, a reconnect, a new snapshot, books exact again', async () => {
  const c = await spot();
  const cutAt = c.depthLines[Math.floor(c.depthLines.length / 3)]!;
  // Paced (20x) so that the stream goes on long after the reconnect's back-off.
  const vrArgs = ['--disconnect-after-line', String(cutAt), '--speed', '20'];
  const r = await liveRun(c, ['BTCUSDT'], vrArgs);
  assert.is(r.end.disconnects, 1);
  assert.is(r.end.connects, 2);
  assert.is(r.end.staleMarks, 1);
  assert.is(r.end.resyncs, 1);
  assert.is(r.snapshots.length, 2);
  assert.ok(assertBooksAfterLastSnapshot(c, r, ['BTCUSDT']) > 10);
  assert.equal(r.stale, [false]);
});

test('a late snapshot: the events meanwhile are buffered and bridge it; no gap', async () => {
  const c = await spot();
  // Paced (20x): the stream lasts seconds, so the snapshot (300 ms late) comes while events still
  // flow (at max speed the last trade, which ends the run, may come before it).
  const r = await liveRun(c, ['BTCUSDT'], ['--snapshot-delay-ms', '300', '--speed', '20']);
  assert.ok((r.end.buffered as number) > 0, 'events were buffered');
  assert.is(r.end.gaps, 0);
  const n = assertBooksAfterLastSnapshot(c, r, ['BTCUSDT']);
  assert.is(r.live.length, n);
});

test('duplicated frames and garbage frames: duplicates dropped and counted, garbage counted malformed, books unchanged', async () => {
  const c = await spot();
  const dup = c.depthLines[Math.floor(c.depthLines.length / 2)]!;
  const r = await liveRun(c, ['BTCUSDT'], ['--duplicate-line', String(dup), '--garbage-after-line', String(dup + 1), '--garbage-after-line', String(dup + 7)]);
  assert.is(r.end.duplicates, 1);
  assert.is(r.end.malformed, 2);
  assert.is(r.end.gaps, 0);
  const n = assertBooksAfterLastSnapshot(c, r, ['BTCUSDT']);
  assert.is(r.live.length, n, 'a duplicate makes no book');
});

test('two symbols on one connection: each book equals its recorded replay', async () => {
  const c = await cut('twin', 'spot', 'binance-spot', SPOT_LINES / 2, { symbol: 'ETHUSDT', idShift: 1e11 });
  const r = await liveRun(c, ['BTCUSDT', 'ETHUSDT'], []);
  assert.is(r.end.connects, 1, 'one WebSocket for both');
  assert.equal(r.snapshots.map((s) => s.symbol).sort(), ['BTCUSDT', 'ETHUSDT']);
  assert.ok(assertBooksAfterLastSnapshot(c, r, ['BTCUSDT', 'ETHUSDT']) > 100);
  assert.equal(r.stale, [false, false]);
});

test('an unknown symbol stops the live feed with the URL and the venue answer (HTTP 400, -1121)', async () => {
  const c = await spot();
  const vr = await startVenueReplay(c.file, ['--speed', 'max']);
  try {
    const r = spawnSync(process.execPath, [binPath, 'feed', '--source', 'binance-spot:live', '--symbols', 'NOSUCHCOIN', '--ws-url', vr.ws, '--rest-url', vr.rest, '--segment', segName('blbad')], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.is(r.status, 2, r.stderr);
    assert.match(r.stderr, 'MDFAN_ERR_OPTIONS');
    assert.match(r.stderr, `${vr.rest}/api/v3/depth?symbol=NOSUCHCOIN&limit=5 answered HTTP 400`);
    assert.match(r.stderr, '-1121');
  } finally {
    await vr.proc.run.kill();
  }
});

test('the weight budget: a request waits for the next minute past the share of the limit; the server word counts', () => {
  let now = 5 * WINDOW_MS + 1000;
  const b = new WeightBudget(100, 0.5, () => now);
  assert.is(b.delayMs(50), 0);
  b.spend(50);
  assert.ok(b.delayMs(1) > 0, 'past half the limit');
  assert.is(b.delayMs(1), 6 * WINDOW_MS - now + 250);
  b.report(10); // the server says less was used (the window is the IP's)
  assert.is(b.delayMs(40), 0);
  b.report(45);
  assert.ok(b.delayMs(10) > 0);
  now = 6 * WINDOW_MS; // a new window
  assert.is(b.delayMs(50), 0);
});

test('the back-off doubles from its minimum to its maximum, jittered to half..all, and resets', () => {
  const b = new Backoff({ minMs: 100, maxMs: 1000 });
  const want = [100, 200, 400, 800, 1000, 1000];
  for (const w of want) {
    const ms = b.nextMs();
    assert.ok(ms >= w / 2 && ms <= w, `${ms} in ${w / 2}..${w}`);
  }
  b.reset();
  assert.ok(b.nextMs() <= 100);
});

/** A REST server answering a scripted list of (status, headers, body), then snapshots. */
async function scriptedRest(script: Array<[number, Record<string, string>, string]>): Promise<{ url: string; hits: string[]; close(): Promise<void> }> {
  const hits: string[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    hits.push(req.url ?? '');
    const [status, headers, body] = script.shift() ?? [200, { 'x-mbx-used-weight-1m': '50' }, '{"lastUpdateId":7,"bids":[],"asks":[]}'];
    res.writeHead(status, headers);
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, hits, close: () => new Promise((r) => server.close(() => r())) };
}

test('REST: 500, junk, 429 with Retry-After, then a snapshot: retried until it comes, each failure logged with URL and status', async () => {
  const srv = await scriptedRest([
    [500, {}, 'oops'],
    [200, {}, '<html>proxy error</html>'],
    [429, { 'retry-after': '1' }, '{"code":-1003,"msg":"Too many requests"}'],
  ]);
  const got: Array<[string, string, number]> = [];
  const log = createLogger('test');
  const fetcher = new SnapshotFetcher(
    { onSnapshot: (symbol, payload, msgIndex) => got.push([symbol, payload, msgIndex]) },
    { venue: BINANCE_VENUES['binance-spot'], restUrl: srv.url, log, counter: { next: 7 }, onFatal: (e) => assert.unreachable(e.message), backoff: { minMs: 1, maxMs: 5 } },
  );
  try {
    fetcher.requestSnapshot('BTCUSDT');
    fetcher.requestSnapshot('BTCUSDT'); // already waiting: not asked twice
    await waitUntil(() => got.length === 1, 20_000, { what: 'the snapshot' });
    assert.equal(got[0], ['BTCUSDT', '{"lastUpdateId":7,"bids":[],"asks":[]}', 7]);
    assert.is(srv.hits.length, 4);
    assert.is(srv.hits[0], '/api/v3/depth?symbol=BTCUSDT&limit=1000');
    assert.is(fetcher.counters.rateLimited, 1);
    assert.is(fetcher.counters.failures, 3);
  } finally {
    fetcher.close();
    await srv.close();
  }
});

test('REST: a symbol the venue does not have is fatal on its first request, with the URL, status and answer', async () => {
  const srv = await scriptedRest([[400, {}, '{"code":-1121,"msg":"Invalid symbol."}']]);
  let fatal: MdfanError | null = null;
  const fetcher = new SnapshotFetcher(
    { onSnapshot: () => assert.unreachable('no snapshot') },
    { venue: BINANCE_VENUES['binance-usdm'], restUrl: srv.url, log: createLogger('test'), counter: { next: 0 }, onFatal: (e) => (fatal = e), backoff: { minMs: 1, maxMs: 5 } },
  );
  try {
    fetcher.requestSnapshot('NOPE');
    const e = await waitUntil(() => fatal, 10_000, { what: 'the fatal error' });
    assert.is(e.code, 'MDFAN_ERR_OPTIONS');
    assert.match(e.message, `GET ${srv.url}/fapi/v1/depth?symbol=NOPE&limit=1000 answered HTTP 400`);
    assert.match(e.message, 'Invalid symbol.');
  } finally {
    fetcher.close();
    await srv.close();
  }
});

test("venue-replay's REST: the book of the moment with the recorded snapshot's keys and decimals; Binance's errors for what a client gets wrong", async () => {
  const c = await cut('cm', 'cm', 'binance-coinm', CM_LINES);
  const vr = await startVenueReplay(c.file, ['--speed', 'max']);
  const { WebSocket } = await import('ws');
  const client = new WebSocket(`${vr.ws}/stream?streams=btcusd_perp@depth@0ms`);
  try {
    await vr.proc.line(/^venue-replay: end of capture/, 60_000); // the replay starts with the first client
    const res = await fetch(`${vr.rest}/dapi/v1/depth?symbol=BTCUSD_PERP&limit=5`);
    assert.is(res.status, 200);
    assert.ok(Number(res.headers.get('x-mbx-used-weight-1m')) > 0, 'the weight header');
    const body = (await res.json()) as Record<string, unknown>;
    assert.equal(Object.keys(body), ['lastUpdateId', 'E', 'T', 'symbol', 'pair', 'bids', 'asks'], 'the recorded futures snapshot keys, in order');
    assert.is(body.symbol, 'BTCUSD_PERP');
    const lastU = [...c.updateIds.values()].at(-1)!;
    assert.is(body.lastUpdateId, lastU, "the last depth event's u");
    const bids = body.bids as string[][];
    assert.is(bids.length, 5);
    for (const [p, q] of bids) assert.ok(/^\d+\.\d$/.test(p!) && /^\d+$/.test(q!), `recorded decimals: ${p} ${q}`);
    // The recorded final book's best levels, from the recorded replay's last line.
    const last = c.recorded.at(-1)!.book.split(',').map(Number);
    assert.is(Math.round(Number(bids[0]![0]) * 1e8), last[2]!, 'the best bid is the recorded final one');
    for (const [url, status, code] of [
      [`${vr.rest}/api/v3/depth?symbol=ETHUSDT`, 400, -1121],
      [`${vr.rest}/api/v3/depth`, 400, -1102],
      [`${vr.rest}/api/v3/depth?symbol=BTCUSD_PERP&limit=9999`, 400, -1100],
      [`${vr.rest}/api/v3/nothing`, 404, -1000],
    ] as const) {
      const r = await fetch(url);
      assert.is(r.status, status, url);
      assert.is(((await r.json()) as { code: number }).code, code, url);
    }
  } finally {
    client.terminate();
    await vr.proc.run.kill();
  }
});

/** A WebSocket server on a free port; `onConnection(ws, n)` with n counting from 1. */
async function wsServer(onConnection: (ws: WebSocket, n: number) => void, opts: { autoPong?: boolean } = {}): Promise<{ url: string; close(): Promise<void> }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, autoPong: opts.autoPong ?? true });
  await once(wss, 'listening');
  let n = 0;
  wss.on('connection', (ws) => onConnection(ws, ++n));
  const { port } = wss.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}/stream?streams=x`,
    close: async () => {
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((r) => wss.close(() => r()));
    },
  };
}

/** What a stream handed on. */
function recordingTarget(): { frames: Array<[string, number]>; disconnects: number[]; onMessage(p: string, i: number): void; onDisconnect(i: number): void } {
  const t = {
    frames: [] as Array<[string, number]>,
    disconnects: [] as number[],
    onMessage: (p: string, i: number) => void t.frames.push([p, i]),
    onDisconnect: (i: number) => void t.disconnects.push(i),
  };
  return t;
}

test('the stream: a server close is a disconnect at the next message index; it reconnects and the indexes run on', async () => {
  const srv = await wsServer((ws, n) => {
    ws.send(`c${n}a`);
    ws.send(`c${n}b`);
    if (n === 1) ws.close(1001, 'going away'); // as Binance at the 24-hour mark
  });
  const t = recordingTarget();
  let lives = 0;
  let downs = 0;
  const stream = new WsStream(t, { url: srv.url, log: createLogger('test'), counter: { next: 0 }, onLive: () => lives++, onDown: () => downs++ });
  try {
    stream.start();
    await waitUntil(() => t.frames.length === 4, 20_000, { what: 'four frames over two connections' });
    assert.equal(t.frames, [
      ['c1a', 0],
      ['c1b', 1],
      ['c2a', 2],
      ['c2b', 3],
    ]);
    assert.equal(t.disconnects, [2]);
    assert.is(stream.counters.connects, 2);
    assert.is(stream.counters.disconnects, 1);
    assert.is(lives, 2);
    assert.is(downs, 1);
  } finally {
    stream.close();
    await srv.close();
  }
});

test('the stream: a connection that goes silent (no frame, no pong) is cut and reconnected', async () => {
  const srv = await wsServer((ws, n) => ws.send(`c${n}`), { autoPong: false });
  const t = recordingTarget();
  const stream = new WsStream(t, { url: srv.url, log: createLogger('test'), counter: { next: 0 }, silentMs: 300 });
  try {
    stream.start();
    await waitUntil(() => t.frames.length >= 2, 20_000, { what: 'a second connection after the silent one' });
    assert.ok(stream.counters.silentCuts >= 1);
    assert.equal(t.frames.slice(0, 2), [
      ['c1', 0],
      ['c2', 1],
    ]);
    assert.is(t.disconnects[0], 1);
  } finally {
    stream.close();
    await srv.close();
  }
});

test('the stream: before its maximum age a fresh connection takes over without a disconnect; indexes stay contiguous', async () => {
  const timers: NodeJS.Timeout[] = [];
  const srv = await wsServer((ws, n) => {
    let k = 0;
    timers.push(setInterval(() => ws.readyState === ws.OPEN && ws.send(`c${n}-${k++}`), 5));
  });
  const t = recordingTarget();
  const stream = new WsStream(t, { url: srv.url, log: createLogger('test'), counter: { next: 0 }, maxAgeMs: 200, silentMs: 600 });
  try {
    stream.start();
    await waitUntil(() => stream.counters.rotations >= 1 && t.frames.some(([p]) => p.startsWith('c2-')), 20_000, { what: 'a take-over' });
    const n = t.frames.length;
    await waitUntil(() => t.frames.length > n + 5, 20_000, { what: 'frames after the take-over' });
    assert.equal(t.disconnects, [], 'no disconnect');
    assert.is(stream.counters.disconnects, 0);
    assert.equal(
      t.frames.map(([, i]) => i),
      t.frames.map((_, k) => k),
      'contiguous message indexes',
    );
    const firstNew = t.frames.findIndex(([p]) => p.startsWith('c2-'));
    assert.ok(t.frames.slice(firstNew).every(([p]) => !p.startsWith('c1-')), 'nothing from the old connection after the take-over');
  } finally {
    for (const x of timers) clearInterval(x);
    stream.close();
    await srv.close();
  }
});

test.after(killAll);
test.run();
