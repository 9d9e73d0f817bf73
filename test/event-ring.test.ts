/**
 * The event ring (/NAME.events): records round-trip, a lapped reader learns exactly how many
 * events it lost and resumes at the oldest whole record, a half-written record is never returned
 * (in process and with the writer SIGKILLed mid-append), a new generation starts a new ring.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EventBatch, EventRingReader, SegmentWriter, abi, isMdfanError, newEventFields, type MdfanError } from '../native/segment/index.js';
import { checkEvent, fillEvent } from './helpers/ring-payload.js';
import { storeU64Product } from '../native/segment/events.js';
import { startNode, killAll } from './helpers/procs.js';
import { cleanupSegments, segName } from './helpers/segments.js';
import { waitUntil } from './helpers/wait.js';
import { pauseReached, releasePause } from './helpers/test-pause.js';
import { makeFifo, removeFifo } from './helpers/fifo.js';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const proc = new URL('./helpers/ring-proc.js', import.meta.url);
const rewriteProc = new URL('./helpers/ring-rewrite-proc.js', import.meta.url);

test.after.each(() => {
  killAll();
  cleanupSegments();
});

function writer(tag: string, ringEvents: number): SegmentWriter {
  return SegmentWriter.open({ name: segName(tag), maxInstruments: 1, levels: 1, ringEvents });
}

function append(w: SegmentWriter, from: number, to: number): void {
  const e = newEventFields();
  for (let r = from; r <= to; r++) {
    fillEvent(e, r);
    w.appendEvent(e);
  }
}

test('records round-trip: every field, a negative price, no price, a 2^40 order reference', () => {
  const w = writer('ring-rt', 16);
  try {
    append(w, 1, 10);
    const e = newEventFields();
    e.kind = abi.EVENT_KIND_STATUS;
    e.action = 0x48; // 'H'
    w.appendEvent(e); // no price (NaN), no instrument
    const r = EventRingReader.open(w.name, 'oldest');
    const b = new EventBatch(32);
    assert.is(r.poll(b), 11);
    assert.is(b.lost, 0);
    for (let i = 0; i < 10; i++) assert.is(checkEvent(b.records[i]!, i + 1), '');
    const last = b.records[10]!;
    assert.is(last.kind, abi.EVENT_KIND_STATUS);
    assert.is(last.hasPrice, false);
    assert.ok(Number.isNaN(last.price));
    assert.is(last.instrumentIndex, abi.EVENT_NO_INSTRUMENT);
    assert.ok(last.publishTsNs > 0);
    assert.is(r.poll(b), 0, 'nothing new');
    w.flushCounters();
    assert.is(w.counter('events'), 11, 'the segment counts the events');
    r.close();
  } finally {
    w.close({ unlink: true });
  }
});

test('an exchange time in a venue unit reaches the ring exact in ns (ms x 1e6 is above 2^53: made from limbs, checked against BigInt)', () => {
  const u32 = new Uint32Array(2);
  const dv = new DataView(u32.buffer);
  const cases: Array<[number, number]> = [
    [1723161257465, 1e6], // a Binance ms time
    [2 ** 53 - 1, 1], // the largest exact JavaScript integer, unit 1
    [9_007_199_254, 1e9], // seconds near the top of what a u64 of ns holds
    [0, 1e6],
    [65535, 65537], // every limb boundary
    [2 ** 50 + 12345, 7], // the top limb with a unit above 1
    [2 ** 52 + 1, 4095],
  ];
  let seed = 12345;
  const rnd = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  for (let k = 0; k < 2000; k++) cases.push([rnd(2 ** 31) * 2 ** 10 + rnd(2 ** 10), 1 + rnd(1e6)]);
  for (const [a, b] of cases) {
    storeU64Product(u32, 0, a, b);
    assert.is(dv.getBigUint64(0, true), BigInt(a) * BigInt(b), `${a} x ${b}`);
  }
  // Past 2^64 ns: 0 ("unknown"), never a wrapped time; 2^64 - 1 itself still fits.
  for (const [a, b] of [[2 ** 53 - 1, 1e9], [18_446_744_074, 1e9], [2 ** 44, 2 ** 20]] as Array<[number, number]>) {
    storeU64Product(u32, 0, a, b);
    assert.is(dv.getBigUint64(0, true), 0n, `${a} x ${b} is past 2^64`);
  }
  storeU64Product(u32, 0, 18_446_744_073, 1e9);
  assert.is(dv.getBigUint64(0, true), 18_446_744_073n * 1_000_000_000n);
  // With a time origin (DBN: a UTC midnight in epoch ns): base + a x b, the carry across the words included.
  const bases = [1622505600000000000, 2 ** 32 - 65536, 2 ** 63, 2 ** 64 - 65536];
  for (const base of bases)
    for (const [a, b] of cases.slice(0, 300)) {
      const want = BigInt(base) + BigInt(a) * BigInt(b);
      storeU64Product(u32, 0, a, b, base);
      assert.is(dv.getBigUint64(0, true), want < 2n ** 64n ? want : 0n, `${base} + ${a} x ${b}`);
    }
  // An unknown time (NaN, negative) is 0, never the origin.
  for (const a of [Number.NaN, -1]) {
    storeU64Product(u32, 0, a, 1, 1622505600000000000);
    assert.is(dv.getBigUint64(0, true), 0n);
  }
});

test('a lapped reader learns exactly how many events it lost and resumes at the oldest whole record', () => {
  const cap = 16;
  const w = writer('ring-lap', cap);
  try {
    const r = EventRingReader.open(w.name, 'oldest');
    const b = new EventBatch(3);
    append(w, 1, 5);
    assert.is(r.poll(b), 3); // 1..3 read; the reader then stalls
    append(w, 6, 103);
    const n = r.poll(b);
    // Whole records: [head - cap + 2, head] = [89, 103] (the slot after the head may be mid-write).
    assert.is(b.lost, 89 - 4, 'lost: 4..88');
    assert.is(n, 3);
    for (let i = 0; i < n; i++) assert.is(checkEvent(b.records[i]!, 89 + i), '');
    const all = new EventBatch(64);
    assert.is(r.poll(all), 103 - 92 + 1);
    assert.is(all.lost, 0);
    assert.is(checkEvent(all.records[all.count - 1]!, 103), '');
    assert.is(r.read + r.lost, 103, 'every event is read or counted lost, none twice');
    r.close();
  } finally {
    w.close({ unlink: true });
  }
});

test('a loss after some records of a batch is reported at the start of the next poll, where it happened', () => {
  const w = writer('ring-lap2', 16);
  try {
    const r = EventRingReader.open(w.name, 'oldest');
    append(w, 1, 40);
    const b = new EventBatch(64);
    assert.is(r.poll(b), 15);
    assert.is(b.lost, 25); // 1..25 lost, 26..40 whole
    assert.is(checkEvent(b.records[0]!, 26), '');
    r.close();
  } finally {
    w.close({ unlink: true });
  }
});

test('a record being written (its writer killed mid-append) is never returned: skipped and counted lost', () => {
  const cap = 16;
  const w = writer('ring-mid', cap);
  try {
    const r = EventRingReader.open(w.name, 'oldest'); // at record 1
    append(w, 1, cap); // the ring is full: record 1 is the oldest
    w.ring!.beginOnlyForTest(); // record 17 begins in record 1's slot, and stops there
    const b = new EventBatch(64);
    assert.is(r.poll(b), cap - 1);
    assert.is(b.lost, 1, 'record 1 was being overwritten');
    for (let i = 0; i < b.count; i++) assert.is(checkEvent(b.records[i]!, 2 + i), '');
    r.close();
  } finally {
    w.close({ unlink: true });
  }
});

test('a record the writer is in the middle of is not published yet: nothing read, nothing lost; it comes whole once appended', () => {
  const cap = 16;
  const w = writer('ring-midwrite', cap);
  try {
    const r = EventRingReader.open(w.name, 'oldest');
    append(w, 1, 3);
    const b = new EventBatch(64);
    assert.is(r.poll(b), 3);
    w.ring!.beginOnlyForTest(); // record 4 begun (its sequence invalid), not finished
    assert.is(r.poll(b), 0, 'a record being written is not there yet');
    assert.is(b.lost, 0, 'nor lost');
    append(w, 4, 4);
    assert.is(r.poll(b), 1);
    assert.is(b.lost, 0);
    assert.is(checkEvent(b.records[0]!, 4), '');
    r.close();
  } finally {
    w.close({ unlink: true });
  }
});

test('--from newest starts after the newest record; oldest at the oldest whole one', () => {
  const w = writer('ring-from', 16);
  try {
    append(w, 1, 30);
    const newest = EventRingReader.open(w.name, 'newest');
    const oldest = EventRingReader.open(w.name, 'oldest');
    const b = new EventBatch(64);
    assert.is(newest.poll(b), 0);
    append(w, 31, 31);
    assert.is(newest.poll(b), 1);
    assert.is(b.records[0]!.seq, 31);
    assert.is(oldest.poll(b), 16);
    assert.is(b.records[0]!.seq, 16, 'head 31 - capacity 16 + 1: the slot after the head is never promised');
    newest.close();
    oldest.close();
  } finally {
    w.close({ unlink: true });
  }
});

test('a segment without a ring, and a capacity that is not a power of two, are refused clearly', () => {
  const w = writer('ring-none', 0);
  try {
    assert.is(w.ring, null);
    EventRingReader.open(w.name);
    assert.unreachable();
  } catch (e) {
    assert.ok(isMdfanError(e, 'MDFAN_ERR_NO_SEGMENT'), String(e));
    assert.match((e as MdfanError).message, 'has no event ring');
  } finally {
    w.close({ unlink: true });
  }
  for (const bad of [1000, 8, abi.EVENTS_MAX_CAPACITY * 2]) {
    try {
      writer(`ring-bad-${bad}`, bad).close({ unlink: true });
      assert.unreachable(String(bad));
    } catch (e) {
      assert.ok(isMdfanError(e, 'MDFAN_ERR_OPTIONS'), String(e));
      assert.match((e as MdfanError).message, 'power of two');
    }
  }
});

test('a new generation starts a new ring: a takeover re-creates the object, and its readers start again at 1', async () => {
  const name = segName('ring-gen');
  const p = startNode(proc, ['write', name, '64']);
  await p.line(/^ready/);
  const old = EventRingReader.open(name, 'oldest');
  await waitUntil(() => old.head() > 1000, 10_000, { what: 'the first writer appending' });
  p.child.kill('SIGKILL');
  await p.exited;
  const w = SegmentWriter.open({ name, maxInstruments: 1, levels: 1, ringEvents: 64 });
  try {
    assert.is(w.outcome, 'takeover');
    const fresh = EventRingReader.open(name, 'oldest');
    assert.is(fresh.generation, old.generation + 1);
    assert.is(fresh.head(), 1, 'the new ring opens with a clear event');
    append(w, 2, 4);
    const b = new EventBatch(8);
    assert.is(fresh.poll(b), 4);
    const clear = b.records[0]!;
    assert.equal([clear.seq, clear.kind, clear.action, clear.orderRef, clear.instrumentIndex], [1, abi.EVENT_KIND_CLEAR, 0x47, fresh.generation, abi.EVENT_NO_INSTRUMENT]);
    assert.is(checkEvent(b.records[1]!, 2), '');
    assert.ok(old.head() > 1000, 'the old mapping stays readable; its head stopped');
    old.close();
    fresh.close();
  } finally {
    w.close({ unlink: true });
  }
});

test('a record finished between the reader\'s look at it (mid-write) and its look at the head is read, not counted lost (a certain race: the reader paused there)', async () => {
  const w = writer('ring-race', 64);
  const fifo = join(tmpdir(), `mdfan-ring-race-${process.pid}`);
  execFileSync('mkfifo', [fifo]);
  try {
    // Record 1 mid-write: the reader's first look, first in its batch, sees the invalid sequence.
    w.ring!.beginOnlyForTest();
    const r = startNode(proc, ['read', w.name, '3'], { env: { ...process.env, MDFAN_TEST_PAUSE_RING_HEAD: fifo } });
    await pauseReached(fifo, 'the reader to find record 1 mid-write and pause before the head');
    append(w, 1, 3); // record 1 whole, and the head past it, while the reader waits
    await releasePause(fifo, 'the reader to go on to the head');
    const res = JSON.parse(await r.line(/^\{/, 20_000)) as { read: number; lost: number; bad: number; first: string };
    assert.equal([res.read, res.lost, res.bad], [3, 0, 0], res.first);
  } finally {
    w.close({ unlink: true });
    rmSync(fifo, { force: true });
    rmSync(`${fifo}.reached`, { force: true });
  }
});

type ReadResult = { read: number; lost: number; bad: number; first: string };
const readResult = async (r: ReturnType<typeof startNode>): Promise<ReadResult> => JSON.parse(await r.line(/^\{/, 20_000)) as ReadResult;

test('a record lapped while the reader copies it is never returned torn: the copy is checked again after it (a certain race: the reader paused halfway through its copy)', async () => {
  const cap = 16;
  const w = writer('ring-copy', cap);
  const fifo = makeFifo('ring-copy');
  try {
    append(w, 1, 4);
    const r = startNode(proc, ['read', w.name, '20'], { env: { ...process.env, MDFAN_TEST_PAUSE_RING_COPY: fifo } });
    await pauseReached(fifo, 'the reader to copy the first half of record 1 and pause');
    append(w, 5, 20); // record 17 rewrites record 1's slot, whole, while the reader waits
    await releasePause(fifo, 'the reader to copy the second half');
    // Record 1 refused; the whole records are then [20 - 16 + 2, 20] = [6, 20]: 1..5 lost.
    const res = await readResult(r);
    assert.equal([res.read, res.lost, res.bad], [15, 5, 0], res.first);
  } finally {
    w.close({ unlink: true });
    removeFifo(fifo);
  }
});

test('a rewrite that began during the copy and ends between the two loads of the check after it is caught: the check loads hi, then lo (certain: the writer and the reader both paused)', async () => {
  const cap = 16;
  const name = segName('ring-recheck');
  const fifos = { rewrite: makeFifo('ring-rewrite'), copy: makeFifo('ring-copy'), recheck: makeFifo('ring-recheck') };
  try {
    const wp = startNode(rewriteProc, [name, String(cap), String(cap - 1)], { env: { ...process.env, MDFAN_TEST_PAUSE_RING_REWRITE: fifos.rewrite } });
    await wp.line(/^ready/);
    const r = startNode(proc, ['read', name, String(cap + 1)], {
      env: { ...process.env, MDFAN_TEST_PAUSE_RING_COPY: fifos.copy, MDFAN_TEST_PAUSE_RING_RECHECK: fifos.recheck },
    });
    await pauseReached(fifos.copy, 'the reader to copy the first half of record 1 and pause');
    wp.child.kill('SIGUSR2'); // records 16 and 17: 17 rewrites record 1's slot
    await pauseReached(fifos.rewrite, 'the writer to store record 17\'s body (E1 before it), and pause before its sequence');
    await releasePause(fifos.copy, 'the reader to copy the second half (record 17\'s) and load its first sequence word again');
    await pauseReached(fifos.recheck, 'the reader to pause between the two loads of its check');
    await releasePause(fifos.rewrite, 'the writer to end record 17 (E2, E3)');
    await wp.line(/^appended 17$/);
    await releasePause(fifos.recheck, 'the reader to load the second sequence word');
    // Record 1 refused; the whole records are then [17 - 16 + 2, 17] = [3, 17]: 1 and 2 lost.
    const res = await readResult(r);
    assert.equal([res.read, res.lost, res.bad], [cap - 1, 2, 0], res.first);
  } finally {
    for (const f of Object.values(fifos)) removeFifo(f);
  }
});

test('a slot being rewritten is invalid before its body changes: a reader that looks while the writer is between the body and the sequence skips it, and never returns the new body under the old sequence (certain: the writer paused there)', async () => {
  const cap = 16;
  const name = segName('ring-rewrite');
  const fifo = makeFifo('ring-rewrite');
  try {
    const wp = startNode(rewriteProc, [name, String(cap), String(cap - 1)], { env: { ...process.env, MDFAN_TEST_PAUSE_RING_REWRITE: fifo } });
    await wp.line(/^ready/);
    const r = EventRingReader.open(name, 'oldest');
    assert.is(r.position, 1);
    wp.child.kill('SIGUSR2'); // records 16 and 17: 17 rewrites record 1's slot
    await pauseReached(fifo, 'the writer to store record 17\'s body in record 1\'s slot and pause before its sequence');
    const b = new EventBatch(64);
    const n = r.poll(b);
    const bad = Array.from({ length: n }, (_, i) => checkEvent(b.records[i]!, 1 + b.lost + i)).find((p) => p !== '') ?? '';
    assert.is(bad, '', 'every record returned is whole');
    assert.equal([n, b.lost], [cap - 1, 1], 'record 1 (being overwritten) skipped and counted lost; 2..16 read');
    await releasePause(fifo, 'the writer to end record 17');
    await wp.line(/^appended 17$/);
    assert.is(r.poll(b), 1);
    assert.is(checkEvent(b.records[0]!, cap + 1), '');
    r.close();
  } finally {
    removeFifo(fifo);
  }
});

test('torture: a reader process follows a small ring at full speed; every record it returns is whole and in order, and read + lost accounts for every event', async () => {
  const total = 400_000;
  const w = writer('ring-torture', 1024);
  try {
    const r = startNode(proc, ['read', w.name, String(total)]);
    await r.line(/^attached/);
    const e = newEventFields();
    for (let k = 1; k <= total; k++) {
      fillEvent(e, k);
      w.appendEvent(e);
      if ((k & 65535) === 0) await new Promise((res) => setImmediate(res)); // let the heartbeat timer and pipes in
    }
    const res = JSON.parse(await r.line(/^\{/, 60_000)) as { read: number; lost: number; bad: number; first: string };
    assert.is(res.bad, 0, res.first);
    assert.is(res.read + res.lost, total);
    assert.ok(res.read > 0);
  } finally {
    w.close({ unlink: true });
  }
});

test("torture on the ordered paths (arm64's: every word an Atomics store and load), taken on x86-64 by MDFAN_TEST_ORDERED_RING: whole, in order, every event accounted for", async () => {
  const total = 200_000;
  const name = segName('ring-ordered');
  const env = { ...process.env, MDFAN_TEST_ORDERED_RING: '1' };
  const wp = startNode(proc, ['write', name, '1024'], { env });
  await wp.line(/^ready$/);
  const r = startNode(proc, ['read', name, String(total)], { env });
  const res = JSON.parse(await r.line(/^\{/, 120_000)) as { read: number; lost: number; bad: number; first: string };
  assert.is(res.bad, 0, res.first); // every record whole, its sequence the one after the last, but for the losses reported
  assert.ok(res.read + res.lost >= total, `read ${res.read} + lost ${res.lost}`); // the writer never stops: the last batch may go past
  assert.ok(res.read > 0);
});

test('kill -9 in the middle of appends, five times: no reader ever returns a half-written record', async () => {
  for (let round = 0; round < 5; round++) {
    const name = segName(`ring-kill-${round}`);
    const p = startNode(proc, ['write', name, '256']);
    await p.line(/^ready/);
    const r = EventRingReader.open(name, 'oldest');
    // Killed while appending, at a point that depends on the round.
    await waitUntil(() => r.head() > 50_000 * (round + 1), 20_000, { what: 'the writer appending' });
    p.child.kill('SIGKILL');
    await p.exited;
    const b = new EventBatch(512);
    let expect = r.position;
    let bad = '';
    for (let n = r.poll(b); n > 0 || b.lost > 0; n = r.poll(b)) {
      expect += b.lost;
      for (let i = 0; i < n; i++) bad ||= checkEvent(b.records[i]!, expect++);
    }
    assert.is(bad, '', `round ${round}`);
    r.close();
  }
});

for (const wait of ['spin', 'yield', 'block'] as const) {
  test(`the SDK's waitForEvents (${wait}) in another process returns with the next event (a block reader sleeps counted in the registry, in 100 ms steps that the writer's wake cuts short)`, async () => {
    const w = writer(`ring-wait-${wait}`, 64);
    try {
      assert.ok(await w.startControl()); // block readers get the registry's descriptor over it
      append(w, 1, 5); // the reader starts after these ('newest')
      const r = startNode(proc, ['wait', w.name, wait]);
      await r.line(/^waiting/);
      // A block reader must be asleep, counted in the registry, before the event: that is the case under test.
      if (wait === 'block') await waitUntil(() => w.registry.sleepers() === 1, 10_000, { what: 'the reader asleep on the futex' });
      append(w, 6, 6);
      w.wakeIfSleepers(); // as the publisher does after each input message's events
      assert.is(await r.line(/^woke/, 10_000), 'woke true 6');
      assert.is((await r.exited).code, 0, r.stderr());
      assert.is(w.registry.sleepers(), 0, 'the sleeper left the count');
    } finally {
      w.close({ unlink: true });
    }
  });
}

test.run();
