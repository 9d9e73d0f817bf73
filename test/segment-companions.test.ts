/**
 * Another local user plants an object beside a segment where its writer made none (a writer
 * started without an event ring) or where one was removed (top lines deleted): readers, the C
 * reader included, must never serve it. The header names the companions its writer made (1.4);
 * one it does not name is never opened, one named and gone reads "removed", and one of another
 * owner or a wider mode is refused (MDFAN_ERR_UNSAFE_OBJECT), and top lines of another writer
 * generation are refused (MDFAN_ERR_NOT_READY). Cases that need root say so in the output when
 * they cannot run.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, chownSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { EventBatch, EventRingReader, SegmentReader, SegmentWriter, TopSnapshot, abi, eventsName, topsName, unlinkSegment } from '../native/segment/index.js';
import { cleanupSegments, codeOf, segName } from './helpers/segments.js';
import { rawRing } from './c-reader/images.js';
import { buildReader, errorLine, runReader } from './c-reader/reader.js';
import { ITCH_SPEC } from '../native/segment/directory.js';
import { openTops } from '../native/segment/tops.js';
import { trustOf } from '../native/segment/companion.js';

const isRoot = process.geteuid?.() === 0;
const NOBODY = 65534;
const shm = (name: string): string => `/dev/shm/${name}`;
const FORGED_PRICE = 999_999;

test.before(() => {
  buildReader();
});
test.after.each(cleanupSegments);

function asRoot(what: string, fn: () => void | Promise<void>): void {
  test(what, async () => {
    if (!isRoot) {
      console.log(`  (skipped, needs root: ${what})`);
      return;
    }
    await fn();
  });
}

/** A ring of the segment's generation holding one forged trade (the price a test looks for). */
function forgedRing(generation: number): Buffer {
  return rawRing({
    records: [
      (rec) => {
        rec.writeUInt8(abi.EVENT_KIND_TRADE, abi.STRUCTS.event.kind.offset);
        rec.writeUInt32LE(0, abi.STRUCTS.event.instrument_index.offset);
        rec.writeBigInt64LE(BigInt(FORGED_PRICE) * 1_000_000_000n, abi.STRUCTS.event.price.offset);
        rec.writeBigUInt64LE(100n, abi.STRUCTS.event.size.offset);
      },
    ],
    edit: (b) => b.writeUInt32LE(generation, abi.STRUCTS.events_header.generation.offset),
  });
}

/** Plants `bytes` under `name` in /dev/shm, owned by `uid` with `mode`. */
function plant(name: string, bytes: Buffer, uid: number, mode: number): void {
  writeFileSync(shm(name), bytes, { mode });
  chownSync(shm(name), uid, uid);
  chmodSync(shm(name), mode);
}

asRoot('a ring planted beside a writer started without one is never opened, whoever owns it and whatever its mode (TypeScript and C)', async () => {
  const name = segName('noring');
  const w = SegmentWriter.open({ name, maxInstruments: 1, levels: 1, ringEvents: 0 });
  try {
    w.addInstrument('AAA', 1, ITCH_SPEC);
    assert.is(Atomics.load(w.map.u32, abi.W.hdrCompanions) & abi.COMPANION_EVENTS, 0, 'the header names no ring');
    for (const [uid, mode] of [
      [NOBODY, 0o644],
      [0, 0o666],
      [0, 0o600],
    ] as const) {
      plant(eventsName(name), forgedRing(w.generation), uid, mode);
      let served = false;
      let err: unknown;
      try {
        const r = EventRingReader.open(name, 'oldest');
        const batch = new EventBatch(4);
        served = r.poll(batch) > 0 && batch.records[0]!.price === FORGED_PRICE * 1e9;
        r.close();
      } catch (e) {
        err = e;
      }
      assert.not.ok(served, `uid ${uid} mode 0${mode.toString(8)}: the forged trade was served`);
      assert.is((err as { code?: string })?.code, 'MDFAN_ERR_NO_SEGMENT');
      assert.match(String(err), 'its writer keeps none');
      const c = await runReader([name, '--events', '1', '--timeout-ms', '0']);
      assert.is(c.code, 2, c.stderr);
      assert.equal(c.lines, [], 'the C reader printed no event');
      assert.match(errorLine(c), /^MDFAN_ERR_NO_SEGMENT: .* has no event ring .*its writer keeps none/);
      unlinkSegment(eventsName(name));
    }
  } finally {
    w.close({ unlink: true });
  }
});

asRoot('top lines planted after they were removed: of another owner or a wider mode, refused (MDFAN_ERR_UNSAFE_OBJECT); none there reads "removed" (TypeScript and C)', async () => {
  const name = segName('tops-planted');
  const w = SegmentWriter.open({ name, maxInstruments: 1, levels: 1 });
  try {
    w.addInstrument('AAA', 1, ITCH_SPEC);
    w.publish(0, { bidCount: 1, askCount: 0, bids: new Float64Array([100, 1, 1]), asks: new Float64Array(3) }, 1, 0);
    // A forgery made from the real lines: right size, magic and generation, another bid.
    const forged = readFileSync(shm(topsName(name)));
    forged.writeUInt32LE(FORGED_PRICE, abi.TOPS_HEADER_BYTES + abi.STRUCTS.top.bid_price.offset);
    unlinkSegment(topsName(name));
    const readTop = (): number => {
      const r = SegmentReader.openSync(name);
      try {
        const top = new TopSnapshot();
        r.readTop(0, top);
        return top.bidPrice;
      } finally {
        r.close();
      }
    };
    let gone: unknown;
    try {
      readTop();
    } catch (e) {
      gone = e;
    }
    assert.is((gone as { code?: string })?.code, 'MDFAN_ERR_NO_SEGMENT');
    assert.match(String(gone), 'were removed');
    assert.not.match(String(gone), 'ABI 1.0 or 1.1');
    const c0 = await runReader([name, '--top', '--timeout-ms', '0']);
    assert.match(errorLine(c0), /^MDFAN_ERR_NO_SEGMENT: .* were removed/);
    for (const [uid, mode, field] of [
      [NOBODY, 0o600, 'uid'],
      [0, 0o666, 'mode'],
      [0, 0o644, 'mode'], // the data segment is 0600
    ] as const) {
      plant(topsName(name), forged, uid, mode);
      let err: { code?: string; details?: Record<string, unknown> } | undefined;
      let price = 0;
      try {
        price = readTop();
      } catch (e) {
        err = e as typeof err;
      }
      assert.is.not(price, FORGED_PRICE, `uid ${uid} mode 0${mode.toString(8)}: the forged top was served`);
      assert.is(err?.code, 'MDFAN_ERR_UNSAFE_OBJECT', `uid ${uid} mode 0${mode.toString(8)}: ${String(err)}`);
      assert.is(err?.details?.field, field);
      const c = await runReader([name, '--top', '--timeout-ms', '0']);
      assert.is(c.code, 2, c.stderr);
      assert.equal(c.lines, [], 'the C reader printed no top');
      assert.match(errorLine(c), /^MDFAN_ERR_UNSAFE_OBJECT: /);
      unlinkSegment(topsName(name));
    }
  } finally {
    w.close({ unlink: true });
  }
});

asRoot('a ring removed under its writer reads "removed"; one planted in its place by another user is refused', () => {
  const name = segName('ring-planted');
  const w = SegmentWriter.open({ name, maxInstruments: 1, levels: 1, ringEvents: 16 });
  try {
    unlinkSegment(eventsName(name));
    let gone: unknown;
    try {
      EventRingReader.open(name);
    } catch (e) {
      gone = e;
    }
    assert.is((gone as { code?: string })?.code, 'MDFAN_ERR_NO_SEGMENT');
    assert.match(String(gone), 'was removed');
    plant(eventsName(name), forgedRing(w.generation), NOBODY, 0o600);
    assert.is(codeOf(() => EventRingReader.open(name)), 'MDFAN_ERR_UNSAFE_OBJECT');
  } finally {
    w.close({ unlink: true });
  }
});

test('a writer gives its companions the data segment\'s mode, and its header names them', () => {
  const name = segName('modes');
  const w = SegmentWriter.open({ name, maxInstruments: 1, levels: 1, mode: 0o640, ringEvents: 16 });
  try {
    assert.is(Atomics.load(w.map.u32, abi.W.hdrCompanions), abi.COMPANION_EVENTS | abi.COMPANION_TOPS);
    for (const n of [name, eventsName(name), topsName(name)]) assert.is(statSync(shm(n)).mode & 0o777, 0o640, n);
    const r = EventRingReader.open(name);
    r.close();
  } finally {
    w.close({ unlink: true });
  }
});

asRoot('a segment of another owner is refused naming whom it must belong to, each once (not "uid 0 or 0")', () => {
  const name = segName('owner-text');
  const w = SegmentWriter.open({ name, maxInstruments: 1, levels: 1 });
  try {
    chownSync(shm(name), NOBODY, NOBODY);
    let err: unknown;
    try {
      SegmentReader.openSync(name);
    } catch (e) {
      err = e;
    }
    assert.is((err as { code?: string })?.code, 'MDFAN_ERR_UNSAFE_OBJECT');
    assert.not.match(String(err), /uid 0 or 0/);
    assert.match(String(err), `segment ${name} belongs to uid ${NOBODY}, not to this user (uid 0)`);
    assert.match(String(err), `say so (the writerUid option, --writer-uid ${NOBODY})`);
    let named: unknown;
    try {
      SegmentReader.openSync(name, { writerUid: 1234 });
    } catch (e) {
      named = e;
    }
    assert.match(String(named), 'not to this user (uid 0) or the writer named by writerUid (uid 1234)');
  } finally {
    w.close({ unlink: true });
  }
});

test('top lines of another writer generation are refused (MDFAN_ERR_NOT_READY naming both): an older writer\'s left in place, and lines opened for a generation they are not', () => {
  const name = segName('tops-gen');
  const bookOf = (bid: number) => ({ bidCount: 1, askCount: 0, bids: new Float64Array([bid, 1, 1]), asks: new Float64Array(3) });
  const w1 = SegmentWriter.open({ name, maxInstruments: 1, levels: 1 });
  w1.addInstrument('AAA', 1, ITCH_SPEC);
  w1.publish(0, bookOf(FORGED_PRICE), 1, 0);
  const old = readFileSync(shm(topsName(name))); // generation 1's lines, its best bid
  w1.close(); // kept: the next writer is generation 2
  const w2 = SegmentWriter.open({ name, maxInstruments: 1, levels: 1 });
  try {
    assert.is(w2.generation, 2);
    w2.addInstrument('AAA', 1, ITCH_SPEC);
    w2.publish(0, bookOf(100), 1, 0);
    const r = SegmentReader.openSync(name);
    try {
      assert.is(r.currentGeneration, 2);
      // Lines of generation 2 opened for generation 1 (or 3): not the lines of that generation.
      for (const gen of [1, 3]) {
        let err: { code?: string; details?: Record<string, unknown> } | undefined;
        try {
          openTops(name, 1, gen, trustOf(name, r.map)).close();
        } catch (e) {
          err = e as typeof err;
        }
        assert.is(err?.code, 'MDFAN_ERR_NOT_READY', `opened for generation ${gen}: ${String(err)}`);
        assert.equal([err?.details?.field, err?.details?.expected, err?.details?.found], ['generation', gen, 2]);
      }
      // Generation 1's lines put back under the name (same owner and mode, right size and magic):
      // the reader of generation 2 refuses them rather than serve the old writer's best bid.
      writeFileSync(shm(topsName(name)), old);
      const top = new TopSnapshot();
      let err: { code?: string; details?: Record<string, unknown> } | undefined;
      try {
        r.readTop(0, top);
      } catch (e) {
        err = e as typeof err;
      }
      assert.is.not(top.bidPrice, FORGED_PRICE, "the old generation's top was served");
      assert.is(err?.code, 'MDFAN_ERR_NOT_READY', String(err));
      assert.equal([err?.details?.field, err?.details?.expected, err?.details?.found], ['generation', 2, 1]);
      assert.match(String(err), 'generation 1, the segment is at 2');
    } finally {
      r.close();
    }
  } finally {
    w2.close({ unlink: true });
  }
});

test.run();
