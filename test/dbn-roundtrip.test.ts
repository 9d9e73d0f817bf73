/**
 * DBN in, DBN out: the GOOG day replayed from its DBN MBO file, recorded by a reader as MBP-10 and
 * trade records, read back. Every recorded book is the book published after the input record its
 * `sequence` names, with that record's `ts_event` to the ns; every trade is an input `T` record,
 * its price, size, side and time.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RTYPE, layoutOfStruct } from '../lib/dbn/fields.js';
import { fieldsOf, readDbn } from './helpers/dbn.js';
import { GOOG_DBN } from './helpers/oracle.js';
import { binPath } from './helpers/paths.js';
import { type Proc, addonLoaded, killAll, startNode } from './helpers/procs.js';
import { cleanupSegments, segName } from './helpers/segments.js';
import { waitUntil } from './helpers/wait.js';

const dir = mkdtempSync(join(tmpdir(), 'mdfan-dbn-rt-'));
test.after.each(() => {
  killAll();
  cleanupSegments();
});
test.after(() => rmSync(dir, { recursive: true, force: true }));
const mdfan = (args: string[]): Proc => startNode(binPath, args);
const MBO = layoutOfStruct('MboMsg');
const UNDEF = 0x7fffffffffffffffn;

test('the GOOG day, DBN in and DBN out: books and trades come back with their input records\' times, to the ns', async () => {
  const name = segName('dbn-rt');
  const out = join(dir, 'seen.dbn.zst');
  const dump = join(dir, 'dump.txt');
  const reader = mdfan(['read', '--segment', name, '--wait', 'spin', '--record-dbn', out, '--events']);
  await waitUntil(() => addonLoaded(reader.child.pid), 20_000, { what: 'the reader to load and poll for the segment' });
  const feed = mdfan(['feed', '--source', `dbn:${GOOG_DBN}`, '--segment', name, '--dump-books', dump]);
  assert.is((await feed.exited).code, 0, feed.stderr());
  assert.is((await reader.exited).code, 0, reader.stderr());

  const input = await readDbn(GOOG_DBN);
  const published = new Map<number, string>();
  for (const l of readFileSync(dump, 'latin1').trim().split('\n')) published.set(Number(l.slice(0, l.indexOf(','))), l);
  const seen = await readDbn(out);
  const books = seen.records.filter((r) => r[1] === RTYPE.MBP_10).map((r) => fieldsOf(r, 'Mbp10Msg'));
  const trades = seen.records.filter((r) => r[1] === RTYPE.MBP_0).map((r) => fieldsOf(r, 'TradeMsg'));
  // How many books a spinning reader sees depends on the CPU it gets (157 on a loaded machine, thousands
  // on a quiet one): what must hold is that each is exact and in order, and the last is the day's last.
  assert.ok(books.length >= 1, `${books.length} books recorded`);
  const seqs = books.map((b) => b.sequence as number);
  assert.ok(seqs.every((q, i) => i === 0 || q > seqs[i - 1]!), 'books in the order they were published, none twice');
  let lastPublished = -1;
  for (const k of published.keys()) lastPublished = Math.max(lastPublished, k);
  assert.is(seqs.at(-1), lastPublished, "the last book recorded is the day's last book");
  let bad = 0;
  let first = '';
  for (const b of books) {
    const seq = b.sequence as number;
    const rec = input.records[seq]!;
    // The dump line of that record: ask, bid per level, as the book recorded.
    const line = published.get(seq);
    const levels = b.levels as Array<Record<string, bigint | number>>;
    const cells: string[] = [];
    for (const l of levels) {
      cells.push(l.ask_px === UNDEF ? '9999999999' : String(l.ask_px), String(l.ask_sz), l.bid_px === UNDEF ? '-9999999999' : String(l.bid_px), String(l.bid_sz));
    }
    const ok = line !== undefined && line === `${seq},GOOG,${cells.join(',')}` && b.hd_ts_event === rec.readBigUInt64LE(8) && b.hd_instrument_id === 1;
    if (!ok && bad++ === 0) first = `book at record ${seq}: ${JSON.stringify(b, (_k, v) => (typeof v === 'bigint' ? String(v) : v)).slice(0, 300)} vs ${line?.slice(0, 120)}`;
  }
  assert.is(bad, 0, first);
  // Every trade of the day (the reader follows the ring from its oldest record).
  const inputTrades = input.records.map((r, i) => [r, i] as const).filter(([r]) => r[MBO.at('action')] === 0x54);
  assert.is(trades.length, inputTrades.length);
  let badTrades = 0;
  trades.forEach((t, k) => {
    const [r, i] = inputTrades[k]!;
    const ok =
      t.sequence === i &&
      t.price === r.readBigInt64LE(MBO.at('price')) &&
      t.size === r.readUInt32LE(MBO.at('size')) &&
      t.side === String.fromCharCode(r[MBO.at('side')]!) &&
      t.hd_ts_event === r.readBigUInt64LE(8);
    if (!ok) badTrades++;
  });
  assert.is(badTrades, 0);
});

test.run();
