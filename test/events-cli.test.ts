/**
 * The event stream end to end: `mdfan feed` appends every trade, trading action, order and system
 * event of the input to the ring; `mdfan read --events` in other processes records them in the
 * contract format. Readers that keep up reproduce the independent event oracle of the GOOG day
 * line for line; a reader stopped while a small ring overflows records LAPPED with exactly the
 * events it lost, and every line after it is right.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { createConnection } from 'node:net';
import { LogEvent } from '../lib/log.js';
import { EventRingReader, SegmentWriter, abi, newEventFields } from '../native/segment/index.js';
import { listReaders } from '../native/segment/control.js';
import { GOOG_EVENTS, GOOG_ITCH } from './helpers/oracle.js';
import { binPath } from './helpers/paths.js';
import { addonLoaded, killAll, procState, startNode, type Proc } from './helpers/procs.js';
import { cleanupSegments, segName } from './helpers/segments.js';
import { waitUntil } from './helpers/wait.js';
import { ITCH_SPEC } from '../native/segment/directory.js';
import type { SpawnOptions } from '../lib/child.js';

const dir = mkdtempSync(join(tmpdir(), 'mdfan-events-'));
const mdfan = (args: string[], opts: SpawnOptions = {}): Proc => startNode(binPath, args, opts);
const exitOf = async (p: Proc) => (await p.exited).code;
const lines = (file: string): string[] => readFileSync(file, 'latin1').trim().split('\n');

test.after.each(() => {
  killAll();
  cleanupSegments();
});
test.after(() => rmSync(dir, { recursive: true, force: true }));

/** The GOOG day's events from the independent decoder: every trade and trading action. */
const oracleEvents = (): string[] => gunzipSync(readFileSync(GOOG_EVENTS)).toString('latin1').trim().split('\n');

/** Starts readers that wait for the segment, then the feed; returns once all have exited 0. */
async function replayWithReaders(name: string, readerArgs: string[][], feedArgs: string[] = [], readerOpts: SpawnOptions = {}): Promise<Proc[]> {
  const readers = readerArgs.map((a) => mdfan(['read', '--segment', name, '--timeout', '30', ...a], readerOpts));
  await waitUntil(() => readers.every((r) => addonLoaded(r.child.pid)), 20_000, { what: 'the readers to load and poll for the segment' });
  const feed = mdfan(['feed', '--source', `itch:${GOOG_ITCH}`, '--segment', name, ...feedArgs]);
  assert.is(await exitOf(feed), 0, feed.stderr());
  for (const r of readers) assert.is(await exitOf(r), 0, r.stderr());
  return readers;
}

test('readers in other processes reproduce the event oracle of the GOOG day line for line, at --speed max', async () => {
  const files = ['yield', 'spin'].map((w) => join(dir, `events-${w}.txt`));
  await replayWithReaders(
    segName('ev-oracle'),
    ['yield', 'spin'].map((w, i) => ['--wait', w, '--events', '--kinds', 'trade,status', '--record-events', files[i]!]),
  );
  const want = oracleEvents();
  assert.is(want.length, 11_771);
  for (const f of files) {
    const got = lines(f);
    assert.is(got.length, want.length, f);
    const first = got.findIndex((l, i) => l !== want[i]);
    assert.is(first, -1, first >= 0 ? `${f} line ${first + 1}: ${got[first]} vs ${want[first]}` : '');
  }
});

test('without --record-events, or with -, the event lines go to stdout, the oracle\'s line for line, and the summary JSON is the last line', async () => {
  const readers = await replayWithReaders(
    segName('ev-stdout'),
    [
      ['--events', '--kinds', 'trade,status'],
      ['--events', '--kinds', 'trade,status', '--record-events', '-'],
    ],
    [],
    { maxStdoutLines: 100_000 }, // every line kept
  );
  const want = oracleEvents();
  for (const [i, r] of readers.entries()) {
    const out = r.run.stdout;
    const last = out.at(-1) ?? '';
    assert.ok(last.startsWith('{"segment"'), `reader ${i}: the summary is the last line (got ${last.slice(0, 80)})`);
    const summary = JSON.parse(last) as { segment: string; events: { delivered: number; lost: number } };
    const got = out.slice(0, -1);
    assert.not.ok(
      got.some((l) => l.startsWith('{')),
      `reader ${i}: only the summary starts with {`,
    );
    assert.is(got.length, want.length, `reader ${i}: ${got.length} event lines`);
    const first = got.findIndex((l, k) => l !== want[k]);
    assert.is(first, -1, first >= 0 ? `reader ${i} line ${first + 1}: ${got[first]} vs ${want[first]}` : '');
    assert.equal(summary.events, { delivered: want.length, lost: 0 });
  }
});

test('a reader stopped while a small ring overflows records LAPPED,N with exactly the events it lost; every line after it is right', async () => {
  // The reference: every event of the day (all kinds), read by a reader that keeps up.
  const refFile = join(dir, 'ref.txt');
  await replayWithReaders(segName('ev-ref'), [['--events', '--record-events', refFile]]);
  const ref = lines(refFile);
  assert.ok(ref.length > 150_000, `${ref.length} events`);
  assert.ok(!ref.some((l) => l.startsWith('LAPPED')));

  const name = segName('ev-lap');
  const file = join(dir, 'lapped.txt');
  const reader = mdfan(['read', '--segment', name, '--timeout', '30', '--events', '--record-events', file]);
  await waitUntil(() => addonLoaded(reader.child.pid), 20_000, { what: 'the reader to load' });
  // Paced (about 5 s for the day), so the reader is stopped while the ring laps it.
  const feed = mdfan(['feed', '--source', `itch:${GOOG_ITCH}`, '--segment', name, '--ring-events', '1024', '--speed', '5000', '--max-gap', '0.01']);
  const ring = await waitUntil(() => EventRingReader.open(name, 'newest'), 20_000, { what: 'the ring to exist' });
  try {
    await waitUntil(() => ring.head() > 2_000, 20_000, { what: 'the first events' });
    reader.child.kill('SIGSTOP');
    await waitUntil(() => procState(reader.child.pid) === 'T', 5_000, { what: 'the reader to stop' });
    const at = ring.head();
    await waitUntil(() => ring.head() > at + 5_000, 30_000, { what: 'the ring to lap the stopped reader' });
    reader.child.kill('SIGCONT');
  } finally {
    ring.close();
  }
  assert.is(await exitOf(feed), 0, feed.stderr());
  assert.is(await exitOf(reader), 0, reader.stderr());
  const got = lines(file);
  const laps = got.filter((l) => l.startsWith('LAPPED,'));
  assert.ok(laps.length >= 1, 'the stopped reader was lapped');
  // Walk the record against the reference: a LAPPED,N line skips exactly N reference events. The
  // reader starts at the oldest event still in the ring when it attaches (the feed may have
  // wrapped the small ring by then): that is where the walk starts.
  // (It may even be lapped before its first poll.) Its summary says how many events it accounted
  // for, delivered or lost; the rest, before its start, it never promised.
  const summary = JSON.parse(reader.run.stdout.find((l) => l.startsWith('{"segment"'))!);
  const start = ref.length - summary.events.delivered - summary.events.lost;
  assert.ok(start >= 0 && start < ref.length, `start ${start}`);
  let k = start;
  let lost = 0;
  for (const [i, l] of got.entries()) {
    if (l.startsWith('LAPPED,')) {
      const n = Number(l.slice(7));
      assert.ok(Number.isInteger(n) && n > 0, l);
      k += n;
      lost += n;
      continue;
    }
    assert.is(l, ref[k], `line ${i + 1} of the lapped record against reference event ${k + 1}`);
    k++;
  }
  assert.is(k, ref.length, 'the record ends on the last event');
  assert.ok(lost > 1_000, `${lost} lost`);
  assert.is(summary.events.lost, lost, 'the summary counts the losses the record shows');
});

test('bad event options are refused with MDFAN_ERR_OPTIONS, and a segment without a ring is named', async () => {
  const a = mdfan(['read', '--segment', 'x', '--events', '--kinds', 'trade,gossip']);
  assert.is(await exitOf(a), 2);
  assert.match(a.stderr(), '--kinds: unknown kind "gossip"');
  const b = mdfan(['read', '--segment', 'x', '--record-events', '/tmp/x']);
  assert.is(await exitOf(b), 2);
  assert.match(b.stderr(), '--kinds, --record-events and --from go with --events');
  const c = mdfan(['feed', '--source', `itch:${GOOG_ITCH}`, '--segment', segName('ev-badcap'), '--ring-events', '1000']);
  assert.is(await exitOf(c), 2);
  assert.match(c.stderr(), '--ring-events must be 0 or a power of two');
  const name = segName('ev-none');
  const reader = mdfan(['read', '--segment', name, '--timeout', '30', '--events']);
  await waitUntil(() => addonLoaded(reader.child.pid), 20_000, { what: 'the reader to load' });
  const feed = mdfan(['feed', '--source', `itch:${GOOG_ITCH}`, '--segment', name, '--ring-events', '0']);
  assert.is(await exitOf(reader), 1);
  assert.match(reader.stderr(), 'MDFAN_ERR_NO_SEGMENT');
  assert.match(reader.stderr(), 'has no event ring');
  await feed.exited;
});

test('event readers report their counts through the control plane; mdfan stat shows them; a peer\'s bogus counts are ignored', async () => {
  const w = SegmentWriter.open({ name: segName('ev-stat'), maxInstruments: 1, levels: 1, ringEvents: 256 }); // room for all 100: none lost
  w.startIdleHeartbeat();
  try {
    assert.ok(await w.startControl());
    w.addInstrument('AAA', 1, ITCH_SPEC);
    const reader = mdfan(['read', '--segment', w.name, '--events']);
    await reader.event(LogEvent.READER_ATTACHED);
    const e = newEventFields();
    for (let k = 1; k <= 100; k++) {
      e.kind = abi.EVENT_KIND_TRADE;
      e.msgIndex = k;
      e.instrumentIndex = 0;
      w.appendEvent(e);
    }
    w.wakeIfSleepers();
    const path = w.control!.path;
    const counted = await waitUntil(async () => (await listReaders(path))?.find((r) => r.events_read === 100), 10_000, { what: 'the reader to report 100 events read' });
    assert.is(counted.events_lost, 0);
    assert.is(counted.pid, reader.child.pid);
    // A peer that claims nonsense changes nothing.
    const bogus = createConnection(path);
    await new Promise((r) => bogus.once('connect', r));
    bogus.write(`${JSON.stringify({ type: 'attach', pid: process.pid, wait: 'spin' })}\n${JSON.stringify({ type: 'events', read: -5, lost: 'many' })}\n`);
    const listed = await waitUntil(async () => (await listReaders(path))?.find((r) => r.pid === process.pid), 10_000, { what: 'the peer listed' });
    assert.is(listed.events_read, undefined);
    bogus.destroy();
    // Not spawnSync: the writer's control plane answers from this process's event loop.
    const st = mdfan(['stat', '--segment', w.name]);
    assert.is(await exitOf(st), 0, st.stderr());
    const text = st.run.stdout.join('\n');
    assert.match(text, `pid ${reader.child.pid} (yield, since `);
    assert.match(text, 'events read 100 lost 0');
    reader.child.kill('SIGTERM');
    assert.is(await exitOf(reader), 0, reader.stderr());
  } finally {
    w.close({ unlink: true });
  }
});

test.run();
