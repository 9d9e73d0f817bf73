/**
 * `mdfan exporter`: Prometheus metrics read from segment headers, scraped over HTTP and parsed
 * from the exposition format: up, state, generation, writer alive, counters, instruments,
 * updates per instrument; a missing segment or a foreign object is up 0; methods other than GET and HEAD are 405.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { SegmentWriter } from '../native/segment/index.js';
import { spawnMdfan } from '../lib/child.js';
import { cleanupSegments, segName } from './helpers/segments.js';
import { ITCH_SPEC } from '../native/segment/directory.js';

test.after.each(cleanupSegments);

async function freeTcpPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const { port } = s.address() as { port: number };
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** The exposition's samples: `name{labels}` -> value. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

test('a scrape gives each segment\'s state, writer, counters and per-instrument updates; a missing segment, or a foreign object (a FIFO), is up 0', async () => {
  const name = segName('exp');
  const missing = segName('exp-missing');
  // Something that is no segment under a name (MDFAN_ERR_UNSAFE_OBJECT): down, not a failed scrape. Removed by cleanupSegments.
  const foreign = segName('exp-fifo');
  const made = spawnSync('mkfifo', [`/dev/shm/${foreign}`]);
  assert.is(made.status, 0, String(made.stderr));
  const w = SegmentWriter.open({ name, maxInstruments: 2, levels: 1 });
  const port = await freeTcpPort();
  const exp = spawnMdfan('exporter', ['exporter', '--segment', name, '--segment', missing, '--segment', foreign, '--listen', `127.0.0.1:${port}`]);
  try {
    assert.ok(await w.startControl());
    w.addInstrument('AAA', 1, ITCH_SPEC);
    for (let k = 1; k <= 3; k++) w.publish(0, { bidCount: 1, askCount: 0, bids: new Float64Array([100 + k, 1, 1]), asks: new Float64Array(3) }, k, 0);
    w.messages = 3;
    w.flushCounters();
    await exp.line(/^mdfan exporter: http/, 20_000);
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    assert.is(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', 'text/plain');
    const m = samples(await res.text());
    const at = (k: string): number | undefined => m.get(k);
    assert.is(at(`mdfan_segment_up{segment="${name}"}`), 1);
    assert.is(at(`mdfan_segment_up{segment="${missing}"}`), 0);
    assert.is(at(`mdfan_segment_up{segment="${foreign}"}`), 0);
    assert.is(at(`mdfan_segment_state{segment="${name}",state="READY"}`), 1);
    assert.is(at(`mdfan_segment_state{segment="${name}",state="CLOSED"}`), 0);
    assert.is(at(`mdfan_segment_generation{segment="${name}"}`), 1);
    assert.is(at(`mdfan_writer_alive{segment="${name}"}`), 1);
    assert.is(at(`mdfan_segment_instruments{segment="${name}"}`), 1);
    assert.is(at(`mdfan_messages{segment="${name}"}`), 3);
    assert.is(at(`mdfan_publishes{segment="${name}"}`), 3);
    assert.is(at(`mdfan_feed_gaps{segment="${name}"}`), 0);
    assert.is(at(`mdfan_instrument_updates{segment="${name}",symbol="AAA"}`), 3);
    assert.is(at(`mdfan_readers{segment="${name}"}`), 0);
    assert.ok((at(`mdfan_writer_heartbeat_age_seconds{segment="${name}"}`) ?? -1) >= 0);
    assert.is((await fetch(`http://127.0.0.1:${port}/other`)).status, 404);
    // Only GET and HEAD: anything else is 405 naming what is allowed, and no scrape.
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const r = await fetch(`http://127.0.0.1:${port}/metrics`, { method, body: method === 'DELETE' ? undefined : 'x' });
      assert.is(r.status, 405, method);
      assert.is(r.headers.get('allow'), 'GET, HEAD');
    }
    const head = await fetch(`http://127.0.0.1:${port}/metrics`, { method: 'HEAD' });
    assert.is(head.status, 200);
    assert.is(await head.text(), '');
    exp.signal('SIGTERM');
    assert.is((await exp.exited).code, 0, exp.stderr());
  } finally {
    await exp.kill();
    w.close({ unlink: true });
  }
});

test.run();
