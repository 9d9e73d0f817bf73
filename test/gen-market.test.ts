/**
 * `mdfan gen-market`: every generated instrument's books, as the feed handler publishes them, are
 * its source instrument's books message for message (the copies are prefixes of the source's
 * sequence, interleaved by time); symbols and locates are the copies' own; bad options are refused.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { binPath } from './helpers/paths.js';
import { GOOG_ITCH } from './helpers/oracle.js';
import { killAll, startNode } from './helpers/procs.js';
import { cleanupSegments, segName } from './helpers/segments.js';
import { copyShiftNs, copySymbol } from '../feed/market/gen-market.js';

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

test.run();
