/**
 * The feed handler against hostile or broken input: nothing on the wire stops the live writer
 * (malformed directory symbols, forged sequence numbers, stale ends of session, duplicates counted
 * live), a file names where it is broken, unannounced locates never fill the directory, a full
 * directory refuses the rest and goes on, and a whole day with 2% of its packets lost arrives
 * exact through re-requests.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { END_OF_SESSION, PacketBuilder } from '../feed/moldudp64/packet.js';
import { frameMessages } from '../feed/itch/framing.js';
import { type Child, logLine, spawnMdfan } from '../lib/child.js';
import { LogEvent, hasEvent } from '../lib/log.js';
import { unlinkSegment } from '../native/segment/index.js';
import { add, directory } from './helpers/itch-encode.js';
import { GOOG_ITCH, checkDumpAgainstOracle } from './helpers/oracle.js';
import { binPath } from './helpers/paths.js';
import { cleanupSegments, segName } from './helpers/segments.js';
import { waitUntil } from './helpers/wait.js';

const dir = mkdtempSync(join(tmpdir(), 'mdfan-hostile-'));
const children = new Set<Child>();
test.after.each(async () => {
  for (const c of children) await c.kill();
  children.clear();
  cleanupSegments();
});
test.after(() => rmSync(dir, { recursive: true, force: true }));

const stat = (name: string) => JSON.parse(spawnSync(process.execPath, [binPath, 'stat', '--segment', name, '--json'], { encoding: 'utf8' }).stdout || 'null');

/** A UDP port free a moment ago (the feed binds it next). */
async function freePort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const { port } = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function startLiveFeed(port: number, args: string[]): Promise<Child> {
  const feed = spawnMdfan('live feed', ['feed', '--source', `moldudp64:127.0.0.1:${port}`, ...args]);
  children.add(feed);
  await logLine(feed, (l) => l.event === LogEvent.FEED_LISTENING, 20_000);
  return feed;
}

/** One packet holding `msgs` from sequence number `seq`. */
function packet(seq: number, ...msgs: Buffer[]): Buffer {
  const b = new PacketBuilder('HOSTILE', seq, 1400);
  for (const m of msgs) b.add(m, 0, m.length);
  return b.take();
}

test('the live writer survives one packet with an unprintable directory symbol, a forged 2^62 sequence and a stale end of session; duplicates are counted live', async () => {
  const name = segName('hostile-live');
  const port = await freePort();
  const feed = await startLiveFeed(port, ['--segment', name, '--keep-segment']);
  const sock = createSocket('udp4');
  const send = (p: Buffer): Promise<void> => new Promise((r, j) => sock.send(p, port, '127.0.0.1', (e) => (e ? j(e) : r())));
  try {
    const bad = directory(1, 'GOOD');
    bad[11] = 0x01; // the symbol's first byte: not printable
    await send(packet(1, bad));
    const good = packet(2, directory(2, 'GOOG'), add(1, 'B', 100, 5_000_000, 2));
    await send(good);
    const forged = packet(3, add(2, 'S', 100, 5_010_000, 2));
    forged.writeUInt32BE(0x40000000, 10); // sequence number 2^62
    forged.writeUInt32BE(0, 14);
    await send(forged);
    await send(new PacketBuilder('HOSTILE', 1).control(END_OF_SESSION)); // an end before messages already received
    await send(good); // a duplicate of both its messages
    await waitUntil(() => stat(name)?.counters.feed_duplicates === 2, 10_000, { what: 'the duplicates counted while the session runs' });
    assert.is(stat(name).state, 'READY', 'the writer is alive');
    await send(packet(4, add(3, 'S', 200, 5_020_000, 2)));
    await send(new PacketBuilder('HOSTILE', 5).control(END_OF_SESSION));
    const e = await feed.exited;
    children.delete(feed);
    assert.is(e.code, 0, feed.stderr());
    const st = stat(name);
    assert.is(st.state, 'CLOSED');
    assert.equal(
      st.instruments.map((i: { symbol: string }) => i.symbol),
      ['GOOG'],
    );
    assert.is(st.counters.malformed_messages, 3, 'the bad symbol, the forged sequence and the stale end');
    assert.is(st.counters.feed_duplicates, 2);
    assert.is(st.counters.feed_gaps, 0);
    assert.is(st.messages, 4);
    const logged = feed.logs.filter((l) => l.event === LogEvent.FEED_MALFORMED);
    assert.is(logged.length, 1);
    assert.is(logged[0]!.field, 'stock');
    assert.is(logged[0]!.msgIndex, 0);
  } finally {
    sock.close();
    unlinkSegment(name);
  }
});

test('a file with an unprintable directory symbol stops with MDFAN_ERR_FEED_CORRUPT naming its byte offset and message index', () => {
  const bad = directory(2, 'BAD');
  bad[12] = 0x7f;
  const msgs = [directory(1, 'GOOG'), add(1, 'B', 100, 5_000_000, 1), bad, add(2, 'B', 100, 5_000_000, 1)];
  const file = join(dir, 'bad-symbol.itch');
  writeFileSync(file, frameMessages(msgs));
  const offset = frameMessages(msgs.slice(0, 2)).length;
  const r = spawnSync(process.execPath, [binPath, 'feed', '--source', `itch:${file}`, '--segment', segName('hostile-file')], { encoding: 'utf8' });
  assert.is(r.status, 1, r.stderr);
  assert.match(r.stderr, `${file}: message 2 at byte offset ${offset}: field stock is "B\\u007fD", not a symbol`);
  assert.match(r.stderr, 'MDFAN_ERR_FEED_CORRUPT');
  assert.not.match(r.stderr, 'internal error');
});

test('orders for locates no directory named never fill the directory; a full directory refuses the rest, counted, and publishing goes on', () => {
  const name = segName('hostile-dir');
  const msgs = [directory(1, 'AAA'), directory(2, 'BBB'), add(1, 'B', 100, 5_000_000, 1), add(2, 'B', 100, 5_000_000, 2)];
  for (let locate = 3; locate < 103; locate++) msgs.push(add(locate, 'S', 10, 6_000_000, locate));
  msgs.push(add(103, 'B', 100, 5_010_000, 1)); // AAA again, after all that
  const file = join(dir, 'unannounced.itch');
  writeFileSync(file, frameMessages(msgs));
  const dump = join(dir, 'unannounced.dump');
  const r = spawnSync(process.execPath, [binPath, 'feed', '--source', `itch:${file}`, '--segment', name, '--max-instruments', '1', '--keep-segment', '--dump-books', dump], {
    encoding: 'utf8',
  });
  try {
    assert.is(r.status, 0, r.stderr);
    assert.match(r.stderr, LogEvent.INSTRUMENT_REFUSED);
    const st = stat(name);
    assert.equal(
      st.instruments.map((i: { symbol: string }) => i.symbol),
      ['AAA'],
    );
    assert.is(st.counters.instruments_refused, 1);
    assert.is(st.counters.unannounced_messages, 100);
    const lines = readFileSync(dump, 'latin1').trim().split('\n');
    assert.equal(
      lines.map((l) => l.split(',').slice(0, 6).join(',')),
      ['2,AAA,9999999999,0,5000000,100', '104,AAA,9999999999,0,5010000,100'],
    );
  } finally {
    unlinkSegment(name);
  }
});

test('a whole day sent with --drop 0.02: every lost packet is asked for again, and the books equal the file path\'s, line for line', async () => {
  const fileDump = join(dir, 'file.dump');
  const udpDump = join(dir, 'udp-drop.dump');
  const a = spawnSync(process.execPath, [binPath, 'feed', '--source', `itch:${GOOG_ITCH}`, '--segment', segName('drop-file'), '--dump-books', fileDump], { encoding: 'utf8' });
  assert.is(a.status, 0, a.stderr);
  const name = segName('drop-udp');
  const port = await freePort();
  const feed = await startLiveFeed(port, ['--segment', name, '--dump-books', udpDump, '--keep-segment']);
  try {
    const send = spawnMdfan('send', ['send', '--source', `itch:${GOOG_ITCH}`, '--to', `127.0.0.1:${port}`, '--max-pps', '20000', '--drop', '0.02', '--seed', '7']);
    children.add(send);
    const s = await send.exited;
    assert.is(s.code, 0, send.stderr());
    const summary = send.stdout.join('\n');
    const dropped = Number(/(\d+) dropped on first transmission/.exec(summary)?.[1]);
    const answered = Number(/(\d+) re-requests answered/.exec(summary)?.[1]);
    assert.ok(dropped > 20, summary);
    assert.ok(answered >= dropped, `every dropped packet asked for again: ${summary}`);
    const e = await feed.exited;
    children.delete(feed);
    assert.is(e.code, 0, feed.stderr());
    assert.ok(readFileSync(udpDump).equals(readFileSync(fileDump)), 'the books through a 2% loss equal the file path\'s, line for line');
    const st = stat(name);
    assert.ok(st.counters.feed_gaps >= 1, `gaps ${st.counters.feed_gaps}`);
    assert.ok(st.counters.feed_recovered >= dropped, `recovered ${st.counters.feed_recovered} messages of ${dropped} dropped packets`);
    assert.is(st.counters.feed_unrecovered, 0);
    assert.is(st.instruments[0].stale, false, 'every gap was filled: the book is not marked stale');
    assert.is(feed.logs.filter((l) => l.event === LogEvent.FEED_GAP).length, st.counters.feed_gaps);
    assert.is(feed.logs.filter((l) => l.event === LogEvent.FEED_RECOVERED).length, st.counters.feed_gaps);
  } finally {
    unlinkSegment(name);
  }
});

test('a gap nobody answers: books stale while it is asked for, then lost for good after the recovery timeout, counted, and the session goes on', async () => {
  const name = segName('udp-lost');
  const port = await freePort();
  const feed = await startLiveFeed(port, ['--segment', name, '--keep-segment']);
  const { sendMessages } = await import('../feed/moldudp64/sender.js');
  const { loadFeed, nextFrame } = await import('../feed/itch/framing.js');
  try {
    const f = loadFeed(GOOG_ITCH);
    const msgs: Array<{ buf: Uint8Array; offset: number; length: number; exchangeTsNs: number }> = [];
    const fr = { offset: 0, length: 0 };
    for (let pos = 0, i = 0; pos < f.bytes.length && i < 20_000; i++) {
      pos = nextFrame(f.bytes, f.bytes.length, pos, i, f.file, fr);
      msgs.push({ buf: f.bytes, offset: fr.offset, length: fr.length, exchangeTsNs: 0 });
    }
    const res = await sendMessages(msgs, { host: '127.0.0.1', port, speed: 'max', maxPps: 20_000, dropPackets: new Set([100]), answerRequests: false });
    assert.is(res.dropped, 1);
    const e = await feed.exited;
    children.delete(feed);
    assert.is(e.code, 0, feed.stderr());
    const gap = feed.logs.find((l) => l.event === LogEvent.FEED_GAP);
    const lost = feed.logs.find((l) => l.event === LogEvent.FEED_LOST);
    assert.ok(gap && lost, feed.stderr());
    assert.equal([lost!.fromSeq, lost!.count], [gap!.fromSeq, gap!.count], 'the lost range is the gap\'s');
    const st = stat(name);
    assert.is(st.counters.feed_unrecovered, gap!.count);
    assert.is(st.counters.feed_recovered, 0);
    assert.is(st.instruments[0].stale, true, 'lost for good: the book stays stale');
    assert.is(st.messages, 20_000 - (gap!.count as number), 'every message after the loss was delivered');
  } finally {
    unlinkSegment(name);
  }
});

test('a file larger than a read chunk, plain and gzip\'d, streams with frames cut at chunk boundaries: both replay the same books', () => {
  const plain = join(dir, 'goog.itch');
  writeFileSync(plain, gunzipSync(readFileSync(GOOG_ITCH)));
  assert.ok(readFileSync(plain).length > 4 << 20, 'several chunks');
  const dumps = [plain, GOOG_ITCH].map((file, k) => {
    const dump = join(dir, `stream-${k}.dump`);
    const r = spawnSync(process.execPath, [binPath, 'feed', '--source', `itch:${file}`, '--segment', segName(`stream${k}`), '--dump-books', dump], { encoding: 'utf8' });
    assert.is(r.status, 0, r.stderr);
    assert.match(r.stdout, '157217 messages');
    return readFileSync(dump);
  });
  assert.ok(dumps[0]!.equals(dumps[1]!), 'the same books, line for line');
  const { checked, bad } = checkDumpAgainstOracle(dumps[0]!.toString('latin1'));
  assert.is(checked, 147_916);
  assert.equal(bad, []);
});

test('out-of-range options are refused by name: a gid past 2^32-2, a pace of 1e-300, a broadcast address to send to', () => {
  const file = join(dir, 'tiny.itch');
  writeFileSync(file, frameMessages([directory(1, 'GOOG')]));
  const cases: Array<[string[], string]> = [
    [['feed', '--source', `itch:${file}`, '--segment', segName('big-gid'), '--mode', '640', '--group', '4294967296'], 'MDFAN_ERR_OPTIONS: --group must be a group name or a gid 0..4294967294 (got 4294967296)'],
    [['feed', '--source', `itch:${file}`, '--segment', segName('slow'), '--speed', '1e-300'], 'MDFAN_ERR_OPTIONS: --speed must be max or a number > 0, 0.001..1000000000 (got "1e-300")'],
    [['send', '--source', `itch:${file}`, '--to', '255.255.255.255:9', '--speed', 'max'], 'MDFAN_ERR_FEED_IO: cannot send to 255.255.255.255:9'],
  ];
  for (const [args, says] of cases) {
    const r = spawnSync(process.execPath, [binPath, ...args], { encoding: 'utf8', timeout: 30_000 });
    assert.is(r.status, args[0] === 'send' ? 1 : 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, says);
    assert.not.match(r.stderr, 'internal error');
  }
});

test('after an input error the summary counts the messages processed, and the error is on stderr once, naming its code once', () => {
  const whole = gzipSync(frameMessages([directory(1, 'GOOG'), add(1, 'B', 100, 5_000_000, 1), add(2, 'S', 100, 5_010_000, 1)]));
  const file = join(dir, 'cut.itch.gz');
  writeFileSync(file, whole.subarray(0, whole.length - 12)); // the gzip trailer and a little more gone
  const r = spawnSync(process.execPath, [binPath, 'feed', '--source', `itch:${file}`, '--segment', segName('cut')], { encoding: 'utf8' });
  assert.is(r.status, 1, r.stderr);
  const line = r.stderr.split('\n').find((l) => l.startsWith('mdfan feed: MDFAN_ERR_FEED_TRUNCATED'));
  assert.ok(line, r.stderr);
  assert.is(line!.split('MDFAN_ERR_').length - 1, 1, `the code once: ${line}`);
  const said = line!.slice('mdfan feed: '.length);
  assert.is(r.stderr.split(said).length - 1, 1, `the error once on stderr:\n${r.stderr}`);
  assert.ok(hasEvent(r.stderr, LogEvent.FEED_ERROR), `its event, for code that reacts to it:\n${r.stderr}`);
  const m = /mdfan feed: (\d+) messages/.exec(r.stdout);
  assert.ok(m, r.stdout);
  assert.ok(Number(m![1]) >= 1, `the messages before the cut are counted: ${r.stdout}`);
});

test.run();
