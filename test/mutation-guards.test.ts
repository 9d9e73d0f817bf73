/**
 * Tests that kill bugs a mutation pass slipped past the suite: each read path on its own reports
 * a stuck odd seq as STALE, the feed command's default modes for every object it makes, and
 * latency in nanoseconds (a commit of a known age).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { statSync } from 'node:fs';
import { createSocket } from 'node:dgram';
import { SegmentReader, SegmentWriter } from '../native/segment/index.js';
import { native } from '../native/segment/binding.js';
import { latencyNs } from '../workers/index.js';
import { PacketBuilder, END_OF_SESSION } from '../feed/moldudp64/packet.js';
import { type Child, logLine, spawnMdfan } from '../lib/child.js';
import { LogEvent } from '../lib/log.js';
import { cleanupSegments, codeOf, segName, shmExists } from './helpers/segments.js';
import { waitUntil } from './helpers/wait.js';
import { ITCH_SPEC } from '../native/segment/directory.js';

test.after.each(cleanupSegments);

for (const readPath of ['js', 'native', 'auto'] as const) {
  test(`the ${readPath} read path alone reports a slot stuck mid-commit as MDFAN_ERR_STALE`, () => {
    const name = segName(`stale-${readPath}`);
    const w = SegmentWriter.open({ name, maxInstruments: 1, levels: 2 });
    try {
      w.addInstrument('AAA', 1, ITCH_SPEC);
      w.publish(0, { bidCount: 1, askCount: 0, bids: new Float64Array([100, 1, 1, 0, 0, 0]), asks: new Float64Array(6) }, 1, 0);
      w.slots.beginOnlyForTest(0); // W1 and nothing after: the seq stays odd
      const r = SegmentReader.openSync(name, { readPath, staleAfterMs: 20 });
      try {
        assert.is(codeOf(() => r.read(0, r.newSnapshot())), 'MDFAN_ERR_STALE');
      } finally {
        r.close();
      }
    } finally {
      w.close({ unlink: true });
    }
  });
}

test('latency is in nanoseconds: a commit of a known age reads as at least that many ns', async () => {
  const name = segName('units');
  const w = SegmentWriter.open({ name, maxInstruments: 1, levels: 1 });
  try {
    w.addInstrument('AAA', 1, ITCH_SPEC);
    w.publish(0, { bidCount: 1, askCount: 0, bids: new Float64Array([100, 1, 1]), asks: new Float64Array(3) }, 1, 0);
    const r = SegmentReader.openSync(name);
    try {
      const snap = r.newSnapshot();
      r.read(0, snap);
      // The writer's clock and the reader's are one CLOCK_MONOTONIC in ns: a publish time in
      // other units would put it far in the past or the future.
      const AGE_NS = 20e6;
      await waitUntil(() => native.monotonicNs() - snap.publishTsNs >= AGE_NS, 10_000, { what: 'the commit to be 20 ms old' });
      const ns = latencyNs(snap);
      assert.ok(ns >= AGE_NS && ns < 60e9, `a 20 ms old commit read as ${ns}`);
    } finally {
      r.close();
    }
  } finally {
    w.close({ unlink: true });
  }
});

test('mdfan feed\'s defaults: the segment and every object beside it, the control socket included, are 0600', async () => {
  const name = segName('modes');
  const s = createSocket('udp4');
  await new Promise<void>((res) => s.bind(0, '127.0.0.1', () => res()));
  const port = s.address().port;
  await new Promise<void>((res) => s.close(() => res()));
  // --source-addr: a bare end of session (no data packet before it) is taken only from a source given.
  const feed: Child = spawnMdfan('feed', ['feed', '--source', `moldudp64:127.0.0.1:${port}`, '--source-addr', '127.0.0.1', '--segment', name]);
  try {
    await logLine(feed, (l) => l.event === LogEvent.FEED_LISTENING, 20_000);
    await waitUntil(() => shmExists(`${name}.ctl`), 10_000, { what: 'the control socket' });
    for (const obj of [name, `${name}.tops`, `${name}.events`, `${name}.ctl`])
      assert.is((statSync(`/dev/shm/${obj}`).mode & 0o777).toString(8), '600', obj);
    const sock = createSocket('udp4');
    await new Promise<void>((res, rej) => sock.send(new PacketBuilder('MODES', 1).control(END_OF_SESSION), port, '127.0.0.1', (e) => (e ? rej(e) : res())));
    sock.close();
    assert.is((await feed.exited).code, 0, feed.stderr());
  } finally {
    await feed.kill();
  }
});

test.run();
