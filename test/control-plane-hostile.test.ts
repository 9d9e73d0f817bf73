/**
 * The control plane against hostile peers: a pid claimed that is not the peer's own, a flood of
 * attaches from one uid, connections left behind by dead processes, and a peer that asks and
 * never reads. Peers are known by the kernel's word (SO_PEERCRED).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createConnection, type Socket } from 'node:net';
import { SegmentWriter } from '../native/segment/index.js';
import { SEGMENT_DEFAULTS } from '../native/segment/defaults.js';
import { statSegment } from '../native/segment/stat.js';
import { type Peer, admit, controlLimits } from '../native/segment/control-peers.js';
import { type Child, logLine, spawnChild, spawnMdfan } from '../lib/child.js';
import { LogEvent } from '../lib/log.js';
import { createSocket } from 'node:dgram';
import { binPath } from './helpers/paths.js';
import { killAll, startNode } from './helpers/procs.js';
import { cleanupSegments, segName, shmExists } from './helpers/segments.js';
import { waitUntil } from './helpers/wait.js';
import { specOf } from '../native/segment/directory.js';

const sockets: Socket[] = [];
const sleepers: number[] = [];
test.after.each(() => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const pid of sleepers.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  killAll();
  cleanupSegments();
});

/** A connection that keeps what the writer says in `heard` (so its hang-up is seen). */
function connect(path: string, firstLine?: string): Socket & { heard: string } {
  const c = createConnection(path) as Socket & { heard: string };
  c.heard = '';
  c.setEncoding('utf8');
  c.on('error', () => undefined);
  c.on('data', (d: string) => {
    c.heard += d;
  });
  if (firstLine !== undefined) c.on('connect', () => c.write(`${firstLine}\n`));
  sockets.push(c);
  return c;
}
const attachLine = (pid: number) => JSON.stringify({ type: 'attach', pid, wait: 'spin' });

test('an attach claiming a pid that is not the peer\'s own is refused with MDFAN_ERR_PEER_REFUSED, counted and not listed', async () => {
  const name = segName('ctl-forged');
  const w = SegmentWriter.open({ name, maxInstruments: 1, levels: 1 });
  try {
    assert.ok(await w.startControl());
    const c = connect(w.control!.path, attachLine(1)); // init's pid: a reader that is not this process
    const line = await waitUntil(() => c.heard.split('\n').find((l) => l.includes('"refused"')), 10_000, { what: 'the refusal' });
    assert.equal(JSON.parse(line), { type: 'refused', code: 'MDFAN_ERR_PEER_REFUSED', reason: 'pid', claimed: 1, found: process.pid });
    assert.equal(w.control!.readers(), []);
    assert.is(w.control!.stats().refused.pid, 1);
    assert.is(statSegment(name).counters.reader_attaches, 0, 'a refused attach is no attach');
    // The same connection may still attach as what it is.
    c.write(`${attachLine(process.pid)}\n`);
    await waitUntil(() => w.control!.readers().length === 1, 10_000, { what: 'the honest attach' });
    assert.is(w.control!.readers()[0].pid, process.pid);
  } finally {
    w.close();
  }
});

test('a connection attaches once: its further attaches are ignored, neither counted nor listed again', async () => {
  const name = segName('ctl-reattach');
  const w = SegmentWriter.open({ name, maxInstruments: 1, levels: 1 });
  try {
    assert.ok(await w.startControl());
    const c = connect(w.control!.path);
    await new Promise((r) => c.once('connect', r));
    c.write(`${Array.from({ length: 20 }, () => attachLine(process.pid)).join('\n')}\n{"type":"list"}\n`);
    // Lines are served in order: the answer to the list comes after all twenty attaches were handled.
    const listed = await waitUntil(() => c.heard.split('\n').find((l) => l.includes('"type":"readers"')), 10_000, { what: 'the list answered after the attaches' });
    assert.is(JSON.parse(listed).readers.length, 1, listed);
    assert.is(w.counter('reader_attaches'), 1, 'one connection counted as one reader');
  } finally {
    w.close();
  }
});

test('a refused peer that neither reads nor hangs up is closed by the writer all the same (no descriptor held for it)', async () => {
  const name = segName('ctl-refused-idle');
  const w = SegmentWriter.open({ name, maxInstruments: 1, levels: 1 });
  try {
    assert.ok(await w.startControl({ maxPerUid: 1 }));
    const first = connect(w.control!.path, attachLine(process.pid));
    await waitUntil(() => w.control!.readers().length === 1, 10_000, { what: 'the first reader attached' });
    const c = createConnection(w.control!.path);
    sockets.push(c);
    let gone = false;
    c.on('error', () => {
      gone = true;
    });
    c.on('close', () => {
      gone = true;
    });
    c.pause(); // never reads its refusal, never ends
    await new Promise((r) => c.once('connect', r));
    await waitUntil(() => w.control!.stats().refused.uid_full === 1, 10_000, { what: 'the second peer refused' });
    // Only a socket the writer closed fails a write: a half-closed one (end() alone) takes it and stays open.
    await waitUntil(
      () => {
        if (!gone && !c.destroyed) c.write('{"type":"list"}\n');
        return gone || c.destroyed;
      },
      10_000,
      { what: 'the writer to close the refused peer\'s socket' },
    );
    assert.match(first.heard, '"hello"');
  } finally {
    w.close();
  }
});

test('512 fake attaches from one uid do not lock out a reader of another uid; that uid keeps at most its cap', async () => {
  if (process.getuid?.() !== 0) {
    console.log('  (skipped: needs root, to run a reader as uid 65534)');
    return;
  }
  const name = segName('ctl-uidflood');
  // Group-readable for uid/gid 65534, whose reader must get in.
  const w = SegmentWriter.open({ name, maxInstruments: 1, levels: 1, mode: 0o640, gid: 65534 });
  w.startIdleHeartbeat();
  try {
    assert.ok(await w.startControl());
    w.addInstrument('AAA', 1, specOf(0));
    const flood = Array.from({ length: 512 }, () => connect(w.control!.path, attachLine(process.pid)));
    // Every connection taken in, and every one still open attached (the newest of the flood: a
    // newcomer at the uid's cap pushes out one of the same uid that has not attached yet).
    await waitUntil(
      () => {
        const s = w.control!.stats();
        return s.accepted === flood.length && w.control!.readers().length === s.connections;
      },
      20_000,
      { what: 'the flood taken in and settled' },
    );
    const r = spawnChild('reader as 65534', binPath, ['read', '--segment', name, '--wait', 'yield'], { uid: 65534, gid: 65534 });
    await waitUntil(() => w.control!.readers().some((x) => x.pid === r.pid), 20_000, { what: "the reader of uid 65534 attached despite the flood" });
    assert.is(w.control!.stats().byUid[65534], 1);
    const held = w.control!.stats().byUid[0];
    assert.ok(held <= SEGMENT_DEFAULTS.controlMaxPerUid, `uid 0 holds ${held} connections, the cap is ${SEGMENT_DEFAULTS.controlMaxPerUid}`);
    // Its cap full of live readers, one more from the same uid is refused.
    const more = connect(w.control!.path, attachLine(process.pid));
    await waitUntil(() => more.heard.includes('"refused"'), 10_000, { what: 'one more fake refused' });
    assert.match(more.heard, '"reason":"uid_full"');
  } finally {
    w.close();
  }
});

test('at its uid\'s cap, a connection whose process is gone makes room; live readers are kept and the next newcomer is refused', async () => {
  const name = segName('ctl-orphan');
  const w = SegmentWriter.open({ name, maxInstruments: 1, levels: 1 });
  try {
    assert.ok(await w.startControl({ maxPerUid: 2 }));
    const path = w.control!.path;
    const orphan = startNode(new URL('./helpers/orphan-attach.js', import.meta.url), [path]);
    sleepers.push(Number((await orphan.line(/^sleeper \d+$/)).split(' ')[1]));
    await orphan.exited;
    await waitUntil(() => w.control!.readers().some((x) => x.pid === orphan.child.pid), 10_000, { what: 'the orphan attached' });
    const a = connect(path, attachLine(process.pid));
    await waitUntil(() => w.control!.readers().length === 2, 10_000, { what: 'the first honest reader attached' });
    const b = connect(path, attachLine(process.pid));
    await waitUntil(() => b.heard.includes('"hello"') || b.heard.includes('"refused"'), 10_000, { what: 'the second honest reader answered' });
    assert.match(b.heard, '"hello"', 'the dead process\'s connection made room');
    await waitUntil(() => w.control!.readers().filter((x) => x.pid === process.pid).length === 2, 10_000, { what: 'both honest readers attached' });
    assert.not.ok(w.control!.readers().some((x) => x.pid === orphan.child.pid), 'the orphan is no longer listed');
    // The evicted orphan was a reader: its detach is counted, so attaches - detaches is the readers listed.
    assert.is(w.counter('reader_attaches'), 3);
    assert.is(w.counter('reader_detaches'), 1, 'the evicted reader\'s detach was counted');
    const c = connect(path, attachLine(process.pid));
    await waitUntil(() => c.heard.includes('"refused"'), 10_000, { what: 'the third refused: its uid is full of live readers' });
    assert.match(c.heard, '"reason":"uid_full"');
    assert.match(a.heard, '"hello"');
  } finally {
    w.close();
  }
});

test('a peer that sends list requests and never reads is cut off; the answers the writer buffers stay bounded', async () => {
  const name = segName('ctl-unread');
  const w = SegmentWriter.open({ name, maxInstruments: 1, levels: 1 });
  try {
    assert.ok(await w.startControl());
    // What the writer held unread for the peer when it cut it off (the writer's own report: polling stats() may never see the peak).
    const cutOff: number[] = [];
    w.control!.onRefused = (reason, facts) => {
      if (reason === 'unread') cutOff.push(facts.unreadBytes);
    };
    const c = createConnection(w.control!.path);
    sockets.push(c);
    c.on('error', () => undefined);
    c.pause(); // never reads (past what the stream takes in before it stops)
    await new Promise((r) => c.once('connect', r));
    c.write('{"type":"list"}\n'.repeat(200_000)); // ~6 MB of answers if every one were buffered
    let most = 0;
    await waitUntil(
      () => {
        const s = w.control!.stats();
        most = Math.max(most, s.unreadBytes);
        return s.refused.unread === 1 && s.connections === 0;
      },
      30_000,
      { what: 'the writer to hang up on the peer that never reads', everyMs: 1 },
    );
    // The bound, plus at most the one answer that crossed it.
    assert.ok(most <= SEGMENT_DEFAULTS.controlMaxUnreadBytes + 1024, `the writer buffered ${most} bytes for it`);
    assert.is(cutOff.length, 1);
    assert.ok(cutOff[0] > SEGMENT_DEFAULTS.controlMaxUnreadBytes, `cut off with ${cutOff[0]} bytes unread, within the bound`);
    assert.ok(cutOff[0] <= SEGMENT_DEFAULTS.controlMaxUnreadBytes + 1024, `the writer held ${cutOff[0]} bytes unread before it cut the peer off`);
  } finally {
    w.close();
  }
});

test('the admission policy: at the total cap the uid holding the most gives up one (a dead process\'s first, then one that never attached, then its oldest); a uid that holds the most itself is refused', () => {
  const limits = controlLimits({ maxConnections: 4, maxPerUid: 10 });
  const peers = (list: Array<[string, Peer]>) => new Map(list);
  const alive = (pid: number) => pid !== 666;
  const full = peers([
    ['a1', { pid: 11, uid: 1, reader: true }],
    ['a2', { pid: 12, uid: 1, reader: true }],
    ['a3', { pid: 13, uid: 1, reader: true }],
    ['b1', { pid: 21, uid: 2, reader: true }],
  ]);
  assert.equal(admit(full, 3, limits, alive), { admit: true, evict: 'a1', why: 'share' });
  assert.equal(admit(full, 2, limits, alive), { admit: true, evict: 'a1', why: 'share' });
  assert.equal(admit(full, 1, limits, alive), { admit: false, reason: 'full' });
  full.set('a2', { pid: 12, uid: 1, reader: false });
  assert.equal(admit(full, 3, limits, alive), { admit: true, evict: 'a2', why: 'idle' });
  full.set('a3', { pid: 666, uid: 1, reader: true });
  assert.equal(admit(full, 1, limits, alive), { admit: true, evict: 'a3', why: 'dead' });
  // A tie is no reason to take another uid's reader: a newcomer whose uid holds as many as the most is refused.
  const even = peers([
    ['a1', { pid: 11, uid: 1, reader: true }],
    ['a2', { pid: 12, uid: 1, reader: true }],
    ['b1', { pid: 21, uid: 2, reader: true }],
    ['b2', { pid: 22, uid: 2, reader: true }],
  ]);
  assert.equal(admit(even, 1, limits, alive), { admit: false, reason: 'full' });
  assert.equal(admit(even, 2, limits, alive), { admit: false, reason: 'full' });
  assert.equal(admit(even, 3, limits, alive), { admit: true, evict: 'a1', why: 'share' });
  // Per uid: only its own connections make room, never another uid's.
  const tight = controlLimits({ maxConnections: 100, maxPerUid: 2 });
  const mine = peers([
    ['b1', { pid: 21, uid: 2, reader: false }],
    ['a1', { pid: 11, uid: 1, reader: true }],
    ['a2', { pid: 12, uid: 1, reader: true }],
  ]);
  assert.equal(admit(mine, 1, tight, alive), { admit: false, reason: 'uid_full' });
  assert.equal(admit(mine, 2, tight, alive), { admit: true, evict: null, why: null });
});


test('mdfan feed logs control-plane refusals (control_refused: the reason and the kernel\'s facts), one line for a burst', async () => {
  const name = segName('ctl-log');
  const s = createSocket('udp4');
  await new Promise<void>((res) => s.bind(0, '127.0.0.1', () => res()));
  const port = s.address().port;
  await new Promise<void>((res) => s.close(() => res()));
  const feed: Child = spawnMdfan('feed', ['feed', '--source', `moldudp64:127.0.0.1:${port}`, '--segment', name]);
  try {
    await logLine(feed, (l) => l.event === LogEvent.FEED_LISTENING, 20_000);
    await waitUntil(() => shmExists(`${name}.ctl`), 10_000, { what: 'the control socket' });
    const forged = Array.from({ length: 20 }, () => connect(`/dev/shm/${name}.ctl`, attachLine(1)));
    await waitUntil(() => forged.every((c) => c.heard.includes('"refused"')), 10_000, { what: 'twenty forged attaches refused' });
    const line = await logLine(feed, (l) => l.event === LogEvent.CONTROL_REFUSED, 10_000);
    assert.is(line.reason, 'pid');
    assert.is(line.claimed, 1);
    assert.is(line.found, process.pid);
    assert.is(line.segment, name);
    const lines = feed.stderr().split('\n').filter((l) => l.includes(`"event":"${LogEvent.CONTROL_REFUSED}"`));
    assert.ok(lines.length < forged.length, `a burst is not a line per refusal: ${lines.length} lines for ${forged.length}`);
  } finally {
    await feed.kill();
  }
});

test.run();
