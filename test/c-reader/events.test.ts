/** --events: the event ring read line for line as the TypeScript reader formats it, LAPPED,N included, across takeovers, from raw images, and the ring's refusals. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { spawnChild } from '../../lib/child.js';
import { EventRingReader, ITCH_SPEC, SegmentWriter, abi, specOf, type EventFields } from '../../native/segment/index.js';
import { GOOG_EVENTS, GOOG_ITCH } from '../helpers/oracle.js';
import { binPath, repoRoot } from '../helpers/paths.js';
import { procState } from '../helpers/procs.js';
import { cleanupSegments, segName } from '../helpers/segments.js';
import { waitUntil } from '../helpers/wait.js';
import { asleep, buildReader, children, errorLine, killChildren, runReader } from './reader.js';
import { rawRing, writeRawWithRing } from './images.js';
import { AAPL, PX, appendEvent, appendTrades, ch, tsLines } from './events.js';
test.before(buildReader);
test.after.each(() => {
  cleanupSegments();
});
test.after(killChildren);

/** A 32-character symbol: the directory's longest, with no NUL. */
const LONG = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';

test('--events prints the lines formatEventLine gives for the same records (every kind, no price, --symbol), and stops at CLOSED with the ring drained', async () => {
  const name = segName('cev');
  const w = SegmentWriter.open({ name, maxInstruments: 4, levels: 1, ringEvents: 64 });
  let ts: EventRingReader | undefined;
  try {
    const goog = w.addInstrument('GOOG', 1, ITCH_SPEC);
    const long = w.addInstrument(LONG, 2, specOf(2, 8)); // 32 characters, no NUL; 1e-9 x 1e7 per unit
    const names = new Map<number, [string, number]>([
      [goog, ['GOOG', 10000]],
      [long, [LONG, 100]],
    ]);
    const [T, H, S, O] = [abi.EVENT_KIND_TRADE, abi.EVENT_KIND_STATUS, abi.EVENT_KIND_SYSTEM, abi.EVENT_KIND_ORDER];
    const ref = 2 ** 40 + 5;
    const before: Array<Partial<EventFields>> = [
      { kind: S, action: ch('O'), msgIndex: 0 }, // no instrument
      { kind: H, action: ch('T'), instrumentIndex: goog, msgIndex: 1 },
      { kind: O, action: ch('A'), side: ch('B'), instrumentIndex: goog, msgIndex: 2, price: 5794000 * PX, size: 100, orderRef: ref },
      { kind: T, action: ch('E'), side: ch('B'), instrumentIndex: goog, msgIndex: 3, price: 5794000 * PX, size: 40, orderRef: ref },
      { kind: T, action: ch('C'), side: ch('B'), instrumentIndex: goog, msgIndex: 4, price: 5794500 * PX, size: 10, orderRef: ref },
      { kind: T, action: ch('C'), side: ch('B'), instrumentIndex: goog, msgIndex: 5, price: 5794500 * PX, size: 10, orderRef: ref, flags: abi.EVENT_FLAG_NOT_PRINTABLE }, // not printable: no line
      { kind: O, action: ch('X'), side: ch('B'), instrumentIndex: goog, msgIndex: 6, size: 20, orderRef: ref }, // no price
      { kind: O, action: ch('U'), side: ch('S'), instrumentIndex: goog, msgIndex: 7, price: 5800000 * PX, size: 30, orderRef: 77 },
      { kind: O, action: ch('N'), side: ch('S'), instrumentIndex: goog, msgIndex: 7, price: 5799000 * PX, size: 30, orderRef: 78 },
      { kind: O, action: ch('D'), side: ch('S'), instrumentIndex: goog, msgIndex: 8, orderRef: 78 }, // no price
      { kind: T, action: ch('Q'), side: ch('O'), instrumentIndex: long, msgIndex: 2 ** 40 + 3, price: 1234 * 1e7, size: 2 ** 53 - 1 }, // a size past u32; a cross's type in side
      { kind: T, action: ch('P'), instrumentIndex: goog, msgIndex: 9, price: 50_000, size: 1 }, // 0.5 in the feed's units: rounds half up, to 1
      { kind: T, action: ch('P'), instrumentIndex: goog, msgIndex: 10, price: -150_000, size: 1 }, // -1.5: to -1
      { kind: T, action: ch('P'), instrumentIndex: 3, msgIndex: 11, price: 7 * PX, size: 2 }, // an entry not announced: no symbol, scale 1
      { kind: ch('Z'), action: ch('A'), instrumentIndex: goog, msgIndex: 12 }, // a kind the format does not know
    ];
    for (const f of before) appendEvent(w, f);
    const all: string[] = [];
    const mine: string[] = [];
    const runAll = runReader([name, '--events', '1000'], { onLine: (l) => all.push(l) });
    const runGoog = runReader([name, '--events', '1000', '--symbol', 'GOOG'], { onLine: (l) => mine.push(l) });
    await waitUntil(() => all.length > 0 && mine.length > 0, 10_000, { what: 'both readers to print their first event' });
    // Appended while both follow, then CLOSED at once: they must print these too, then stop.
    appendEvent(w, { kind: T, action: ch('E'), side: ch('S'), instrumentIndex: goog, msgIndex: 13, price: 5801000 * PX, size: 5, orderRef: 79 });
    appendEvent(w, { kind: H, action: ch('H'), instrumentIndex: goog, msgIndex: 14 });
    appendEvent(w, { kind: S, action: ch('C'), msgIndex: 15 });
    w.close();
    const [a, g] = await Promise.all([runAll, runGoog]);

    ts = EventRingReader.open(name, 'oldest'); // the ring outlives its writer's close until unlinked
    const expected = tsLines(ts, names);
    ts.close();
    ts = EventRingReader.open(name, 'oldest');
    const expectedGoog = tsLines(ts, names, (rec) => rec.instrumentIndex === goog || rec.instrumentIndex === abi.EVENT_NO_INSTRUMENT);
    // The TypeScript format itself, by hand, where the cases differ:
    for (const line of [
      '0,,S,O',
      '1,GOOG,H,T',
      `2,GOOG,O,A,B,5794000,100,${ref}`,
      '4,GOOG,T,5794500,10,C',
      `6,GOOG,O,X,B,,20,${ref}`,
      '8,GOOG,O,D,S,,0,78',
      `${2 ** 40 + 3},${LONG},T,1234,${2 ** 53 - 1},Q`,
      '9,GOOG,T,1,1,P',
      '10,GOOG,T,-1,1,P',
      '11,,T,0,2,P',
      '12,GOOG,Z,A',
      '15,,S,C',
    ])
      assert.ok(expected.includes(line), `${line} in ${expected.join(' | ')}`);
    assert.not.ok(expected.some((l) => l.startsWith('5,')), 'the non-printable C execution has no line');
    assert.is(expected.length, before.length + 3 - 1);

    assert.is(a.code, 0, a.stderr);
    assert.equal(a.lines, expected);
    assert.match(a.stderr, new RegExp(`^events read=${before.length + 3} lost=0$`, 'm'));
    assert.is(g.code, 0, g.stderr);
    assert.equal(g.lines, expectedGoog);
    assert.ok(g.lines.includes('0,,S,O') && !g.lines.some((l) => l.includes(LONG)), 'GOOG and system events only');
  } finally {
    ts?.close();
    w.close({ unlink: true });
  }
});


test('--events on a ring that wrapped before the reader came starts at the oldest whole record, as the TypeScript reader', async () => {
  const name = segName('cevwrap');
  const w = SegmentWriter.open({ name, maxInstruments: 1, levels: 1, ringEvents: 16 });
  try {
    w.addInstrument('AAPL', 1, ITCH_SPEC);
    appendTrades(w, 1, 100);
    const ts = EventRingReader.open(name, 'oldest');
    const expected = tsLines(ts, AAPL);
    ts.close();
    assert.equal(expected[0], '860,AAPL,T,86,86,E'); // [head - capacity + 2, head] = [86, 100]: nothing counted lost
    assert.is(expected.length, 15);
    const r = await runReader([name, '--events', '15']);
    assert.is(r.code, 0, r.stderr);
    assert.equal(r.lines, expected);
    assert.match(r.stderr, /^events read=15 lost=0$/m);
  } finally {
    w.close({ unlink: true });
  }
});

test('--events lapped by the writer prints LAPPED,N with exactly the events lost (as the TypeScript reader counts them), then the oldest whole records', async () => {
  const name = segName('cevlap');
  const w = SegmentWriter.open({ name, maxInstruments: 1, levels: 1, ringEvents: 16 });
  let child: ChildProcess | undefined;
  let ts: EventRingReader | undefined;
  const lines: string[] = [];
  try {
    w.addInstrument('AAPL', 1, ITCH_SPEC);
    appendTrades(w, 1, 3);
    // The TypeScript reader makes the C reader's moves: from record 1, reads 1..3, is lapped, reads on.
    ts = EventRingReader.open(name, 'oldest');
    const expected = tsLines(ts, AAPL);
    const run = runReader([name, '--events', '18'], { onLine: (l) => lines.push(l), onSpawn: (c) => (child = c) });
    await waitUntil(() => lines.length === 3, 10_000, { what: 'records 1..3' });
    // Stopped with record 4 next; the writer laps it six times over meanwhile.
    child!.kill('SIGSTOP');
    await waitUntil(() => procState(child!.pid) === 'T', 10_000, { what: 'the reader to stop' });
    appendTrades(w, 4, 103);
    child!.kill('SIGCONT');
    const r = await run;
    expected.push(...tsLines(ts, AAPL));
    // Whole records after the lap: [103 - 16 + 2, 103] = [89, 103]; 4..88 lost.
    assert.equal(expected.slice(0, 5), ['10,AAPL,T,1,1,E', '20,AAPL,T,2,2,E', '30,AAPL,T,3,3,E', 'LAPPED,85', '890,AAPL,T,89,89,E']);
    assert.is(expected.length, 3 + 1 + 15);
    assert.is(r.code, 0, r.stderr);
    assert.equal(r.lines, expected);
    assert.match(r.stderr, /^events read=18 lost=85$/m); // every sequence read or counted lost, once
  } finally {
    child?.kill('SIGCONT');
    ts?.close();
    w.close({ unlink: true });
  }
});

test('--events --from newest --wait block: asleep on the futex after opening the ring, then only the events appended since', async () => {
  const name = segName('cevnew');
  const w = SegmentWriter.open({ name, maxInstruments: 1, levels: 1, ringEvents: 16 });
  assert.ok(await w.startControl()); // readers get the registry's descriptor over it
  let child: ChildProcess | undefined;
  let ts: EventRingReader | undefined;
  try {
    w.addInstrument('AAPL', 1, ITCH_SPEC);
    appendTrades(w, 1, 3);
    // The futex sleep lasts up to 60 s: only the wake-up brings the events in time.
    const run = runReader([name, '--events', '2', '--from', 'newest', '--wait', 'block', '--sleep-ms', '60000'], { onSpawn: (c) => (child = c) });
    await waitUntil(() => w.registry.sleepers() === 1 && asleep(child!.pid!), 10_000, { what: 'the reader asleep with the ring open' });
    ts = EventRingReader.open(name, 'newest'); // the same start: nothing appended since the C reader opened
    appendTrades(w, 4, 5);
    w.wakeIfSleepers();
    assert.is(w.wakeups, 1);
    const r = await run;
    const expected = tsLines(ts, AAPL);
    assert.equal(expected, ['40,AAPL,T,4,4,E', '50,AAPL,T,5,5,E']);
    assert.is(r.code, 0, r.stderr);
    assert.equal(r.lines, expected);
    assert.not.match(r.stderr, /spinning instead/);
    assert.is(w.registry.sleepers(), 0);
  } finally {
    child?.kill('SIGKILL');
    ts?.close();
    w.close({ unlink: true });
  }
});

test('--events follows a takeover: the dead writer\'s ring to its end, then the new writer\'s from its start', async () => {
  const name = segName('cevtake');
  const script = `
    import { ITCH_SPEC, SegmentWriter, newEventFields } from ${JSON.stringify(join(repoRoot, 'dist', 'native', 'segment', 'index.js'))};
    const w = SegmentWriter.open({ name: ${JSON.stringify(name)}, maxInstruments: 2, levels: 1, ringEvents: 16 });
    const k = w.addInstrument('OLD', 1, ITCH_SPEC);
    for (let r = 1; r <= 3; r++) w.appendEvent(Object.assign(newEventFields(), { kind: 84, action: 69, instrumentIndex: k, msgIndex: r, price: r * 100000, size: r }));
    console.log('ready');
    setInterval(() => w.heartbeat(), 10);`;
  const writer = spawnChild('writer', process.execPath, ['--input-type=module', '-e', script]);
  children.add(writer);
  const lines: string[] = [];
  let w: SegmentWriter | undefined;
  try {
    await writer.line(/^ready$/, 20_000);
    const run = runReader([name, '--events', '6', '--timeout-ms', '30000'], { onLine: (l) => lines.push(l) });
    await waitUntil(() => lines.length === 3, 10_000, { what: 'the first writer\'s events' });
    await writer.kill(); // SIGKILL: its lock is dropped, the segment stays READY
    children.delete(writer);
    w = SegmentWriter.open({ name, maxInstruments: 2, levels: 1, ringEvents: 16 });
    assert.is(w.outcome, 'takeover');
    const k = w.addInstrument('NEW', 2, specOf(2));
    for (const m of [10, 11]) appendEvent(w, { kind: abi.EVENT_KIND_TRADE, action: ch('P'), instrumentIndex: k, msgIndex: m, price: m * 1e7, size: m });
    const r = await run;
    assert.is(r.code, 0, r.stderr);
    // The new ring opens with the clear event of the new generation.
    assert.equal(r.lines, ['1,OLD,T,1,1,E', '2,OLD,T,2,2,E', '3,OLD,T,3,3,E', '0,,R,G', '10,NEW,T,10,10,P', '11,NEW,T,11,11,P']);
    assert.match(r.stderr, /^events read=6 lost=0$/m);
  } finally {
    await writer.kill();
    w?.close({ unlink: true });
  }
});

test('--events on a segment whose writer keeps no event ring: MDFAN_ERR_NO_SEGMENT "has no event ring", exit 2', async () => {
  const name = segName('cevnone');
  const w = SegmentWriter.open({ name, maxInstruments: 1, levels: 1 }); // no ringEvents: no ring
  try {
    w.addInstrument('AAPL', 1, ITCH_SPEC);
    const r = await runReader([name, '--events', '5', '--timeout-ms', '0']);
    assert.is(r.code, 2, r.stderr);
    assert.match(errorLine(r), new RegExp(`^MDFAN_ERR_NO_SEGMENT: segment ${name} has no event ring \\(${name}\\.events\\)`));
    assert.equal(r.lines, []);
  } finally {
    w.close({ unlink: true });
  }
});

test('--events and --from arguments are checked', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['--events', '0'], /--events needs a count >= 1$/],
    [['--events', '5', '--from', 'sideways'], /--from needs oldest or newest$/],
    [['--from', 'newest'], /--from goes with --events$/],
    [['--events', '5', '--follow', '5'], /--events and --follow exclude each other$/],
  ];
  for (const [args, says] of cases) {
    const r = await runReader(['whatever', ...args]);
    assert.is(r.code, 2, r.stderr);
    assert.match(errorLine(r), /^MDFAN_ERR_OPTIONS: /);
    assert.match(errorLine(r), says);
  }
});


test('--events reads a ring written byte by byte from the ABI tables; with no writer alive it ends with MDFAN_ERR_WRITER_DEAD, exit 3', async () => {
  const E = abi.STRUCTS.event;
  const ring = rawRing({
    records: [
      (rec) => {
        rec.writeUInt8(ch('S'), E.kind.offset);
        rec.writeUInt8(ch('O'), E.action.offset);
        rec.writeBigUInt64LE(5n, E.msg_index.offset);
      },
      (rec) => {
        rec.writeUInt8(ch('T'), E.kind.offset);
        rec.writeUInt8(ch('E'), E.action.offset);
        rec.writeUInt32LE(0, E.instrument_index.offset);
        rec.writeBigUInt64LE(6n, E.msg_index.offset);
        rec.writeBigInt64LE(579_400_000_000n, E.price.offset);
        rec.writeBigUInt64LE(3n, E.size.offset);
      },
    ],
  });
  const name = writeRawWithRing('cevraw', ring);
  const r = await runReader([name, '--events', '5', '--timeout-ms', '0']);
  assert.is(r.code, 3, r.stderr);
  assert.equal(r.lines, ['5,,S,O', '6,RAW,T,5794000,3,E']);
  assert.match(errorLine(r), /^MDFAN_ERR_WRITER_DEAD: /);
  assert.match(r.stderr, /^events read=2 lost=0$/m);
});

test('--events prints 64-bit sizes and prices at the instrument\'s decimals (8: a Binance trade), leaves out trades flagged not printable, and shows a CLEAR', async () => {
  const E = abi.STRUCTS.event;
  const trade = (msgIndex: bigint, price: bigint, size: bigint, o: { action?: string; side?: string; flags?: number; ref?: bigint } = {}) => (rec: Buffer) => {
    rec.writeUInt8(ch('T'), E.kind.offset);
    rec.writeUInt8(ch(o.action ?? 'A'), E.action.offset);
    if (o.side) rec.writeUInt8(ch(o.side), E.side.offset);
    rec.writeUInt8(o.flags ?? 0, E.flags.offset);
    rec.writeUInt32LE(0, E.instrument_index.offset);
    rec.writeBigUInt64LE(msgIndex, E.msg_index.offset);
    rec.writeBigInt64LE(price, E.price.offset);
    rec.writeBigUInt64LE(o.ref ?? 0n, E.order_ref.offset);
    rec.writeBigUInt64LE(size, E.size.offset);
  };
  const ring = rawRing({
    records: [
      (rec) => {
        rec.writeUInt8(ch('R'), E.kind.offset);
        rec.writeUInt8(ch('G'), E.action.offset);
        rec.writeBigUInt64LE(2n, E.order_ref.offset); // the new generation
      },
      // 62000.12345678 (1e-9 units) x 554.63987 BTC at 8 decimals: neither fits a u32
      trade(1n, 62_000_123_456_780n, 55_463_987_000n, { side: 'B', ref: 3_000_000_001n }),
      trade(2n, 62_000_000_000_000n, 1n, { action: 'C', side: 'S', flags: abi.EVENT_FLAG_NOT_PRINTABLE }), // no line
      trade(3n, 15n, 2n ** 64n - 1n, { action: 'P' }), // 1.5 units of 1e-8: rounds half up, to 2
      trade(4n, -15n, 1n, { action: 'Q', side: 'O' }), // -1.5: to -1; a cross's type is its side
      (rec) => {
        rec.writeUInt8(ch('O'), E.kind.offset);
        rec.writeUInt8(ch('A'), E.action.offset);
        rec.writeUInt8(ch('S'), E.side.offset);
        rec.writeUInt32LE(0, E.instrument_index.offset);
        rec.writeBigUInt64LE(5n, E.msg_index.offset);
        rec.writeBigInt64LE(62_000_000_000_000n, E.price.offset);
        rec.writeBigUInt64LE(2n ** 63n, E.order_ref.offset);
        rec.writeBigUInt64LE(2n ** 53n + 1n, E.size.offset);
      },
    ],
  });
  const name = writeRawWithRing('cevwide', ring, { priceDecimals: 8, sizeDecimals: 8 });
  const r = await runReader([name, '--events', '5', '--timeout-ms', '0']);
  assert.is(r.code, 0, r.stderr);
  assert.equal(r.lines, [
    '0,,R,G',
    '1,RAW,T,6200012345678,55463987000,A',
    '3,RAW,T,2,18446744073709551615,P',
    '4,RAW,T,-1,1,Q',
    '5,RAW,O,A,S,6200000000000,9007199254740993,9223372036854775808',
  ]);
  assert.match(r.stderr, /^events read=6 lost=0$/m);
});

const ringRefusals: Array<{ what: string; ring: Buffer; code: string; says: RegExp }> = [
  {
    what: 'a foreign magic',
    ring: rawRing({ edit: (b) => b.write('NOPE', abi.STRUCTS.events_header.magic.offset, 'latin1') }),
    code: 'MDFAN_ERR_BAD_MAGIC',
    says: /magic 0x45504f4e, expected 0x5645444d/,
  },
  {
    what: 'a 1.x ring',
    ring: rawRing({
      edit: (b) => {
        b.writeUInt16LE(1, abi.STRUCTS.events_header.abi_major.offset);
        b.writeUInt16LE(4, abi.STRUCTS.events_header.abi_minor.offset);
      },
    }),
    code: 'MDFAN_ERR_ABI_VERSION',
    says: /has ABI 1\.4; this reader speaks ABI 2\.0/,
  },
  {
    what: 'a capacity that is not a power of two',
    ring: rawRing({ capacity: 24 }),
    code: 'MDFAN_ERR_LAYOUT',
    says: /capacity 24 is not a power of two/,
  },
  {
    what: 'a record size other than 64',
    ring: rawRing({ edit: (b) => b.writeUInt32LE(32, abi.STRUCTS.events_header.record_bytes.offset) }),
    code: 'MDFAN_ERR_LAYOUT',
    says: /record_bytes 32, expected 64/,
  },
  {
    what: 'an object shorter than its capacity needs',
    ring: rawRing().subarray(0, abi.EVENTS_HEADER_BYTES + 15 * abi.EVENT_BYTES),
    code: 'MDFAN_ERR_SEGMENT_SIZE',
    says: /but capacity 16 needs 1280/,
  },
  { what: 'an object shorter than the ring header', ring: Buffer.alloc(128), code: 'MDFAN_ERR_SEGMENT_SIZE', says: /is 128 bytes: not an event ring/ },
  {
    what: 'a dead older writer\'s ring (generation 0, the segment at 1)',
    ring: rawRing({ edit: (b) => b.writeUInt32LE(0, abi.STRUCTS.events_header.generation.offset) }),
    code: 'MDFAN_ERR_NO_SEGMENT',
    says: /has no event ring: .* is generation 0's, its writer \(generation 1\) keeps none/,
  },
];

for (const c of ringRefusals) {
  test(`--events refuses a ring with ${c.what}: ${c.code}, exit 2`, async () => {
    const name = writeRawWithRing('cevref', c.ring);
    const r = await runReader([name, '--events', '5', '--timeout-ms', '0']);
    assert.is(r.code, 2, `exit ${r.code}: ${r.stderr}`);
    assert.ok(errorLine(r).startsWith(`${c.code}: `), r.stderr);
    assert.match(errorLine(r), c.says);
    assert.equal(r.lines, []);
  });
}

test('--events --wait block during a live feed of the GOOG day: its trades and trading actions are the event oracle, line for line', async () => {
  const name = segName('cevgoog');
  // Started first: it waits for the segment, then follows the ring from its first record to CLOSED.
  const run = runReader([name, '--events', '10000000', '--timeout-ms', '60000', '--wait', 'block']);
  const feed = spawnChild('feed', process.execPath, [binPath, 'feed', '--source', `itch:${GOOG_ITCH}`, '--segment', name]);
  children.add(feed);
  const fed = await feed.exited;
  children.delete(feed);
  assert.is(fed.code, 0, feed.describeExit());
  const r = await run;
  assert.is(r.code, 0, r.stderr);
  assert.not.ok(r.lines.some((l) => l.startsWith('LAPPED')), 'the default ring holds the whole day');
  assert.match(r.stderr, new RegExp(`^events read=${r.lines.length} lost=0$`, 'm')); // every record of the day has a line
  const got = r.lines.filter((l) => {
    const kind = l.split(',')[2];
    return kind === 'T' || kind === 'H';
  });
  const want = gunzipSync(readFileSync(GOOG_EVENTS)).toString('latin1').trim().split('\n');
  assert.is(want.length, 11_771);
  const first = got.findIndex((l, i) => l !== want[i]);
  assert.is(first, -1, first >= 0 ? `line ${first + 1}: ${got[first]} vs ${want[first]}` : '');
  assert.is(got.length, want.length);
});

// Self-checking payload: everything in commit m is derived from m by fillBook, so each printed
// line can be recomputed from its msgIndex. Instrument m % 2 gets commit m.

test.run();
