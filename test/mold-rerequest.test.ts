/**
 * `mdfan send` as a re-request server facing forged requests: an unlisted source is not answered
 * (and counted), what one source can draw is capped in bytes and rate, the linger after the end
 * of session ends however many requests keep coming, and the server listens on the interface
 * that reaches the destination, not on every interface. Real UDP sockets on loopback; the message
 * stream pauses until each step has been seen, so nothing depends on timing.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readHeader, requestPacket } from '../feed/moldudp64/packet.js';
import { parsePeers } from '../feed/moldudp64/peer.js';
import { RerequestGate } from '../feed/moldudp64/rerequest-gate.js';
import { type OutMessage, type SendOptions, type SendResult, sendMessages } from '../feed/moldudp64/sender.js';
import { frameMessages } from '../feed/itch/framing.js';
import { type Child, spawnMdfan } from '../lib/child.js';
import { directory } from './helpers/itch-encode.js';
import { binPath } from './helpers/paths.js';
import { waitUntil } from './helpers/wait.js';

const SESSION = 'MDFAN00001';

const msg = (k: number): Buffer => {
  const b = Buffer.alloc(20 + (k % 30));
  for (let i = 0; i < b.length; i++) b[i] = (k * 31 + i) & 0xff;
  return b;
};

const sockets = new Set<Socket>();
const children = new Set<Child>();
test.after.each(async () => {
  for (const s of sockets) s.close();
  sockets.clear();
  for (const c of children) await c.kill();
  children.clear();
});

/** A socket on 127.0.0.1 that records what it receives. */
async function peer(): Promise<{ s: Socket; port: number; got: Array<{ buf: Buffer; from: RemoteInfo }> }> {
  const s = createSocket('udp4');
  sockets.add(s);
  const got: Array<{ buf: Buffer; from: RemoteInfo }> = [];
  s.on('message', (buf, from) => got.push({ buf, from }));
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  return { s, port: s.address().port, got };
}

/** An answer to a request is a packet from seq 1 with the count asked for (the real first packet holds more). */
const isAnswer = (buf: Buffer, count: number): boolean => {
  const h = { session: '', seq: 0, count: 0 };
  return readHeader(buf, h) && h.seq === 1 && h.count === count;
};

/**
 * Sends 300 messages to `to`, then holds the stream open until `hold()` resolves, then ends the
 * session. `during(source)` runs once the first packet has reached `to` (source: the sender's
 * address, where requests go). Resolves with the sender's result, or fails if it never ends.
 */
async function session(to: { port: number; got: Array<{ buf: Buffer; from: RemoteInfo }> }, o: Partial<SendOptions>, during: (source: RemoteInfo) => Promise<void>) {
  let released!: () => void;
  const hold = new Promise<void>((r) => (released = r));
  async function* messages(): AsyncGenerator<OutMessage> {
    for (let k = 1; k <= 300; k++) {
      const m = msg(k);
      yield { buf: m, offset: 0, length: m.length, exchangeTsNs: 0 };
    }
    await hold;
  }
  let result: SendResult | null = null;
  let failed: unknown = null;
  const run = sendMessages(messages(), { host: '127.0.0.1', port: to.port, speed: 'max', ...o }).then(
    (r) => (result = r),
    (e) => (failed = e),
  );
  const first = await waitUntil(() => to.got[0], 10_000, { what: 'the first packet' });
  await during(first.from);
  released();
  await waitUntil(() => result !== null || failed !== null, 30_000, { what: 'the sender to end' });
  await run;
  if (failed) throw failed;
  return result!;
}

const send = (s: Socket, pkt: Buffer, to: RemoteInfo): Promise<void> => new Promise((r, j) => s.send(pkt, to.port, to.address, (e) => (e ? j(e) : r())));

test('the gate: an unlisted source is refused; without a list, a source gets its rate, its byte budget and no more, and the total is capped', () => {
  const listed = new RerequestGate(parsePeers('127.0.0.1:5000,10.0.0.9', '--rerequest-from'));
  assert.is(listed.admit('127.0.0.1', 5001), 'unlisted');
  assert.is(listed.admit('10.0.0.8', 5000), 'unlisted');
  assert.is(listed.admit('127.0.0.1', 5000), null);
  assert.is(listed.admit('10.0.0.9', 1234), null, 'no port: any port of that address');
  assert.is(listed.refused, 2);

  let now = 0;
  const open = new RerequestGate(null, { answersPerSecond: 10, bytesPerSource: 5000, bytesTotal: 8000, maxSources: 3 }, () => now);
  for (let i = 0; i < 10; i++) assert.is(open.admit('10.0.0.1', 1), null);
  assert.is(open.admit('10.0.0.1', 2), 'rate', 'the burst is spent, whatever the port');
  now += 100;
  assert.is(open.admit('10.0.0.1', 1), null, 'a tenth of a second buys one more');
  assert.is(open.rateLimited, 1);
  for (let i = 0; i < 3; i++) assert.is(open.charge('10.0.0.1', 1400), null);
  assert.is(open.charge('10.0.0.1', 1400), 'cap', 'a fourth 1400-byte answer would pass 5000 bytes');
  assert.is(open.bytesTo('10.0.0.1'), 4200);
  assert.is(open.admit('10.0.0.2', 1), null);
  assert.is(open.charge('10.0.0.2', 3000), null);
  assert.is(open.admit('10.0.0.3', 1), null);
  assert.is(open.charge('10.0.0.3', 1400), 'cap', 'the total would pass 8000 bytes');
  assert.is(open.capped, 2);
  assert.is(open.answeredBytes, 7200);
  assert.is(open.admit('10.0.0.4', 1), 'rate', 'past maxSources a new address is refused');
});

test('with --rerequest-from, a request from an unlisted source is not answered and is counted; the listed receiver is answered', async () => {
  const rx = await peer();
  const evil = await peer();
  const refusals: string[] = [];
  const r = await session(rx, { rerequestFrom: parsePeers(`127.0.0.1:${rx.port}`, '--rerequest-from'), onRefused: (h, p, why) => refusals.push(`${h}:${p} ${why}`) }, async (source) => {
    await send(evil.s, requestPacket(SESSION, 1, 5), source);
    await send(rx.s, requestPacket(SESSION, 1, 5), source);
    await waitUntil(() => rx.got.some((g) => isAnswer(g.buf, 5)) && refusals.length === 1, 10_000, { what: 'the listed receiver answered and the other refused' });
  });
  assert.equal(evil.got, [], 'nothing sent to the unlisted source');
  assert.equal(refusals, [`127.0.0.1:${evil.port} unlisted`]);
  assert.is(r.refused, 1);
  assert.is(r.requests, 1);
});

test('without a list, the bytes answered to one source stay under its cap however much it asks', async () => {
  const rx = await peer();
  const evil = await peer();
  const cap = 4000;
  const asks = 50;
  let capped = 0;
  const r = await session(rx, { rerequestLimits: { bytesPerSource: cap }, onRefused: (_h, _p, why) => (capped += why === 'cap' ? 1 : 0) }, async (source) => {
    for (let i = 0; i < asks; i++) await send(evil.s, requestPacket(SESSION, 1, 0xfffe), source);
    await waitUntil(() => evil.got.length + capped === asks, 10_000, { what: 'every request answered or refused' });
  });
  const bytes = evil.got.reduce((n, g) => n + g.buf.length, 0);
  assert.ok(evil.got.length >= 1, 'answered until the cap');
  assert.ok(bytes <= cap, `${bytes} bytes answered to one source, cap ${cap}`);
  assert.is(r.capped, asks - evil.got.length);
  assert.is(r.answeredBytes, bytes);
});

test('the linger after the end of session ends at its bound even while answered requests keep coming', async () => {
  const rx = await peer();
  let timer: NodeJS.Timeout | null = null;
  let answers = 0;
  rx.s.on('message', (buf) => (answers += isAnswer(buf, 3) ? 1 : 0));
  try {
    const r = await session(rx, { lingerMs: 200, maxLingerMs: 400 }, async (source) => {
      // A request every 10 ms, for as long as the sender answers (a linger reset each time).
      timer = setInterval(() => rx.s.send(requestPacket(SESSION, 1, 3), source.port, source.address), 10);
      await waitUntil(() => answers >= 3, 10_000, { what: 'requests answered' });
    });
    assert.ok(r.requests >= 3, `answered ${r.requests}`);
  } finally {
    if (timer) clearInterval(timer);
  }
});

test('refused requests do not keep the sender lingering after the end of session: only answered ones do', async () => {
  const rx = await peer();
  const evil = await peer();
  let source: RemoteInfo | null = null;
  let refusals = 0;
  let stopped = false;
  // Each refusal is followed by another request from the unlisted source, for as long as the sender is there.
  const again = (): void => {
    if (!stopped && source) evil.s.send(requestPacket(SESSION, 1, 3), source.port, source.address);
  };
  try {
    const r = await session(
      rx,
      {
        rerequestFrom: parsePeers(`127.0.0.1:${rx.port}`, '--rerequest-from'),
        lingerMs: 200,
        maxLingerMs: 120_000,
        onRefused: () => {
          refusals++;
          again();
        },
      },
      async (from) => {
        source = from;
        again();
        await waitUntil(() => refusals >= 3, 10_000, { what: 'requests refused' });
      },
    );
    assert.ok(r.refused >= 3, `refused ${r.refused}`);
    assert.is(r.requests, 0, 'nothing answered');
    assert.equal(evil.got, [], 'nothing sent to the unlisted source');
  } finally {
    stopped = true;
  }
});

test('the re-request server listens on the address of the interface that reaches --to, not on 0.0.0.0', async () => {
  const rx = await peer();
  let listening = '';
  const r = await session(rx, { onListening: (a, p) => (listening = `${a}:${p}`) }, async () => undefined);
  assert.is(r.rerequestAddress?.address, '127.0.0.1');
  assert.is(listening, `127.0.0.1:${r.rerequestAddress?.port}`);
  assert.is(rx.got[0]!.from.address, '127.0.0.1', 'the packets come from that address too');
  assert.is(rx.got[0]!.from.port, r.rerequestAddress?.port);
});

test('mdfan send: the new flags are in --help, validated by name, and the closing line says where requests were answered', async () => {
  const help = spawnSync(process.execPath, [binPath, 'send', '--help'], { encoding: 'utf8' });
  for (const flag of ['--rerequest-from', '--max-linger']) assert.match(help.stdout + help.stderr, flag);
  const dir = mkdtempSync(join(tmpdir(), 'mdfan-rereq-'));
  try {
    const file = join(dir, 'tiny.itch');
    writeFileSync(file, frameMessages([directory(1, 'GOOG')]));
    const bad = spawnSync(process.execPath, [binPath, 'send', '--source', `itch:${file}`, '--to', '127.0.0.1:9', '--rerequest-from', '127.0.0.1,host.example'], { encoding: 'utf8' });
    assert.is(bad.status, 2, bad.stderr);
    assert.match(bad.stderr, 'MDFAN_ERR_OPTIONS: --rerequest-from must be an IPv4 address, optionally with :PORT 1..65535 (got "host.example")');
    const rx = await peer();
    const c = spawnMdfan('send', ['send', '--source', `itch:${file}`, '--to', `127.0.0.1:${rx.port}`, '--max-linger', '0.2']);
    children.add(c);
    const e = await c.exited;
    children.delete(c);
    assert.is(e.code, 0, c.stderr());
    assert.match(c.stdout.join('\n'), / on 127\.0\.0\.1:\d+$/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
