/**
 * `mdfan exporter`: Prometheus metrics read from segment headers, scraped over HTTP and parsed
 * from the exposition format. Every family has the type and unit its name says (counters end in
 * `_total`, times are seconds, sizes bytes) and `promtool check metrics` finds nothing to say of
 * a real scrape; every value is the one the test drove into the segment. A missing segment or a
 * foreign object is up 0 and nothing else; a segment removed mid-run loses its series; /healthz is
 * the exporter's own liveness; methods other than GET and HEAD are 405.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SegmentWriter, abi, newEventFields } from '../native/segment/index.js';
import { native } from '../native/segment/binding.js';
import { listReaders, writeControlPath } from '../native/segment/control.js';
import type { CounterName } from '../native/segment/header.js';
import { statSegment } from '../native/segment/stat.js';
import { spawnMdfan } from '../lib/child.js';
import { LogEvent } from '../lib/log.js';
import { cleanupSegments, segName } from './helpers/segments.js';
import { fillEvent } from './helpers/ring-payload.js';
import { procState } from './helpers/procs.js';
import { waitUntil } from './helpers/wait.js';
import { repoRoot } from './helpers/paths.js';
import { families, freeTcpPort, promtoolProblems, samples } from './helpers/exposition.js';
import { ITCH_SPEC } from '../native/segment/directory.js';

test.after.each(cleanupSegments);
const dir = mkdtempSync(join(tmpdir(), 'mdfan-exp-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

/** Every family the exporter serves, with its type (written out here, not taken from the exporter). */
const GAUGES = [
  'mdfan_build_info',
  'mdfan_segment_up',
  'mdfan_segment_state',
  'mdfan_segment_generation',
  'mdfan_segment_instruments',
  'mdfan_segment_size_bytes',
  'mdfan_writer_alive',
  'mdfan_writer_heartbeat_age_seconds',
  'mdfan_readers',
];
/** The value the test drives into each header counter (distinct, so a counter shown under another's name is caught). */
const DRIVEN: Record<CounterName, number> = {
  messages: 1001,
  publishes: 6, // the publishes below: AAA 3, BBB 2, CCC 1
  input_bytes: 65_543,
  events: 5, // the events appended below
  unknown_message_types: 11,
  unknown_order_refs: 12,
  feed_gaps: 13,
  feed_duplicates: 14,
  reader_attaches: 15,
  reader_detaches: 16,
  version_mismatches: 17,
  takeovers: 18,
  stale_marks: 19,
  reveals: 20,
  malformed_messages: 21,
  unannounced_messages: 22,
  feed_recovered: 23,
  feed_unrecovered: 24,
  instruments_refused: 25,
};
const COUNTERS = [...Object.keys(DRIVEN).map((f) => `mdfan_${f}_total`), 'mdfan_instrument_updates_total', 'mdfan_reader_events_lost_total', 'mdfan_reader_events_read_total'];

const book = (price: number) => ({ bidCount: 1, askCount: 0, bids: new Float64Array([price, 1, 1]), asks: new Float64Array(3) });

test('every family has its type, HELP and a clean promtool check; every value is the one driven into the segment; a missing segment, or a foreign object (a FIFO), is up 0 and nothing else', async () => {
  const name = segName('exp');
  const silent = segName('exp-silent');
  const missing = segName('exp-missing');
  // Something that is no segment under a name (MDFAN_ERR_UNSAFE_OBJECT): down, not a failed scrape. Removed by cleanupSegments.
  const foreign = segName('exp-fifo');
  const made = spawnSync('mkfifo', [`/dev/shm/${foreign}`]);
  assert.is(made.status, 0, String(made.stderr));
  const w = SegmentWriter.open({ name, maxInstruments: 3, levels: 1, ringEvents: 16 });
  const quiet = SegmentWriter.open({ name: silent, maxInstruments: 1, levels: 1 });
  const port = await freeTcpPort();
  const exp = spawnMdfan('exporter', ['exporter', '--segment', name, '--segment', silent, '--segment', missing, '--segment', foreign, '--listen', `127.0.0.1:${port}`, '--max-instrument-labels', '2']);
  try {
    assert.ok(await w.startControl());
    w.startIdleHeartbeat(); // alive whatever the machine's load
    for (const sym of ['AAA', 'BBB', 'CCC']) w.addInstrument(sym, 1, ITCH_SPEC);
    let msg = 0;
    for (const [index, n] of [[0, 3], [1, 2], [2, 1]] as const) for (let k = 0; k < n; k++) w.publish(index, book(100 + k), ++msg, 0);
    const e = newEventFields();
    for (let r = 1; r <= DRIVEN.events; r++) {
      fillEvent(e, r);
      e.instrumentIndex = 0;
      w.appendEvent(e);
    }
    w.messages = DRIVEN.messages;
    w.inputBytes = DRIVEN.input_bytes;
    for (const [f, n] of Object.entries(DRIVEN)) if (!['messages', 'publishes', 'input_bytes', 'events'].includes(f)) w.addCounter(f as Exclude<CounterName, 'messages' | 'publishes' | 'input_bytes' | 'events'>, n);
    w.flushCounters();
    // A writer silent for 30 s (its heartbeat stored back then, none since): dead to readers, and an age to check in seconds.
    quiet.heartbeat(native.monotonicNs() - 30e9);
    await exp.line(/^mdfan exporter: http/, 20_000);
    const silentBeforeMs = statSegment(silent).heartbeat_age_ms!;
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    const silentAfterMs = statSegment(silent).heartbeat_age_ms!;
    assert.is(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', 'text/plain');
    const text = await res.text();

    // Names, types, HELP: exactly these families (no old name left), each with the type its name says.
    assert.is(promtoolProblems(text), '', 'promtool check metrics on a real scrape');
    const fams = families(text);
    assert.equal([...fams.keys()].sort(), [...GAUGES, ...COUNTERS].sort(), 'the families served');
    for (const g of GAUGES) assert.is(fams.get(g)?.type, 'gauge', g);
    for (const c of COUNTERS) assert.is(fams.get(c)?.type, 'counter', c);
    for (const [f, { help }] of fams) assert.ok((help ?? '').length > 10, `${f} has a HELP text`);

    const m = samples(text);
    const at = (k: string): number | undefined => m.get(k);
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
    assert.is(at(`mdfan_build_info{version="${pkg.version}",abi_major="${abi.ABI_MAJOR}",abi_minor="${abi.ABI_MINOR}",node="${process.version}"}`), 1);
    assert.is(at(`mdfan_segment_up{segment="${name}"}`), 1);
    assert.is(at(`mdfan_segment_up{segment="${silent}"}`), 1);
    for (const down of [missing, foreign]) {
      assert.is(at(`mdfan_segment_up{segment="${down}"}`), 0, down);
      assert.equal([...m.keys()].filter((k) => k.includes(`segment="${down}"`)), [`mdfan_segment_up{segment="${down}"}`], `${down}: up 0 and nothing else`);
    }
    for (const st of ['INITIALIZING', 'READY', 'BROKEN', 'CLOSED']) assert.is(at(`mdfan_segment_state{segment="${name}",state="${st}"}`), st === 'READY' ? 1 : 0, st);
    assert.is(at(`mdfan_segment_generation{segment="${name}"}`), 1);
    assert.is(at(`mdfan_segment_instruments{segment="${name}"}`), 3);
    assert.is(at(`mdfan_segment_size_bytes{segment="${name}"}`), statSync(`/dev/shm/${name}`).size);
    assert.is(at(`mdfan_writer_alive{segment="${name}"}`), 1);
    assert.is(at(`mdfan_writer_alive{segment="${silent}"}`), 0);
    // Seconds: between the ages read just before and just after the scrape (ms would be 1000 times more).
    const ageS = at(`mdfan_writer_heartbeat_age_seconds{segment="${silent}"}`) ?? Number.NaN;
    assert.ok(ageS >= 30 && ageS >= silentBeforeMs / 1000 && ageS <= silentAfterMs / 1000, `heartbeat age ${ageS} s, read ${silentBeforeMs} ms before and ${silentAfterMs} ms after`);
    assert.ok((at(`mdfan_writer_heartbeat_age_seconds{segment="${name}"}`) ?? -1) >= 0);
    assert.is(at(`mdfan_readers{segment="${name}"}`), 0);
    assert.is(at(`mdfan_readers{segment="${silent}"}`), undefined, 'no control plane: readers unknown, not 0');
    for (const [f, n] of Object.entries(DRIVEN)) {
      assert.is(at(`mdfan_${f}_total{segment="${name}"}`), n, f);
      assert.is(at(`mdfan_${f}_total{segment="${silent}"}`), 0, `${f} of the silent writer`);
    }
    // The first 2 instruments (--max-instrument-labels 2), each its own commits.
    assert.is(at(`mdfan_instrument_updates_total{segment="${name}",symbol="AAA"}`), 3);
    assert.is(at(`mdfan_instrument_updates_total{segment="${name}",symbol="BBB"}`), 2);
    assert.is(at(`mdfan_instrument_updates_total{segment="${name}",symbol="CCC"}`), undefined, 'past --max-instrument-labels');

    // /healthz: the exporter's liveness, 200 whatever its segments (two of them are down here).
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    assert.is(health.status, 200);
    assert.match(health.headers.get('content-type') ?? '', 'text/plain');
    assert.is(await health.text(), 'ok\n');
    const healthHead = await fetch(`http://127.0.0.1:${port}/healthz`, { method: 'HEAD' });
    assert.is(healthHead.status, 200);
    assert.is(await healthHead.text(), '');
    assert.is((await fetch(`http://127.0.0.1:${port}/metrics?scrape=1`)).status, 200, 'a query string is no other path');
    for (const other of ['/other', '/', '/healthz/x', '/metricsx']) assert.is((await fetch(`http://127.0.0.1:${port}${other}`)).status, 404, other);
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
    quiet.close({ unlink: true });
  }
});

test('a segment removed mid-run: the next scrape has it up 0 and none of its series; made again, it is served afresh', async () => {
  const name = segName('exp-gone');
  const port = await freeTcpPort();
  const exp = spawnMdfan('exporter', ['exporter', '--segment', name, '--listen', `127.0.0.1:${port}`]);
  let w = SegmentWriter.open({ name, maxInstruments: 1, levels: 1 });
  const scrape = async (): Promise<{ text: string; m: Map<string, number> }> => {
    const r = await fetch(`http://127.0.0.1:${port}/metrics`);
    assert.is(r.status, 200);
    const text = await r.text();
    return { text, m: samples(text) };
  };
  const ofSegment = (m: Map<string, number>) => [...m.keys()].filter((k) => k.includes(`segment="${name}"`));
  try {
    w.addInstrument('AAA', 1, ITCH_SPEC);
    for (let k = 1; k <= 4; k++) w.publish(0, book(100 + k), k, 0);
    w.messages = 5;
    w.flushCounters();
    await exp.line(/^mdfan exporter: http/, 20_000);
    const before = (await scrape()).m;
    assert.is(before.get(`mdfan_segment_up{segment="${name}"}`), 1);
    assert.is(before.get(`mdfan_messages_total{segment="${name}"}`), 5);
    assert.is(before.get(`mdfan_instrument_updates_total{segment="${name}",symbol="AAA"}`), 4);

    w.close({ unlink: true });
    const gone = await scrape();
    assert.is(promtoolProblems(gone.text), '');
    assert.equal(ofSegment(gone.m), [`mdfan_segment_up{segment="${name}"}`], 'up 0 and no series left from before');
    assert.is(gone.m.get(`mdfan_segment_up{segment="${name}"}`), 0);
    assert.ok([...gone.m.keys()].some((k) => k.startsWith('mdfan_build_info{')), 'the build info stays');

    // A new segment under the name: its own counters (a counter reset, as Prometheus expects of a restart).
    w = SegmentWriter.open({ name, maxInstruments: 1, levels: 1 });
    w.messages = 2;
    w.flushCounters();
    const back = (await scrape()).m;
    assert.is(back.get(`mdfan_segment_up{segment="${name}"}`), 1);
    assert.is(back.get(`mdfan_messages_total{segment="${name}"}`), 2);
    assert.is(back.get(`mdfan_segment_instruments{segment="${name}"}`), 0);
    assert.is(back.get(`mdfan_instrument_updates_total{segment="${name}",symbol="AAA"}`), undefined);
  } finally {
    await exp.kill();
    w.close({ unlink: true });
  }
});

test('mdfan_reader_events_lost_total and _read_total: a lapped reader process\'s events lost and read, each under its own name', async () => {
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
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    assert.is(promtoolProblems(text), '', 'promtool check metrics with reader series');
    const m = samples(text);
    assert.is(m.get(`mdfan_readers{segment="${name}"}`), 1);
    assert.is(m.get(`mdfan_reader_events_lost_total{segment="${name}",pid="${reader.pid}"}`), lost, `the events lost (${lost}), not the events read (${read})`);
    assert.is(m.get(`mdfan_reader_events_read_total{segment="${name}",pid="${reader.pid}"}`), read, `the events read (${read}), not the events lost (${lost})`);
  } finally {
    await reader.kill();
    await exp.kill();
    w.close({ unlink: true });
  }
});

test('a process with several readers is one series per counter, their sum; each process its own', async () => {
  const name = segName('exp-procs');
  const w = SegmentWriter.open({ name, maxInstruments: 1, levels: 1 });
  // A stand-in for the writer's control socket that lists three readers, two of them in one process.
  const path = join(dir, 'procs.ctl');
  const listed = [
    { pid: 101, wait: 'spin', since: 'x', events_read: 10, events_lost: 1 },
    { pid: 101, wait: 'block', since: 'x', events_read: 20, events_lost: 2 },
    { pid: 202, wait: 'yield', since: 'x', events_read: 5, events_lost: 0 },
  ];
  const socks: Socket[] = [];
  const fake = createServer((s) => {
    socks.push(s);
    s.setEncoding('utf8');
    s.on('error', () => undefined);
    s.on('data', (d: string) => {
      if (d.includes('"list"')) s.write(`${JSON.stringify({ type: 'readers', readers: listed })}\n`);
    });
  });
  await new Promise<void>((r) => fake.listen(path, () => r()));
  writeControlPath(w.map, path);
  const port = await freeTcpPort();
  const exp = spawnMdfan('exporter', ['exporter', '--segment', name, '--listen', `127.0.0.1:${port}`]);
  try {
    await exp.line(/^mdfan exporter: http/, 20_000);
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    assert.is(promtoolProblems(text), '');
    const m = samples(text);
    assert.is(m.get(`mdfan_readers{segment="${name}"}`), 3);
    assert.is(m.get(`mdfan_reader_events_read_total{segment="${name}",pid="101"}`), 30);
    assert.is(m.get(`mdfan_reader_events_lost_total{segment="${name}",pid="101"}`), 3);
    assert.is(m.get(`mdfan_reader_events_read_total{segment="${name}",pid="202"}`), 5);
    assert.is(m.get(`mdfan_reader_events_lost_total{segment="${name}",pid="202"}`), 0);
    assert.is([...m.keys()].filter((k) => k.startsWith('mdfan_reader_events_read_total{')).length, 2, 'one series per process');
  } finally {
    for (const s of socks) s.destroy();
    await exp.kill();
    fake.close();
    w.close({ unlink: true });
  }
});

test.run();
