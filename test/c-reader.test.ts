/**
 * The C reader (native/examples/read_book.c), built from mdfan_abi.h and docs/ABI.md alone, reads
 * what TypeScript wrote: exact books, the same refusals, and no torn book under a live writer; and
 * with --events (native/examples/mdfan_events.h) the event ring, line for line as the TypeScript
 * reader formats it, LAPPED,N included.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type ChildProcess, execFileSync } from 'node:child_process';
import { type Child, spawnChild } from '../lib/child.js';
import { chmodSync, chownSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import {
  EventBatch,
  EventRingReader,
  SegmentWriter,
  abi,
  newEventFields,
  topsName,
  unlinkSegment,
  type EventFields,
  type EventRecord,
  type LevelSource,
} from '../native/segment/index.js';
import { formatEventLine, lappedLine } from '../lib/event-line.js';
import { GOOG_EVENTS, GOOG_ITCH } from './helpers/oracle.js';
import { binPath, repoRoot } from './helpers/paths.js';
import { procState } from './helpers/procs.js';
import { cleanupSegments, segName, shmExists } from './helpers/segments.js';
import { waitUntil } from './helpers/wait.js';

const source = join(repoRoot, 'native', 'examples', 'read_book.c');
// This file also runs as the publisher thread of the concurrency test (see writerThread below);
// only the main thread makes the build directory and runs the tests.
const workDir = isMainThread ? mkdtempSync(join(tmpdir(), 'mdfan-c-reader-')) : '';
if (isMainThread) chmodSync(workDir, 0o755); // the permission test runs the binary as nobody
const bin = join(workDir, 'read_book');
const children = new Set<Child>();

test.after.each(() => {
  cleanupSegments();
});
test.after(() => {
  for (const c of children) c.signal('SIGKILL');
  rmSync(workDir, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  lines: string[];
}

/**
 * Runs the C reader as a child process without blocking the event loop (a publisher in this
 * process keeps running). onLine sees each stdout line as it arrives. The kill after 60 s only
 * guards against a hang: nothing is asserted about time.
 */
function runReader(
  args: string[],
  opts: { onLine?: (line: string) => void; onSpawn?: (child: ChildProcess) => void; uid?: number; gid?: number } = {},
): Promise<Run> {
  const c = spawnChild('read_book', bin, args, { uid: opts.uid, gid: opts.gid, onStdoutLine: opts.onLine, maxStdoutLines: Infinity });
  children.add(c);
  opts.onSpawn?.(c.proc);
  const guard = setTimeout(() => c.signal('SIGKILL'), 60_000); // only against a hang: nothing is asserted about time
  return c.exited.then((e) => {
    clearTimeout(guard);
    children.delete(c);
    if (e.code === null && e.signal === null) throw new Error(c.describeExit());
    return { code: e.code, signal: e.signal, stdout: c.stdout.map((l) => `${l}\n`).join(''), stderr: c.stderr(), lines: c.stdout.filter((l) => l.length > 0) };
  });
}

/**
 * A writer in its own process (so the test can SIGKILL it: the kernel drops its lock, state stays
 * READY): one instrument of one level, one book (bid 100 x 1) at `msgIndex`, "ready" on stdout,
 * heartbeating; with `control`, its control plane listens (block readers get the registry).
 */
function childWriter(name: string, o: { maxInstruments: number; symbol: string; msgIndex: number; control?: boolean }): Child {
  const script = `
    import { SegmentWriter } from ${JSON.stringify(join(repoRoot, 'dist', 'native', 'segment', 'index.js'))};
    const w = SegmentWriter.open({ name: ${JSON.stringify(name)}, maxInstruments: ${o.maxInstruments}, levels: 1 });
    ${o.control ? 'await w.startControl();' : ''}
    const k = w.addInstrument(${JSON.stringify(o.symbol)}, 1, 10000);
    w.publish(k, { bidCount: 1, askCount: 0, bids: new Uint32Array([100, 1, 1]), asks: new Uint32Array(3) }, ${o.msgIndex}, 0);
    console.log('ready');
    setInterval(() => w.heartbeat(), 10);`;
  const writer = spawnChild('writer', process.execPath, ['--input-type=module', '-e', script]);
  children.add(writer);
  return writer;
}

/** The first stderr line, which names the error code. */
const errorLine = (r: Run): string => r.stderr.split('\n')[0] ?? '';

/** A book as [price, size, orders] per level, best first. */
type Side = Array<[number, number, number]>;

function levelSource(levels: number, bids: Side, asks: Side): LevelSource {
  const pack = (side: Side): Uint32Array => {
    const a = new Uint32Array(levels * 3);
    for (const [i, [p, s, o]] of side.entries()) a.set([p, s, o], i * 3);
    return a;
  };
  return { bidCount: bids.length, askCount: asks.length, bids: pack(bids), asks: pack(asks) };
}

/** The `mdfan feed --dump-books` line, built independently of the C code. */
function dumpLine(msgIndex: number, symbol: string, levels: number, bids: Side, asks: Side): string {
  const cols: Array<string | number> = [msgIndex, symbol];
  for (let i = 0; i < levels; i++) {
    if (i < asks.length) cols.push(asks[i][0], asks[i][1]);
    else cols.push('9999999999', 0);
    if (i < bids.length) cols.push(bids[i][0], bids[i][1]);
    else cols.push('-9999999999', 0);
  }
  return cols.join(',');
}

test('read_book.c compiles as C11 with -Wall -Wextra -Werror against mdfan_abi.h only', () => {
  try {
    execFileSync('cc', ['-std=c11', '-O2', '-Wall', '-Wextra', '-Werror', '-I', join(repoRoot, 'native', 'include'), '-o', bin, source], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (e) {
    const err = e as { stderr?: Buffer };
    assert.unreachable(`cc failed:\n${err.stderr?.toString() ?? String(e)}`);
  }
});

test('prints exactly the books TypeScript published (both sides, empty levels, u32/u64 extremes)', async () => {
  const name = segName('cread');
  const levels = 5;
  const w = SegmentWriter.open({ name, maxInstruments: 6, levels });
  try {
    const books: Array<{ symbol: string; msgIndex: number; bids: Side; asks: Side } | { symbol: string; never: true }> = [
      // partial on both sides; published twice: the second (shallower) book must not show the first's tail
      { symbol: 'AAPL', msgIndex: 17, bids: [[5853300, 18, 1]], asks: [[5859400, 200, 2], [5859800, 200, 3]] },
      // every level on both sides, values at the top of uint32, msgIndex above 2^32
      {
        symbol: 'MSFT',
        msgIndex: 2 ** 40 + 7,
        bids: [[4294967295, 4294967295, 1], [4294967294, 1, 1], [3000000000, 2, 1], [2, 3, 1], [1, 4, 1]],
        asks: [[4294967295, 10, 1], [4294967295, 11, 1], [4294967295, 12, 1], [4294967295, 13, 1], [4294967295, 14, 1]],
      },
      { symbol: 'GOOG', msgIndex: 0, bids: [[5794000, 496, 4], [5787000, 400, 2]], asks: [] }, // bids only
      { symbol: 'IBM', msgIndex: 99, bids: [], asks: [[1450000, 300, 1]] }, // asks only
      { symbol: 'ABCDEFGHIJKLMNOP', never: true }, // a 16-character symbol (no NUL), never published
    ];
    const index = new Map<string, number>();
    for (const b of books) index.set(b.symbol, w.addInstrument(b.symbol, index.size + 1, 10000));
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
      const k = w.addInstrument(sym, i, 100);
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
    w.addInstrument('AAPL', 1, 10000);
    const r = await runReader([name, '--symbol', 'NOPE', '--timeout-ms', '0']);
    assert.is(r.code, 2, r.stderr);
    assert.match(errorLine(r), /^MDFAN_ERR_OPTIONS: symbol NOPE is not in segment/);
  } finally {
    w.close({ unlink: true });
  }
});

// ---- refusals, from raw bytes written into /dev/shm/NAME (the POSIX object itself) ----------

interface RawOptions {
  maxInstruments?: number;
  levels?: number;
  state?: number;
  edit?: (b: Buffer) => void;
}

/** A whole segment image as a valid ABI 1.0 writer would leave it (READY, no instruments). */
function rawImage(o: RawOptions = {}): Buffer {
  const L = abi.computeLayout(o.maxInstruments ?? 2, o.levels ?? 4);
  const b = Buffer.alloc(L.totalBytes);
  const H = abi.HDR;
  b.write('MDFANSHM', H.magic.offset, 'latin1');
  b.writeUInt16LE(abi.ABI_MAJOR, H.abi_major.offset);
  b.writeUInt16LE(abi.ABI_MINOR, H.abi_minor.offset);
  b.writeUInt32LE(abi.HEADER_BYTES, H.header_bytes.offset);
  b.writeBigUInt64LE(BigInt(L.totalBytes), H.total_bytes.offset);
  b.writeUInt32LE(L.maxInstruments, H.max_instruments.offset);
  b.writeUInt32LE(L.levels, H.levels.offset);
  b.writeUInt32LE(L.slotStride, H.slot_stride_bytes.offset);
  b.writeUInt32LE(abi.DIR_ENTRY_BYTES, H.dir_entry_bytes.offset);
  b.writeBigUInt64LE(BigInt(L.directoryOffset), H.directory_offset.offset);
  b.writeBigUInt64LE(BigInt(L.slotsOffset), H.slots_offset.offset);
  b.writeUInt32LE(0o600, H.mode.offset);
  b.writeUInt32LE(o.state ?? abi.STATE_READY, H.state.offset);
  b.writeUInt32LE(1, H.generation.offset);
  o.edit?.(b);
  return b;
}

function writeRaw(tag: string, bytes: Buffer): string {
  const name = segName(tag);
  writeFileSync(`/dev/shm/${name}`, bytes, { mode: 0o600 });
  return name;
}

test('the raw image the refusal cases start from is accepted (so each refusal is about its one change)', async () => {
  assert.equal(rawImage().subarray(0, 8), Buffer.from([0x4d, 0x44, 0x46, 0x41, 0x4e, 0x53, 0x48, 0x4d])); // LE 0x4D48534E4146444D
  const name = writeRaw('craw', rawImage());
  const r = await runReader([name, '--timeout-ms', '0']);
  assert.is(r.code, 0, r.stderr);
  assert.equal(r.lines, []); // no instruments yet
  // a newer minor only adds fields in reserved space: accepted
  const minor = writeRaw('cminor', rawImage({ edit: (b) => b.writeUInt16LE(7, abi.HDR.abi_minor.offset) }));
  const m = await runReader([minor, '--timeout-ms', '0']);
  assert.is(m.code, 0, m.stderr);
});

const refusals: Array<{ what: string; image: Buffer; code: string; says?: RegExp }> = [
  {
    what: 'a foreign magic',
    image: rawImage({ edit: (b) => b.write('NOTMDFAN', 0, 'latin1') }),
    code: 'MDFAN_ERR_BAD_MAGIC',
    says: /magic 0x4e4146444d544f4e, expected 0x4d48534e4146444d/,
  },
  {
    what: 'another ABI major (both versions named)',
    image: rawImage({
      edit: (b) => {
        b.writeUInt16LE(2, abi.HDR.abi_major.offset);
        b.writeUInt16LE(3, abi.HDR.abi_minor.offset);
      },
    }),
    code: 'MDFAN_ERR_ABI_VERSION',
    says: new RegExp(`has ABI 2\\.3; this reader speaks ABI ${abi.ABI_MAJOR}\\.${abi.ABI_MINOR}`),
  },
  { what: 'a short segment (half a header)', image: rawImage().subarray(0, 512), code: 'MDFAN_ERR_SEGMENT_SIZE', says: /512 bytes, shorter than the 1024-byte header/ },
  {
    what: 'a header_bytes of another size',
    image: rawImage({ edit: (b) => b.writeUInt32LE(2048, abi.HDR.header_bytes.offset) }),
    code: 'MDFAN_ERR_SEGMENT_SIZE',
    says: /2048-byte header/,
  },
  {
    what: 'a file shorter than total_bytes',
    image: rawImage().subarray(0, rawImage().length - 128),
    code: 'MDFAN_ERR_SEGMENT_SIZE',
    says: /declares \d+ bytes but is \d+ bytes long/,
  },
  {
    what: 'a slot stride that disagrees with the layout arithmetic',
    image: rawImage({ edit: (b) => b.writeUInt32LE(abi.computeLayout(2, 4).slotStride + 128, abi.HDR.slot_stride_bytes.offset) }),
    code: 'MDFAN_ERR_LAYOUT',
    says: /slot_stride_bytes/,
  },
  {
    what: 'levels outside 1..50',
    image: rawImage({ edit: (b) => b.writeUInt32LE(51, abi.HDR.levels.offset) }),
    code: 'MDFAN_ERR_LAYOUT',
    says: /levels is 51/,
  },
  {
    what: 'an instrument_count above max_instruments',
    image: rawImage({ edit: (b) => b.writeUInt32LE(3, abi.HDR.instrument_count.offset) }),
    code: 'MDFAN_ERR_LAYOUT',
    says: /instrument_count is 3/,
  },
  {
    what: 'a segment that stays INITIALIZING',
    image: rawImage({ state: abi.STATE_INITIALIZING }),
    code: 'MDFAN_ERR_NOT_READY',
    says: /did not become READY within 0 ms .*INITIALIZING/,
  },
  { what: 'a segment whose magic never appears', image: Buffer.alloc(4096), code: 'MDFAN_ERR_NOT_READY', says: /no magic yet/ },
];

for (const c of refusals) {
  test(`refuses ${c.what} with ${c.code}, exit 2`, async () => {
    const name = writeRaw('cref', c.image);
    const r = await runReader([name, '--timeout-ms', '0']);
    assert.is(r.code, 2, `exit ${r.code}: ${r.stderr}`);
    assert.ok(errorLine(r).startsWith(`${c.code}: `), r.stderr);
    if (c.says) assert.match(errorLine(r), c.says);
    assert.equal(r.lines, []);
  });
}

test('refuses a segment that does not exist with MDFAN_ERR_NO_SEGMENT, exit 2', async () => {
  const name = segName('cnone');
  const r = await runReader([name, '--timeout-ms', '0']);
  assert.is(r.code, 2, r.stderr);
  assert.match(errorLine(r), new RegExp(`^MDFAN_ERR_NO_SEGMENT: segment ${name} did not appear within 0 ms`));
});

test('another user than the owner of a 0600 segment gets MDFAN_ERR_PERMISSION', async () => {
  if (process.getuid?.() !== 0) {
    console.log('  (skipped: needs root to run the reader as nobody)');
    return;
  }
  const name = segName('cperm');
  const w = SegmentWriter.open({ name, maxInstruments: 1, levels: 1 }); // mode 0600, owner root
  try {
    const r = await runReader([name, '--timeout-ms', '0'], { uid: 65534, gid: 65534 });
    assert.is(r.code, 2, r.stderr);
    assert.match(errorLine(r), /^MDFAN_ERR_PERMISSION: permission denied on segment/);
  } finally {
    w.close({ unlink: true });
  }
});

test('a segment anyone may write, or one of an owner not named, is refused with MDFAN_ERR_UNSAFE_OBJECT; --writer-uid names the writer', async () => {
  const name = segName('cunsafe');
  const w = SegmentWriter.open({ name, maxInstruments: 1, levels: 1 });
  try {
    w.addInstrument('AAPL', 1, 10000);
    chmodSync(`/dev/shm/${name}`, 0o606);
    const open = await runReader([name, '--timeout-ms', '0']);
    assert.is(open.code, 2, open.stderr);
    assert.match(errorLine(open), new RegExp(`^MDFAN_ERR_UNSAFE_OBJECT: segment ${name} has mode 0606: anyone may write it`));
    chmodSync(`/dev/shm/${name}`, 0o600);
    if (process.getuid?.() !== 0) {
      console.log('  (skipped the owner case: needs root to give the segment away)');
      return;
    }
    chownSync(`/dev/shm/${name}`, 65534, 65534);
    const foreign = await runReader([name, '--timeout-ms', '0']);
    assert.is(foreign.code, 2, foreign.stderr);
    assert.match(errorLine(foreign), new RegExp(`^MDFAN_ERR_UNSAFE_OBJECT: segment ${name} belongs to uid 65534`));
    const named = await runReader([name, '--timeout-ms', '0', '--writer-uid', '65534']);
    assert.is(named.code, 0, named.stderr);
    assert.equal(named.lines, ['0,AAPL,9999999999,0,-9999999999,0']);
  } finally {
    w.close({ unlink: true });
  }
});

test('a slot left mid-update (odd seq) is reported MDFAN_ERR_STALE, not spun on forever', async () => {
  const name = segName('cstale');
  const w = SegmentWriter.open({ name, maxInstruments: 2, levels: 2 });
  try {
    const k = w.addInstrument('AAPL', 1, 10000);
    w.publish(k, levelSource(2, [[1, 1, 1]], [[2, 1, 1]]), 5, 0);
    w.slots.beginOnlyForTest(k);
    const r = await runReader([name, '--stale-ms', '20']);
    assert.is(r.code, 3, r.stderr);
    assert.match(errorLine(r), /^MDFAN_ERR_STALE: segment .* slot 0 stayed mid-update \(odd seq 3\)/);
    assert.equal(r.lines, []); // never a torn or half-written book
  } finally {
    w.close({ unlink: true });
  }
});

// ---- following a live writer ---------------------------------------------------------------

test('a reader started before the writer waits for it, then prints its first commit', async () => {
  const name = segName('cwait');
  const run = runReader([name, '--symbol', 'AAPL', '--follow', '1', '--timeout-ms', '30000']);
  const w = SegmentWriter.open({ name, maxInstruments: 1, levels: 2 });
  try {
    const k = w.addInstrument('AAPL', 1, 10000);
    w.publish(k, levelSource(2, [[100, 1, 1]], [[101, 2, 1]]), 77, 0);
    const r = await run;
    assert.is(r.code, 0, r.stderr);
    assert.equal(r.lines, [dumpLine(77, 'AAPL', 2, [[100, 1, 1]], [[101, 2, 1]])]);
  } finally {
    w.close({ unlink: true });
  }
});

test('--follow stops at CLOSED after printing every commit made before it', async () => {
  const name = segName('cclose');
  const w = SegmentWriter.open({ name, maxInstruments: 1, levels: 1 });
  const k = w.addInstrument('AAPL', 1, 10000);
  try {
    w.publish(k, levelSource(1, [[100, 1, 1]], []), 1, 0);
    const r = await runReader([name, '--follow', '1000'], {
      onLine: (line) => {
        if (line.startsWith('1,') && !w.closed) {
          w.publish(k, levelSource(1, [], [[101, 1, 1]]), 2, 0);
          w.close(); // CLOSED after the second commit: the reader must print it, then stop
        }
      },
    });
    assert.is(r.code, 0, r.stderr);
    assert.equal(r.lines, ['1,AAPL,9999999999,0,100,1', '2,AAPL,101,1,-9999999999,0']);
    assert.match(r.stderr, /^retries=\d+ reads=2$/m);
  } finally {
    w.close({ unlink: true });
  }
});

test('--follow reports MDFAN_ERR_WRITER_DEAD when the writer dies without closing', async () => {
  const name = segName('cdead');
  // A writer in its own process, killed with SIGKILL: the kernel drops its lock, state stays READY.
  const writer = childWriter(name, { maxInstruments: 1, symbol: 'AAPL', msgIndex: 9 });
  await writer.line(/^ready$/, 20_000);
  await writer.kill();
  children.delete(writer);
  assert.ok(shmExists(name)); // the dead writer's segment is still there, READY
  const r = await runReader([name, '--follow', '5', '--timeout-ms', '100']);
  assert.is(r.code, 3, r.stderr);
  assert.equal(r.lines, ['9,AAPL,9999999999,0,100,1']); // what was published stays readable
  assert.match(errorLine(r), new RegExp(`^MDFAN_ERR_WRITER_DEAD: segment ${name}: writer pid ${writer.pid} is gone`));
});

// ---- --top: the top-of-book lines (mdfan_tops.h) ------------------------------------------------

test('--top prints level 0 of every book from the top lines (both sides, one side, never published), and --symbol', async () => {
  const name = segName('ctop');
  const levels = 5;
  const w = SegmentWriter.open({ name, maxInstruments: 4, levels });
  try {
    const books: Array<{ symbol: string; msgIndex: number; bids: Side; asks: Side }> = [
      { symbol: 'AAPL', msgIndex: 2 ** 40 + 7, bids: [[4294967295, 4294967295, 1], [5, 5, 5]], asks: [[4294967294, 10, 2], [4294967295, 11, 1]] },
      { symbol: 'GOOG', msgIndex: 3, bids: [[5794000, 496, 4], [5787000, 400, 2]], asks: [] },
      { symbol: 'IBM', msgIndex: 99, bids: [], asks: [[1450000, 300, 1]] },
    ];
    const index = new Map<string, number>();
    for (const b of books) index.set(b.symbol, w.addInstrument(b.symbol, index.size + 1, 10000));
    w.addInstrument('NEVER', 9, 10000);
    w.publish(index.get('AAPL')!, levelSource(levels, [[1, 1, 1]], [[2, 2, 2]]), 1, 0); // replaced below
    for (const b of books) w.publish(index.get(b.symbol)!, levelSource(levels, b.bids, b.asks), b.msgIndex, 5);
    const expected = [...books.map((b) => dumpLine(b.msgIndex, b.symbol, 1, b.bids, b.asks)), dumpLine(0, 'NEVER', 1, [], [])];
    const all = await runReader([name, '--top']);
    assert.is(all.code, 0, all.stderr);
    assert.equal(all.lines, expected);
    assert.match(all.stderr, /^retries=0 reads=4$/m);
    const one = await runReader([name, '--top', '--symbol', 'IBM']);
    assert.is(one.code, 0, one.stderr);
    assert.equal(one.lines, [expected[2]]);
  } finally {
    w.close({ unlink: true });
  }
});

test('--top --follow --wait block: asleep on the tops futex word (SLEEPING_TOP), a change below the top prints nothing, a top change wakes it; exits at CLOSED', async () => {
  const name = segName('ctopblock');
  const w = SegmentWriter.open({ name, maxInstruments: 1, levels: 2 });
  assert.ok(await w.startControl()); // readers get the registry's descriptor over it
  let child: ChildProcess | undefined;
  const lines: string[] = [];
  try {
    const k = w.addInstrument('AAPL', 1, 10000);
    w.publish(k, levelSource(2, [[100, 1, 1], [99, 1, 1]], [[101, 2, 1]]), 1, 0);
    w.wakeIfSleepers(); // as the feed after each message: this top change is accounted for
    // A sleep of up to 60 s: only the top wake-up can bring the next line before CLOSED.
    const run = runReader([name, '--top', '--follow', '5', '--wait', 'block', '--sleep-ms', '60000'], {
      onLine: (line) => lines.push(line),
      onSpawn: (c) => (child = c),
    });
    await waitUntil(() => lines.length === 1, 10_000, { what: 'the first top' });
    const pid = child!.pid!;
    await waitUntil(() => w.registry.topSleepers() === 1 && w.registry.sleepers() === 0 && asleep(pid), 10_000, {
      what: 'the reader asleep on the top word (registry top_sleepers 1, process state S)',
    });
    w.publish(k, levelSource(2, [[100, 1, 1], [98, 7, 1]], [[101, 2, 1]]), 2, 0); // below the top only
    w.wakeIfSleepers();
    assert.is(w.wakeups, 0); // no top changed: the top sleeper is left asleep
    w.publish(k, levelSource(2, [[100, 5, 2], [98, 7, 1]], [[101, 2, 1]]), 3, 0); // the top's size
    w.wakeIfSleepers();
    assert.is(w.wakeups, 1);
    await waitUntil(() => lines.length === 2, 10_000, { what: 'the changed top, after the wake-up' });
    await waitUntil(() => w.registry.topSleepers() === 1 && asleep(pid), 10_000, { what: 'the reader asleep again' });
    w.close(); // CLOSED wakes every sleeper
    const r = await run;
    assert.is(r.code, 0, r.stderr);
    assert.equal(r.lines, ['1,AAPL,101,2,100,1', '3,AAPL,101,2,100,5']);
  } finally {
    child?.kill('SIGKILL');
    w.close({ unlink: true });
  }
});

test('--top on a segment whose top lines are gone: MDFAN_ERR_NO_SEGMENT "has no top-of-book lines", exit 2', async () => {
  const name = segName('ctopnone');
  const w = SegmentWriter.open({ name, maxInstruments: 1, levels: 1 });
  try {
    w.addInstrument('AAPL', 1, 10000);
    unlinkSegment(topsName(name)); // as a 1.1 writer would leave it
    const r = await runReader([name, '--top', '--timeout-ms', '0']);
    assert.is(r.code, 2, r.stderr);
    assert.match(errorLine(r), new RegExp(`^MDFAN_ERR_NO_SEGMENT: segment ${name} has no top-of-book lines \\(${name}\\.tops\\)`));
    assert.equal(r.lines, []);
    const both = await runReader([name, '--top', '--events', '1']);
    assert.is(both.code, 2, both.stderr);
    assert.match(errorLine(both), /^MDFAN_ERR_OPTIONS: --top and --events exclude each other$/);
  } finally {
    w.close({ unlink: true });
  }
});

test('--top --follow follows a takeover: the dead writer\'s top, then the new writer\'s lines', async () => {
  const name = segName('ctoptake');
  const writer = childWriter(name, { maxInstruments: 2, symbol: 'OLD', msgIndex: 9 });
  const lines: string[] = [];
  let w: SegmentWriter | undefined;
  try {
    await writer.line(/^ready$/, 20_000);
    const run = runReader([name, '--top', '--follow', '2', '--timeout-ms', '30000'], { onLine: (l) => lines.push(l) });
    await waitUntil(() => lines.length === 1, 10_000, { what: 'the first writer\'s top' });
    await writer.kill(); // SIGKILL: its lock is dropped, the segment stays READY
    children.delete(writer);
    w = SegmentWriter.open({ name, maxInstruments: 2, levels: 1 });
    assert.is(w.outcome, 'takeover');
    const k = w.addInstrument('NEW', 2, 100);
    w.publish(k, levelSource(1, [], [[7, 3, 1]]), 10, 0);
    const r = await run;
    assert.is(r.code, 0, r.stderr);
    assert.equal(r.lines, ['9,OLD,9999999999,0,100,1', '10,NEW,7,3,-9999999999,0']);
  } finally {
    await writer.kill();
    w?.close({ unlink: true });
  }
});

test('--follow --wait block across a takeover: the reader claims a line in the new writer\'s registry and is woken by it', async () => {
  const name = segName('cblocktake');
  const writer = childWriter(name, { maxInstruments: 1, symbol: 'AAA', msgIndex: 1, control: true });
  const lines: string[] = [];
  let child: ChildProcess | undefined;
  let w: SegmentWriter | undefined;
  try {
    await writer.line(/^ready$/, 20_000);
    // A futex sleep of up to 60 s: only the new writer's wake-up brings the second line in time.
    const run = runReader([name, '--follow', '5', '--wait', 'block', '--sleep-ms', '60000', '--timeout-ms', '60000'], { onLine: (l) => lines.push(l), onSpawn: (c) => (child = c) });
    await waitUntil(() => lines.length === 1, 10_000, { what: 'the first writer\'s book' });
    await writer.kill();
    children.delete(writer);
    w = SegmentWriter.open({ name, maxInstruments: 1, levels: 1 });
    assert.is(w.outcome, 'takeover');
    assert.ok(await w.startControl());
    const k = w.addInstrument('AAA', 1, 10000);
    w.wakeIfSleepers(); // the takeover's own commits
    const pid = child!.pid!;
    await waitUntil(() => w!.registry.sleepers() === 1 && asleep(pid), 20_000, { what: 'the reader asleep in the new writer\'s registry' });
    w.publish(k, levelSource(1, [[200, 2, 1]], []), 7, 0);
    w.wakeIfSleepers();
    await waitUntil(() => lines.includes('7,AAA,9999999999,0,200,2'), 10_000, { what: 'the new writer\'s book, after its wake-up' });
    w.close(); // CLOSED ends the reader
    const r = await run;
    assert.is(r.code, 0, r.stderr);
    assert.is(r.lines[0], '1,AAA,9999999999,0,100,1');
    assert.is(r.lines[r.lines.length - 1], '7,AAA,9999999999,0,200,2');
    // Between them at most the takeover's empty placeholder book.
    for (const l of r.lines.slice(1, -1)) assert.match(l, /^\d+,AAA,9999999999,0,-9999999999,0$/);
  } finally {
    child?.kill('SIGKILL');
    await writer.kill();
    w?.close({ unlink: true });
  }
});

test('--follow follows the name when a new writer replaced the object by one of another layout (MDFAN_HEADER_REPLACED)', async () => {
  const name = segName('creplaced');
  const writer = childWriter(name, { maxInstruments: 1, symbol: 'AAA', msgIndex: 1 });
  const lines: string[] = [];
  let w: SegmentWriter | undefined;
  try {
    await writer.line(/^ready$/, 20_000);
    const run = runReader([name, '--follow', '2', '--timeout-ms', '30000'], { onLine: (l) => lines.push(l) });
    await waitUntil(() => lines.length === 1, 10_000, { what: 'the first writer\'s book' });
    await writer.kill();
    children.delete(writer);
    w = SegmentWriter.open({ name, maxInstruments: 2, levels: 2 }); // another layout: a new object
    assert.is(w.outcome, 'recreated');
    const k = w.addInstrument('BBB', 2, 10000);
    w.publish(k, levelSource(2, [[300, 3, 1], [299, 4, 1]], [[301, 5, 1]]), 9, 0);
    const r = await run;
    assert.is(r.code, 0, r.stderr);
    assert.equal(r.lines, ['1,AAA,9999999999,0,100,1', dumpLine(9, 'BBB', 2, [[300, 3, 1], [299, 4, 1]], [[301, 5, 1]])]);
  } finally {
    await writer.kill();
    w?.close({ unlink: true });
  }
});

// ---- --wait block: the reader registry and the futex word ------------------------------------

/** Whether process `pid` is asleep in the kernel (state S in /proc/PID/stat): a spinner never is. */
function asleep(pid: number): boolean {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'S';
}

test('--wait needs spin or block; the usage names the header constants behind the defaults', async () => {
  const r = await runReader(['whatever', '--wait', 'nap']);
  assert.is(r.code, 2, r.stderr);
  assert.match(errorLine(r), /^MDFAN_ERR_OPTIONS: --wait needs spin or block$/);
  assert.match(r.stderr, /--stale-ms defaults to MDFAN_STALE_AFTER_MS \(100\)/);
  assert.match(r.stderr, /--sleep-ms to MDFAN_HEARTBEAT_TIMEOUT_MS \(1000\)/);
});

test('--wait block: asleep on the futex, counted in the registry, woken by the next publish; its line is freed at exit', async () => {
  const name = segName('cblock');
  const w = SegmentWriter.open({ name, maxInstruments: 1, levels: 2 });
  assert.ok(await w.startControl()); // readers get the registry's descriptor over it
  let child: ChildProcess | undefined;
  const lines: string[] = [];
  try {
    const k = w.addInstrument('AAPL', 1, 10000);
    w.publish(k, levelSource(2, [[100, 1, 1]], [[101, 2, 1]]), 1, 0);
    // The reader's futex sleep lasts up to 60 s, far past every deadline below: only the wake-up
    // can bring the second book in time.
    const run = runReader([name, '--follow', '2', '--wait', 'block', '--sleep-ms', '60000'], {
      onLine: (line) => lines.push(line),
      onSpawn: (c) => (child = c),
    });
    await waitUntil(() => lines.length === 1, 10_000, { what: 'the first book' });
    const pid = child!.pid!;
    await waitUntil(() => w.registry.sleepers() === 1 && asleep(pid), 10_000, { what: 'the reader asleep (registry sleepers 1, process state S)' });
    assert.equal(w.registry.readers().filter((x) => x.pid === pid), [{ pid, sleeping: true }]);
    w.publish(k, levelSource(2, [[102, 3, 1]], [[103, 4, 1]]), 2, 0);
    w.wakeIfSleepers(); // as the feed does after each input message
    assert.is(w.wakeups, 1); // the writer saw the sleeper
    await waitUntil(() => lines.length === 2, 10_000, { what: 'the second book, after the wake-up' });
    const r = await run;
    assert.is(r.code, 0, r.stderr);
    assert.equal(r.lines, [dumpLine(1, 'AAPL', 2, [[100, 1, 1]], [[101, 2, 1]]), dumpLine(2, 'AAPL', 2, [[102, 3, 1]], [[103, 4, 1]])]);
    assert.not.match(r.stderr, /spinning instead/);
    // Released at exit: no sleeper counted, no line left for its pid.
    assert.is(w.registry.sleepers(), 0);
    assert.equal(w.registry.readers().filter((x) => x.pid === pid), []);
  } finally {
    child?.kill('SIGKILL');
    w.close({ unlink: true });
  }
});

test('--wait block: a reader asleep wakes at CLOSED and exits 0', async () => {
  const name = segName('cblockclose');
  const w = SegmentWriter.open({ name, maxInstruments: 1, levels: 1 });
  assert.ok(await w.startControl()); // readers get the registry's descriptor over it
  let child: ChildProcess | undefined;
  const lines: string[] = [];
  try {
    const k = w.addInstrument('AAPL', 1, 10000);
    w.publish(k, levelSource(1, [[100, 1, 1]], []), 1, 0);
    const run = runReader([name, '--follow', '1000', '--wait', 'block', '--sleep-ms', '60000'], {
      onLine: (line) => lines.push(line),
      onSpawn: (c) => (child = c),
    });
    await waitUntil(() => lines.length === 1, 10_000, { what: 'the first book' });
    await waitUntil(() => w.registry.sleepers() === 1 && asleep(child!.pid!), 10_000, { what: 'the reader asleep' });
    let exited = false;
    void run.then(() => (exited = true));
    w.close(); // CLOSED, then notify_seq bumped and every sleeper woken
    await waitUntil(() => exited, 10_000, { what: 'the reader to wake and exit after CLOSED' });
    const r = await run;
    assert.is(r.code, 0, r.stderr);
    assert.equal(r.lines, ['1,AAPL,9999999999,0,100,1']);
  } finally {
    child?.kill('SIGKILL');
    w.close({ unlink: true });
  }
});

test('--wait block without a reader registry says so on stderr, spins instead, and still follows', async () => {
  const name = segName('cnoreg');
  const w = SegmentWriter.open({ name, maxInstruments: 1, levels: 1 });
  try {
    // No control plane (as a writer whose socket path is too long, or an ABI 1.0 writer): the
    // registry's descriptor cannot be had.
    const k = w.addInstrument('AAPL', 1, 10000);
    w.publish(k, levelSource(1, [[100, 1, 1]], []), 1, 0);
    const r = await runReader([name, '--follow', '2', '--wait', 'block'], {
      onLine: (line) => {
        if (line.startsWith('1,')) {
          w.publish(k, levelSource(1, [], [[101, 1, 1]]), 2, 0);
          w.wakeIfSleepers(); // nobody is counted: no wake-up, the spinning reader sees the commit
        }
      },
    });
    assert.is(r.code, 0, r.stderr);
    assert.equal(r.lines, ['1,AAPL,9999999999,0,100,1', '2,AAPL,101,1,-9999999999,0']);
    assert.match(r.stderr, new RegExp(`^read_book: --wait block: no reader registry for segment ${name}: its writer's control socket is not listening; spinning instead$`, 'm'));
    assert.is(w.wakeups, 0);
  } finally {
    w.close({ unlink: true });
  }
});

// ---- --events: the event ring /NAME.events ----------------------------------------------------

const ch = (c: string): number => c.charCodeAt(0);
/** ITCH prices (x10000) to the ring's 1e-9 units. */
const PX = abi.EVENT_PRICE_SCALE / 10000;

/** Appends one event: the fields given, the rest as newEventFields leaves them (no price, no instrument). */
function appendEvent(w: SegmentWriter, fields: Partial<EventFields>): void {
  w.appendEvent(Object.assign(newEventFields(), fields));
}

/**
 * The lines `mdfan read --record-events` writes for what `reader` (TypeScript) polls from here
 * on: formatEventLine per record (symbol and scale by directory entry, '' and 1 for none) and
 * lappedLine where it was lapped. `accept` filters as the SDK's instrument filter does.
 */
function tsLines(reader: EventRingReader, names: ReadonlyMap<number, readonly [string, number]>, accept?: (rec: EventRecord) => boolean): string[] {
  const batch = new EventBatch(64);
  const out: string[] = [];
  for (;;) {
    const n = reader.poll(batch, accept);
    if (batch.lost > 0) out.push(lappedLine(batch.lost));
    if (n === 0 && batch.lost === 0) return out;
    for (let i = 0; i < n; i++) {
      const rec = batch.records[i]!;
      const [symbol, scale] = names.get(rec.instrumentIndex) ?? ['', 1];
      const line = formatEventLine(rec, symbol, scale);
      if (line !== null) out.push(line);
    }
  }
}

test('--events prints the lines formatEventLine gives for the same records (every kind, no price, --symbol), and stops at CLOSED with the ring drained', async () => {
  const name = segName('cev');
  const w = SegmentWriter.open({ name, maxInstruments: 4, levels: 1, ringEvents: 64 });
  let ts: EventRingReader | undefined;
  try {
    const goog = w.addInstrument('GOOG', 1, 10000);
    const long = w.addInstrument('ABCDEFGHIJKLMNOP', 2, 100); // 16 characters, no NUL; 1e-9 x 1e7 per unit
    const names = new Map<number, [string, number]>([
      [goog, ['GOOG', 10000]],
      [long, ['ABCDEFGHIJKLMNOP', 100]],
    ]);
    const [T, H, S, O] = [abi.EVENT_KIND_TRADE, abi.EVENT_KIND_STATUS, abi.EVENT_KIND_SYSTEM, abi.EVENT_KIND_ORDER];
    const ref = 2 ** 40 + 5;
    const before: Array<Partial<EventFields>> = [
      { kind: S, action: ch('O'), msgIndex: 0 }, // no instrument
      { kind: H, action: ch('T'), instrumentIndex: goog, msgIndex: 1 },
      { kind: O, action: ch('A'), side: ch('B'), instrumentIndex: goog, msgIndex: 2, price: 5794000 * PX, shares: 100, orderRef: ref },
      { kind: T, action: ch('E'), side: ch('B'), instrumentIndex: goog, msgIndex: 3, price: 5794000 * PX, shares: 40, orderRef: ref },
      { kind: T, action: ch('C'), side: ch('B'), instrumentIndex: goog, msgIndex: 4, price: 5794500 * PX, shares: 10, orderRef: ref, aux: ch('Y') },
      { kind: T, action: ch('C'), side: ch('B'), instrumentIndex: goog, msgIndex: 5, price: 5794500 * PX, shares: 10, orderRef: ref, aux: ch('N') }, // not printable: no line
      { kind: O, action: ch('X'), side: ch('B'), instrumentIndex: goog, msgIndex: 6, shares: 20, orderRef: ref }, // no price
      { kind: O, action: ch('U'), side: ch('S'), instrumentIndex: goog, msgIndex: 7, price: 5800000 * PX, shares: 30, orderRef: 77 },
      { kind: O, action: ch('N'), side: ch('S'), instrumentIndex: goog, msgIndex: 7, price: 5799000 * PX, shares: 30, orderRef: 78 },
      { kind: O, action: ch('D'), side: ch('S'), instrumentIndex: goog, msgIndex: 8, orderRef: 78 }, // no price
      { kind: T, action: ch('Q'), instrumentIndex: long, msgIndex: 2 ** 40 + 3, price: 1234 * 1e7, shares: 4294967295, aux: ch('O') },
      { kind: T, action: ch('P'), instrumentIndex: goog, msgIndex: 9, price: 50_000, shares: 1 }, // 0.5 in the feed's units: rounds half up, to 1
      { kind: T, action: ch('P'), instrumentIndex: goog, msgIndex: 10, price: -150_000, shares: 1 }, // -1.5: to -1
      { kind: T, action: ch('P'), instrumentIndex: 3, msgIndex: 11, price: 7 * PX, shares: 2 }, // an entry not announced: no symbol, scale 1
      { kind: ch('Z'), action: ch('A'), instrumentIndex: goog, msgIndex: 12 }, // a kind the format does not know
    ];
    for (const f of before) appendEvent(w, f);
    const all: string[] = [];
    const mine: string[] = [];
    const runAll = runReader([name, '--events', '1000'], { onLine: (l) => all.push(l) });
    const runGoog = runReader([name, '--events', '1000', '--symbol', 'GOOG'], { onLine: (l) => mine.push(l) });
    await waitUntil(() => all.length > 0 && mine.length > 0, 10_000, { what: 'both readers to print their first event' });
    // Appended while both follow, then CLOSED at once: they must print these too, then stop.
    appendEvent(w, { kind: T, action: ch('E'), side: ch('S'), instrumentIndex: goog, msgIndex: 13, price: 5801000 * PX, shares: 5, orderRef: 79 });
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
      `${2 ** 40 + 3},ABCDEFGHIJKLMNOP,T,1234,4294967295,Q`,
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
    assert.ok(g.lines.includes('0,,S,O') && !g.lines.some((l) => l.includes('ABCDEFGHIJKLMNOP')), 'GOOG and system events only');
  } finally {
    ts?.close();
    w.close({ unlink: true });
  }
});

/** A trade per ring sequence r, on instrument 0 (AAPL), so every line names its record. */
function appendTrades(w: SegmentWriter, from: number, to: number): void {
  for (let r = from; r <= to; r++)
    appendEvent(w, { kind: abi.EVENT_KIND_TRADE, action: ch('E'), side: ch('B'), instrumentIndex: 0, msgIndex: r * 10, price: r * PX, shares: r });
}
const AAPL = new Map([[0, ['AAPL', 10000] as const]]);

test('--events on a ring that wrapped before the reader came starts at the oldest whole record, as the TypeScript reader', async () => {
  const name = segName('cevwrap');
  const w = SegmentWriter.open({ name, maxInstruments: 1, levels: 1, ringEvents: 16 });
  try {
    w.addInstrument('AAPL', 1, 10000);
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
    w.addInstrument('AAPL', 1, 10000);
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
    w.addInstrument('AAPL', 1, 10000);
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
    import { SegmentWriter, newEventFields } from ${JSON.stringify(join(repoRoot, 'dist', 'native', 'segment', 'index.js'))};
    const w = SegmentWriter.open({ name: ${JSON.stringify(name)}, maxInstruments: 2, levels: 1, ringEvents: 16 });
    const k = w.addInstrument('OLD', 1, 10000);
    for (let r = 1; r <= 3; r++) w.appendEvent(Object.assign(newEventFields(), { kind: 84, action: 69, instrumentIndex: k, msgIndex: r, price: r * 100000, shares: r }));
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
    const k = w.addInstrument('NEW', 2, 100);
    for (const m of [10, 11]) appendEvent(w, { kind: abi.EVENT_KIND_TRADE, action: ch('P'), instrumentIndex: k, msgIndex: m, price: m * 1e7, shares: m });
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
    w.addInstrument('AAPL', 1, 10000);
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

/** A ring image as a 1.1 writer of generation 1 leaves it, with `records` whole records (ring sequences 1..n). */
function rawRing(o: { capacity?: number; records?: Array<(rec: Buffer) => void>; edit?: (b: Buffer) => void } = {}): Buffer {
  const capacity = o.capacity ?? 16;
  const H = abi.STRUCTS.events_header;
  const E = abi.STRUCTS.event;
  const b = Buffer.alloc(abi.EVENTS_HEADER_BYTES + capacity * abi.EVENT_BYTES);
  b.write('MDEV', H.magic.offset, 'latin1');
  b.writeUInt16LE(abi.ABI_MAJOR, H.abi_major.offset);
  b.writeUInt16LE(abi.ABI_MINOR, H.abi_minor.offset);
  b.writeUInt32LE(capacity, H.capacity.offset);
  b.writeUInt32LE(abi.EVENT_BYTES, H.record_bytes.offset);
  b.writeUInt32LE(1, H.generation.offset);
  b.writeUInt32LE(abi.EVENTS_HEADER_BYTES, H.header_bytes.offset);
  b.writeBigUInt64LE(BigInt(b.length), H.total_bytes.offset);
  (o.records ?? []).forEach((fill, i) => {
    const rec = b.subarray(abi.EVENTS_HEADER_BYTES + i * abi.EVENT_BYTES, abi.EVENTS_HEADER_BYTES + (i + 1) * abi.EVENT_BYTES);
    rec.writeUInt32LE(abi.EVENT_NO_INSTRUMENT, E.instrument_index.offset);
    rec.writeBigInt64LE(abi.EVENT_PRICE_NONE_U64, E.price.offset);
    fill(rec);
    rec.writeBigUInt64LE(BigInt(i + 1), E.seq.offset);
  });
  b.writeBigUInt64LE(BigInt(o.records?.length ?? 0), H.head.offset);
  o.edit?.(b);
  return b;
}

/** A READY data segment image with one instrument, RAW (scale 10000), and `ring` beside it. */
function writeRawWithRing(tag: string, ring: Buffer): string {
  const name = writeRaw(
    tag,
    rawImage({
      edit: (b) => {
        b.write('RAW', abi.HEADER_BYTES + abi.DIR.symbol.offset, 'latin1');
        b.writeUInt32LE(10000, abi.HEADER_BYTES + abi.DIR.price_scale.offset);
        b.writeUInt32LE(1, abi.HDR.instrument_count.offset);
      },
    }),
  );
  writeFileSync(`/dev/shm/${name}.events`, ring, { mode: 0o600 });
  return name;
}

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
        rec.writeUInt32LE(3, E.shares.offset);
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

const ringRefusals: Array<{ what: string; ring: Buffer; code: string; says: RegExp }> = [
  {
    what: 'a foreign magic',
    ring: rawRing({ edit: (b) => b.write('NOPE', abi.STRUCTS.events_header.magic.offset, 'latin1') }),
    code: 'MDFAN_ERR_BAD_MAGIC',
    says: /magic 0x45504f4e, expected 0x5645444d/,
  },
  {
    what: 'another ABI major',
    ring: rawRing({ edit: (b) => b.writeUInt16LE(2, abi.STRUCTS.events_header.abi_major.offset) }),
    code: 'MDFAN_ERR_ABI_VERSION',
    says: /has ABI 2\.\d+; this reader speaks ABI 1\.\d+/,
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
const FOLLOW_LEVELS = 10;
const SYMBOLS = ['EVEN', 'ODD'];

/** Writes commit m's levels into src (no allocation: the publisher calls it per commit). */
function fillBook(m: number, src: LevelSource): void {
  const n = FOLLOW_LEVELS;
  const bidCount = m % (n + 1);
  const askCount = (m * 7 + 3) % (n + 1);
  src.bidCount = bidCount;
  src.askCount = askCount;
  for (let i = 0; i < n; i++) {
    const b = i < bidCount;
    src.bids[i * 3] = b ? 100_000_000 + 2 * (m % 1_000_000_000) - i : 0;
    src.bids[i * 3 + 1] = b ? ((m * 31 + i * 17) % 100_003) + 1 : 0;
    src.bids[i * 3 + 2] = b ? (m + i) & 0xffff : 0;
    const a = i < askCount;
    src.asks[i * 3] = a ? 100_000_001 + 2 * (m % 1_000_000_000) + i : 0;
    src.asks[i * 3 + 1] = a ? ((m * 13 + i * 29) % 99_991) + 1 : 0;
    src.asks[i * 3 + 2] = a ? (m ^ i) & 0xffff : 0;
  }
}

const newSource = (): LevelSource => ({ bidCount: 0, askCount: 0, bids: new Uint32Array(FOLLOW_LEVELS * 3), asks: new Uint32Array(FOLLOW_LEVELS * 3) });

function bookOf(m: number): { bids: Side; asks: Side } {
  const src = newSource();
  fillBook(m, src);
  const side = (a: Uint32Array, count: number): Side => Array.from({ length: count }, (_, i) => [a[i * 3], a[i * 3 + 1], a[i * 3 + 2]]);
  return { bids: side(src.bids, src.bidCount), asks: side(src.asks, src.askCount) };
}

/**
 * The publisher of the concurrency test, in a worker thread: commits to both slots alternately,
 * flat out, until the main thread raises the stop flag; then closes (CLOSED) and reports how many
 * commits it made. The writer owns its own mapping and the writer lock.
 */
function writerThread(d: { name: string; stop: SharedArrayBuffer }): void {
  const w = SegmentWriter.open({ name: d.name, maxInstruments: 2, levels: FOLLOW_LEVELS });
  const idx = SYMBOLS.map((s, i) => w.addInstrument(s, i, 10000));
  const stop = new Int32Array(d.stop);
  const src = newSource();
  let m = 0;
  const publishOne = (): void => {
    fillBook(m, src);
    w.publish(idx[m % 2], src, m, m * 1000);
    m++;
  };
  publishOne();
  publishOne();
  parentPort!.postMessage({ ready: true });
  // Back to back, no pause: most of the reader's copies race a commit (millions of retries), so
  // a reader that skipped its seq re-check would, in most runs, print torn books here.
  while (Atomics.load(stop, 0) === 0) for (let i = 0; i < 256; i++) publishOne();
  w.close();
  parentPort!.postMessage({ done: m });
}

/**
 * Why `line` is not one whole commit of fillBook(), or null. `last` holds each symbol's previous
 * msgIndex (a seqlock never goes back in time); `published` bounds the msgIndex.
 */
function followLineProblem(line: string, published: number, last: Map<string, number>, levels = FOLLOW_LEVELS): string | null {
  const comma1 = line.indexOf(',');
  const mi = Number(line.slice(0, comma1));
  const sym = line.slice(comma1 + 1, line.indexOf(',', comma1 + 1));
  if (!Number.isInteger(mi) || mi < 0 || mi >= published) return `msgIndex ${mi} never published`;
  if (sym !== SYMBOLS[mi % 2]) return `commit ${mi} belongs to ${SYMBOLS[mi % 2]}, not ${sym}`;
  const { bids, asks } = bookOf(mi);
  if (line !== dumpLine(mi, sym, levels, bids, asks)) return `levels are not those of commit ${mi}`;
  const prev = last.get(sym) ?? -1;
  last.set(sym, mi);
  if (mi <= prev) return `commit ${mi} after ${prev}`;
  return null;
}

test('the follow check rejects a line that mixes two commits, a wrong symbol or a step back', () => {
  const a = bookOf(40);
  const b = bookOf(42);
  assert.is(a.bids.length, 40 % 11); // the payload really varies its depth
  const good = dumpLine(40, 'EVEN', FOLLOW_LEVELS, a.bids, a.asks);
  assert.is(followLineProblem(good, 100, new Map()), null);
  const mixed = dumpLine(40, 'EVEN', FOLLOW_LEVELS, a.bids, b.asks); // header of one commit, levels of another
  assert.match(followLineProblem(mixed, 100, new Map()) ?? '', /levels are not those/);
  assert.match(followLineProblem(dumpLine(40, 'ODD', FOLLOW_LEVELS, a.bids, a.asks), 100, new Map()) ?? '', /belongs to EVEN/);
  assert.match(followLineProblem(good, 100, new Map([['EVEN', 40]])) ?? '', /after 40/);
  assert.match(followLineProblem(good, 40, new Map()) ?? '', /never published/);
  assert.match(followLineProblem(dumpLine(40, 'EVEN', 1, b.bids, b.asks), 100, new Map(), 1) ?? '', /levels are not those/); // a top of another commit
  assert.is(followLineProblem(dumpLine(40, 'EVEN', 1, a.bids, a.asks), 100, new Map(), 1), null);
});

test('--follow 2000 (books, and --top) while TypeScript publishes flat out in another thread: every line is one whole commit', async () => {
  const name = segName('cfollow');
  const stop = new SharedArrayBuffer(4);
  const worker = new Worker(new URL(import.meta.url), { workerData: { role: 'c-reader-writer', name, stop } });
  const messages: Array<{ ready?: boolean; done?: number }> = [];
  let wake: () => void = () => {};
  worker.on('message', (msg) => {
    messages.push(msg);
    wake();
  });
  const failed = new Promise<never>((_, reject) => worker.once('error', reject));
  const next = async (key: 'ready' | 'done'): Promise<{ ready?: boolean; done?: number }> => {
    for (;;) {
      const found = messages.find((x) => key in x);
      if (found) return found;
      await Promise.race([new Promise<void>((r) => (wake = r)), failed]);
    }
  };
  let published = 0;
  try {
    await next('ready');
    // Every commit changes its book's top (fillBook never leaves both sides empty), so the top
    // reader also sees a top line per commit it catches.
    const [book, top] = await Promise.all([runReader([name, '--follow', '2000']), runReader([name, '--top', '--follow', '2000'])]);
    Atomics.store(new Int32Array(stop), 0, 1);
    published = (await next('done')).done!;
    for (const [r, levels, what] of [[book, FOLLOW_LEVELS, 'books'], [top, 1, 'tops']] as const) {
      assert.is(r.code, 0, r.stderr);
      assert.is(r.lines.length, 2000);
      const last = new Map<string, number>();
      const problems: string[] = [];
      for (const line of r.lines) {
        const why = followLineProblem(line, published, last, levels);
        if (why !== null) problems.push(`${why}: ${line}`);
      }
      assert.is(problems.length, 0, `${what}: ${problems.length} torn, foreign or out-of-order lines; first: ${problems[0]}`);
      const counts = /^retries=(\d+) reads=(\d+)$/m.exec(r.stderr);
      assert.ok(counts, r.stderr);
      assert.ok(Number(counts[2]) >= 2000, r.stderr);
      console.log(`  C reader (${what}) under load: ${published} commits published, 2000 printed, ${counts[1]} retries, ${counts[2]} reads`);
    }
  } finally {
    Atomics.store(new Int32Array(stop), 0, 1);
    await worker.terminate();
  }
});

test('every first copy raced by a commit (a pause in mid-copy, test build): each is caught and read again, no torn line', async () => {
  // read_book built with a 2 ms pause between the two halves of each read's first copy: the writer
  // commits thousands of times meanwhile, so every first copy is torn. A reader without its second
  // seq check would print every one of them; this one must retry each.
  const paused = join(workDir, 'read_book_midcopy');
  execFileSync('cc', ['-std=gnu11', '-O2', '-Wall', '-Wextra', '-Werror', '-DMDFAN_SEQLOCK_TEST_MIDCOPY(r)=((void)((r) == 0 && usleep(2000)))', '-I', join(repoRoot, 'native', 'include'), '-o', paused, source], { stdio: 'pipe' });
  const name = segName('cmidcopy');
  const stop = new SharedArrayBuffer(4);
  const worker = new Worker(new URL(import.meta.url), { workerData: { role: 'c-reader-writer', name, stop } });
  const ready = new Promise<void>((resolve, reject) => {
    worker.once('message', () => resolve());
    worker.once('error', reject);
  });
  try {
    await ready;
    const c = spawnChild('read_book (mid-copy pause)', paused, [name, '--follow', '200'], { maxStdoutLines: Infinity });
    children.add(c);
    const e = await c.exited;
    children.delete(c);
    assert.is(e.code, 0, c.stderr());
    const lines = c.stdout.filter((l) => l.length > 0);
    assert.is(lines.length, 200);
    const last = new Map<string, number>();
    const problems = lines.map((l) => followLineProblem(l, Number.MAX_SAFE_INTEGER, last)).filter((p) => p !== null);
    assert.equal(problems, [], 'no torn, foreign or out-of-order line');
    const counts = /^retries=(\d+) reads=(\d+)$/m.exec(c.stderr());
    assert.ok(counts, c.stderr());
    assert.ok(Number(counts[1]) >= Number(counts[2]), `every read's first copy was torn and caught: ${counts[0]}`);
  } finally {
    Atomics.store(new Int32Array(stop), 0, 1);
    await worker.terminate();
  }
});

if (isMainThread) test.run();
else if ((workerData as { role?: string } | null)?.role === 'c-reader-writer') writerThread(workerData as { name: string; stop: SharedArrayBuffer });
