/**
 * The recorded Binance sources against an independent oracle (test/helpers/binance_oracle.py,
 * written from Binance's documented rules): on both real recordings every applied depth event's
 * book, through `mdfan feed --dump-books` and through the slot a reader sees; the top-of-book rule;
 * and every fault a capture can hold: a lost event, duplicates, garbage, a cut gzip, a number with
 * too many decimals, a late snapshot, events older than the snapshot; and snapshots taken while the
 * book is past its snapshot's edge (re-anchoring).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCapture } from '../feed/binance/capture-read.js';
import { BinanceMarket } from '../feed/binance/market.js';
import { ServerBook } from '../feed/binance/venue-server/book.js';
import { BINANCE_VENUES } from '../feed/binance/venues.js';
import { formatBookLine } from '../lib/book-line.js';
import { createLogger } from '../lib/log.js';
import { SegmentReader } from '../native/segment/index.js';
import { NullSink } from '../feed/sink.js';
import type { LevelSource } from '../native/segment/seqlock.js';
import { CRYPTO_SETS, type CryptoSet, captureLines, editCapture, findLine, mergedCapture, runOracle } from './helpers/crypto-capture.js';
import { binPath } from './helpers/paths.js';
import { cleanupSegments, segName } from './helpers/segments.js';

const dir = mkdtempSync(join(tmpdir(), 'mdfan-binance-'));
test.after.each(cleanupSegments);
test.after(() => rmSync(dir, { recursive: true, force: true }));

const LEVELS = 5;
let files = 0;

interface FeedRun {
  status: number | null;
  stdout: string;
  stderr: string;
  dump: string;
  segment: string;
}

/** `mdfan feed --source KIND:capture --dump-books --speed max --keep-segment`. */
function feed(set: CryptoSet, capture: string, extra: string[] = []): FeedRun {
  const dump = join(dir, `run-${++files}.dump`);
  const segment = segName(`bn-${set}`);
  const r = spawnSync(process.execPath, [binPath, 'feed', '--source', `${CRYPTO_SETS[set].kind}:${capture}`, '--segment', segment, '--levels', String(LEVELS), '--speed', 'max', '--dump-books', dump, '--keep-segment', ...extra], {
    encoding: 'utf8',
  });
  let text = '';
  try {
    text = readFileSync(dump, 'latin1');
  } catch {}
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, dump: text, segment };
}

const oracle = (set: CryptoSet, capture: string) => runOracle(set, [capture], join(dir, `oracle-${++files}.dump`), LEVELS);

/** The first line where two dumps differ, for a failure message. */
function firstDifference(a: string, b: string): string {
  const x = a.split('\n');
  const y = b.split('\n');
  for (let i = 0; i < Math.max(x.length, y.length); i++) if (x[i] !== y[i]) return `line ${i}:\n  feed:   ${x[i]}\n  oracle: ${y[i]}`;
  return 'none';
}

function assertSameDump(run: FeedRun, expected: string): void {
  assert.ok(run.dump === expected, `the dump differs from the oracle's at ${firstDifference(run.dump, expected)}`);
}

/** The slot of `symbol` as a reader sees it: its book line, and whether it is STALE. */
function slotOf(segment: string, symbol: string): { line: string; stale: boolean } {
  const r = SegmentReader.openSync(segment, { anyState: true });
  try {
    const snap = r.newSnapshot();
    r.read(r.find(symbol), snap);
    return { line: formatBookLine(snap.msgIndex, symbol, snap, LEVELS), stale: snap.stale };
  } finally {
    r.close();
  }
}

const lastLine = (text: string): string => text.trimEnd().split('\n').pop() ?? '';

for (const set of ['cm', 'spot'] as const) {
  test(`${set}: every applied depth event's book equals the oracle's, through --dump-books and the slot`, async () => {
    const capture = await mergedCapture(set, dir);
    const run = feed(set, capture);
    assert.is(run.status, 0, run.stderr);
    const want = oracle(set, capture);
    const depthEvents = set === 'cm' ? 44_795 : 6_495;
    assert.is(want.summary.applied + want.summary.dropped_old, depthEvents, 'the oracle accounts for every depth event');
    assert.is(run.dump.split('\n').length - 1, want.summary.applied);
    assertSameDump(run, want.dump);
    // Events older than the snapshot (they came before it) are dropped, not applied: 23 on cm, 2 on spot.
    assert.match(run.stdout, `${want.summary.applied} depth events applied, ${want.summary.dropped_old} older than the snapshot, 0 duplicates, 0 gaps`);
    assert.ok(want.summary.dropped_old > 0);
    const slot = slotOf(run.segment, CRYPTO_SETS[set].symbol);
    assert.is(slot.line, lastLine(want.dump), 'the slot holds the last book');
    // A book showing a level past the snapshot's edge may have holes: committed STALE, as the oracle judges it.
    assert.match(run.stdout, `${want.summary.past_edge} books past the snapshot's edge (stale)`);
    assert.is(slot.stale, Boolean(want.summary.last_past_edge), 'the last book is STALE exactly when it shows a level past the edge');
    if (set === 'spot') assert.ok(want.summary.past_edge > 0, 'the spot recording drifts past its snapshot');
  });
}

test('--price-decimals / --size-decimals: COIN-M at its own precision (prices 1 decimal, whole contracts) exact as the oracle; too few decimals are malformed, never rounded', async () => {
  const whole = await mergedCapture('cm', dir);
  const capture = editCapture(whole, join(dir, 'cm-decimals.gz'), { lines: 8000 });
  const run = feed('cm', capture, ['--price-decimals', '1', '--size-decimals', '0']);
  assert.is(run.status, 0, run.stderr);
  const want = runOracle('cm', [capture], join(dir, `oracle-${++files}.dump`), LEVELS, 1, 0);
  assertSameDump(run, want.dump);
  assert.ok(want.summary.applied > 1000);
  const r = SegmentReader.openSync(run.segment, { anyState: true });
  try {
    const inst = r.instruments()[0]!;
    assert.equal([inst.priceDecimals, inst.sizeDecimals], [1, 0]);
  } finally {
    r.close();
  }
  // Spot prices have two significant decimals: held at one, every message with a price is malformed.
  const spot = editCapture(await mergedCapture('spot', dir), join(dir, 'spot-decimals.gz'), { lines: 2000 });
  const bad = feed('spot', spot, ['--price-decimals', '1']);
  assert.is(bad.status, 0, bad.stderr);
  assert.match(bad.stdout, /malformed: more_decimals \d+/);
  assert.is(bad.dump, '', 'nothing rounded into a book');
  // The flags belong to crypto venues.
  const itch = spawnSync(process.execPath, [binPath, 'feed', '--source', 'itch:/nonexistent', '--segment', segName('dec'), '--size-decimals', '2'], { encoding: 'utf8' });
  assert.is(itch.status, 2);
  assert.match(itch.stderr, '--size-decimals goes with a crypto venue');
});

/** A sink that keeps the top-of-book line's changes as the oracle writes them. */
class TopLineSink extends NullSink {
  lines: string[] = [];
  books = 0;
  stale: number[] = [];
  /** Books committed doubtful (a level past the snapshot's edge). */
  doubtful: number[] = [];
  override instrument(): number {
    return 0;
  }
  override book(_slot: number, top: LevelSource, msgIndex: number, _ts: number, doubtful?: boolean, keepTop?: boolean): void {
    this.books++;
    if (doubtful) this.doubtful.push(msgIndex);
    if (keepTop) return;
    const bid = top.bidCount > 0 ? `${top.bids[0]},${top.bids[1]}` : '-9999999999,0';
    const ask = top.askCount > 0 ? `${top.asks[0]},${top.asks[1]}` : '9999999999,0';
    this.lines.push(`${msgIndex},SYM,${bid},${ask}`);
  }
  override bbo(_slot: number, bp: number, bq: number, ap: number, aq: number, msgIndex: number): void {
    this.lines.push(`${msgIndex},SYM,${bp},${bq},${ap},${aq}`);
  }
  override bookStale(_slot: number, msgIndex: number): void {
    this.stale.push(msgIndex);
  }
}

for (const set of ['cm', 'spot'] as const) {
  test(`${set}: the top-of-book line shows the newest best bid/offer by update id, as the oracle's`, async () => {
    const capture = await mergedCapture(set, dir);
    const sink = new TopLineSink();
    const m = new BinanceMarket(BINANCE_VENUES[CRYPTO_SETS[set].kind], sink, { levels: LEVELS, symbols: null, log: createLogger('test') });
    for await (const l of readCapture(capture)) m.onMessage(l.payload, l.lineIndex);
    const want = oracle(set, capture);
    const got = `${sink.lines.join('\n')}\n`.replaceAll(',SYM,', `,${CRYPTO_SETS[set].symbol},`);
    assert.ok(got === want.topLines, `top lines differ at ${firstDifference(got, want.topLines)}`);
    assert.is(m.binance.tickers, want.summary.tickers);
    assert.is(m.binance.tickersDropped, want.summary.tickers_dropped);
    // Exactly the books the oracle finds showing a level past the snapshot's edge are committed doubtful (STALE).
    assert.equal(sink.doubtful, want.summary.past_edge_indexes as unknown as number[]);
  });
}

/** A prefix of the spot recording (fast), and the index of its snapshot line. */
async function spotPrefix(): Promise<{ capture: string; snapshotLine: number }> {
  const whole = await mergedCapture('spot', dir);
  const capture = editCapture(whole, join(dir, 'spot-prefix.gz'), { lines: 12_000 });
  return { capture, snapshotLine: findLine(capture, / \{"lastUpdateId":/) };
}

const depthAfter = (capture: string, from: number, nth: number): number => {
  let k = from;
  for (let n = 0; n < nth; n++) k = findLine(capture, /@depth@/, k + 1);
  return k;
};

test('a dropped depth event: a gap, the book STALE from there on (no snapshot follows in a recording), books as the oracle', async () => {
  const { capture, snapshotLine } = await spotPrefix();
  const lost = depthAfter(capture, snapshotLine, 10);
  const cut = editCapture(capture, join(dir, 'drop.gz'), { drop: [lost] });
  const run = feed('spot', cut);
  assert.is(run.status, 0, run.stderr);
  const want = oracle('spot', cut);
  assertSameDump(run, want.dump);
  assert.is(want.summary.gaps, 1);
  assert.match(run.stdout, '1 gaps (1 stale marks, 0 resyncs)');
  const last = Number(lastLine(run.dump).split(',')[0]);
  assert.ok(last < lost, 'nothing applied after the gap');
  const slot = slotOf(run.segment, 'BTCUSDT');
  assert.is(slot.stale, true, 'the book stays STALE');
});

test('duplicated depth events (before and after the snapshot) are dropped and counted; books as the oracle', async () => {
  const { capture, snapshotLine } = await spotPrefix();
  const dups = [depthAfter(capture, 0, 1), depthAfter(capture, snapshotLine, 3), depthAfter(capture, snapshotLine, 50), depthAfter(capture, snapshotLine, 51)];
  const edited = editCapture(capture, join(dir, 'dup.gz'), { duplicate: dups });
  const run = feed('spot', edited);
  assert.is(run.status, 0, run.stderr);
  const want = oracle('spot', edited);
  assertSameDump(run, want.dump);
  assert.is(want.summary.duplicates, 3, 'the one before the snapshot is older than it');
  assert.match(run.stdout, '3 duplicates, 0 gaps');
  assert.is(slotOf(run.segment, 'BTCUSDT').stale, false);
});

test('garbage payloads are counted malformed and the replay goes on; a line without `<recv_ns> ` stops it naming file and line', async () => {
  const { capture, snapshotLine } = await spotPrefix();
  const at = snapshotLine + 40;
  const edited = editCapture(capture, join(dir, 'garbage.gz'), {
    insert: [
      [at, '1723161254206652067 {"stream":"btcusdt@depth@100ms","data":{'],
      [at + 1, '1723161254206652067 not json at all'],
      [at + 2, '1723161254206652067 {"stream":"btcusdt@kline_1m","data":{"e":"kline","s":"BTCUSDT"}}'],
      [at + 3, '1723161254206652067 {"stream":"btcusdt@trade","data":{"e":"trade","s":"BTCUSDT","t":1,"p":61000,"q":"1","T":1,"m":true}}'],
    ],
  });
  const run = feed('spot', edited);
  assert.is(run.status, 0, run.stderr);
  const want = oracle('spot', edited);
  assertSameDump(run, want.dump);
  assert.is(want.summary.malformed, 4);
  assert.match(run.stdout, 'malformed: not_json 2, other_stream 1, bad_field 1');
  const framing = editCapture(capture, join(dir, 'framing.gz'), { insert: [[at, 'hello world']] });
  const bad = feed('spot', framing);
  assert.is.not(bad.status, 0);
  assert.match(bad.stderr, 'MDFAN_ERR_FEED_CORRUPT');
  assert.match(bad.stderr, `framing.gz: line ${at} `);
});

test('a capture cut short (a killed recorder): replayed up to the cut, a warning, exit 0; books as the oracle', async () => {
  const { capture } = await spotPrefix();
  const cut = editCapture(capture, join(dir, 'cut.gz'), { cutFraction: 0.6 });
  const run = feed('spot', cut);
  assert.is(run.status, 0, run.stderr);
  assert.match(run.stderr, '"event":"feed_truncated"');
  const want = oracle('spot', cut);
  assert.ok(want.summary.applied > 100);
  assertSameDump(run, want.dump);
});

test('a number with more decimals than the scale: malformed, never rounded; the next event is a gap', async () => {
  const { capture, snapshotLine } = await spotPrefix();
  const k = depthAfter(capture, snapshotLine, 5);
  const edited = editCapture(capture, join(dir, 'decimals.gz'), { edit: [[k, (p) => p.replace(/"b":\[\["(\d+\.\d{8})"/, '"b":[["$11"')]] });
  assert.match(readFileSync(edited).length > 0 ? 'ok' : '', 'ok');
  const run = feed('spot', edited);
  assert.is(run.status, 0, run.stderr);
  const want = oracle('spot', edited);
  assertSameDump(run, want.dump);
  assert.match(run.stdout, 'malformed: more_decimals 1');
  assert.is(want.summary.malformed, 1);
  assert.is(want.summary.gaps, 1, 'the event was lost: the one after it does not follow');
  assert.is(slotOf(run.segment, 'BTCUSDT').stale, true);
});

test('a late snapshot: the events before it wait for it (bounded buffer), then the rules apply; books as the oracle', async () => {
  const { capture, snapshotLine } = await spotPrefix();
  const later = depthAfter(capture, snapshotLine, 20);
  const edited = editCapture(capture, join(dir, 'late.gz'), { move: [[snapshotLine, later]] });
  const run = feed('spot', edited);
  assert.is(run.status, 0, run.stderr);
  const want = oracle('spot', edited);
  assertSameDump(run, want.dump);
  assert.is(want.summary.gaps, 0);
  assert.ok(want.summary.applied > 1000);
  const first = Number(run.dump.split(',')[0]);
  assert.ok(first < later, 'buffered events are applied with their own message index');
});

/**
 * A REST snapshot body as Binance would send it just after the depth event at line `at`: the venue
 * server's book (the recorded snapshot moved by the events), 1,000 levels a side, lastUpdateId that
 * event's u. Its capture line keeps that line's receive time.
 */
function venueSnapshotAt(lines: string[], at: number): string {
  const book = new ServerBook('BTCUSDT');
  for (let k = 0; k <= at; k++) {
    const payload = lines[k]!.slice(lines[k]!.indexOf(' ') + 1);
    if (payload.startsWith('{"lastUpdateId"')) book.seed(JSON.parse(payload));
    else if (payload.includes('@depth@')) book.apply(JSON.parse(payload).data);
  }
  const body = book.snapshotBody(1000);
  const snap = JSON.parse(body) as { lastUpdateId: number; bids: unknown[]; asks: unknown[] };
  const event = JSON.parse(lines[at]!.slice(lines[at]!.indexOf(' ') + 1)).data as { u: number };
  assert.equal([snap.lastUpdateId, snap.bids.length, snap.asks.length], [event.u, 1000, 1000], 'a snapshot as Binance sends it');
  return `${lines[at]!.slice(0, lines[at]!.indexOf(' '))} ${body}`;
}

test('re-anchoring: snapshots recorded while the book is past its edge (one older than the book, one newer) move the edge; books as the oracle, STALE only where it says', async () => {
  const whole = await mergedCapture('spot', dir);
  const plain = oracle('spot', whole);
  const lines = captureLines(whole);
  // Older: the book at an event, recorded five events later (the live fetcher's answer came late).
  const older = findLine(whole, /@depth@/, 51_150);
  const olderAt = depthAfter(whole, older, 5);
  // Newer: the book at an event, recorded before the stream delivered that event.
  const newer = findLine(whole, /@depth@/, 84_150);
  const wasPast = (from: number, to: number) => (plain.summary.past_edge_indexes ?? []).some((i) => i >= from && i <= to);
  assert.ok(wasPast(older, olderAt) && wasPast(newer - 100, newer), 'both are taken where the recording is past its edge');
  const edited = editCapture(whole, join(dir, 'reanchor.gz'), {
    insert: [
      [olderAt, venueSnapshotAt(lines, older)],
      [newer, venueSnapshotAt(lines, newer)],
    ],
  });
  const run = feed('spot', edited);
  assert.is(run.status, 0, run.stderr);
  const want = oracle('spot', edited);
  assertSameDump(run, want.dump);
  // Line numbers in the edited capture: the second insert shifts everything after the first by one.
  assert.equal([want.summary.reanchors, want.summary.reanchors_failed, want.summary.reanchor_indexes], [2, 0, [olderAt, newer + 1]] as unknown[]);
  assert.match(run.stdout, '2 re-anchors (0 failed)');
  assert.ok(run.dump.includes(`\n${olderAt},BTCUSDT,`), 'the older one is committed once, at its own line');
  assert.ok(!run.dump.includes(`\n${newer + 1},BTCUSDT,`), 'the newer one waits for the event that bridges it');
  // Inside the new edges the books are no longer doubtful, where they were without the snapshots.
  const pastWithin = (idx: number[] | undefined, from: number, n: number) => (idx ?? []).filter((i) => i >= from && i < from + n).length;
  assert.ok(pastWithin(plain.summary.past_edge_indexes, olderAt, 3000) > 50 && pastWithin(want.summary.past_edge_indexes, olderAt, 3000) === 0);
  assert.ok(pastWithin(plain.summary.past_edge_indexes, newer, 3000) > 50 && pastWithin(want.summary.past_edge_indexes, newer + 1, 3000) === 0);
  assert.match(run.stdout, `${want.summary.past_edge} books past the snapshot's edge (stale)`);
  assert.is(slotOf(run.segment, 'BTCUSDT').stale, Boolean(want.summary.last_past_edge));
  // The same market in process: exactly the oracle's doubtful books, and its top-of-book line.
  const sink = new TopLineSink();
  const m = new BinanceMarket(BINANCE_VENUES['binance-spot'], sink, { levels: LEVELS, symbols: null, log: createLogger('test') });
  for await (const l of readCapture(edited)) m.onMessage(l.payload, l.lineIndex);
  assert.equal(sink.doubtful, want.summary.past_edge_indexes as unknown as number[]);
  const top = `${sink.lines.join('\n')}\n`.replaceAll(',SYM,', ',BTCUSDT,');
  assert.ok(top === want.topLines, `top lines differ at ${firstDifference(top, want.topLines)}`);
  assert.equal([m.binance.reanchors, m.binance.reanchorsFailed, m.binance.reanchorRequests], [2, 0, 0], 'a recording asks for nothing');
});

test.run();
