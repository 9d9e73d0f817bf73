/**
 * `mdfan exporter`: Prometheus metrics read from segment headers, scraped over HTTP and parsed
 * from the exposition format: up, state, generation, writer alive, counters, instruments,
 * updates per instrument, the events readers lost to lapping; a missing segment or a foreign object is up 0;
 * methods other than GET and HEAD are 405.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { SegmentWriter, newEventFields } from '../native/segment/index.js';
import { listReaders } from '../native/segment/control.js';
import { spawnMdfan } from '../lib/child.js';
import { LogEvent } from '../lib/log.js';
import { cleanupSegments, segName } from './helpers/segments.js';
import { fillEvent } from './helpers/ring-payload.js';
import { procState } from './helpers/procs.js';
import { waitUntil } from './helpers/wait.js';
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

test('mdfan_reader_events_lost is the events a lapped reader lost, not the events it read', async () => {
  const name = segName('exp-lost');
  const CAPACITY = 16;
  const w = SegmentWriter.open({ name, maxInstruments: 1, levels: 1, ringEvents: CAPACITY });
  const port = await freeTcpPort();
  const exp = spawnMdfan('exporter', ['exporter', '--segment', name, '--listen', `127.0.0.1:${port}`]);
  const reader = spawnMdfan('reader', ['read', '--segment', name, '--events', '--wait', 'yield', '--duration', '600']);
  const ctl = `/dev/shm/${name}.ctl`;
  let seq = 0;
  const e = newEventFields();
  const append = (n: number): void => {
    for (let k = 0; k < n; k++) {
      fillEvent(e, ++seq);
      e.instrumentIndex = 0; // the one instrument
      w.appendEvent(e);
    }
  };
  /** The reader's line in the writer's list, as it last reported its events. */
  const listed = async () => (await listReaders(ctl, 5_000))?.find((x) => x.pid === reader.pid);
  try {
    assert.ok(await w.startControl());
    w.startIdleHeartbeat();
    w.addInstrument('AAA', 1, ITCH_SPEC);
    await waitUntil(() => reader.logs.some((l) => l.event === LogEvent.READER_ATTACHED), 20_000, { what: 'the reader to attach' });
    append(5);
    await waitUntil(async () => (await listed())?.events_read === 5, 20_000, { what: 'the reader to report the first 5 events read' });
    reader.signal('SIGSTOP');
    await waitUntil(() => procState(reader.pid) === 'T', 10_000, { what: 'the reader to stop' });
    append(6 * CAPACITY); // the ring laps the stopped reader
    reader.signal('SIGCONT');
    const total = seq;
    const info = await waitUntil(async () => {
      const r = await listed();
      return r !== undefined && (r.events_read ?? 0) + (r.events_lost ?? 0) === total ? r : undefined;
    }, 20_000, { what: 'the reader to report every event read or lost' });
    const lost = info.events_lost ?? 0;
    const read = info.events_read ?? 0;
    assert.ok(lost > 0 && read > 0 && lost !== read, `lapped: read ${read}, lost ${lost}`);
    await exp.line(/^mdfan exporter: http/, 20_000);
    const m = samples(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
    assert.is(m.get(`mdfan_readers{segment="${name}"}`), 1);
    assert.is(m.get(`mdfan_reader_events_lost{segment="${name}"}`), lost, `the events lost (${lost}), not the events read (${read})`);
  } finally {
    await reader.kill();
    await exp.kill();
    w.close({ unlink: true });
  }
});

test.run();
