/**
 * MoldUDP64 under a hostile or lossy network: sequence numbers outside the window, forged ends of
 * session, lost packets asked for again (request packets, the sender's answers), gaps given up
 * after a bounded time, and the bound on what is held. Driven packet by packet with a fake clock:
 * nothing here waits for time.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { END_OF_SESSION, HEADER_BYTES, MAX_REQUEST_COUNT, PacketBuilder, readHeader, requestPacket } from '../feed/moldudp64/packet.js';
import { MOLD_DEFAULTS, MoldReceiver, type MoldReceiverOptions } from '../feed/moldudp64/receiver.js';
import { Retransmitter } from '../feed/moldudp64/sender.js';
import { seededRandom } from '../lib/random.js';

/** Message k: length 1 + (k*7 % 60) bytes, every byte derived from k. */
const msg = (k: number): Buffer => {
  const b = Buffer.alloc(1 + ((k * 7) % 60));
  for (let i = 0; i < b.length; i++) b[i] = (k * 31 + i) & 0xff;
  return b;
};

const SESSION = 'TESTSESS';

/** Messages firstSeq.. as packets of at most perPacketBytes. */
function packets(n: number, perPacketBytes = 200, firstSeq = 1): Buffer[] {
  const b = new PacketBuilder(SESSION, firstSeq, perPacketBytes);
  const out: Buffer[] = [];
  for (let k = firstSeq; k < firstSeq + n; k++) {
    const m = msg(k);
    if (!b.fits(m.length)) out.push(b.take());
    b.add(m, 0, m.length);
  }
  if (b.pending) out.push(b.take());
  return out;
}

const control = (seq: number, count: 0 | typeof END_OF_SESSION): Buffer => new PacketBuilder(SESSION, seq).control(count);

/** A receiver with a fake clock and a record of what it asked for and heard. */
function harness(opts: MoldReceiverOptions = {}) {
  let nowMs = 0;
  const got: number[] = [];
  const bad: number[] = [];
  const events: string[] = [];
  const requests: Array<[number, number]> = [];
  let ended = 0;
  let answer: ((req: Buffer) => void) | null = null;
  const r = new MoldReceiver(
    '127.0.0.1',
    1,
    {
      onMessage: (buf, off, len, seq) => {
        got.push(seq);
        if (!buf.subarray(off, off + len).equals(msg(seq))) bad.push(seq);
      },
      onGap: (from, count) => events.push(`gap ${from} ${count}`),
      onRecovered: (from, count) => events.push(`recovered ${from} ${count}`),
      onLost: (from, count) => events.push(`lost ${from} ${count}`),
      onEnd: () => {
        ended++;
      },
    },
    {
      rerequest: { host: '127.0.0.1', port: 9 },
      now: () => nowMs,
      send: (pkt) => {
        const h = { session: '', seq: 0, count: 0 };
        assert.is(pkt.length, HEADER_BYTES, 'a request is a bare header');
        assert.ok(readHeader(pkt, h));
        requests.push([h.seq, h.count]);
        answer?.(pkt);
      },
      ...opts,
    },
  );
  return {
    r,
    got,
    bad,
    events,
    requests,
    get ended() {
      return ended;
    },
    advance: (ms: number) => {
      nowMs += ms;
      r.poll();
    },
    /** Answers requests from `server` (synchronously, as a reply would arrive later). */
    serve: (server: Retransmitter) => {
      const replies: Buffer[] = [];
      answer = (req) => {
        const p = server.answer(req);
        if (p) replies.push(p);
      };
      return () => {
        while (replies.length > 0) r.onPacket(replies.shift()!);
      };
    },
  };
}

const inOrder = (got: number[], n: number): boolean => got.length === n && got.every((s, i) => s === i + 1);

test('a forged sequence number far past the window (2^62) is not believed: every later real message is delivered', () => {
  const h = harness();
  const pk = packets(60);
  h.r.onPacket(pk[0]!);
  const forged = Buffer.from(pk[1]!);
  forged.writeUInt32BE(0x40000000, 10); // seq 2^62
  forged.writeUInt32BE(0, 14);
  h.r.onPacket(forged);
  for (const p of pk.slice(1)) h.r.onPacket(p);
  assert.ok(inOrder(h.got, 60), `delivered ${h.got.length} of 60`);
  assert.is(h.r.counters.outOfWindow, 1);
  assert.is(h.r.counters.duplicates, 0);
  assert.equal(h.events, []);
  assert.equal(h.bad, []);
});

test('the session is pinned by the first packet taken: a forged out-of-window or malformed first packet of another session cannot claim it', () => {
  const h = harness();
  const forged = new PacketBuilder('FORGED', 2 ** 40, 200);
  forged.add(msg(1), 0, msg(1).length);
  h.r.onPacket(forged.take()); // another session, far outside the window: dropped, pins nothing
  const cut = packets(3, 200)[0]!.subarray(0, 25); // a malformed first packet: pins nothing either
  h.r.onPacket(cut);
  for (const p of packets(30)) h.r.onPacket(p);
  assert.ok(inOrder(h.got, 30), `delivered ${h.got.length}`);
  assert.is(h.r.session, 'TESTSESS  ');
  assert.is(h.r.counters.foreignSessions, 0);
});

test('a jump past the window that the next packet continues is real: what lies before it is lost at once, delivery goes on', () => {
  const h = harness();
  h.r.onPacket(packets(5)[0]!);
  const far = 10 + MOLD_DEFAULTS.windowMessages * 2;
  const [a, b] = packets(40, 200, far);
  h.r.onPacket(a!);
  assert.equal(h.events, [], 'one packet alone is not believed');
  const firstOfB = { session: '', seq: 0, count: 0 };
  readHeader(b!, firstOfB);
  const expectedFrom = h.got.length + 1;
  h.r.onPacket(b!);
  assert.equal(h.events, [`gap ${expectedFrom} ${firstOfB.seq - expectedFrom}`, `lost ${expectedFrom} ${firstOfB.seq - expectedFrom}`]);
  assert.is(h.got[h.got.length - 1], firstOfB.seq + firstOfB.count - 1, 'the continuing packet is delivered');
  assert.is(h.r.counters.unrecovered, firstOfB.seq - expectedFrom);
});

test('an end of session naming a sequence number already passed is ignored; one in sequence ends the session after every message before it', () => {
  const h = harness();
  const pk = packets(30);
  for (const p of pk) h.r.onPacket(p);
  h.r.onPacket(control(5, END_OF_SESSION)); // forged or stale: before messages already received
  assert.is(h.ended, 0);
  assert.is(h.r.counters.staleEnds, 1);
  h.r.onPacket(packets(10, 200, 31)[0]!); // the session goes on
  const next = h.got.length + 1;
  h.r.onPacket(control(next, END_OF_SESSION));
  assert.is(h.ended, 1);
  assert.ok(inOrder(h.got, next - 1));
});

test('an end of session after a loss waits for the lost messages, asked for again, before it ends the session', () => {
  const h = harness();
  const pk = packets(50);
  const server = new Retransmitter(h.r.session ?? SESSION.padEnd(10), 1400, 1 << 20);
  let seq = 1;
  for (const p of pk) {
    server.keep(p, seq);
    const x = { session: '', seq: 0, count: 0 };
    readHeader(p, x);
    seq += x.count;
  }
  const deliver = h.serve(server);
  for (const p of pk.slice(0, -1)) h.r.onPacket(p); // the last packet is lost
  h.r.onPacket(control(51, END_OF_SESSION));
  assert.is(h.ended, 0, 'not before the tail is back');
  deliver();
  assert.is(h.ended, 1);
  assert.ok(inOrder(h.got, 50));
  assert.equal(h.bad, []);
});

test('a lost packet is asked for again: the request names the range, later packets are held, the answer fills the gap in order', () => {
  const h = harness();
  const pk = packets(200);
  const server = new Retransmitter('TESTSESS  ', 1400, 1 << 20);
  let seq = 1;
  const firsts: number[] = [];
  for (const p of pk) {
    firsts.push(seq);
    server.keep(p, seq);
    const x = { session: '', seq: 0, count: 0 };
    readHeader(p, x);
    seq += x.count;
  }
  const deliver = h.serve(server);
  h.r.onPacket(pk[0]!);
  h.r.onPacket(pk[1]!);
  // pk[2] and pk[3] lost; pk[4..] arrive
  for (const p of pk.slice(4)) h.r.onPacket(p);
  const lostFrom = firsts[2]!;
  const lostCount = firsts[4]! - lostFrom;
  assert.equal(h.requests[0], [lostFrom, lostCount], 'the first request names exactly the missing range');
  assert.ok(h.r.recovering);
  assert.is(h.got.length, lostFrom - 1, 'nothing after the gap is delivered while it is open');
  deliver();
  assert.ok(inOrder(h.got, 200), `delivered ${h.got.length}`);
  assert.equal(h.bad, []);
  assert.equal(h.events, [`gap ${lostFrom} ${lostCount}`, `recovered ${lostFrom} ${lostCount}`]);
  assert.is(h.r.counters.recovered, lostCount);
  assert.is(h.r.counters.unrecovered, 0);
  assert.not.ok(h.r.recovering);
});

test('a gap nobody answers is re-requested, then given up after the recovery timeout: lost with its range, delivery goes on', () => {
  const h = harness();
  const pk = packets(100);
  h.r.onPacket(pk[0]!);
  for (const p of pk.slice(2)) h.r.onPacket(p);
  const first = h.requests[0]!;
  h.advance(MOLD_DEFAULTS.requestRetryMs);
  assert.is(h.requests.length, 2, 'sent again after the retry interval');
  assert.equal(h.requests[1], first);
  h.advance(MOLD_DEFAULTS.recoveryTimeoutMs);
  assert.equal(h.events, [`gap ${first[0]} ${first[1]}`, `lost ${first[0]} ${first[1]}`]);
  assert.is(h.got.length, 100 - first[1]);
  assert.is(h.got[h.got.length - 1], 100);
  assert.is(h.r.counters.unrecovered, first[1]);
  assert.not.ok(h.r.recovering);
});

test('what is held behind a gap is bounded: past the limit the gap is given up and delivery goes on', () => {
  const h = harness({ limits: { maxHeldMessages: 20 } });
  const pk = packets(300);
  h.r.onPacket(pk[0]!);
  for (const p of pk.slice(2)) h.r.onPacket(p);
  assert.ok(h.events[1]?.startsWith('lost '), h.events.join('; '));
  assert.is(h.got[h.got.length - 1], 300);
  assert.not.ok(h.r.recovering);
});

test('the re-request server answers one packet from the sequence asked for, and ignores foreign sessions and ranges it never sent', () => {
  const server = new Retransmitter('TESTSESS  ', 200, 1 << 20);
  let seq = 1;
  for (const p of packets(100)) {
    server.keep(p, seq);
    const x = { session: '', seq: 0, count: 0 };
    readHeader(p, x);
    seq += x.count;
  }
  const ans = server.answer(requestPacket(SESSION, 17, 5))!;
  const h = { session: '', seq: 0, count: 0 };
  assert.ok(readHeader(ans, h));
  assert.equal([h.seq, h.count], [17, 5]);
  let off = HEADER_BYTES;
  for (let k = 17; k < 22; k++) {
    const len = ans.readUInt16BE(off);
    assert.ok(ans.subarray(off + 2, off + 2 + len).equals(msg(k)), `message ${k}`);
    off += 2 + len;
  }
  const big = server.answer(requestPacket(SESSION, 1, MAX_REQUEST_COUNT))!;
  assert.ok(big.length <= 200, 'one packet within the size limit');
  assert.is(server.answer(requestPacket('OTHER', 1, 5)), null);
  assert.is(server.answer(requestPacket(SESSION, 101, 5)), null);
  assert.is(server.answer(Buffer.alloc(3)), null);
  assert.is(server.badRequests, 3);
});

test('the re-request server answers nothing for messages it has forgotten (past what it keeps), and exactly for every message it kept', () => {
  const pk = packets(100);
  // Room for the last few packets only: the older ones are forgotten as new ones are kept.
  const keepBytes = pk.slice(-4).reduce((n, p) => n + p.length, 0);
  const server = new Retransmitter('TESTSESS  ', 200, keepBytes);
  const firstSeqs: number[] = [];
  let seq = 1;
  for (const p of pk) {
    server.keep(p, seq);
    firstSeqs.push(seq);
    const x = { session: '', seq: 0, count: 0 };
    readHeader(p, x);
    seq += x.count;
  }
  // The packets kept: the newest whose bytes fit the budget (at least the last one).
  let kept = 0;
  for (let bytes = 0, i = pk.length - 1; i >= 0 && (kept === 0 || bytes + pk[i]!.length <= keepBytes); i--, kept++) bytes += pk[i]!.length;
  const firstKept = firstSeqs[pk.length - kept]!;
  assert.ok(firstKept > 1 && kept < pk.length, `some packets forgotten: messages from ${firstKept} kept`);
  const h = { session: '', seq: 0, count: 0 };
  for (let k = 1; k <= 100; k++) {
    const bad = server.badRequests;
    const ans = server.answer(requestPacket(SESSION, k, 3));
    if (k < firstKept) {
      assert.is(ans, null, `message ${k} is forgotten: no answer`);
      assert.is(server.badRequests, bad + 1, `message ${k}: counted as a request not answered`);
      continue;
    }
    assert.ok(ans !== null && readHeader(ans, h), `message ${k} is kept: answered`);
    assert.is(h.seq, k, `the answer to ${k} starts at ${k}`);
    assert.ok(h.count >= 1 && h.count <= 3 && k + h.count - 1 <= 100);
    let off = HEADER_BYTES;
    for (let m = k; m < k + h.count; m++) {
      const len = ans.readUInt16BE(off);
      assert.ok(ans.subarray(off + 2, off + 2 + len).equals(msg(m)), `message ${m} as sent`);
      off += 2 + len;
    }
  }
});

test('the drop PRNG is seeded: the same seed drops the same packets', () => {
  const a = seededRandom(7);
  const b = seededRandom(7);
  const c = seededRandom(8);
  const xs = Array.from({ length: 1000 }, () => a());
  assert.equal(xs, Array.from({ length: 1000 }, () => b()));
  assert.not.equal(xs, Array.from({ length: 1000 }, () => c()));
  const share = xs.filter((x) => x < 0.02).length / 1000;
  assert.ok(share > 0.005 && share < 0.05, `about 2% below 0.02: ${share}`);
});

test.run();
