/**
 * Bad DBN input through `mdfan feed --source dbn:FILE`: a truncated record (plain and zstd), a
 * length that runs past the file, impossible lengths, metadata longer than the file or
 * inconsistent with itself, bad zstd frames, legacy DBZ, files that are not DBN, a price a double
 * cannot hold, unknown record types and a hostile metadata length. Each bad record gives exit 1 and
 * MDFAN_ERR_FEED_CORRUPT naming the file, the byte offset in the decompressed stream and the record
 * index computed here from the layout (metadata bytes + 56 per MBO record before it); the dump
 * holds exactly the books of the records before it (the clean GOOG run's lines below that index)
 * and the segment is BROKEN with that many messages. What is wrong at open (prelude, metadata, a
 * zstd frame header) leaves no segment and no dump. Unknown record types are counted, not fatal.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HEADER, layoutOfStruct } from '../lib/dbn/fields.js';
import { METADATA } from '../lib/dbn/metadata.js';
import { GOOG_DBN } from './helpers/oracle.js';
import { binPath, sharedData } from './helpers/paths.js';
import { cleanupSegments, segName, shmExists } from './helpers/segments.js';
import { zstd } from './helpers/dbn-build.js';

const dir = mkdtempSync(join(tmpdir(), 'mdfan-dbn-bad-'));
test.after.each(cleanupSegments);
test.after(() => rmSync(dir, { recursive: true, force: true }));

const MBO = layoutOfStruct('MboMsg');
const REC = MBO.bytes;
/** The GOOG day, decompressed by the zstd tool (independent of the feed's decoder). */
const goog = ((): Buffer => {
  const r = spawnSync('zstd', ['-dc', GOOG_DBN], { maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`zstd -dc ${GOOG_DBN}: ${r.stderr}`);
  return r.stdout;
})();
/** Records start after the prelude and the metadata length it announces (360 bytes, README). */
const RECORDS_AT = METADATA.preludeBytes + goog.readUInt32LE(4);
const RECORDS = (goog.length - RECORDS_AT) / REC;
/** Byte offset of GOOG record k in the decompressed stream. */
const at = (k: number): number => RECORDS_AT + k * REC;
/** GOOG's metadata and its first n records, as a new buffer to damage. */
const googPrefix = (n: number): Buffer => Buffer.from(goog.subarray(0, at(n)));

/** Byte offset of the symbols count: the prelude, the fixed part, schema_definition_length (u32). */
const SYMBOLS_COUNT_AT = METADATA.preludeBytes + METADATA.fixedBytes + 4;

interface FeedRun {
  r: SpawnSyncReturns<string>;
  file: string;
  name: string;
  dump: string;
  ms: number;
}

/** `mdfan feed --source dbn:FILE --segment NAME --dump-books DUMP --keep-segment`, killed after timeoutMs (a hang fails). */
function feed(fileName: string, bytes: Buffer | null, tag: string, timeoutMs = 20_000): FeedRun {
  const file = bytes === null ? fileName : join(dir, fileName);
  if (bytes !== null) writeFileSync(file, bytes);
  const name = segName(tag);
  const dump = join(dir, `${tag}.dump`);
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [binPath, 'feed', '--source', `dbn:${file}`, '--segment', name, '--dump-books', dump, '--keep-segment'], {
    encoding: 'utf8',
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
    maxBuffer: 1 << 26,
  });
  const ms = Date.now() - t0;
  assert.is(r.error, undefined, `${tag}: mdfan feed did not finish in ${timeoutMs} ms (a hang?): ${String(r.error)}`);
  assert.is(r.signal, null, `${tag}: killed by ${r.signal}`);
  assert.not.match(r.stderr, /internal error/i, `${tag}: ${r.stderr}`);
  assert.not.match(r.stderr, /\n\s+at .*\.js:\d+/, `${tag}: a stack trace: ${r.stderr}`);
  return { r, file, name, dump, ms };
}

const dumpLines = (dump: string): string[] => {
  const t = readFileSync(dump, 'latin1');
  return t === '' ? [] : t.replace(/\n$/, '').split('\n');
};
const indexOf = (line: string): number => Number(line.slice(0, line.indexOf(',')));
const stat = (name: string) => JSON.parse(spawnSync(process.execPath, [binPath, 'stat', '--segment', name, '--json'], { encoding: 'utf8' }).stdout);

/** The clean run of the whole GOOG day: its dump lines (books on change), computed once. */
let cleanLines: string[] | null = null;
function clean(): string[] {
  if (cleanLines === null) {
    const c = feed(GOOG_DBN, null, 'clean', 120_000);
    assert.is(c.r.status, 0, c.r.stderr);
    cleanLines = dumpLines(c.dump);
    assert.ok(cleanLines.length > 100_000);
    assert.is(indexOf(cleanLines.at(-1)!), RECORDS - 1);
  }
  return cleanLines;
}
/** The books a clean run publishes for records 0..k-1. */
const booksBefore = (k: number): string[] => clean().filter((l) => indexOf(l) < k);

/** The feed_error log line's details (the JSON pino line on stderr). */
function errorDetails(stderr: string): Record<string, unknown> {
  const line = stderr.split('\n').find((l) => l.includes('"event":"feed_error"'));
  assert.ok(line, `no feed_error line in ${stderr}`);
  return JSON.parse(line!);
}

/**
 * A replay stopped at record k (byte offset `offset`): exit 1, MDFAN_ERR_FEED_CORRUPT naming the
 * file, `text` (the message from the file name on), the details; the dump is exactly the clean
 * books before k (`expected`), the segment BROKEN with k messages and no book past k - 1.
 */
function assertStoppedAt(run: FeedRun, k: number, offset: number, text: string, expected = booksBefore(k)): void {
  const { r, file, name, dump } = run;
  assert.is(r.status, 1, r.stderr);
  assert.match(r.stderr, `mdfan feed: MDFAN_ERR_FEED_CORRUPT: ${file}: ${text}`);
  const d = errorDetails(r.stderr);
  assert.equal([d.code, d.file, d.offset, d.msgIndex], ['MDFAN_ERR_FEED_CORRUPT', file, offset, k]);
  const lines = dumpLines(dump);
  assert.ok(lines.length > 0 || k === 0, 'books before the bad record were published');
  if (lines.length > 0) assert.ok(indexOf(lines.at(-1)!) < k, `a book past record ${k - 1}: ${lines.at(-1)!.slice(0, 40)}`);
  assert.is(lines.length, expected.length, 'as many books as a clean run cut at the bad record');
  assert.ok(
    lines.every((l, i) => l === expected[i]),
    'the books of a clean run cut at the bad record',
  );
  const st = stat(name);
  assert.is(st.state, 'BROKEN');
  assert.is(st.messages, k);
  if (k > 0) assert.ok(st.instruments[0].msg_index < k);
}

/** Refused at open: exit 1, the code, the file and `text`; no segment (nor its companions), no dump. */
function assertRefusedAtOpen(run: FeedRun, text: string | RegExp): void {
  const { r, file, name, dump } = run;
  assert.is(r.status, 1, r.stderr);
  assert.match(r.stderr, `mdfan feed: MDFAN_ERR_FEED_CORRUPT: ${file}: `);
  assert.match(r.stderr, text);
  assert.not.match(r.stderr, '"event":"writer_ready"', 'no writer was started');
  assert.not.ok(shmExists(name), 'no segment');
  assert.equal(
    readdirSync('/dev/shm').filter((f) => f.startsWith(name)),
    [],
  );
  assert.ok(!existsSync(dump) || readFileSync(dump).length === 0, 'no dump');
}

test('the layout: GOOG is v3 metadata of 360 bytes and 172,926 MBO records of 56 bytes', () => {
  assert.is(goog.subarray(0, 4).toString('latin1'), 'DBN\x03');
  assert.is(RECORDS_AT, 360);
  assert.is(REC, 56);
  assert.is(RECORDS, 172_926);
  for (const k of [0, 999, 1000, 1500, 1999, 84_254, RECORDS - 1]) {
    assert.is(goog[at(k) + HEADER.length], REC / 4);
    assert.is(goog[at(k) + HEADER.rtype], 0xa0);
  }
});

test('1. a truncated record (plain GOOG cut inside record 1000 at 1, 20 and 55 bytes; the same zstd-compressed): CORRUPT at record 1000, its offset; the books before it', () => {
  for (const cut of [1, 20, 55]) {
    const bytes = goog.subarray(0, at(1000) + cut);
    const why = `record 1000 at byte offset ${at(1000)}: the stream ends inside a record: its length says 56 bytes, ${cut} are there`;
    assertStoppedAt(feed(`cut${cut}.dbn`, bytes, `cut${cut}`), 1000, at(1000), why);
    assertStoppedAt(feed(`cut${cut}.dbn.zst`, zstd(bytes), `cutz${cut}`), 1000, at(1000), why);
  }
});

test('2. a record length that runs past the file (the last record, 1999, says 255 words): CORRUPT at record 1999', () => {
  const b = googPrefix(2000);
  b[at(1999) + HEADER.length] = 255;
  const why = `record 1999 at byte offset ${at(1999)}: the stream ends inside a record: its length says 1020 bytes, 56 are there`;
  assertStoppedAt(feed('past.dbn', b, 'past'), 1999, at(1999), why);
  assertStoppedAt(feed('past.dbn.zst', zstd(b), 'pastz'), 1999, at(1999), why);
});

test('3. impossible lengths at record 1500: 0 words, 2 words (8 bytes < a 16-byte header), on an MBO and on a type without a layout (0x77); an MBO of 8 words (32 bytes < 56)', () => {
  for (const rtype of [0x77, 0xa0]) {
    for (const [words, why] of [
      [0, 'record length 0 bytes (0 words) is shorter than a record header (16)'],
      [2, 'record length 8 bytes (2 words) is shorter than a record header (16)'],
    ] as const) {
      const b = googPrefix(3000);
      b[at(1500) + HEADER.length] = words;
      b[at(1500) + HEADER.rtype] = rtype; // 0x77: only the header check stands between a 0 length and a loop on one byte
      const tag = `len${words}-${rtype.toString(16)}`;
      assertStoppedAt(feed(`${tag}.dbn`, b, tag), 1500, at(1500), `record 1500 at byte offset ${at(1500)}: ${why}`);
    }
  }
  // An MBO record framed as 32 bytes: the framing stays consistent (the next record starts right
  // after it), so only the check against MBO's layout can see it.
  const b = googPrefix(3000);
  const short = Buffer.from(b.subarray(at(1500), at(1500) + 32));
  short[HEADER.length] = 8;
  const spliced = Buffer.concat([b.subarray(0, at(1500)), short, b.subarray(at(1501))]);
  assertStoppedAt(feed('len8.dbn', spliced, 'len8'), 1500, at(1500), `record 1500 at byte offset ${at(1500)}: record length 32 bytes is shorter than a DBN v3 MboMsg (56)`);
});

test('4. a metadata length past the end of the file (small plain and zstd, the whole plain GOOG day): refused at open, no segment', () => {
  const small = googPrefix(10);
  const length = small.length + 1000;
  small.writeUInt32LE(length, 4);
  const why = `the stream ends inside the metadata (its length says ${length} bytes)`;
  assertRefusedAtOpen(feed('metapast.dbn', small, 'metapast'), why);
  assertRefusedAtOpen(feed('metapast.dbn.zst', zstd(small), 'metapastz'), why);
  const day = Buffer.from(goog);
  day.writeUInt32LE(16 << 20, 4); // 16 MiB: under the 64 MiB cap, past the 9.7 MB file
  assertRefusedAtOpen(feed('metapast-day.dbn', day, 'metapastday'), `the stream ends inside the metadata (its length says ${16 << 20} bytes)`);
});

test('4. a compressed file whose head does not hold the metadata, with a metadata length past its end: the error names the metadata, no record, no book', () => {
  // Past the 64 KiB head read at open: known only when the stream is read (after the segment exists).
  const b = googPrefix(40_000);
  b.writeUInt32LE(16 << 20, 4);
  const z = zstd(b);
  assert.ok(z.length > 64 * 1024);
  const { r, file, name, dump } = feed('metapast-big.dbn.zst', z, 'metapastbig');
  assert.is(r.status, 1, r.stderr);
  assert.match(r.stderr, `MDFAN_ERR_FEED_CORRUPT: ${file}: the stream ends inside the metadata (its length says ${16 << 20} bytes): ${(16 << 20) + 8} bytes needed at byte offset 0, ${b.length} there`);
  assert.not.match(r.stderr, /record \d+ at/);
  assert.equal(dumpLines(dump), []);
  assert.is(stat(name).messages, 0);
});

test('4. metadata whose length is fine but whose symbol count runs past it (5, 2^32 - 1; plain and zstd): refused at open naming the count and its offset', () => {
  for (const n of [5, 0xffffffff]) {
    const b = googPrefix(1000);
    assert.is(b.readUInt32LE(SYMBOLS_COUNT_AT), 1); // ["GOOG"]
    b.writeUInt32LE(n, SYMBOLS_COUNT_AT);
    const why = `metadata field symbols count at byte offset ${SYMBOLS_COUNT_AT} needs ${n * 71} bytes, more than the metadata has left (found ${n})`;
    assertRefusedAtOpen(feed(`symbols${n}.dbn`, b, `symbols${n}`), why);
    assertRefusedAtOpen(feed(`symbols${n}.dbn.zst`, zstd(b), `symbolsz${n}`), why);
  }
});

test('5. a corrupt zstd frame header (bytes 4 and 5 of the GOOG .zst flipped): refused at open, no segment', () => {
  const z = readFileSync(GOOG_DBN);
  z[4] ^= 0xff;
  z[5] ^= 0xff;
  assertRefusedAtOpen(feed('badheader.dbn.zst', z, 'zhdr'), /corrupt zstd stream/);
});

test('5. the GOOG .zst cut at half its size: CORRUPT where the decodable blocks end (offset and record from zstd -dc of the cut file); the dump a prefix of the clean one', () => {
  const z = readFileSync(GOOG_DBN);
  const half = z.subarray(0, Math.floor(z.length / 2));
  // What the cut file decodes to before the cut, by the zstd tool: whole blocks.
  const decoded = spawnSync('zstd', ['-dc'], { input: half, maxBuffer: 1 << 26 });
  assert.is.not(decoded.status, 0, 'the zstd tool sees the cut too');
  const k = Math.floor((decoded.stdout.length - RECORDS_AT) / REC);
  assert.ok(k > 80_000 && k < RECORDS);
  const run = feed('half.dbn.zst', half, 'zhalf', 60_000);
  assertStoppedAt(run, k, at(k), `zstd stream ends early (inside a frame) after ${at(k)} decompressed bytes; message index ${k}`);
  const lines = dumpLines(run.dump);
  assert.equal(lines, clean().slice(0, lines.length), 'a prefix of the clean run');
});

test('5. garbage after a valid frame (the GOOG .zst + 43 bytes; 20,000 records + 3 bytes): every record replayed, then CORRUPT at the end of the stream', () => {
  const z = readFileSync(GOOG_DBN);
  const garbage = Buffer.concat([z, Buffer.from('this is not a zstd frame, nor anything else')]);
  const run = feed('garbage.dbn.zst', garbage, 'zgarbage', 120_000);
  assertStoppedAt(run, RECORDS, at(RECORDS), `corrupt zstd stream (not a zstd frame at compressed byte offset ${z.length} (magic 0x${garbage.readUInt32LE(z.length).toString(16)}, frame 1)) after ${at(RECORDS)} decompressed bytes; message index ${RECORDS}`, clean());
  // Less than a frame magic after the first 20,000 records: bytes that are no frame, at the end of the stream.
  const first = zstd(googPrefix(20_000));
  const short = Buffer.concat([first, Buffer.from('xyz')]);
  assertStoppedAt(feed('garbage3.dbn.zst', short, 'zgarbage3'), 20_000, at(20_000), `corrupt zstd stream (zstd stream ends with 3 bytes after frame 0 that are not a zstd frame (compressed byte offset ${first.length})) after ${at(20_000)} decompressed bytes; message index 20000`);
});

test('6. legacy DBZ: refused at open as legacy DBZ, no segment', () => {
  const dbz = join(sharedData, 'dbn', 'samples', 'test_data.mbo.dbz');
  assertRefusedAtOpen(feed(dbz, null, 'dbz'), 'legacy DBZ (zstd skippable frame, DBN version 0) is not supported');
});

test('7. not DBN at all (a text file, plain and zstd; an empty file) and a DBN version 9 prelude: clear errors at open, no segment', () => {
  const text = Buffer.from('ts_event,price,size\n1,2,3\nthis is a CSV file, not DBN\n');
  assertRefusedAtOpen(feed('text.dbn', text, 'text'), 'not a DBN stream (it does not start with "DBN" and a version)');
  assertRefusedAtOpen(feed('text.dbn.zst', zstd(text), 'textz'), 'not a DBN stream (it does not start with "DBN" and a version)');
  assertRefusedAtOpen(feed('empty.dbn', Buffer.alloc(0), 'empty'), 'not a DBN stream');
  const v9 = googPrefix(100);
  v9[3] = 0x09;
  assertRefusedAtOpen(feed('v9.dbn', v9, 'v9'), 'DBN version 9 is not supported (versions 1 to 3 are)');
});

test('8. a price beyond ±2^53 units in an MBO add (GOOG, the first add from record 1500; 2^53 + 1 and -(2^53 + 1)): CORRUPT naming field price and the record', () => {
  const A = 'A'.charCodeAt(0);
  let k = 1500;
  while (goog[at(k) + MBO.at('action')] !== A) k++;
  for (const price of [2n ** 53n + 1n, -(2n ** 53n + 1n)]) {
    const b = googPrefix(k + 500);
    b.writeBigInt64LE(price, at(k) + MBO.at('price'));
    assertStoppedAt(feed(`price${price}.dbn`, b, `price${price < 0n ? 'neg' : 'pos'}`), k, at(k), `record ${k} at byte offset ${at(k)}: field price: the price is beyond ±2^53 units`);
  }
});

test('9. an unknown record type (rtype 0x77, 32 bytes) between records 999 and 1000: skipped and counted, exit 0, every other book intact', () => {
  const b = googPrefix(2000);
  const unknown = Buffer.alloc(32);
  goog.copy(unknown, 0, at(999), at(999) + HEADER.bytes); // record 999's header: instrument and time
  unknown[HEADER.length] = unknown.length / 4;
  unknown[HEADER.rtype] = 0x77;
  const { r, name, dump } = feed('unknown.dbn', Buffer.concat([b.subarray(0, at(1000)), unknown, b.subarray(at(1000))]), 'unknown');
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, 'mdfan feed: 2001 messages');
  assert.match(r.stdout, 'unknown types 1,');
  assert.match(r.stdout, /, 1 unknown types skipped(,|$)/m);
  assert.match(r.stdout, 'DBN v3 XNAS.ITCH 2000 MBO');
  // The unknown record is index 1000: the books after it are the clean ones, one index later.
  const want = booksBefore(2000).map((l) => (indexOf(l) < 1000 ? l : `${indexOf(l) + 1}${l.slice(l.indexOf(','))}`));
  assert.equal(dumpLines(dump), want);
  const st = stat(name);
  assert.is(st.state, 'CLOSED');
  assert.is(st.messages, 2001);
});

test('10. a hostile metadata length (0xFFFFFFF0, plain and zstd): refused at once by the prelude check, no segment', () => {
  for (const [file, bytes] of [
    ['hostile.dbn', googPrefix(100)],
    ['hostile.dbn.zst', null],
  ] as const) {
    const b = bytes ?? googPrefix(100);
    b.writeUInt32LE(0xfffffff0, 4);
    const run = feed(file, file.endsWith('.zst') ? zstd(b) : b, file.endsWith('.zst') ? 'hostilez' : 'hostile', 10_000);
    assertRefusedAtOpen(run, `metadata length ${0xfffffff0} at byte offset 4 is more than ${METADATA.maxBytes}: not a DBN stream this reader takes`);
  }
});

test.run();
