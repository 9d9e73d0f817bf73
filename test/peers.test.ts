/**
 * The peer transports of the latency benchmark (issue 5): each delivers the 304-byte snapshot
 * intact, the reliable ones every message to every receiver, and failures are clear and fast.
 * Nothing here asserts anything about time: the machine is noisy.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { measurePeer, startCReader, type PeerResult, type PeerTransport } from '../bench/peers/index.js';
import { FrameReader } from '../bench/peers/frames.js';
import { fillPayload, payloadIntact, PAYLOAD_BYTES, PAYLOAD_WORDS, stampPayload, W_SEQ, W_TS_LO } from '../bench/peers/payload.js';
import { measureFloor } from '../bench/peers/floor.js';
import { cleanupSegments, segName, shmExists } from './helpers/segments.js';

const RATE = 2000;
const SECONDS = 0.3;

test.after.each(() => cleanupSegments());

/** The error `p` rejects with (fails the test if it resolves). */
async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    assert.instance(e, Error);
    return e as Error;
  }
  assert.unreachable('expected a rejection');
  throw new Error('unreachable');
}

function checkCommon(r: PeerResult, transport: PeerTransport, readers: number): void {
  assert.is(r.transport, transport);
  assert.is(r.readers, readers);
  assert.ok(r.sent > 0, 'sent something');
  assert.is(r.corrupt, 0, 'no corrupt payloads');
  assert.ok(r.histogram.totalCount >= r.count, `histogram ${r.histogram.totalCount} >= count ${r.count} (CO correction only adds)`);
  assert.ok(r.histogram.minNonZeroValue > 0, 'latencies are > 0');
}

for (const transport of ['postMessage', 'unix-socket', 'zeromq-ipc'] as const) {
  for (const readers of [1, 2]) {
    test(`${transport}, ${readers} reader(s): every message reaches every reader intact`, async () => {
      const r = await measurePeer(transport, { rate: RATE, seconds: SECONDS, readers });
      checkCommon(r, transport, readers);
      assert.is(r.wait, 'event-loop');
      assert.is(r.count, r.sent * readers);
    });
  }
}

for (const [readers, layout] of [[1, 'book'], [2, 'book'], [1, 'top']] as const) {
  test(`native-c, ${readers} reader(s) of the ${layout}: reads the live segment intact (may conflate), segment removed`, async () => {
    const segment = segName('peer-c');
    const r = await measurePeer('native-c', { rate: RATE, seconds: SECONDS, readers, segment, layout });
    checkCommon(r, 'native-c', readers);
    assert.is(r.wait, 'spin');
    assert.ok(r.count >= 1, 'observed at least one commit');
    assert.ok(r.count <= r.sent * readers, `count ${r.count} <= sent ${r.sent} x ${readers}: a seqlock reader never sees more than was committed`);
    assert.not.ok(shmExists(segment), 'close({unlink:true}) removed the segment');
  });
}

test('payload: a changed word is detected; the timestamp is not part of the check', () => {
  const w = new Uint32Array(PAYLOAD_WORDS);
  fillPayload(w, 12345);
  stampPayload(w, 987654321012);
  assert.ok(payloadIntact(w));
  w[W_TS_LO] ^= 1;
  assert.ok(payloadIntact(w), 'timestamp words are free');
  for (const i of [0, 2, 40, PAYLOAD_WORDS - 1]) {
    const bad = w.slice();
    bad[i] ^= 0x100;
    assert.not.ok(payloadIntact(bad), `word ${i} changed`);
  }
});

test('frames: a stream split at odd places reassembles into whole payloads', () => {
  const stream = new Uint8Array(3 * PAYLOAD_BYTES);
  for (let k = 0; k < 3; k++) {
    const w = new Uint32Array(PAYLOAD_WORDS);
    fillPayload(w, 100 + k);
    stream.set(new Uint8Array(w.buffer), k * PAYLOAD_BYTES);
  }
  const reader = new FrameReader();
  const seqs: number[] = [];
  for (const [from, to] of [[0, 1], [1, 303], [303, 305], [305, 700], [700, 912]])
    reader.push(stream.subarray(from, to), (w) => {
      assert.ok(payloadIntact(w));
      seqs.push(w[W_SEQ]);
    });
  assert.equal(seqs, [100, 101, 102]);
  assert.is(reader.pending, 0);
});

test('an unknown transport rejects, naming it', async () => {
  const e = await rejection(measurePeer('carrier-pigeon' as PeerTransport, { rate: RATE, seconds: SECONDS, readers: 1 }));
  assert.match(e.message, /carrier-pigeon/);
});

test('bad options reject before anything starts', async () => {
  for (const o of [{ rate: 0, seconds: 1, readers: 1 }, { rate: 10, seconds: -1, readers: 1 }, { rate: 10, seconds: 1, readers: 0 }]) {
    assert.instance(await rejection(measurePeer('postMessage', o)), RangeError, JSON.stringify(o));
  }
});

test('native-c reader on a segment that does not exist fails at once with a clear error', async () => {
  const missing = segName('missing'); // never created
  const e = await rejection(startCReader(missing, 16));
  assert.match(e.message, /MDFAN_ERR_NO_SEGMENT/);
  assert.ok(e.message.includes(missing), e.message);
});

test('floor: c_floor times the top line, the 2.0 book and the 1.x book in one run, in turns', async () => {
  // 5000/s for 0.3 s: 1500 commits per layout, enough for c_floor to split them into turns.
  const f = await measureFloor(5000, 0.3);
  assert.is(f.c2c.totalCount, 50_000);
  for (const k of ['top', 'book', 'book1x'] as const) {
    assert.ok(f[k].totalCount > 0 && f[k].totalCount <= 1500, `${k}: ${f[k].totalCount} observed of 1500 commits`);
    assert.ok(f[k].minNonZeroValue > 0, `${k}: latencies are > 0`);
  }
});

test.run();
