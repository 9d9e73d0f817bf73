/**
 * Several venues into one segment (`mdfan feed --source A --source B`): every symbol named
 * SCHEME:SYMBOL, each source's books exactly what it publishes alone, --symbols by qualified or bare
 * name, one source per scheme, and a failing source stopping the others with its error.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SegmentReader, abi } from '../native/segment/index.js';
import { CRYPTO_SETS, editCapture, mergedCapture } from './helpers/crypto-capture.js';
import { binPath } from './helpers/paths.js';
import { cleanupSegments, segName } from './helpers/segments.js';

const dir = mkdtempSync(join(tmpdir(), 'mdfan-multi-'));
test.after.each(cleanupSegments);
test.after(() => rmSync(dir, { recursive: true, force: true }));

let runs = 0;
function feed(sources: string[], extra: string[] = []): { status: number | null; stdout: string; stderr: string; dump: string; segment: string } {
  const dump = join(dir, `d-${++runs}.txt`);
  const segment = segName('multi');
  const args = [binPath, 'feed', ...sources.flatMap((s) => ['--source', s]), '--segment', segment, '--levels', '3', '--speed', 'max', '--dump-books', dump, '--keep-segment', ...extra];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 60_000 }); // a run that never ends fails, not hangs
  let text = '';
  try {
    text = readFileSync(dump, 'latin1');
  } catch {}
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, dump: text, segment };
}

/** The lines of `dump` for `symbol`, renamed to `as`. */
const linesOf = (dump: string, symbol: string, as: string): string[] =>
  dump
    .split('\n')
    .filter((l) => l.split(',')[1] === symbol)
    .map((l) => l.replace(`,${symbol},`, `,${as},`));

/** Short prefixes of both recordings (each with its snapshot): fast, and enough books. */
async function captures(): Promise<{ spot: string; cm: string }> {
  const spot = editCapture(await mergedCapture('spot', dir), join(dir, 'spot.gz'), { lines: 6000 });
  const cm = editCapture(await mergedCapture('cm', dir), join(dir, 'cm.gz'), { lines: 6000 });
  return { spot, cm };
}

test('two venues, one segment: names qualified by scheme, each source publishing exactly what it does alone', async () => {
  const { spot, cm } = await captures();
  const both = feed([`binance-spot:${spot}`, `binance-coinm:${cm}`]);
  assert.is(both.status, 0, both.stderr);
  const aloneSpot = feed([`binance-spot:${spot}`]);
  const aloneCm = feed([`binance-coinm:${cm}`]);
  const [s, c] = [CRYPTO_SETS.spot.symbol, CRYPTO_SETS.cm.symbol];
  const spotLines = linesOf(both.dump, `binance-spot:${s}`, s);
  const cmLines = linesOf(both.dump, `binance-coinm:${c}`, c);
  assert.ok(spotLines.length > 100 && cmLines.length > 100, `${spotLines.length} and ${cmLines.length} books`);
  assert.equal(spotLines, linesOf(aloneSpot.dump, s, s));
  assert.equal(cmLines, linesOf(aloneCm.dump, c, c));
  assert.is(spotLines.length + cmLines.length, both.dump.trimEnd().split('\n').length, 'no other lines');
  const r = SegmentReader.openSync(both.segment, { anyState: true });
  try {
    assert.equal(r.instruments().map((i) => i.symbol).sort(), [`binance-coinm:${c}`, `binance-spot:${s}`]);
    for (const i of r.instruments()) assert.equal([i.priceDecimals, i.sizeDecimals], [8, 8]);
  } finally {
    r.close();
  }
  // The counters are the sum of both sources'.
  const msgs = (out: string): number => Number(/: (\d+) messages in/.exec(out)?.[1]);
  assert.is(msgs(both.stdout), msgs(aloneSpot.stdout) + msgs(aloneCm.stdout));
});

test('--symbols with several sources: a qualified name picks one source, a bare name every source that has it', async () => {
  const { spot, cm } = await captures();
  const [s, c] = [CRYPTO_SETS.spot.symbol, CRYPTO_SETS.cm.symbol];
  const one = feed([`binance-spot:${spot}`, `binance-coinm:${cm}`], ['--symbols', `binance-coinm:${c}`]);
  assert.is(one.status, 0, one.stderr);
  assert.equal([...new Set(one.dump.trimEnd().split('\n').map((l) => l.split(',')[1]))], [`binance-coinm:${c}`]);
  const bare = feed([`binance-spot:${spot}`, `binance-coinm:${cm}`], ['--symbols', s]);
  assert.is(bare.status, 0, bare.stderr);
  assert.equal([...new Set(bare.dump.trimEnd().split('\n').map((l) => l.split(',')[1]))], [`binance-spot:${s}`]);
  const unknown = feed([`binance-spot:${spot}`, `binance-coinm:${cm}`], ['--symbols', `binance-usdm:${s}`]);
  assert.is(unknown.status, 2);
  assert.match(unknown.stderr, 'no --source binance-usdm');
});

test('one source per scheme: the same scheme twice is refused before any segment exists', async () => {
  const { spot } = await captures();
  const r = feed([`binance-spot:${spot}`, `binance-spot:${spot}`]);
  assert.is(r.status, 2);
  assert.match(r.stderr, 'MDFAN_ERR_OPTIONS');
  assert.match(r.stderr, 'given twice');
});

test('a source that fails stops the others (a live one that would run forever): its error is reported, the segment goes BROKEN', () => {
  const bad = join(dir, 'bad.itch');
  writeFileSync(bad, Buffer.from([0, 5, 0x53, 1, 2])); // a frame cut short: MDFAN_ERR_FEED_TRUNCATED
  // Nothing listens on port 1: the live source would retry for ever unless it is stopped.
  const live = ['binance-spot:live', '--symbols', 'BTCUSDT', '--ws-url', 'ws://127.0.0.1:1', '--rest-url', 'http://127.0.0.1:1'];
  const r = feed([`itch:${bad}`, live[0]!], live.slice(1));
  assert.is(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stderr, 'MDFAN_ERR_FEED_TRUNCATED');
  const seg = SegmentReader.openSync(r.segment, { anyState: true });
  try {
    assert.is(seg.state, abi.STATE_BROKEN);
  } finally {
    seg.close();
  }
});

test.run();
