/**
 * The GOOG day (real NASDAQ data as ITCH 5.0): every one of the 147,916 oracle checkpoints must
 * match the book, through --dump-books, through the slot a reader sees, and through MoldUDP64.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadFeed, nextFrame } from '../feed/itch/framing.js';
import { ItchVenue, Publisher } from '../feed/index.js';
import { SegmentReader, SegmentWriter } from '../native/segment/index.js';
import { formatBookLine } from '../lib/book-line.js';
import { checkDumpAgainstOracle, GOOG_ITCH, oracle } from './helpers/oracle.js';
import { binPath } from './helpers/paths.js';
import { segName, cleanupSegments } from './helpers/segments.js';
import { type Child, logLine, spawnMdfan } from '../lib/child.js';
import { LogEvent } from '../lib/log.js';

const dir = mkdtempSync(join(tmpdir(), 'mdfan-oracle-'));
test.after.each(cleanupSegments);
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('mdfan feed --dump-books: all 147,916 checkpoints match; CLOSED and exit 0 at the end', () => {
  const dump = join(dir, 'goog.dump');
  const name = segName('oracle-cli');
  const r = spawnSync(process.execPath, [binPath, 'feed', '--source', `itch:${GOOG_ITCH}`, '--segment', name, '--dump-books', dump, '--keep-segment'], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /157217 messages/);
  const { checked, bad } = checkDumpAgainstOracle(readFileSync(dump, 'latin1'));
  assert.is(checked, 147_916);
  assert.equal(bad, []);
  const stat = JSON.parse(spawnSync(process.execPath, [binPath, 'stat', '--segment', name, '--json'], { encoding: 'utf8' }).stdout);
  assert.is(stat.state, 'CLOSED');
  assert.is(stat.messages, 157_217);
  assert.is(stat.counters.unknown_order_refs, 0);
  assert.is(stat.instruments[0].symbol, 'GOOG');
});

test('--symbols: only the named instruments get slots and lines', () => {
  const only = join(dir, 'only.dump');
  const none = join(dir, 'none.dump');
  const a = spawnSync(process.execPath, [binPath, 'feed', '--source', `itch:${GOOG_ITCH}`, '--segment', segName('sym1'), '--symbols', 'AAPL,GOOG', '--dump-books', only], { encoding: 'utf8' });
  assert.is(a.status, 0, a.stderr);
  assert.match(a.stdout, '1 instruments');
  assert.is(readFileSync(only, 'latin1').trim().split('\n').length, 153_297);
  const b = spawnSync(process.execPath, [binPath, 'feed', '--source', `itch:${GOOG_ITCH}`, '--segment', segName('sym2'), '--symbols', 'AAPL', '--dump-books', none], { encoding: 'utf8' });
  assert.is(b.status, 0, b.stderr);
  assert.match(b.stdout, '0 publishes, 0 instruments');
  assert.is(readFileSync(none, 'latin1'), '');
});

test('the checkpoints through the slot: a reader\'s seqlock read after each checkpoint message equals the oracle', () => {
  const name = segName('oracle-slot');
  const w = SegmentWriter.open({ name, maxInstruments: 4, levels: 10 });
  const r = SegmentReader.openSync(name);
  try {
    const venue = new ItchVenue(new Publisher(w), 10);
    const feed = loadFeed(GOOG_ITCH);
    const snap = r.newSnapshot();
    const rows = oracle();
    const fr = { offset: 0, length: 0 };
    let oi = 0;
    let bad = 0;
    let first = '';
    let slot = -1;
    for (let pos = 0, i = 0; pos < feed.bytes.length; i++) {
      pos = nextFrame(feed.bytes, feed.bytes.length, pos, i, feed.file, fr);
      venue.process(feed.bytes, fr.offset, fr.length, i);
      while (oi < rows.length && rows[oi].index === i) {
        if (slot < 0) slot = r.find('GOOG');
        r.read(slot, snap);
        const line = formatBookLine(snap.msgIndex, 'GOOG', snap, 10);
        if (line.slice(line.indexOf('GOOG,') + 5) !== rows[oi].levels || snap.msgIndex > i) {
          bad++;
          first ||= `checkpoint ${i}: slot ${line.slice(0, 100)} vs ${rows[oi].levels.slice(0, 80)}`;
        }
        oi++;
      }
    }
    assert.is(oi, 147_916);
    assert.is(bad, 0, first);
  } finally {
    r.close();
    w.close();
  }
});

/** Starts `mdfan feed` on a MoldUDP64 port and resolves once it logs that it listens. */
async function startLiveFeed(port: number, args: string[]): Promise<Child> {
  const feed = spawnMdfan('live feed', ['feed', '--source', `moldudp64:127.0.0.1:${port}`, ...args]);
  await logLine(feed, (l) => l.event === LogEvent.FEED_LISTENING, 20_000);
  return feed;
}

test('MoldUDP64 over loopback (mdfan send -> mdfan feed) produces the same books as the file', async () => {
  const fileDump = join(dir, 'file.dump');
  const udpDump = join(dir, 'udp.dump');
  const a = spawnSync(process.execPath, [binPath, 'feed', '--source', `itch:${GOOG_ITCH}`, '--segment', segName('udp-file'), '--dump-books', fileDump], { encoding: 'utf8' });
  assert.is(a.status, 0, a.stderr);
  const port = 20000 + (process.pid % 20000);
  const feed = await startLiveFeed(port, ['--segment', segName('udp'), '--dump-books', udpDump]);
  try {
    const send = spawnSync(process.execPath, [binPath, 'send', '--source', `itch:${GOOG_ITCH}`, '--to', `127.0.0.1:${port}`, '--max-pps', '20000'], { encoding: 'utf8' });
    assert.is(send.status, 0, send.stderr);
    assert.is((await feed.exited).code, 0, feed.stderr());
  } finally {
    await feed.kill();
  }
  assert.ok(!feed.logs.some((l) => l.event === LogEvent.FEED_GAP), 'no gap expected at 20k packets/s');
  assert.ok(readFileSync(udpDump).equals(readFileSync(fileDump)), 'the live path must produce the file path\'s books, line for line');
});

// A dropped packet, recovered or lost for good: test/feed-hostile.test.ts.

test.run();
