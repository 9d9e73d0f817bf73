/** MoldUDP64: packet codec, sequence tracking (gaps, duplicates, malformed, foreign), loopback with re-requests. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PacketBuilder, readHeader, END_OF_SESSION, HEADER_BYTES } from '../feed/moldudp64/packet.js';
import { MOLD_DEFAULTS, MoldReceiver, parseHostPort } from '../feed/moldudp64/receiver.js';
import { sendMessages, type OutMessage } from '../feed/moldudp64/sender.js';

/** Message k: length 1 + (k*7 % 60) bytes, every byte derived from k. */
const msg = (k: number): Buffer => {
  const b = Buffer.alloc(1 + ((k * 7) % 60));
  for (let i = 0; i < b.length; i++) b[i] = (k * 31 + i) & 0xff;
  return b;
};

function collect() {
  const got: Array<{ seq: number; bytes: Buffer }> = [];
  const gaps: Array<[number, number]> = [];
  let ended = 0;
  return {
    got,
    gaps,
    get ended() {
      return ended;
    },
    handlers: {
      onMessage: (buf: Buffer, off: number, len: number, seq: number) => got.push({ seq, bytes: Buffer.from(buf.subarray(off, off + len)) }),
      onGap: (from: number, count: number) => gaps.push([from, count]),
      onEnd: (): void => {
        ended++;
      },
    },
  };
}

function packets(n: number, perPacketBytes = 200): Buffer[] {
  const b = new PacketBuilder('TESTSESS', 1, perPacketBytes);
  const out: Buffer[] = [];
  for (let k = 1; k <= n; k++) {
    const m = msg(k);
    if (!b.fits(m.length)) out.push(b.take());
    b.add(m, 0, m.length);
  }
  if (b.pending) out.push(b.take());
  return out;
}

test('packets round-trip: header fields, sizes, every message in order', () => {
  const pk = packets(100);
  assert.ok(pk.length > 5);
  const h = { session: '', seq: 0, count: 0 };
  let next = 1;
  for (const p of pk) {
    assert.ok(p.length <= 200);
    assert.ok(readHeader(p, h));
    assert.is(h.session, 'TESTSESS  ');
    assert.is(h.seq, next);
    next += h.count;
  }
  assert.is(next, 101);
  const c = collect();
  const r = new MoldReceiver('127.0.0.1', 1, c.handlers);
  for (const p of pk) r.onPacket(p);
  assert.is(c.got.length, 100);
  c.got.forEach((g, i) => {
    assert.is(g.seq, i + 1);
    assert.ok(g.bytes.equals(msg(i + 1)));
  });
  assert.equal(c.gaps, []);
  assert.is(r.counters.gaps, 0);
});

test('a lost packet nobody re-sends is a gap with the exact missing range, lost after the recovery timeout; a duplicate is dropped and counted', () => {
  const pk = packets(100);
  const c = collect();
  let now = 0;
  const r = new MoldReceiver('127.0.0.1', 1, c.handlers, { now: () => now });
  const h = { session: '', seq: 0, count: 0 };
  readHeader(pk[3], h);
  const lostFrom = h.seq;
  const lost = h.count;
  readHeader(pk[5], h);
  const dup = h.count;
  for (const [i, p] of pk.entries()) if (i !== 3) r.onPacket(p);
  assert.equal(c.gaps, [[lostFrom, lost]]);
  assert.is(r.counters.gapMessages, lost);
  assert.is(c.got.length, lostFrom - 1, 'later messages are held while the gap is open');
  now += MOLD_DEFAULTS.recoveryTimeoutMs;
  r.poll();
  assert.is(r.counters.unrecovered, lost);
  assert.is(c.got.length, 100 - lost);
  r.onPacket(pk[5]); // a duplicate
  assert.is(r.counters.duplicates, dup);
  assert.is(c.got.length, 100 - lost);
});

test('heartbeats and end of session carry the next seq: a tail loss is still detected, and the session ends once it is given up', () => {
  const b = new PacketBuilder('S', 1);
  for (let k = 1; k <= 5; k++) b.add(msg(k), 0, msg(k).length);
  const first = b.take();
  for (let k = 6; k <= 9; k++) b.add(msg(k), 0, msg(k).length);
  b.take(); // lost
  const c = collect();
  let now = 0;
  const r = new MoldReceiver('127.0.0.1', 1, c.handlers, { now: () => now });
  r.onPacket(first);
  r.onPacket(b.control(0));
  assert.equal(c.gaps, [[6, 4]]);
  r.onPacket(b.control(END_OF_SESSION));
  assert.is(c.ended, 0, 'not while the tail may still come back');
  now += MOLD_DEFAULTS.recoveryTimeoutMs;
  r.poll();
  assert.is(c.ended, 1);
  r.onPacket(first); // nothing after the end
  assert.is(c.got.length, 5);
});

test('malformed packets (short, block past the end) and foreign sessions are counted and dropped whole', () => {
  const [p] = packets(3, 1400);
  const c = collect();
  const r = new MoldReceiver('127.0.0.1', 1, c.handlers);
  r.onPacket(p.subarray(0, HEADER_BYTES - 1));
  r.onPacket(p.subarray(0, p.length - 1)); // last block runs past the end
  assert.is(r.counters.malformed, 2);
  assert.is(c.got.length, 0);
  r.onPacket(p);
  assert.is(c.got.length, 3);
  const other = Buffer.from(p);
  other.write('OTHERSESS1', 0, 'latin1');
  r.onPacket(other);
  assert.is(r.counters.foreignSessions, 1);
  assert.is(c.got.length, 3);
});

test('HOST:PORT is validated', () => {
  assert.equal(parseHostPort('127.0.0.1:5000', '--to'), { host: '127.0.0.1', port: 5000 });
  assert.throws(() => parseHostPort('127.0.0.1', '--to'), /--to must be HOST:PORT/);
  assert.throws(() => parseHostPort('h:70000', '--to'), /port 1..65535/);
});

async function loopback(n: number, drop?: Set<number>) {
  const c = collect();
  const r = new MoldReceiver('127.0.0.1', 0, c.handlers);
  await r.start();
  const ended = new Promise<void>((resolve) => {
    const h = c.handlers.onEnd;
    c.handlers.onEnd = () => {
      h();
      resolve();
    };
  });
  const msgs: OutMessage[] = [];
  for (let k = 1; k <= n; k++) {
    const m = msg(k);
    msgs.push({ buf: m, offset: 0, length: m.length, exchangeTsNs: k });
  }
  const res = await sendMessages(msgs, { host: '127.0.0.1', port: r.address.port, speed: 'max', maxPps: 20_000, dropPackets: drop });
  await ended;
  r.close();
  return { c, r, res };
}

test('over loopback UDP: every message arrives once, in order, byte for byte', async () => {
  const { c, r, res } = await loopback(5000);
  assert.is(res.messages, 5000);
  assert.is(c.got.length, 5000);
  assert.ok(c.got.every((g, i) => g.seq === i + 1 && g.bytes.equals(msg(i + 1))));
  assert.is(r.counters.gaps, 0);
});

test('over loopback UDP: a dropped packet is detected, asked for again from its sender, and every message arrives in order', async () => {
  const { c, r, res } = await loopback(2000, new Set([4]));
  assert.is(res.dropped, 1);
  assert.is(r.counters.gaps, 1);
  assert.is(c.gaps.length, 1);
  assert.ok(res.requests >= 1, 'the sender answered');
  assert.is(r.counters.recovered, c.gaps[0][1]);
  assert.is(c.got.length, 2000);
  assert.ok(c.got.every((g, i) => g.seq === i + 1 && g.bytes.equals(msg(i + 1))));
});

test.run();
