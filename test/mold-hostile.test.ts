/**
 * MoldUDP64 against an off-path sender: another socket (another port of 127.0.0.1 is another
 * source) injects a message at the next sequence number, plants messages ahead, sends two ends of
 * session at 2^40 or two heartbeats at 2^62, or sends a foreign session first. Every such packet
 * is counted and dropped; the delivered messages stay exactly the real sender's, the session runs
 * until the real end, and re-requests go to the pinned source only. Real UDP sockets on loopback;
 * each step waits until the receiver has handled the datagram before the next is sent.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { END_OF_SESSION, PacketBuilder, readHeader } from '../feed/moldudp64/packet.js';
import { MOLD_DEFAULTS, MoldReceiver, type MoldReceiverOptions } from '../feed/moldudp64/receiver.js';
import { parsePeer } from '../feed/moldudp64/peer.js';
import { frameMessages, loadFeed, nextFrame } from '../feed/itch/framing.js';
import { type Child, logLine, spawnMdfan } from '../lib/child.js';
import { LogEvent } from '../lib/log.js';
import { unlinkSegment } from '../native/segment/index.js';
import { add } from './helpers/itch-encode.js';
import { GOOG_ITCH } from './helpers/oracle.js';
import { binPath } from './helpers/paths.js';
import { cleanupSegments, segName } from './helpers/segments.js';
import { waitUntil } from './helpers/wait.js';

const SESSION = 'TESTSESS';
const FAR_END = 2 ** 40;
const FAR_BEAT = 2 ** 62;

/** Message k of the real session: length 1 + (k*7 % 60) bytes, every byte derived from k. */
const msg = (k: number): Buffer => {
  const b = Buffer.alloc(1 + ((k * 7) % 60));
  for (let i = 0; i < b.length; i++) b[i] = (k * 31 + i) & 0xff;
  return b;
};
/** What a forger puts in: bytes no real message has at that sequence number. */
const forgedMsg = (k: number): Buffer => Buffer.from(`FORGED-${k}`);

/** Real messages firstSeq.. in packets of at most 200 bytes. */
function packets(n: number, firstSeq = 1): Buffer[] {
  const b = new PacketBuilder(SESSION, firstSeq, 200);
  const out: Buffer[] = [];
  for (let k = firstSeq; k < firstSeq + n; k++) {
    const m = msg(k);
    if (!b.fits(m.length)) out.push(b.take());
    b.add(m, 0, m.length);
  }
  if (b.pending) out.push(b.take());
  return out;
}

/** One packet of `session` holding forged messages seq..seq+count-1. */
function forged(seq: number, count: number, session = SESSION): Buffer {
  const b = new PacketBuilder(session, seq, 1400);
  for (let k = seq; k < seq + count; k++) b.add(forgedMsg(k), 0, forgedMsg(k).length);
  return b.take();
}

const control = (seq: number, count: 0 | typeof END_OF_SESSION, session = SESSION): Buffer => new PacketBuilder(session, seq).control(count);

const lastSeqOf = (pkt: Buffer): number => {
  const h = { session: '', seq: 0, count: 0 };
  readHeader(pkt, h);
  return h.seq + h.count - 1;
};

const sockets = new Set<Socket>();
const receivers = new Set<MoldReceiver>();
test.after.each(() => {
  for (const s of sockets) s.close();
  sockets.clear();
  for (const r of receivers) r.close();
  receivers.clear();
});

async function udpSocket(): Promise<Socket> {
  const s = createSocket('udp4');
  sockets.add(s);
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  return s;
}

/**
 * A receiver on loopback, the real sender's socket and a forger's (another port: another
 * source). Every delivered message is checked against the real one; requests are recorded.
 */
async function scene(opts: (real: Socket) => MoldReceiverOptions = () => ({})) {
  const real = await udpSocket();
  const evil = await udpSocket();
  const got: number[] = [];
  const bad: number[] = [];
  const requestsTo: string[] = [];
  let ended = 0;
  const r = new MoldReceiver(
    '127.0.0.1',
    0,
    {
      onMessage: (buf, off, len, seq) => {
        got.push(seq);
        if (!buf.subarray(off, off + len).equals(msg(seq))) bad.push(seq);
      },
      onGap: () => undefined,
      onEnd: () => {
        ended++;
      },
    },
    { send: (_pkt, host, port) => requestsTo.push(`${host}:${port}`), ...opts(real) },
  );
  receivers.add(r);
  await r.start();
  /** Sends from `s` and waits until the receiver has handled the datagram. */
  const send = async (s: Socket, pkt: Buffer): Promise<void> => {
    const before = r.counters.datagrams;
    await new Promise<void>((res, rej) => s.send(pkt, r.address.port, '127.0.0.1', (e) => (e ? rej(e) : res())));
    await waitUntil(() => r.counters.datagrams > before, 10_000, { what: 'the receiver to handle the datagram' });
  };
  return {
    r,
    real,
    evil,
    got,
    bad,
    requestsTo,
    get ended() {
      return ended;
    },
    send,
    /** The real session from `from` on, then its end of session; checks that everything arrived exact. */
    finish: async (pk: Buffer[], n: number): Promise<void> => {
      for (const p of pk) await send(real, p);
      assert.is(ended, 0, 'the session runs until its real end');
      await send(real, control(n + 1, END_OF_SESSION));
      assert.is(ended, 1, 'the real end of session ends it');
      assert.equal(bad, [], 'no forged bytes delivered');
      assert.ok(
        got.length === n && got.every((s, i) => s === i + 1),
        `every real message once, in order: ${got.length} of ${n}`,
      );
    },
  };
}

test('a message injected at the next sequence number from another source is dropped and counted: the real one is delivered', async () => {
  const s = await scene();
  const pk = packets(100);
  await s.send(s.real, pk[0]!);
  await s.send(s.evil, forged(lastSeqOf(pk[0]!) + 1, 1));
  await s.finish(pk.slice(1), 100);
  assert.is(s.r.counters.duplicates, 0, 'the real message was not taken for a duplicate');
  assert.is(s.r.counters.gaps, 0);
  assert.is(s.r.counters.foreignSources, 1);
});

test('messages planted ahead from another source are dropped: they neither open a gap nor replace the real ones', async () => {
  const s = await scene();
  const pk = packets(100);
  await s.send(s.real, pk[0]!);
  const next = lastSeqOf(pk[0]!) + 1;
  await s.send(s.evil, forged(next + 1, 5));
  await s.send(s.evil, forged(next + 10, 3));
  assert.not.ok(s.r.recovering, 'no gap opened');
  await s.finish(pk.slice(1), 100);
  assert.is(s.r.counters.gaps, 0);
  assert.is(s.r.counters.duplicates, 0);
  assert.is(s.r.counters.foreignSources, 2);
});

test('a packet of another session from the pinned source itself, at the next sequence number, is counted and dropped: the real message is delivered', async () => {
  const s = await scene();
  const pk = packets(100);
  await s.send(s.real, pk[0]!);
  const next = lastSeqOf(pk[0]!) + 1;
  await s.send(s.real, forged(next, 2, 'FOREIGN'));
  assert.is(s.r.counters.foreignSessions, 1, 'counted');
  assert.is(s.r.expectedSeq, next, 'nothing of it taken');
  await s.finish(pk.slice(1), 100);
  assert.is(s.r.counters.duplicates, 0, 'the real messages were not taken for duplicates');
  assert.is(s.r.counters.foreignSessions, 1);
});

test('two ends of session at 2^40 from another source are dropped; from the pinned source itself they do not end or move the session either', async () => {
  const s = await scene();
  const pk = packets(100);
  await s.send(s.real, pk[0]!);
  await s.send(s.evil, control(FAR_END, END_OF_SESSION));
  await s.send(s.evil, control(FAR_END, END_OF_SESSION));
  assert.is(s.ended, 0, 'not ended from elsewhere');
  await s.send(s.real, control(FAR_END, END_OF_SESSION));
  await s.send(s.real, control(FAR_END, END_OF_SESSION));
  assert.is(s.r.counters.outOfWindow, 2, 'a bare header never confirms a jump');
  assert.is(s.ended, 0);
  await s.finish(pk.slice(1), 100);
  assert.is(s.r.counters.unrecovered, 0);
  assert.is(s.r.counters.foreignSources, 2);
});

test('two heartbeats at 2^62 from another source are dropped; from the pinned source itself they do not freeze the session either', async () => {
  const s = await scene();
  const pk = packets(100);
  await s.send(s.real, pk[0]!);
  await s.send(s.evil, control(FAR_BEAT, 0));
  await s.send(s.evil, control(FAR_BEAT, 0));
  assert.is(s.r.expectedSeq, lastSeqOf(pk[0]!) + 1, 'not moved from elsewhere');
  await s.send(s.real, control(FAR_BEAT, 0));
  await s.send(s.real, control(FAR_BEAT, 0));
  assert.is(s.r.counters.outOfWindow, 2);
  assert.is(s.r.expectedSeq, lastSeqOf(pk[0]!) + 1, 'the expected sequence number did not move');
  await s.finish(pk.slice(1), 100);
  assert.is(s.r.counters.duplicates, 0);
  assert.is(s.r.counters.unrecovered, 0);
  assert.is(s.r.counters.foreignSources, 2);
});

test('with --source-addr a foreign session sent first from another source pins nothing: the real session is taken', async () => {
  const s = await scene((real) => ({ sourceAddr: parsePeer(`127.0.0.1:${real.address().port}`, '--source-addr') }));
  await s.send(s.evil, forged(1, 3, 'FOREIGN'));
  await s.send(s.evil, forged(1, 3)); // the real session's name, the real first sequence number
  assert.is(s.r.session, null, 'no session pinned');
  assert.is(s.r.counters.foreignSources, 2);
  await s.finish(packets(100), 100);
  assert.is(s.r.session, 'TESTSESS  ');
  assert.is(s.r.counters.foreignSessions, 0);
  assert.is(s.r.counters.foreignSources, 2);
});

test('without --source-addr a heartbeat or end of session sent first pins nothing: the first data packet pins the source', async () => {
  const s = await scene();
  await s.send(s.evil, control(FAR_END, END_OF_SESSION, 'FOREIGN'));
  await s.send(s.evil, control(50, 0, 'FOREIGN'));
  assert.is(s.r.session, null);
  assert.is(s.r.counters.beforePin, 2);
  await s.send(s.real, packets(100)[0]!);
  assert.equal(s.r.pinnedSource, { host: '127.0.0.1', port: s.real.address().port });
  await s.send(s.evil, forged(1000, 1));
  assert.is(s.r.counters.foreignSources, 1);
  await s.finish(packets(100).slice(1), 100);
});

test('re-requests go to the pinned source only, never to another source that sent a packet of the session', async () => {
  const s = await scene();
  const pk = packets(100);
  await s.send(s.real, pk[0]!);
  await s.send(s.evil, pk[0]!); // a replay of a real packet, from elsewhere
  for (const p of pk.slice(2)) await s.send(s.real, p); // pk[1] lost: a gap
  assert.ok(s.r.recovering);
  assert.ok(s.requestsTo.length >= 1);
  assert.equal([...new Set(s.requestsTo)], [`127.0.0.1:${s.real.address().port}`]);
  await s.send(s.real, pk[1]!); // the answer
  await s.finish([], 100);
  assert.is(s.r.counters.foreignSources, 1);
});

test('before a source is pinned, a jump far ahead is believed only from the source that started it', () => {
  const got: number[] = [];
  const bad: number[] = [];
  const r = new MoldReceiver(
    '127.0.0.1',
    1,
    {
      onMessage: (buf, off, len, seq) => {
        got.push(seq);
        if (!buf.subarray(off, off + len).equals(msg(seq))) bad.push(seq);
      },
      onGap: () => undefined,
      onEnd: () => undefined,
    },
    { send: () => undefined },
  );
  const real = { address: '127.0.0.1', port: 40001 };
  const evil = { address: '127.0.0.1', port: 40002 };
  const far = 1 + 2 * MOLD_DEFAULTS.windowMessages; // a receiver started mid-session
  const pk = packets(60, far);
  r.onPacket(pk[0]!, real);
  r.onPacket(forged(lastSeqOf(pk[0]!) + 1, 1), evil); // continues it, from elsewhere
  assert.equal(got, [], 'not believed');
  assert.is(r.pinnedSource, null);
  r.onPacket(pk[1]!, real);
  r.onPacket(pk[2]!, real); // continues the real one's jump
  assert.equal(r.pinnedSource, { host: real.address, port: real.port });
  for (const p of pk.slice(3)) r.onPacket(p, real);
  const first = lastSeqOf(pk[1]!) + 1;
  assert.is(got[0], first);
  assert.is(got.length, far + 60 - first);
  assert.equal(bad, []);
  assert.is(r.counters.outOfWindow, 3);
});

test('a heartbeat or end of session never confirms a jump that a data packet started, even from the pinned source', () => {
  for (const [far, count] of [
    [4 * MOLD_DEFAULTS.windowMessages, 0],
    [FAR_END, END_OF_SESSION],
  ] as const) {
    const got: number[] = [];
    let ended = 0;
    const r = new MoldReceiver('127.0.0.1', 1, { onMessage: (_b, _o, _l, seq) => got.push(seq), onGap: () => undefined, onEnd: () => ended++ }, { send: () => undefined });
    const real = { address: '127.0.0.1', port: 40001 };
    const pk = packets(60);
    r.onPacket(pk[0]!, real);
    r.onPacket(forged(far, 1), real); // not believed alone
    r.onPacket(control(far + 1, count), real); // "continues" it: a bare header must not confirm it
    assert.is(r.counters.outOfWindow, 2, `count ${count}: both dropped`);
    assert.is(r.counters.unrecovered, 0, `count ${count}: nothing lost`);
    for (const p of pk.slice(1)) r.onPacket(p, real);
    assert.is(ended, 0, `count ${count}: the session still runs`);
    r.onPacket(control(61, END_OF_SESSION), real);
    assert.is(ended, 1, `count ${count}: the real end ends it`);
    assert.ok(got.length === 60 && got.every((s, i) => s === i + 1), `count ${count}: every real message once, in order: ${got.length}`);
  }
});

test('a jump is believed only from the very next data packet: a continuation after in-window packets starts over', () => {
  const got: number[] = [];
  const r = new MoldReceiver('127.0.0.1', 1, { onMessage: (_b, _o, _l, seq) => got.push(seq), onGap: () => undefined, onEnd: () => undefined }, { send: () => undefined });
  const real = { address: '127.0.0.1', port: 40001 };
  const far = 4 * MOLD_DEFAULTS.windowMessages;
  const pk = packets(60);
  r.onPacket(pk[0]!, real);
  r.onPacket(forged(far, 1), real);
  r.onPacket(pk[1]!, real); // an in-window packet: the far one is forgotten
  r.onPacket(forged(far + 1, 1), real); // continues the forgotten one: not believed
  assert.is(r.counters.outOfWindow, 2);
  assert.is(r.counters.unrecovered, 0, 'nothing lost');
  for (const p of pk.slice(2)) r.onPacket(p, real);
  assert.ok(got.length === 60 && got.every((s, i) => s === i + 1), `every real message once, in order: ${got.length}`);
});

test('before a source is pinned, a jump is not continued from another address on the same port', () => {
  const got: number[] = [];
  const r = new MoldReceiver('127.0.0.1', 1, { onMessage: (_b, _o, _l, seq) => got.push(seq), onGap: () => undefined, onEnd: () => undefined }, { send: () => undefined });
  const real = { address: '127.0.0.1', port: 40001 };
  const evil = { address: '127.0.0.2', port: 40001 }; // another host of the loopback net, the same port
  const far = 1 + 2 * MOLD_DEFAULTS.windowMessages;
  const pk = packets(60, far);
  r.onPacket(pk[0]!, real);
  r.onPacket(forged(lastSeqOf(pk[0]!) + 1, 1), evil); // continues it, from elsewhere
  assert.equal(got, [], 'not believed');
  assert.is(r.pinnedSource, null, 'nothing pinned');
  assert.is(r.counters.outOfWindow, 2);
});

test('an end of session naming the last message already received is stale: it ends nothing, the session runs to its real end', () => {
  const got: number[] = [];
  let ended = 0;
  const r = new MoldReceiver('127.0.0.1', 1, { onMessage: (_b, _o, _l, seq) => got.push(seq), onGap: () => undefined, onEnd: () => ended++ }, { send: () => undefined });
  const real = { address: '127.0.0.1', port: 40001 };
  const pk = packets(60);
  r.onPacket(pk[0]!, real);
  r.onPacket(control(lastSeqOf(pk[0]!), END_OF_SESSION), real); // one before the next expected
  assert.is(ended, 0, 'not ended');
  assert.is(r.counters.staleEnds, 1);
  for (const p of pk.slice(1)) r.onPacket(p, real);
  r.onPacket(control(61, END_OF_SESSION), real);
  assert.is(ended, 1, 'the real end ends it');
  assert.ok(got.length === 60 && got.every((s, i) => s === i + 1), `every real message once, in order: ${got.length}`);
});

// ---- the whole writer: `mdfan feed` against the same attacks ----

const dir = mkdtempSync(join(tmpdir(), 'mdfan-mold-hostile-'));
const children = new Set<Child>();
test.after.each(async () => {
  for (const c of children) await c.kill();
  children.clear();
  cleanupSegments();
});
test.after(() => rmSync(dir, { recursive: true, force: true }));

const stat = (name: string) => JSON.parse(spawnSync(process.execPath, [binPath, 'stat', '--segment', name, '--json'], { encoding: 'utf8' }).stdout || 'null');

/** The first n messages of the recorded day, as payloads. */
function recorded(n: number): Buffer[] {
  const f = loadFeed(GOOG_ITCH);
  const out: Buffer[] = [];
  const fr = { offset: 0, length: 0 };
  for (let pos = 0, i = 0; pos < f.bytes.length && i < n; i++) {
    pos = nextFrame(f.bytes, f.bytes.length, pos, i, f.file, fr);
    out.push(Buffer.from(f.bytes.subarray(fr.offset, fr.offset + fr.length)));
  }
  return out;
}

test('mdfan feed --source-addr: a foreign session first, an injected message, planted messages, two ends of session at 2^40 and two heartbeats at 2^62 from another source leave the books equal to the file path\'s, the writer running, every one counted', async () => {
  const msgs = recorded(3000);
  const file = join(dir, 'day.itch');
  writeFileSync(file, frameMessages(msgs));
  const fileDump = join(dir, 'file.dump');
  const a = spawnSync(process.execPath, [binPath, 'feed', '--source', `itch:${file}`, '--segment', segName('mh-file'), '--dump-books', fileDump], { encoding: 'utf8' });
  assert.is(a.status, 0, a.stderr);

  const real = await udpSocket();
  const evil = await udpSocket();
  const probe = await udpSocket();
  const port = probe.address().port;
  probe.close();
  sockets.delete(probe);
  const name = segName('mh-live');
  const udpDump = join(dir, 'udp.dump');
  const feed = spawnMdfan('live feed', ['feed', '--source', `moldudp64:127.0.0.1:${port}`, '--source-addr', `127.0.0.1:${real.address().port}`, '--segment', name, '--dump-books', udpDump, '--keep-segment']);
  children.add(feed);
  await logLine(feed, (l) => l.event === LogEvent.FEED_LISTENING, 20_000);
  const send = (s: Socket, p: Buffer): Promise<void> => new Promise((res, rej) => s.send(p, port, '127.0.0.1', (e) => (e ? rej(e) : res())));
  let dropped = 0;
  /** One forged datagram from the other source, seen dropped and counted before anything else is sent. */
  const attack = async (p: Buffer): Promise<void> => {
    await send(evil, p);
    dropped++;
    await waitUntil(() => stat(name)?.counters.malformed_messages === dropped, 10_000, { what: `forged datagram ${dropped} counted as dropped` });
  };
  try {
    const b = new PacketBuilder('HOSTILE', 1, 1400);
    const pk: Buffer[] = [];
    for (const m of msgs) {
      if (!b.fits(m.length)) pk.push(b.take());
      b.add(m, 0, m.length);
    }
    pk.push(b.take());
    const locate = msgs.find((m) => m[0] === 0x41)!.readUInt16BE(1); // the recorded instrument's
    const evilAdd = add(999_999_999, 'S', 1, 1, locate); // a sell of 1 share at $0.0001: a crossed book if taken

    const f = new PacketBuilder('FOREIGN', 1, 1400);
    f.add(msgs[0]!, 0, msgs[0]!.length);
    await attack(f.take()); // a foreign session first
    const head = pk.slice(0, 10);
    for (const p of head) await send(real, p);
    const next = lastSeqOf(head[head.length - 1]!) + 1;
    await waitUntil(() => stat(name)?.messages === next - 1, 10_000, { what: 'the first real packets delivered' });
    const inject = new PacketBuilder('HOSTILE', next, 1400);
    inject.add(evilAdd, 0, evilAdd.length);
    await attack(inject.take()); // at the next sequence number
    const plant = new PacketBuilder('HOSTILE', next + 1, 1400);
    for (let k = 0; k < 3; k++) plant.add(evilAdd, 0, evilAdd.length);
    await attack(plant.take()); // ahead
    for (let k = 0; k < 2; k++) await attack(new PacketBuilder('HOSTILE', FAR_END).control(END_OF_SESSION));
    for (let k = 0; k < 2; k++) await attack(new PacketBuilder('HOSTILE', FAR_BEAT).control(0));
    assert.is(stat(name).state, 'READY', 'the writer is running');
    for (const p of pk.slice(10)) await send(real, p);
    await send(real, b.control(END_OF_SESSION));
    const e = await feed.exited;
    children.delete(feed);
    assert.is(e.code, 0, feed.stderr());
    assert.ok(readFileSync(udpDump).equals(readFileSync(fileDump)), 'the books equal the file path\'s, line for line');
    const st = stat(name);
    assert.is(st.state, 'CLOSED');
    assert.is(st.messages, msgs.length);
    assert.is(st.counters.malformed_messages, 7, 'every forged datagram counted');
    assert.is(st.counters.feed_gaps, 0);
    assert.is(st.counters.feed_duplicates, 0);
    const pinned = feed.logs.find((l) => l.event === LogEvent.FEED_SOURCE_PINNED);
    assert.equal([pinned?.host, pinned?.port, pinned?.configured], ['127.0.0.1', real.address().port, true]);
    const foreign = feed.logs.filter((l) => l.event === LogEvent.FEED_FOREIGN_SOURCE);
    assert.ok(foreign.length >= 1 && foreign.length < 7, `logged, rate-limited: ${foreign.length} lines`);
    assert.equal([foreign[0]!.host, foreign[0]!.port, foreign[0]!.count], ['127.0.0.1', evil.address().port, 1]);
    const end = feed.logs.find((l) => l.event === LogEvent.FEED_SESSION_END);
    assert.is(end?.foreignSources, 7);
    assert.match(feed.stdout.join('\n'), 'foreign sources 7');
  } finally {
    unlinkSegment(name);
  }
});

test('mdfan feed: a packet of another session from the pinned source, at the next sequence number, changes no book and is counted', async () => {
  const msgs = recorded(3000);
  const file = join(dir, 'day-fs.itch');
  writeFileSync(file, frameMessages(msgs));
  const fileDump = join(dir, 'file-fs.dump');
  const a = spawnSync(process.execPath, [binPath, 'feed', '--source', `itch:${file}`, '--segment', segName('fs-file'), '--dump-books', fileDump], { encoding: 'utf8' });
  assert.is(a.status, 0, a.stderr);

  const real = await udpSocket();
  const probe = await udpSocket();
  const port = probe.address().port;
  probe.close();
  sockets.delete(probe);
  const name = segName('fs-live');
  const udpDump = join(dir, 'udp-fs.dump');
  const feed = spawnMdfan('live feed', ['feed', '--source', `moldudp64:127.0.0.1:${port}`, '--segment', name, '--dump-books', udpDump, '--keep-segment']);
  children.add(feed);
  await logLine(feed, (l) => l.event === LogEvent.FEED_LISTENING, 20_000);
  const send = (p: Buffer): Promise<void> => new Promise((res, rej) => real.send(p, port, '127.0.0.1', (e) => (e ? rej(e) : res())));
  try {
    const b = new PacketBuilder('SESSION', 1, 1400);
    const pk: Buffer[] = [];
    for (const m of msgs) {
      if (!b.fits(m.length)) pk.push(b.take());
      b.add(m, 0, m.length);
    }
    pk.push(b.take());
    const head = pk.slice(0, 10);
    for (const p of head) await send(p);
    const next = lastSeqOf(head[head.length - 1]!) + 1;
    await waitUntil(() => stat(name)?.messages === next - 1, 10_000, { what: 'the first real packets delivered' });
    const locate = msgs.find((m) => m[0] === 0x41)!.readUInt16BE(1); // the recorded instrument's
    const foreignAdd = add(999_999_999, 'S', 1, 1, locate); // a sell of 1 share at $0.0001: a crossed book if taken
    const foreign = new PacketBuilder('OTHERSESS', next, 1400);
    for (let k = 0; k < 3; k++) foreign.add(foreignAdd, 0, foreignAdd.length);
    await send(foreign.take()); // from the pinned source: only its session tells it apart
    await waitUntil(() => stat(name)?.counters.malformed_messages === 1, 10_000, { what: 'the foreign session\'s packet counted as dropped' });
    assert.is(stat(name).messages, next - 1, 'nothing of it delivered');
    for (const p of pk.slice(10)) await send(p);
    await send(b.control(END_OF_SESSION));
    const e = await feed.exited;
    children.delete(feed);
    assert.is(e.code, 0, feed.stderr());
    assert.ok(readFileSync(udpDump).equals(readFileSync(fileDump)), 'the books equal the file path\'s, line for line');
    const st = stat(name);
    assert.is(st.messages, msgs.length);
    assert.is(st.counters.malformed_messages, 1);
    assert.is(st.counters.feed_duplicates, 0, 'no real message taken for a duplicate');
    const end = feed.logs.find((l) => l.event === LogEvent.FEED_SESSION_END);
    assert.is(end?.foreignSessions, 1, 'counted as a foreign session');
    assert.is(end?.foreignSources, 0, 'from the pinned source');
  } finally {
    unlinkSegment(name);
  }
});

test('--source-addr is validated, and goes with a MoldUDP64 source only', () => {
  const cases: Array<[string[], string]> = [
    [['feed', '--source', 'moldudp64:127.0.0.1:9', '--segment', segName('sa1'), '--source-addr', 'example.com'], '--source-addr must be an IPv4 address, optionally with :PORT 1..65535 (got "example.com")'],
    [['feed', '--source', 'moldudp64:127.0.0.1:9', '--segment', segName('sa2'), '--source-addr', '10.0.0.1:70000'], '--source-addr must be an IPv4 address'],
    [['feed', '--source', `itch:${GOOG_ITCH}`, '--segment', segName('sa3'), '--source-addr', '10.0.0.1'], '--source-addr goes with --source moldudp64:HOST:PORT'],
  ];
  for (const [args, says] of cases) {
    const r = spawnSync(process.execPath, [binPath, ...args], { encoding: 'utf8', timeout: 30_000 });
    assert.is(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, `MDFAN_ERR_OPTIONS: ${says}`);
  }
});

test.run();
