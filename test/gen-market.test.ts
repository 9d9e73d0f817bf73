/**
 * `mdfan gen-market`: every generated instrument's books, as the feed handler publishes them, are
 * its source instrument's books message for message (the copies are prefixes of the source's
 * sequence, interleaved by time); symbols and locates are the copies' own; bad options are refused;
 * --out never writes through a planted link nor replaces a device, a FIFO or a directory.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { binPath } from './helpers/paths.js';
import { GOOG_ITCH } from './helpers/oracle.js';
import { killAll, startNode } from './helpers/procs.js';
import { cleanupSegments, segName } from './helpers/segments.js';
import { copyShiftNs, copySymbol } from '../feed/market/gen-market.js';
import { loadFeed, nextFrame } from '../feed/itch/framing.js';
import { OFF } from '../feed/itch/layout.js';

const dir = mkdtempSync(join(tmpdir(), 'mdfan-gen-market-'));
test.after.each(() => {
  killAll();
  cleanupSegments();
});
test.after(() => rmSync(dir, { recursive: true, force: true }));

async function mdfan(args: string[]): Promise<{ code: number | null; stdout: string[]; stderr: string }> {
  const p = startNode(binPath, args);
  const { code } = await p.exited;
  return { code, stdout: p.run.stdout, stderr: p.stderr() };
}

/** Book lines by symbol: the levels after `msgIndex,SYMBOL,`, in order. */
function levelsBySymbol(dump: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of readFileSync(dump, 'latin1').trim().split('\n')) {
    const c1 = line.indexOf(',');
    const c2 = line.indexOf(',', c1 + 1);
    const sym = line.slice(c1 + 1, c2);
    if (!out.has(sym)) out.set(sym, []);
    out.get(sym)!.push(line.slice(c2 + 1));
  }
  return out;
}

test("each generated instrument's books are its source's books, message for message, interleaved by time", async () => {
  const out = join(dir, 'market.itch.gz');
  const gen = await mdfan(['gen-market', '--from', GOOG_ITCH, '--instruments', '5', '--messages', '40000', '--out', out]);
  assert.is(gen.code, 0, gen.stderr);
  assert.equal(JSON.parse(gen.stdout.at(-1)!).messages, 40000);
  const srcDump = join(dir, 'goog.txt');
  const genDump = join(dir, 'market.txt');
  for (const [source, dump] of [[GOOG_ITCH, srcDump], [out, genDump]] as const) {
    const feed = await mdfan(['feed', '--source', `itch:${source}`, '--segment', segName('gen'), '--speed', 'max', '--dump-books', dump]);
    assert.is(feed.code, 0, feed.stderr);
  }
  const src = levelsBySymbol(srcDump).get('GOOG')!;
  const copies = levelsBySymbol(genDump);
  assert.equal([...copies.keys()].sort(), [0, 1, 2, 3, 4].map((k) => copySymbol('GOOG', k, 5)).sort(), 'five instruments, their own symbols');
  for (const [sym, books] of copies) {
    assert.ok(books.length > 1000, `${sym}: ${books.length} books`);
    assert.equal(books, src.slice(0, books.length), `${sym}: the source's books, in order`);
  }
  // Interleaved: the copies' book lines alternate in the file rather than coming one copy after another.
  const order = readFileSync(genDump, 'latin1').split('\n', 50).map((l) => l.split(',')[1]);
  assert.ok(new Set(order.slice(0, 50)).size >= 3, `the first lines come from several copies: ${order.slice(0, 10).join(' ')}`);
  assert.ok(copyShiftNs(1) !== copyShiftNs(2) && copyShiftNs(4) < 1_000_000);
});

test('the merge is in time order: no message\'s timestamp is before the one before it, across copies whose times interleave', async () => {
  const out = join(dir, 'ordered.itch');
  // 20 copies: a merge heap deep enough that a wrong sift is seen, not only a wrong key.
  const gen = await mdfan(['gen-market', '--from', GOOG_ITCH, '--instruments', '20', '--messages', '30000', '--out', out]);
  assert.is(gen.code, 0, gen.stderr);
  const f = loadFeed(out);
  const fr = { offset: 0, length: 0 };
  const u48 = (o: number): number => f.bytes[o]! * 2 ** 40 + f.bytes[o + 1]! * 2 ** 32 + f.bytes.readUInt32BE(o + 2);
  let prevTs = -1;
  let prevLocate = -1;
  let messages = 0;
  let switches = 0; // consecutive messages of two different copies
  for (let pos = 0; pos < f.bytes.length; messages++) {
    pos = nextFrame(f.bytes, f.bytes.length, pos, messages, f.file, fr);
    const ts = u48(fr.offset + OFF.timestamp);
    const locate = f.bytes.readUInt16BE(fr.offset + OFF.locate);
    assert.ok(ts >= prevTs, `message ${messages} (locate ${locate}) at ${ts} ns comes after one at ${prevTs} ns (locate ${prevLocate})`);
    if (locate !== 0 && prevLocate !== 0 && prevLocate !== -1 && locate !== prevLocate) switches++;
    prevTs = ts;
    prevLocate = locate;
  }
  assert.is(messages, 30000);
  // The copies' times interleave closely (shifts below 1 ms): the order is the merge's doing.
  assert.ok(switches > 10_000, `copies interleave message by message: ${switches} switches`);
});

test("every system event of the source is in the market, at its time: the day's end too, not only its start", async () => {
  const systemOf = (file: string): string[] => {
    const f = loadFeed(file);
    const fr = { offset: 0, length: 0 };
    const out: string[] = [];
    for (let pos = 0, i = 0; pos < f.bytes.length; i++) {
      pos = nextFrame(f.bytes, f.bytes.length, pos, i, f.file, fr);
      if (f.bytes[fr.offset] === 0x53) out.push(f.bytes.subarray(fr.offset, fr.offset + fr.length).toString('hex')); // 'S'
    }
    return out;
  };
  const want = systemOf(GOOG_ITCH);
  assert.ok(want.length >= 4, `the source has ${want.length} system events (start and end of the day)`);
  const out = join(dir, 'whole.itch');
  const gen = await mdfan(['gen-market', '--from', GOOG_ITCH, '--instruments', '2', '--messages', '100000000', '--out', out]);
  assert.is(gen.code, 0, gen.stderr);
  assert.equal(systemOf(out), want, "the source's system events, each once, in order");
});

test('bad options and inputs: a clear error, nothing half-written claimed', async () => {
  const zero = await mdfan(['gen-market', '--from', GOOG_ITCH, '--instruments', '0', '--messages', '10', '--out', join(dir, 'x.itch')]);
  assert.is(zero.code, 2);
  assert.match(zero.stderr, /MDFAN_ERR_OPTIONS: --instruments/);
  const missing = await mdfan(['gen-market', '--from', join(dir, 'nope.itch'), '--instruments', '2', '--messages', '10', '--out', join(dir, 'y.itch')]);
  assert.is(missing.code, 1);
  assert.match(missing.stderr, /MDFAN_ERR_FEED_IO.*nope\.itch/);
  assert.not.ok(existsSync(join(dir, 'y.itch')), 'no output file');
  assert.equal(readdirSync(dir).filter((f) => f.endsWith('.tmp')), [], 'no temporary file left');
});

const genArgs = (out: string): string[] => ['gen-market', '--from', GOOG_ITCH, '--instruments', '2', '--messages', '500', '--out', out];
const noTemporaries = (where: string): void => assert.equal(readdirSync(where).filter((f) => f.endsWith('.tmp')), [], `no temporary file left in ${where}`);

test('--out a FIFO, a device, a directory, or in a missing directory: a clear coded error, nothing replaced', async () => {
  const place = join(dir, 'refusals');
  mkdirSync(place);
  const fifo = join(place, 'fifo');
  spawnSync('mkfifo', [fifo]);
  const f = await mdfan(genArgs(fifo));
  assert.is(f.code, 1, f.stderr);
  assert.match(f.stderr, /MDFAN_ERR_OUTPUT: .*fifo is a FIFO: an output must be a regular file or a new name; refusing to replace it/);
  assert.ok(lstatSync(fifo).isFIFO(), 'the FIFO is still a FIFO');
  // A device node of our own (the numbers of /dev/null), where making one is allowed (root, a file system without nodev).
  const device = join(place, 'null');
  if (spawnSync('mknod', [device, 'c', '1', '3']).status === 0 && lstatSync(device).isCharacterDevice()) {
    const d = await mdfan(genArgs(device));
    assert.is(d.code, 1, d.stderr);
    assert.match(d.stderr, /MDFAN_ERR_OUTPUT: .*null is a device/);
    assert.ok(lstatSync(device).isCharacterDevice(), 'the device node is still there');
  } else console.log('  (skipped the device case: mknod not permitted here)');
  const sub = join(place, 'sub');
  mkdirSync(sub);
  const isDir = await mdfan(genArgs(sub));
  assert.is(isDir.code, 1, isDir.stderr);
  assert.match(isDir.stderr, /MDFAN_ERR_OUTPUT: .*sub is a directory/);
  assert.ok(statSync(sub).isDirectory());
  const missing = await mdfan(genArgs(join(place, 'nope', 'market.itch')));
  assert.is(missing.code, 1, missing.stderr);
  assert.match(missing.stderr, /MDFAN_ERR_OUTPUT: cannot write .*nope\/market\.itch: the directory .*nope does not exist/);
  assert.not.match(f.stderr + isDir.stderr + missing.stderr, /internal error/);
  noTemporaries(place);
});

test("a link planted at the old temporary name (OUT.PID.tmp) is never written through; an existing OUT keeps its mode", async () => {
  const place = join(dir, 'planted');
  mkdirSync(place);
  const victim = join(place, 'root-only');
  writeFileSync(victim, 'secret\n', { mode: 0o600 });
  const out = join(place, 'market.itch');
  writeFileSync(out, 'old\n');
  chmodSync(out, 0o640);
  // The shell plants the link under its own pid, then becomes the command (exec keeps the pid).
  const r = spawnSync('sh', ['-c', 'ln -s "$1" "$2.$$.tmp" && shift 2 && exec "$@"', 'sh', victim, out, process.execPath, binPath, ...genArgs(out)], { encoding: 'utf8', timeout: 120_000 });
  assert.is(r.status, 0, r.stderr);
  assert.ok(readFileSync(victim, 'utf8') === 'secret\n', 'the link target is unchanged');
  assert.is(statSync(victim).mode & 0o777, 0o600);
  const planted = readdirSync(place).filter((f) => f.endsWith('.tmp'));
  assert.is(planted.length, 1, `the planted link is left alone: ${planted.join(' ')}`);
  assert.is(readlinkSync(join(place, planted[0]!)), victim);
  assert.ok(lstatSync(out).isFile() && statSync(out).size > 500 * 10, 'OUT is the market');
  assert.is(statSync(out).mode & 0o777, 0o640, 'OUT keeps its mode');
});

test.run();
