/**
 * The addon's ITCH engine against the TypeScript engine, the reference, message by message: on
 * every recorded ITCH day and on a generated whole market, each into its own segment with an event
 * ring, after every message the same commits (slot and top line, all but the publish time), the
 * same event records (all but the publish time), and at the end the same counters and the same
 * directory. Then its hand-backs: a directory that names nothing valid, a bad frame, a closed
 * writer, a book dump, and a reader asleep on the futex.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { gunzipSync } from 'node:zlib';
import { type Frame, ItchVenue, Publisher, generateMarket, nextFrame, readMarketSources } from '../feed/index.js';
import { NATIVE_STOP, NativeItchVenue } from '../feed/itch/native-venue.js';
import { SegmentWriter } from '../native/segment/writer.js';
import { unlinkSegmentObjects } from '../native/segment/objects.js';
import * as abi from '../native/segment/abi.js';
import type { LevelSource } from '../native/segment/seqlock.js';
import { ErrorCode } from '../native/segment/errors.js';
import { GOOG_ITCH } from './helpers/oracle.js';
import { add, cancel, del, directory, encode, exec, replace } from './helpers/itch-encode.js';
import { frameMessages } from '../feed/itch/framing.js';
import { repoRoot } from './helpers/paths.js';
import { seededRandom } from '../lib/random.js';

const PREOPEN = join(repoRoot, 'scenarios', 'data', 'itch', 'nasdaq-preopen-1000.itch');
const SLOT_TS = abi.STRUCTS.slot_header.publish_ts_ns.offset;
const TOP_TS = abi.STRUCTS.top.publish_ts_ns.offset;
const EVENT_TS = abi.STRUCTS.event.publish_ts_ns.offset;
let made = 0;

/** The TypeScript side's publisher, also saying which slot each book went to. */
class Recording extends Publisher {
  slots: number[] = [];
  override book(slot: number, top: LevelSource, msgIndex: number, exchangeTs: number, doubtful = false, keepTop = false): void {
    this.slots.push(slot);
    super.book(slot, top, msgIndex, exchangeTs, doubtful, keepTop);
  }
}

function open(maxInstruments: number): SegmentWriter {
  return SegmentWriter.open({ name: `mdfan-test-native-itch-${process.pid}-${++made}`, maxInstruments, levels: 10, ringEvents: 1 << 20 });
}

/** `bytes` with the `at`..`at+8` publish time zeroed. */
const masked = (b: Uint8Array, at: number): string => {
  const c = Buffer.from(b);
  c.fill(0, at, at + 8);
  return c.toString('hex');
};

/** Runs `bytes` through both engines message by message; returns what was compared. */
/** An order reference (at 11; U's new one at 19) of the message at `o` at or above 2^53. */
function refAbove53(b: Uint8Array, o: number, len: number): boolean {
  const t = String.fromCharCode(b[o]!);
  const at = 'AFECXDUP'.includes(t) ? [11, ...(t === 'U' ? [19] : [])] : [];
  return at.some((k) => len >= k + 8 && (b[o + k]! !== 0 || b[o + k + 1]! >= 0x20));
}

/** Something done to both sides before message `index`. */
interface Meddle {
  index: number;
  act(p: Publisher, w: SegmentWriter, i: number): void;
}

function compare(
  bytes: Uint8Array,
  file: string,
  maxInstruments: number,
  symbols: ReadonlySet<string> | null = null,
  meddle: Meddle | null = null,
  untilBadFrame = false,
): { messages: number; books: number; events: number } {
  const a = open(maxInstruments);
  const b = open(maxInstruments);
  const pa = new Recording(a, { symbols });
  const ts = new ItchVenue(pa, 10);
  const pb = new Publisher(b, { symbols });
  const nv = NativeItchVenue.for(pb, 10);
  assert.ok(nv, 'no dump: the engine serves');
  const L = a.layout;
  const frame: Frame = { offset: 0, length: 0 };
  let books = 0;
  let events = 0;
  let i = 0;
  try {
    for (let pos = 0; pos < bytes.length; i++) {
      if (i === meddle?.index) {
        meddle.act(pa, a, i);
        meddle.act(pb, b, i);
        pa.slots.length = 0;
      }
      let next: number;
      try {
        next = nextFrame(bytes, bytes.length, pos, i, file, frame);
      } catch (e) {
        if (!untilBadFrame) throw e;
        // The framing refuses this frame: the engine must stop before it, having done all before it.
        const r = nv.run(bytes, pos, bytes.length, i, 1);
        if (r.pos !== pos || r.msgIndex !== i || r.stop === NATIVE_STOP.MAX) assert.unreachable(`message ${i}: the framing refuses it (${(e as Error).message}), the engine went on (stop ${r.stop}, at ${r.pos})`);
        break;
      }
      // References at or above 2^53: the TypeScript engine holds them as doubles, rounded (as it
      // documents); the addon's are exact. Comparable up to there.
      if (untilBadFrame && refAbove53(bytes, frame.offset, frame.length)) break;
      ts.process(bytes, frame.offset, frame.length, i);
      const r = nv.run(bytes, pos, bytes.length, i, 1);
      if (r.pos !== next || r.msgIndex !== i + 1) assert.unreachable(`message ${i}: the engine stopped at ${r.pos} (stop ${r.stop}), not ${next}`);
      pos = next;
      if (a.publishes !== b.publishes) assert.unreachable(`message ${i}: ${a.publishes} commits by TypeScript, ${b.publishes} by the addon`);
      for (const slot of pa.slots) {
        const at = L.slotsOffset + slot * L.slotStride;
        const sa = masked(a.map.u8.subarray(at, at + L.slotStride), SLOT_TS);
        const sb = masked(b.map.u8.subarray(at, at + L.slotStride), SLOT_TS);
        if (sa !== sb) assert.unreachable(`message ${i}: slot ${slot} differs\nts:    ${sa}\naddon: ${sb}`);
        const tat = abi.TOPS_HEADER_BYTES + slot * abi.TOP_STRIDE_BYTES;
        const ta = masked(a.tops.map.u8.subarray(tat, tat + abi.TOP_STRIDE_BYTES), TOP_TS);
        const tb = masked(b.tops.map.u8.subarray(tat, tat + abi.TOP_STRIDE_BYTES), TOP_TS);
        if (ta !== tb) assert.unreachable(`message ${i}: top line ${slot} differs\nts:    ${ta}\naddon: ${tb}`);
        books++;
      }
      pa.slots.length = 0;
      const ra = a.ring!;
      const rb = b.ring!;
      if (ra.appended !== rb.appended) assert.unreachable(`message ${i}: ${ra.appended} records by TypeScript, ${rb.appended} by the addon`);
      while (events < ra.appended) {
        const at = abi.EVENTS_HEADER_BYTES + (events % ra.capacity) * abi.EVENT_BYTES;
        const ea = masked(ra.map.u8.subarray(at, at + abi.EVENT_BYTES), EVENT_TS);
        const eb = masked(rb.map.u8.subarray(at, at + abi.EVENT_BYTES), EVENT_TS);
        if (ea !== eb) assert.unreachable(`message ${i}: record ${events + 1} differs\nts:    ${ea}\naddon: ${eb}`);
        events++;
      }
    }
    assert.equal(nv.syncCounters(), ts.syncCounters(), 'the same counters');
    assert.equal(nv.bookCounters, ts.engine.books.counters, 'the same counts of the books\' own');
    assert.equal(Array.from(nv.typeCounts), Array.from(ts.engine.typeCounts), 'the same messages per type');
    assert.is(b.instruments, a.instruments, 'the same instruments');
    const dir = L.directoryOffset;
    const dirEnd = dir + a.instruments * abi.DIR_ENTRY_BYTES;
    assert.ok(Buffer.from(a.map.u8.subarray(dir, dirEnd)).equals(b.map.u8.subarray(dir, dirEnd)), 'the same directory');
    return { messages: i, books, events };
  } finally {
    nv.free();
    for (const w of [a, b]) w.close({ unlink: true });
  }
}

test('the GOOG day: every commit and every event equal, message by message', () => {
  const bytes = gunzipSync(readFileSync(GOOG_ITCH));
  const n = compare(bytes, GOOG_ITCH, 16);
  assert.is(n.messages, 157217);
  assert.ok(n.books > 100_000 && n.events > 100_000, JSON.stringify(n));
});

test('the Nasdaq pre-open sample: every commit and every event equal', () => {
  const n = compare(readFileSync(PREOPEN), PREOPEN, 1024);
  assert.ok(n.messages === 1000, JSON.stringify(n));
});

test('a generated whole market (10,000 instruments): every commit and every event equal', async () => {
  const o = { sources: [GOOG_ITCH], instruments: 10_000, messages: 300_000 };
  const parts = [...generateMarket(o, await readMarketSources(o))];
  const bytes = Buffer.concat(parts);
  const n = compare(bytes, 'market', 16_384);
  assert.is(n.messages, parts.length);
  assert.ok(n.books > 200_000, JSON.stringify(n));
});

/** Every rule's edge in a few hundred messages: duplicates, unknown references, over-executions, zero-share cancels, replaces in place and onto a live reference, deep levels, unannounced and unpublished locates, every event type. */
function craftedFlow(): Buffer {
  const m: Buffer[] = [encode('S', { eventCode: 'O' }), directory(1, 'AAA'), directory(2, 'BBB'), directory(3, 'CCC'), directory(1, 'AAA2')];
  m.push(add(1, 'B', 100, 1000), add(2, 'S', 50, 1010), add(1, 'B', 7, 1001), add(3, 'B', 10, 999, 2), add(4, 'B', 20, 900, 3), add(5, 'B', 30, 990, 9));
  for (let k = 0; k < 30; k++) m.push(add(100 + k, k % 2 ? 'S' : 'B', 10 + k, k % 2 ? 1011 + k : 999 - k));
  m.push(exec(1, 30), exec(1, 500), cancel(2, 0), cancel(99, 1), del(3), replace(2, 6, 50, 1010), replace(6, 4, 10, 1005), replace(777, 778, 1, 1));
  m.push(add(50, 'B', 5, 995), replace(50, 101, 5, 995), del(50), add(51, 'B', 6, 996), replace(51, 52, 6, 996), exec(52, 6));
  m.push(add(7, 'S', 40, 1003), replace(7, 8, 40, 1004), replace(8, 9, 41, 1004), replace(9, 100, 5, 1002));
  m.push(encode('C', { stockLocate: 1, orderReferenceNumber: 101, executedShares: 3, matchNumber: 9, printable: 'N', executionPrice: 1012 }));
  m.push(encode('C', { stockLocate: 1, orderReferenceNumber: 103, executedShares: 1, matchNumber: 10, printable: 'Y', executionPrice: 1014 }));
  m.push(encode('E', { stockLocate: 1, orderReferenceNumber: 4242, executedShares: 1, matchNumber: 11 }));
  m.push(encode('P', { stockLocate: 1, orderReferenceNumber: 0, buySellIndicator: 'B', shares: 77, stock: 'AAA', price: 1005, matchNumber: 12 }));
  m.push(encode('Q', { stockLocate: 2, shares: 1000, stock: 'BBB', crossPrice: 999, matchNumber: 13, crossType: 'O' }));
  m.push(encode('Q', { stockLocate: 3, shares: 1000, stock: 'CCC', crossPrice: 999, matchNumber: 14, crossType: 'C' }));
  m.push(encode('H', { stockLocate: 1, stock: 'AAA', tradingState: 'T' }), encode('H', { stockLocate: 9, stock: 'ZZZ', tradingState: 'H' }));
  m.push(encode('B', { stockLocate: 1, matchNumber: 12 }), Buffer.from([0x7a, 1, 2, 3]), encode('Y', { stockLocate: 1, stock: 'AAA', regSHOAction: '0' }));
  for (let k = 0; k < 30; k++) m.push(k % 3 === 0 ? del(100 + k) : k % 3 === 1 ? cancel(100 + k, 5) : exec(100 + k, 100));
  m.push(del(5), cancel(4, 20), encode('S', { eventCode: 'C' }));
  return frameMessages(m);
}

test('a crafted flow of every rule\'s edge, with one symbol not published: equal, message by message', () => {
  // Input lost at message 60: every book stale from there on, its commits and its events say so.
  const n = compare(craftedFlow(), 'crafted', 8, new Set(['AAA', 'AAA2', 'BBB']), { index: 60, act: (p, _w, i) => p.gap(i) });
  assert.ok(n.books > 40 && n.events > 80, JSON.stringify(n));
});

test('a slot another commit changed (an empty stale book) is written whole by the next book, not from the touched rank', () => {
  // Message 70 on: deep adds and deletes on slot 0 (AAA), after its book was replaced by an empty one.
  const n = compare(craftedFlow(), 'crafted', 8, null, { index: 70, act: (_p, w) => w.markStale(0, 70) });
  assert.ok(n.books > 40, JSON.stringify(n));
});

test('hostile bytes: 200 mutations of the GOOG day\'s first 4,000 messages, both engines equal message by message up to the first frame the framing refuses, where the engine stops too', () => {
  const day = gunzipSync(readFileSync(GOOG_ITCH));
  let end = 0;
  for (let k = 0; k < 4000; k++) end += 2 + day.readUInt16BE(end);
  const rand = seededRandom(26);
  for (let round = 0; round < 200; round++) {
    const b = Buffer.from(day.subarray(0, end));
    // A few bytes anywhere: lengths, types, locates, references, prices, sides.
    for (let k = 0, n = 1 + Math.floor(rand() * 8); k < n; k++) b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256);
    compare(b, `mutation ${round}`, 16, null, null, true);
  }
});

/** A writer with a ring and the engine over it; `dump`: a publisher that dumps books (no engine). */
function single(): { w: SegmentWriter; v: NativeItchVenue; malformed: Array<[number, string, string]> } {
  const w = open(8);
  const malformed: Array<[number, string, string]> = [];
  const v = NativeItchVenue.for(new Publisher(w), 10, (i, field, found) => malformed.push([i, field, found]));
  assert.ok(v);
  return { w, v, malformed };
}

test('a directory whose symbol names nothing: said with its message index, counted, nothing named; the rest goes on', () => {
  const { w, v, malformed } = single();
  try {
    const bytes = frameMessages([directory(1, 'AAA'), directory(2, 'A\x01B'), add(1, 'B', 10, 100, 2), add(2, 'B', 10, 100, 1)]);
    const r = v.run(bytes, 0, bytes.length, 0, 100);
    assert.is(r.stop, NATIVE_STOP.END);
    assert.is(r.msgIndex, 4);
    assert.equal(malformed, [[1, 'stock', '"A\\u0001B"']]);
    const c = v.syncCounters();
    assert.equal([c.messages, c.malformed, c.unannounced, w.instruments, w.publishes], [4, 1, 1, 1, 1]);
  } finally {
    v.free();
    w.close({ unlink: true });
  }
});

test('a frame the framing refuses: the engine stops before it, with all before it done', () => {
  const { w, v } = single();
  try {
    const good = frameMessages([directory(1, 'AAA'), add(1, 'B', 10, 100)]);
    for (const bad of [Buffer.from([0, 0]), Buffer.from([0, 5, 0x41, 0, 0, 0, 0]), Buffer.from([0, 40])]) {
      const bytes = Buffer.concat([good, bad]);
      const r = v.run(bytes, 0, bytes.length, 0, 100);
      const want = bad.length === 2 && bad[1] === 40 ? NATIVE_STOP.END : NATIVE_STOP.FRAME; // a cut-off frame: not whole yet
      assert.equal([r.stop, r.pos, r.msgIndex], [want, good.length, 2], bad.toString('hex'));
      assert.throws(() => nextFrame(bytes, bytes.length, r.pos, r.msgIndex, 'f', { offset: 0, length: 0 }), (e: Error) => /message 2 at byte offset/.test(e.message));
    }
  } finally {
    v.free();
    w.close({ unlink: true });
  }
});

test('maxMessages bounds a run; a closed writer is refused with MDFAN_ERR_CLOSED; a freed engine too', () => {
  const { w, v } = single();
  const bytes = frameMessages([directory(1, 'AAA'), add(1, 'B', 10, 100), add(2, 'B', 10, 101), add(3, 'B', 10, 102)]);
  const r = v.run(bytes, 0, bytes.length, 0, 2);
  assert.equal([r.stop, r.msgIndex], [NATIVE_STOP.MAX, 2]);
  assert.is(w.publishes, 1);
  w.close({ unlink: true });
  assert.throws(() => v.run(bytes, r.pos, bytes.length, r.msgIndex, 10), (e: Error & { code?: string }) => e.code === ErrorCode.CLOSED);
  v.free();
  v.free();
  assert.throws(() => v.run(bytes, 0, bytes.length, 0, 10), (e: Error & { code?: string }) => e.code === ErrorCode.CLOSED);
});

test('a book dump is written book by book: no engine for it', async () => {
  const w = open(8);
  const file = join(tmpdir(), `mdfan-native-dump-${process.pid}.csv`);
  const { BookDump } = await import('../feed/publish/dump.js');
  const dump = new BookDump(file, 10);
  try {
    assert.is(NativeItchVenue.for(new Publisher(w, { dump }), 10), null);
  } finally {
    dump.close();
    w.close({ unlink: true });
    unlinkSegmentObjects(w.name);
    (await import('node:fs')).rmSync(file, { force: true });
  }
});

test('a reader asleep on the futex: the engine hands over after every message that published, and each wakes it', () => {
  const { w, v } = single();
  try {
    const bytes = frameMessages([directory(1, 'AAA'), add(1, 'B', 10, 100), encode('Y', { stockLocate: 1, stock: 'AAA', regSHOAction: '0' }), add(2, 'B', 10, 101), add(3, 'B', 10, 50)]);
    const sleepers = abi.REGISTRY.sleepers.offset >>> 2;
    Atomics.add(w.registry.map.u32, sleepers, 1); // as a reader going to sleep does
    const before = w.wakeups;
    v.run(bytes, 0, bytes.length, 0, 100);
    assert.is(w.publishes, 3);
    assert.is(w.wakeups - before, 3, 'one wake per message that published (its book and its event together)');
    Atomics.sub(w.registry.map.u32, sleepers, 1);
  } finally {
    v.free();
    w.close({ unlink: true });
  }
});

test.run();
