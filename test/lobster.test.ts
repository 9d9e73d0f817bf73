/**
 * The LOBSTER source: seeded from row 0, every later row checked against the previous row plus
 * its message; only levels entering from below the window may differ (reveals). The published
 * books reproduce the orderbook file; a tampered row is refused with the row, side and level.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { binPath, repoRoot } from './helpers/paths.js';
import { segName, cleanupSegments } from './helpers/segments.js';

const dir = mkdtempSync(join(tmpdir(), 'mdfan-lobster-'));
const L = join(repoRoot, 'scenarios', 'data', 'lobster');
const pairs = {
  GOOG: [join(L, 'GOOG_2012-06-21_34200000_57600000_message_10.csv.gz'), join(L, 'GOOG_2012-06-21_34200000_57600000_orderbook_10.csv.gz')],
  AAPL: [join(L, 'AAPL_2012-06-21_34200000_34249000_message_10.csv'), join(L, 'AAPL_2012-06-21_34200000_34249000_orderbook_10.csv')],
};
test.after.each(cleanupSegments);
test.after(() => rmSync(dir, { recursive: true, force: true }));

const text = (f: string): string => (f.endsWith('.gz') ? gunzipSync(readFileSync(f)) : readFileSync(f)).toString('latin1');
const feed = (msgs: string, book: string, dump: string) =>
  spawnSync(process.execPath, [binPath, 'feed', '--source', `lobster:${msgs},${book}`, '--segment', segName('lob'), '--dump-books', dump], { encoding: 'utf8' });

for (const [symbol, [msgs, book]] of Object.entries(pairs)) {
  test(`${symbol}: the published books reproduce every orderbook row, with reveals only`, () => {
    const dump = join(dir, `${symbol}.dump`);
    const r = feed(msgs, book, dump);
    assert.is(r.status, 0, r.stderr);
    const reveals = Number(/(\d+) levels revealed/.exec(r.stdout)?.[1]);
    assert.ok(reveals > 0, r.stdout);
    const rows = text(book).trim().split('\n');
    const lines = readFileSync(dump, 'latin1').trim().split('\n');
    let li = -1;
    let bad = '';
    for (let i = 0; i < rows.length && !bad; i++) {
      while (li + 1 < lines.length && Number(lines[li + 1].split(',', 1)[0]) <= i) li++;
      const got = lines[li].slice(lines[li].indexOf(`,${symbol},`) + symbol.length + 2);
      if (got !== rows[i]) bad = `row ${i}: published ${got.slice(0, 80)} vs file ${rows[i].slice(0, 80)}`;
    }
    assert.is(bad, '');
    assert.is(Number(lines[0].split(',', 1)[0]), 0, 'row 0 (the seed) is published as message 0');
  });
}

test('the segment counts every LOBSTER row as a message (mdfan stat after --keep-segment)', () => {
  const [msgs, book] = pairs.AAPL;
  const name = segName('lobcount');
  const r = spawnSync(process.execPath, [binPath, 'feed', '--source', `lobster:${msgs},${book}`, '--segment', name, '--keep-segment'], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  const st = spawnSync(process.execPath, [binPath, 'stat', '--segment', name, '--json'], { encoding: 'utf8' });
  assert.is(st.status, 0, st.stderr);
  const j = JSON.parse(st.stdout);
  const rows = text(msgs).trim().split('\n').length;
  assert.is(j.messages, rows);
  assert.is(j.state, 'CLOSED');
});

test('a row that disagrees with the previous row plus its message is refused, naming row, side and level', () => {
  const [msgs, book] = pairs.AAPL;
  const rows = readFileSync(book, 'latin1').split('\n');
  const k = 500;
  const cols = rows[k].split(',');
  cols[1] = String(Number(cols[1]) + 1); // ask level 1 size off by one share
  rows[k] = cols.join(',');
  const tampered = join(dir, 'tampered_orderbook.csv');
  writeFileSync(tampered, rows.join('\n'));
  const r = feed(msgs, tampered, join(dir, 't.dump'));
  assert.is(r.status, 1);
  assert.match(r.stderr, `MDFAN_ERR_FEED_CORRUPT: ${tampered}: row ${k}, ask level 1`);
});

test('a pair whose files disagree in length, or a non-numeric cell, is refused with the file and row', () => {
  const [msgs, book] = pairs.AAPL;
  const short = join(dir, 'short_message.csv');
  writeFileSync(short, readFileSync(msgs, 'latin1').split('\n').slice(0, 100).join('\n') + '\n');
  const r = feed(short, book, join(dir, 's.dump'));
  assert.is(r.status, 1);
  assert.match(r.stderr, 'MDFAN_ERR_FEED_TRUNCATED');
  const lines = readFileSync(msgs, 'latin1').split('\n');
  lines[7] = lines[7].replace(/,[^,]+$/, ',x');
  const bad = join(dir, 'bad_message.csv');
  writeFileSync(bad, lines.join('\n'));
  const r2 = feed(bad, book, join(dir, 'b.dump'));
  assert.is(r2.status, 1);
  assert.match(r2.stderr, `${bad}: row 7, column 6: not a number`);
});

test.run();
