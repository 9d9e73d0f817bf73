/** The C reader prints exactly the books TypeScript wrote: both sides, empty levels, extremes, packed layouts, one symbol; and the short example (native/examples/read_book.c) prints the same. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { ITCH_SPEC, SegmentWriter, abi, specOf } from '../../native/segment/index.js';
import { repoRoot } from '../helpers/paths.js';
import { cleanupSegments, segName } from '../helpers/segments.js';
import { type Side, bin, buildReader, dumpLine, errorLine, killChildren, levelSource, runReader, source, workDir } from './reader.js';
import { type RawLevel, rawBook, rawImage, writeRaw } from './images.js';
test.before(buildReader);
test.after.each(() => {
  cleanupSegments();
});
test.after(killChildren);

test('mdfan_c_reader.c compiles as C11 with -Wall -Wextra -Werror against native/include only', () => {
  try {
    execFileSync('cc', ['-std=c11', '-O2', '-Wall', '-Wextra', '-Werror', '-I', join(repoRoot, 'native', 'include'), '-o', bin, source], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (e) {
    const err = e as { stderr?: Buffer };
    assert.unreachable(`cc failed:\n${err.stderr?.toString() ?? String(e)}`);
  }
});

test('prints exactly the books TypeScript published (both sides, empty levels, numbers past u32 up to 2^53, negative prices)', async () => {
  const name = segName('cread');
  const MAX = Number.MAX_SAFE_INTEGER;
  const levels = 5;
  const w = SegmentWriter.open({ name, maxInstruments: 6, levels });
  try {
    const books: Array<{ symbol: string; msgIndex: number; bids: Side; asks: Side } | { symbol: string; never: true }> = [
      // partial on both sides; published twice: the second (shallower) book must not show the first's tail
      { symbol: 'AAPL', msgIndex: 17, bids: [[5853300, 18, 1]], asks: [[5859400, 200, 2], [5859800, 200, 3]] },
      // every level on both sides: what JavaScript holds exactly (2^53 - 1), past u32 (BTCUSDT at 8
      // decimals: 62000.12345678 x 554.63987), negative prices (spreads), msgIndex above 2^32
      {
        symbol: 'MSFT',
        msgIndex: 2 ** 40 + 7,
        bids: [[MAX, MAX, 4294967295], [6200012345678, 55463987000, 0], [4294967296, 1, 1], [0, 3, 1], [-MAX, 4, 1]],
        asks: [[MAX, 10, 1], [MAX, 11, 1], [MAX, 12, 1], [MAX, 13, 1], [MAX, 2 ** 32, 1]],
      },
      { symbol: 'GOOG', msgIndex: 0, bids: [[5794000, 496, 4], [5787000, 400, 2]], asks: [] }, // bids only
      { symbol: 'IBM', msgIndex: 99, bids: [], asks: [[1450000, 300, 1]] }, // asks only
      { symbol: 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345', never: true }, // a 32-character symbol (no NUL), never published
    ];
    const index = new Map<string, number>();
    for (const b of books) index.set(b.symbol, w.addInstrument(b.symbol, index.size + 1, ITCH_SPEC));
    const aapl = index.get('AAPL')!;
    w.publish(aapl, levelSource(levels, [[1, 1, 1], [2, 2, 2], [3, 3, 3]], [[4, 4, 4], [5, 5, 5], [6, 6, 6], [7, 7, 7]]), 3, 1000);
    for (const b of books) if (!('never' in b)) w.publish(index.get(b.symbol)!, levelSource(levels, b.bids, b.asks), b.msgIndex, 123456789);

    const expected = books.map((b) => ('never' in b ? dumpLine(0, b.symbol, levels, [], []) : dumpLine(b.msgIndex, b.symbol, levels, b.bids, b.asks)));
    const all = await runReader([name]);
    assert.is(all.code, 0, all.stderr);
    assert.equal(all.lines, expected);
    assert.match(all.stderr, /^retries=0 reads=5$/m); // nobody was writing: no retry, one read per book

    const one = await runReader([name, '--symbol', 'MSFT']);
    assert.is(one.code, 0, one.stderr);
    assert.equal(one.lines, [expected[1]]);
    assert.match(one.stderr, /^retries=0 reads=1$/m);
  } finally {
    w.close({ unlink: true });
  }
});

test('reads a packed layout (slots not padded to 128 bytes) at the right strides', async () => {
  const name = segName('cpacked');
  const levels = 3;
  const w = SegmentWriter.open({ name, maxInstruments: 3, levels, packed: true });
  try {
    assert.is(w.layout.slotStride % abi.LINE_BYTES !== 0, true); // the case is really packed
    const sides: Array<[Side, Side]> = [
      [[[10, 1, 1]], [[11, 1, 1]]],
      [[[20, 2, 1], [19, 3, 1]], [[21, 2, 1]]],
      [[[30, 3, 1], [29, 4, 1], [28, 5, 1]], [[31, 3, 1], [32, 4, 1], [33, 5, 1]]],
    ];
    const expected: string[] = [];
    sides.forEach(([bids, asks], i) => {
      const sym = `S${i}`;
      const k = w.addInstrument(sym, i, specOf(2));
      w.publish(k, levelSource(levels, bids, asks), 1000 + i, 0);
      expected.push(dumpLine(1000 + i, sym, levels, bids, asks));
    });
    const r = await runReader([name]);
    assert.is(r.code, 0, r.stderr);
    assert.equal(r.lines, expected);
  } finally {
    w.close({ unlink: true });
  }
});

test('--symbol for an instrument the segment does not carry is refused with a code', async () => {
  const name = segName('cnosym');
  const w = SegmentWriter.open({ name, maxInstruments: 2, levels: 2 });
  try {
    w.addInstrument('AAPL', 1, ITCH_SPEC);
    const r = await runReader([name, '--symbol', 'NOPE', '--timeout-ms', '0']);
    assert.is(r.code, 2, r.stderr);
    assert.match(errorLine(r), /^MDFAN_ERR_OPTIONS: symbol NOPE is not in segment/);
  } finally {
    w.close({ unlink: true });
  }
});

// ---- refusals, from raw bytes written into /dev/shm/NAME (the POSIX object itself) ----------

test('the short example (native/examples/read_book.c) compiles with -Werror against native/include only and prints what the full reader prints', async () => {
  const example = join(workDir, 'read_book');
  try {
    execFileSync('cc', ['-std=c11', '-O2', '-Wall', '-Wextra', '-Werror', '-I', join(repoRoot, 'native', 'include'), '-o', example, join(repoRoot, 'native', 'examples', 'read_book.c')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (e) {
    const err = e as { stderr?: Buffer };
    assert.unreachable(`cc failed:\n${err.stderr?.toString() ?? String(e)}`);
  }
  const name = segName('cexample');
  const w = SegmentWriter.open({ name, maxInstruments: 3, levels: 2 });
  try {
    const bids: Side = [[101, 5, 1]];
    const asks: Side = [[102, 7, 2], [103, 9, 3]];
    w.publish(w.addInstrument('AAA', 1, ITCH_SPEC), levelSource(2, bids, asks), 17, 0);
    w.addInstrument('BBB', 2, ITCH_SPEC); // never published: an empty book at msgIndex 0
    const full = await runReader([name, '--timeout-ms', '0']);
    const short = execFileSync(example, [name], { encoding: 'utf8' });
    assert.is(short, full.stdout);
    assert.equal(short.trim().split('\n'), [dumpLine(17, 'AAA', 2, bids, asks), dumpLine(0, 'BBB', 2, [], [])]);
    assert.is(execFileSync(example, [name, '--symbol', 'BBB'], { encoding: 'utf8' }), `${dumpLine(0, 'BBB', 2, [], [])}\n`);
  } finally {
    w.close({ unlink: true });
  }
  let err: { status?: number; stderr?: string } | null = null;
  try {
    execFileSync(example, [segName('cexample-none')], { encoding: 'utf8', stdio: 'pipe' });
  } catch (e) {
    err = e as { status?: number; stderr?: string };
  }
  assert.is(err?.status, 2);
  assert.match(String(err?.stderr), /^MDFAN_ERR_NO_SEGMENT: /);
});

/** The dump line of a book of 64-bit numbers, built independently of the C code. */
function rawLine(msgIndex: bigint, symbol: string, levels: number, bids: readonly RawLevel[], asks: readonly RawLevel[]): string {
  const cols: string[] = [String(msgIndex), symbol];
  for (let i = 0; i < levels; i++) {
    cols.push(...(i < asks.length ? [String(asks[i]![0]), String(asks[i]![1])] : ['9999999999', '0']));
    cols.push(...(i < bids.length ? [String(bids[i]![0]), String(bids[i]![1])] : ['-9999999999', '0']));
  }
  return cols.join(',');
}

test('prints the 64-bit prices (signed) and sizes (unsigned) of a segment written byte by byte, past what a JavaScript number holds, and 32-character symbols; the short example the same', async () => {
  const levels = 3;
  const U64_MAX = 2n ** 64n - 1n;
  const I64_MAX = 2n ** 63n - 1n;
  const I64_MIN = -(2n ** 63n);
  const books = [
    // BTCUSDT at 8 decimals: 62000.12345678 x 554.63987 BTC, neither fits a u32
    { symbol: 'BTCUSDT', msgIndex: 2n ** 40n + 1n, bids: [[6200012345678n, 55463987000n, 0]], asks: [[6200100000000n, 100000000n, 0], [6200200000000n, 1n, 0]] },
    // the extremes of both types; a 32-character symbol has no NUL
    {
      symbol: 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345',
      msgIndex: 2n ** 64n - 2n,
      bids: [[-1n, U64_MAX, 4294967295], [I64_MIN, 2n ** 53n + 1n, 1], [I64_MIN, 0n, 0]],
      asks: [[I64_MAX, U64_MAX, 1]],
    },
    { symbol: 'binance-coinm:BTCUSD_PERP', msgIndex: 0n, bids: [], asks: [] }, // a venue-qualified name, never committed
  ] satisfies Array<{ symbol: string; msgIndex: bigint; bids: RawLevel[]; asks: RawLevel[] }>;
  const name = writeRaw(
    'cwide',
    rawImage({
      maxInstruments: 3,
      levels,
      edit: (b) => {
        for (const [entry, k] of books.entries()) rawBook(b, { entry, priceDecimals: 8, sizeDecimals: 8, ...k });
      },
    }),
  );
  const expected = books.map((k) => rawLine(k.msgIndex, k.symbol, levels, k.bids, k.asks));
  const r = await runReader([name, '--timeout-ms', '0']);
  assert.is(r.code, 0, r.stderr);
  assert.equal(r.lines, expected);
  const one = await runReader([name, '--timeout-ms', '0', '--symbol', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345']);
  assert.is(one.code, 0, one.stderr);
  assert.equal(one.lines, [expected[1]]);
  const example = join(workDir, 'read_book'); // built by the test above
  assert.is(execFileSync(example, [name], { encoding: 'utf8' }), r.stdout);
});

test('a directory entry with more decimals than MDFAN_MAX_DECIMALS is refused with MDFAN_ERR_LAYOUT, exit 2', async () => {
  for (const [priceDecimals, sizeDecimals] of [
    [abi.MAX_DECIMALS + 1, 0],
    [0, abi.MAX_DECIMALS + 1],
  ]) {
    const name = writeRaw(
      'cdecimals',
      rawImage({ edit: (b) => rawBook(b, { entry: 0, symbol: 'BAD', priceDecimals, sizeDecimals, msgIndex: 1n, bids: [[1n, 1n, 1]], asks: [] }) }),
    );
    const r = await runReader([name, '--timeout-ms', '0']);
    assert.is(r.code, 2, r.stderr);
    assert.match(errorLine(r), new RegExp(`^MDFAN_ERR_LAYOUT: segment ${name}: directory entry for BAD has price_decimals ${priceDecimals} and size_decimals ${sizeDecimals}, expected 0\\.\\.18 each$`));
    assert.equal(r.lines, []);
    cleanupSegments();
  }
  // at the bound: accepted
  const name = writeRaw('cdecimals', rawImage({ edit: (b) => rawBook(b, { entry: 0, symbol: 'MAX', priceDecimals: 18, sizeDecimals: 18, msgIndex: 1n, bids: [], asks: [] }) }));
  const r = await runReader([name, '--timeout-ms', '0']);
  assert.is(r.code, 0, r.stderr);
});

test.run();
