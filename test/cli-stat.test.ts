/** `mdfan stat`: the JSON contract, the text view, and errors with their codes and exit status. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { SegmentWriter } from '../native/segment/index.js';
import { segName, cleanupSegments } from './helpers/segments.js';
import { binPath } from './helpers/paths.js';
import { ITCH_SPEC, specOf } from '../native/segment/directory.js';

const mdfan = (...args: string[]) => spawnSync(process.execPath, [binPath, ...args], { encoding: 'utf8' });

test.after.each(cleanupSegments);

test('stat --json prints one object with the contracted fields', () => {
  const name = segName('stat');
  const w = SegmentWriter.open({ name, maxInstruments: 3, levels: 4 });
  try {
    w.addInstrument('AAA', 11, ITCH_SPEC);
    w.addInstrument('BBB', 12, specOf(2));
    const src = { bidCount: 1, askCount: 1, bids: new Float64Array([10, 1, 1]), asks: new Float64Array([11, 1, 1]) };
    for (let k = 0; k < 3; k++) w.publish(1, src, k, k);
    w.messages = 9;
    w.flushCounters();
    const r = mdfan('stat', '--segment', name, '--json');
    assert.is(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.is(j.state, 'READY');
    assert.is(j.generation, 1);
    assert.is(j.writer_pid, process.pid);
    assert.ok(typeof j.heartbeat_age_ms === 'number' && j.heartbeat_age_ms >= 0);
    assert.is(j.publishes, 3);
    assert.is(j.messages, 9);
    assert.is(j.writer_alive, true);
    assert.is(j.instrument_count, 2);
    assert.equal(
      j.instruments.map((i: { symbol: string; feed_id: number; updates: number; msg_index: number }) => [i.symbol, i.feed_id, i.updates, i.msg_index]),
      [
        ['AAA', 11, 0, 0],
        ['BBB', 12, 3, 2],
      ],
    );
    assert.is(j.layout.levels, 4);
    assert.is(j.mode, '0600');
    const t = mdfan('stat', '--segment', name);
    assert.is(t.status, 0);
    assert.match(t.stdout, /state\s+READY, generation 1/);
    assert.match(t.stdout, new RegExp(`pid ${process.pid} alive`));
    assert.match(t.stdout, /BBB/);
  } finally {
    w.close();
  }
});

test('stat on a missing segment exits 1 with MDFAN_ERR_NO_SEGMENT; bad flags exit 2 with MDFAN_ERR_OPTIONS', () => {
  const r = mdfan('stat', '--segment', segName('nothing'));
  assert.is(r.status, 1);
  assert.match(r.stderr, 'MDFAN_ERR_NO_SEGMENT');
  const u = mdfan('stat', '--segmnt', 'x');
  assert.is(u.status, 2);
  assert.match(u.stderr, 'MDFAN_ERR_OPTIONS');
  const m = mdfan('stat');
  assert.is(m.status, 2);
  assert.match(m.stderr, '--segment is required');
  const c = mdfan('nosuchcommand');
  assert.is(c.status, 2);
  assert.match(c.stderr, 'unknown command');
});

test.run();
