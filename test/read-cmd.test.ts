/**
 * `mdfan read` and the reader SDK: fidelity under a full-speed replay, every wait strategy,
 * block's idle cost, wake-ups only for sleepers, and writer death, takeover and close.
 */
import { test } from 'uvu';
import { readBookLines } from '../lib/book-line.js';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SegmentWriter } from '../native/segment/index.js';
import { native } from '../native/segment/binding.js';
import { READER_DEFAULTS } from '../workers/index.js';
import { LogEvent } from '../lib/log.js';
import { GOOG_ITCH, checkDumpAgainstOracle, oracle } from './helpers/oracle.js';
import { binPath } from './helpers/paths.js';
import { startNode, killAll, type Proc, addonLoaded, procState } from './helpers/procs.js';
import { segName, cleanupSegments } from './helpers/segments.js';
import { waitUntil } from './helpers/wait.js';
import { statSegment } from '../native/segment/stat.js';
import { ITCH_SPEC, specOf } from '../native/segment/directory.js';

const dir = mkdtempSync(join(tmpdir(), 'mdfan-read-'));
const writerProc = new URL('./helpers/writer-proc.js', import.meta.url);
test.after.each(() => {
  killAll();
  cleanupSegments();
});
test.after(() => rmSync(dir, { recursive: true, force: true }));

const mdfan = (args: string[]): Proc => startNode(binPath, args);
const summaryOf = async (p: Proc) => JSON.parse(await p.line(/^\{"segment"/, 30_000));
const exitOf = async (p: Proc) => (await p.exited).code;

test('fidelity under load: two readers during a full-speed GOOG replay; every snapshot is a published book, in publish order, checkpoints equal the oracle, the last is the final book', async () => {
  const name = segName('fidelity');
  const recs = ['spin', 'block'].map((w) => join(dir, `rec-${w}.txt`));
  const readers = ['spin', 'block'].map((w, i) => mdfan(['read', '--segment', name, '--wait', w, '--record', recs[i]]));
  // The readers start first and wait for the segment: once a reader has loaded its modules it
  // polls for the segment within a few ms, long before the feed (a new process) creates it.
  await waitUntil(() => readers.every((r) => addonLoaded(r.child.pid)), 20_000, { what: 'the readers to load and poll for the segment' });
  const dump = join(dir, 'dump.txt');
  const feed = mdfan(['feed', '--source', `itch:${GOOG_ITCH}`, '--segment', name, '--dump-books', dump]);
  assert.is(await exitOf(feed), 0, feed.stderr());
  const dumpText = readFileSync(dump, 'latin1');
  // What was published is the oracle's day, at every checkpoint (no scheduling in that).
  const againstOracle = checkDumpAgainstOracle(dumpText);
  assert.equal(againstOracle.bad, []);
  assert.is(againstOracle.checked, oracle().length);
  const dumped = dumpText.trim().split('\n');
  const published = new Map<number, string>();
  for (const l of dumped) published.set(Number(l.slice(0, l.indexOf(','))), l);
  const finalBook = dumped[dumped.length - 1]!;
  const checkpoints = new Map(oracle().map((r) => [r.index, r.levels]));
  for (const [i, r] of readers.entries()) {
    const s = await summaryOf(r);
    assert.is(await exitOf(r), 0, r.stderr());
    const lines = readBookLines(recs[i]);
    // How many books a reader sees depends on how often it got a CPU (the machine may be busy):
    // what it saw must be right whatever the count.
    let wrong = 0;
    let outOfOrder = 0;
    let checkpointWrong = 0;
    let prev = -1;
    for (const l of lines) {
      const idx = Number(l.slice(0, l.indexOf(',')));
      if (published.get(idx) !== l) wrong++;
      if (idx <= prev) outOfOrder++;
      prev = idx;
      const want = checkpoints.get(idx);
      if (want !== undefined && l.slice(l.indexOf('GOOG,') + 5) !== want) checkpointWrong++;
    }
    assert.is(wrong, 0, `${s.wait}: ${wrong} observed snapshots were never published`);
    assert.is(outOfOrder, 0, `${s.wait}: ${outOfOrder} books seen after a later one (or twice)`);
    assert.is(checkpointWrong, 0);
    assert.is(lines[lines.length - 1], finalBook, `${s.wait}: the last book seen is the writer's final book`);
    assert.is(s.updates, lines.length);
  }
});

for (const [wait, ...extra] of [['spin'], ['yield'], ['block'], ['block', '--sync']]) {
  test(`--wait ${[wait, ...extra].join(' ')} delivers updates and the writer's last book; exits 0 when the writer closes`, async () => {
    const name = segName(`wait-${wait}${extra.length}`);
    const rec = join(dir, `tick-${wait}${extra.length}.txt`);
    // The writer publishes once the reader has attached (a slow start under load must not miss the day).
    const w = startNode(writerProc, ['gated-ticker', name, '2', '1']);
    await w.line(/^ready/);
    const r = mdfan(['read', '--segment', name, '--wait', wait, ...extra, '--record', rec]);
    await waitUntil(() => statSegment(name).counters.reader_attaches >= 1, 20_000, { what: 'the reader to attach' });
    w.child.kill('SIGUSR2');
    await w.line(/^closed/);
    const s = await summaryOf(r);
    assert.is(await exitOf(r), 0, r.stderr());
    assert.ok(s.updates >= 5, `${wait}: only ${s.updates} updates`);
    const lines = readBookLines(rec);
    assert.is(lines[lines.length - 1], '50,AAA,1001,20,1050,10,1002,40,999,20');
  });
}

test('block uses (almost) no CPU while idle, unlike spin; a writer with no sleepers makes no wake-up syscall', async () => {
  const name = segName('idle');
  const w = SegmentWriter.open({ name, maxInstruments: 1, levels: 1 });
  assert.ok(await w.startControl()); // block readers get the registry's descriptor over it
  w.startIdleHeartbeat();
  try {
    w.addInstrument('AAA', 1, specOf(0));
    const src = { bidCount: 1, askCount: 0, bids: new Float64Array([5, 1, 1]), asks: new Float64Array(3) };
    const spinR = mdfan(['read', '--segment', name, '--wait', 'spin', '--duration', '1']);
    const spin = await summaryOf(spinR); // runs alone: it has the core it spins on
    for (let k = 1; k <= 20; k++) {
      w.publish(0, src, k, k);
      w.wakeIfSleepers();
    }
    assert.is(w.wakeups, 0, 'nobody sleeps: no futex syscall');
    const blockR = mdfan(['read', '--segment', name, '--wait', 'block', '--duration', '1', '--record', join(dir, 'blk.txt')]);
    await waitUntil(() => w.registry.sleepers() >= 1, 20_000, { what: 'the block reader asleep on the futex' });
    assert.ok(w.registry.sleepers() >= 1, 'the block reader is counted as a sleeper');
    w.publish(0, src, 21, 21);
    w.wakeIfSleepers();
    assert.ok(w.wakeups >= 1);
    const block = await summaryOf(blockR);
    assert.ok(block.cpu_ms * 10 < spin.cpu_ms, `block used ${block.cpu_ms} ms of CPU, spin ${spin.cpu_ms} ms over the same second`);
    assert.ok(readFileSync(join(dir, 'blk.txt'), 'latin1').includes('21,AAA'), 'the sleeper was woken and read the new book');
    assert.is(w.registry.sleepers(), 0);
  } finally {
    w.close();
  }
});

test('a block reader killed -9 while asleep: the writer\'s heartbeat sweep frees its line and takes it off the sleeper count, and the writer stops waking', async () => {
  const name = segName('dead-sleeper');
  const w = SegmentWriter.open({ name, maxInstruments: 1, levels: 1 });
  assert.ok(await w.startControl()); // block readers get the registry's descriptor over it
  w.startIdleHeartbeat(); // beats, and sweeps the registry, as a live feed's writer does between packets
  try {
    w.addInstrument('AAA', 1, specOf(0));
    const src = { bidCount: 1, askCount: 0, bids: new Float64Array([5, 1, 1]), asks: new Float64Array(3) };
    w.publish(0, src, 1, 1);
    const r = mdfan(['read', '--segment', name, '--wait', 'block', '--duration', '600']);
    const pid = r.child.pid!;
    await waitUntil(() => w.registry.sleepers() === 1 && w.registry.readers().some((x) => x.pid === pid && x.sleeping), 20_000, {
      what: 'the block reader asleep on the futex, counted in the registry',
    });
    r.child.kill('SIGKILL');
    await r.exited; // reaped: its pid no longer names a process
    await waitUntil(() => w.registry.readers().every((x) => x.pid !== pid), 20_000, { what: 'the sweep to free the dead reader\'s line' });
    assert.is(w.registry.sleepers(), 0, 'the dead sleeper was taken off the count with its line');
    const before = w.wakeups;
    for (let k = 2; k <= 20; k++) {
      w.publish(0, src, k, k);
      w.wakeIfSleepers();
    }
    assert.is(w.wakeups, before, 'nobody sleeps: no futex syscall');
  } finally {
    w.close({ unlink: true });
  }
});

test('writer killed: --exit-on-writer-death exits 3 with MDFAN_ERR_WRITER_DEAD', async () => {
  const name = segName('death-exit');
  const w = startNode(writerProc, ['serve', name]);
  await w.line(/^ready/);
  const r = mdfan(['read', '--segment', name, '--exit-on-writer-death']);
  await r.event(LogEvent.READER_ATTACHED);
  w.child.kill('SIGKILL');
  assert.is(await exitOf(r), 3);
  assert.match(r.stderr(), 'MDFAN_ERR_WRITER_DEAD');
});

test('writer killed, then a new writer takes over: the reader reports, carries on with generation 2, and exits 0 at close', async () => {
  const name = segName('death-takeover');
  const rec = join(dir, 'takeover.txt');
  const w1 = startNode(writerProc, ['serve', name]);
  await w1.line(/^ready 1/);
  const r = mdfan(['read', '--segment', name, '--record', rec, '--wait', 'yield']);
  await r.event(LogEvent.READER_ATTACHED);
  w1.child.kill('SIGKILL');
  await w1.exited;
  await r.event(LogEvent.WRITER_DEAD); // the reader has reported the death before a new writer comes
  const w2 = startNode(writerProc, ['ticker', name, '10', '2']);
  assert.match(await w2.line(/^ready/), 'ready 2 takeover');
  await w2.line(/^closed/);
  assert.is(await exitOf(r), 0, r.stderr());
  assert.match(r.stderr(), 'MDFAN_ERR_WRITER_DEAD');
  assert.match(r.stderr(), 'a new writer');
  const lines = readBookLines(rec);
  assert.ok(lines[0].startsWith('1,AAA,1001,20,1000,10'), lines[0]); // the first writer's book
  assert.ok(lines[lines.length - 1].startsWith('50,AAA,1001,20,1050,10'), lines[lines.length - 1]); // the second's last
});

test('a writer restarted with another layout (20 levels after 10): mdfan read and the pool carry on with the new books', async () => {
  const name = segName('relayout');
  const rec = join(dir, 'relayout.txt');
  const pool = join(dir, 'relayout-pool.json');
  const w1 = startNode(writerProc, ['serve', name, '10', '2']);
  await w1.line(/^ready 1/);
  const r = mdfan(['read', '--segment', name, '--record', rec, '--wait', 'yield']);
  const p = mdfan(['strategies', '--segment', name, '--workers', '1', '--strategy', 'imbalance', '--wait', 'spin', '--json', pool]);
  await r.event(LogEvent.READER_ATTACHED);
  await waitUntil(() => addonLoaded(p.child.pid), 20_000, { what: 'the pool to load' });
  w1.child.kill('SIGKILL');
  await w1.exited;
  await r.event(LogEvent.WRITER_DEAD);
  const w2 = startNode(writerProc, ['ticker', name, '20', '2']);
  assert.match(await w2.line(/^ready/), 'ready 2 recreated');
  await w2.line(/^closed/);
  assert.is(await exitOf(r), 0, r.stderr());
  assert.not.match(r.stderr(), 'MDFAN_ERR_LAYOUT');
  const last = readBookLines(rec).pop()!;
  assert.is(last.split(',').length, 2 + 20 * 4, `a 20-level line: ${last}`);
  assert.ok(last.startsWith('50,AAA,1001,20,1050,10'), last);
  assert.is(await exitOf(p), 0, p.stderr());
  const j = JSON.parse(readFileSync(pool, 'utf8'));
  assert.equal(j.workers.map((x: { status: string }) => x.status), ['ok'], 'the worker re-allocated and carried on');
  assert.ok(j.workers[0].updates >= 2, 'it read books of both writers');
});

test('a reader of a dead writer\'s segment takes no latency sample from its books, and a spinning one sleeps while the writer is dead, then says when a silent writer is back', async () => {
  const name = segName('dead-attach');
  const w = startNode(writerProc, ['serve', name]);
  await w.line(/^ready/);
  w.child.kill('SIGKILL');
  await w.exited;
  const r = mdfan(['read', '--segment', name, '--wait', 'spin', '--duration', '3']);
  await r.event(LogEvent.WRITER_DEAD);
  await waitUntil(() => procState(r.child.pid) === 'S', 10_000, { what: 'the spinning reader asleep while its writer is dead' });
  const s = await summaryOf(r);
  assert.is(await exitOf(r), 0, r.stderr());
  assert.is(s.updates, 1, 'the dead writer\'s book was read');
  assert.is(s.latency_ns.p50, 0, 'but it is no latency sample');
  assert.is(s.latency_ns.max, 0);
});

test('a writer that stops beating and comes back is logged as back', async () => {
  const name = segName('silent');
  const w = startNode(writerProc, ['serve', name]);
  await w.line(/^ready/);
  const r = mdfan(['read', '--segment', name, '--wait', 'spin', '--duration', '30']);
  await r.event(LogEvent.READER_ATTACHED);
  w.child.kill('SIGSTOP'); // alive, lock held, no heartbeat
  await r.event(LogEvent.WRITER_DEAD);
  w.child.kill('SIGCONT');
  await r.event(LogEvent.WRITER_BACK);
  r.child.kill('SIGTERM');
  assert.is(await exitOf(r), 0, r.stderr());
  assert.ok(r.stderr().indexOf(LogEvent.WRITER_DEAD) < r.stderr().indexOf(LogEvent.WRITER_BACK));
});

test('a writer stopped mid-commit past the stale timeout: the reader reports MDFAN_ERR_STALE and carries on, then reads the finished book', async () => {
  const name = segName('midcommit');
  const w = SegmentWriter.open({ name, maxInstruments: 1, levels: 2 });
  const beat = setInterval(() => w.heartbeat(), 10); // alive all along: only the slot is stuck
  try {
    w.addInstrument('AAA', 1, ITCH_SPEC);
    const book = (px: number) => ({ bidCount: 1, askCount: 1, bids: new Float64Array([px, 1, 1]), asks: new Float64Array([px + 1, 1, 1]) });
    w.publish(0, book(100), 1, 1);
    const r = mdfan(['read', '--segment', name, '--wait', 'yield', '--record', join(dir, 'midcommit.txt')]);
    await r.event(LogEvent.READER_ATTACHED); // it reads the first book as soon as it has attached
    // What a writer descheduled between its two seq stores looks like: the seq stays odd.
    const seqWord = (w.layout.slotsOffset) >>> 2;
    const even = Atomics.load(w.map.u32, seqWord);
    Atomics.store(w.map.u32, seqWord, even + 1);
    await r.event(LogEvent.STALE); // reported once the slot stayed odd past the stale timeout (100 ms)
    Atomics.store(w.map.u32, seqWord, even); // the commit "finishes" (payload untouched)
    w.publish(0, book(200), 2, 2);
    clearInterval(beat);
    w.close(); // the reader reads the finished book (if it has not yet), then sees CLOSED
    const summary = await summaryOf(r);
    assert.is(await exitOf(r), 0, r.stderr());
    assert.match(r.stderr(), 'MDFAN_ERR_STALE');
    assert.ok(summary.stale >= 1, `stale reads counted: ${summary.stale}`);
    const lines = readBookLines(join(dir, 'midcommit.txt'));
    assert.match(lines[lines.length - 1], /^2,AAA,201,1,200,1/);
  } finally {
    clearInterval(beat);
    w.close({ unlink: true });
  }
});

test('a spinning reader that catches commits mid-way reads each commit once: no book recorded twice, updates <= publishes', async () => {
  const name = segName('once');
  const w = SegmentWriter.open({ name, maxInstruments: 1, levels: 10 });
  try {
    w.addInstrument('AAA', 1, ITCH_SPEC);
    const rec = join(dir, 'once.txt');
    const r = mdfan(['read', '--segment', name, '--wait', 'spin', '--record', rec]);
    await r.event(LogEvent.READER_ATTACHED);
    const src = { bidCount: 10, askCount: 10, bids: new Float64Array(30).fill(7), asks: new Float64Array(30).fill(9) };
    const published = 4000;
    for (let k = 1, next = performance.now(); k <= published; k++, next += 0.05) {
      while (performance.now() < next); // 20,000/s: the reader is waiting on the seq line each time
      src.bids[0] = 1000 + k;
      w.publish(0, src, k, k);
    }
    w.close();
    const summary = await summaryOf(r);
    assert.is(await exitOf(r), 0, r.stderr());
    const seen = readBookLines(rec).map((l) => Number(l.slice(0, l.indexOf(','))));
    assert.is(new Set(seen).size, seen.length, `${seen.length - new Set(seen).size} books recorded twice`);
    assert.ok(summary.updates <= published, `${summary.updates} updates for ${published} publishes`);
    assert.is(summary.updates, seen.length);
    assert.ok(seen.length > 0);
  } finally {
    w.close({ unlink: true });
  }
});

test('bad options: exit 2 with MDFAN_ERR_OPTIONS; no segment in time: exit 1 with MDFAN_ERR_NO_SEGMENT', async () => {
  const a = mdfan(['read', '--segment', 'x', '--wait', 'sleepy']);
  assert.is(await exitOf(a), 2);
  assert.match(a.stderr(), "--wait must be spin, yield or block");
  for (const args of [['--wait', 'spin', '--sync'], ['--wait', 'block', '--sync', '--events']]) {
    const s = mdfan(['read', '--segment', 'x', ...args]);
    assert.is(await exitOf(s), 2);
    assert.match(s.stderr(), 'MDFAN_ERR_OPTIONS: --sync goes with --wait block, without --events');
  }
  const b = mdfan(['read', '--segment', segName('never'), '--timeout', '0.2']);
  assert.is(await exitOf(b), 1);
  assert.match(b.stderr(), 'MDFAN_ERR_NO_SEGMENT');  // A CPU this process may not run on is the user's mistake, named before anything is attached
  // (it used to pass validation and fail inside the addon as an internal error).
  const allowed = native.getAffinity();
  const c = mdfan(['read', '--segment', 'x', '--cpu', '2000']);
  assert.is(await exitOf(c), 2);
  assert.match(c.stderr(), `MDFAN_ERR_OPTIONS: --cpu must be an integer 0..${Math.max(...allowed)} (got "2000")`);
  assert.not.match(c.stderr(), 'internal error');
});

test('the default wait is the one READER_DEFAULTS names, for mdfan read and mdfan strategies alike, and --help says why', async () => {
  for (const cmd of ['read', 'strategies']) {
    const h = mdfan([cmd, '--help']);
    assert.is(await exitOf(h), 0);
    assert.match(h.run.stdout.join('\n'), `--wait spin|yield|block (default ${READER_DEFAULTS.wait}: `);
  }
});

test('--print writes each book for people and --record starts with a header line naming the columns; both agree with the book', async () => {
  const name = segName('print');
  const rec = join(dir, 'print.txt');
  const w = SegmentWriter.open({ name, maxInstruments: 2, levels: 2 });
  try {
    const goog = w.addInstrument('GOOG', 1, ITCH_SPEC);
    const brk = w.addInstrument('BRK.B', 2, specOf(2));
    const r = mdfan(['read', '--segment', name, '--print', '--record', rec, '--wait', 'yield']);
    await r.event(LogEvent.READER_ATTACHED);
    // 09:30:00.000123 after midnight; two bid levels, one ask level.
    const ts = (9 * 3600 + 30 * 60) * 1e9 + 123_456;
    w.publish(goog, { bidCount: 2, askCount: 1, bids: new Float64Array([5853300, 100, 1, 5853000, 200, 2]), asks: new Float64Array([5855000, 300, 1, 0, 0, 0]) }, 41, ts);
    assert.is(await r.line(/^GOOG /), 'GOOG #41 09:30:00.000123 bid 100 @ 585.3300, 200 @ 585.3000 | ask 300 @ 585.5000 | spread 0.1700');
    w.publish(brk, { bidCount: 0, askCount: 1, bids: new Float64Array(6), asks: new Float64Array([41250, 5, 1, 0, 0, 0]) }, 42, ts + 1e9);
    assert.is(await r.line(/^BRK\.B /), 'BRK.B #42 09:30:01.000123 bid none | ask 5 @ 412.50 | spread -');
    w.close();
    assert.is(await exitOf(r), 0, r.stderr());
    const text = readFileSync(rec, 'latin1').split('\n');
    assert.is(text[0], 'msg_index,symbol,ask_price_1,ask_size_1,bid_price_1,bid_size_1,ask_price_2,ask_size_2,bid_price_2,bid_size_2');
    assert.equal(readBookLines(rec), ['41,GOOG,5855000,300,5853300,100,9999999999,0,5853000,200', '42,BRK.B,41250,5,-9999999999,0,9999999999,0,-9999999999,0']);
  } finally {
    w.close();
  }
});

test('a reader whose stdout is closed (`mdfan read --print | head -1`) stops cleanly at its next line: exit 0, no EPIPE stack', async () => {
  const name = segName('epipe');
  const w = startNode(writerProc, ['market', name]);
  await w.line(/^ready$/);
  const r = mdfan(['read', '--segment', name, '--print', '--events', '--duration', '60']);
  await r.line(/^GOOG #/);
  r.child.stdout!.destroy(); // as `head` exits after its line
  w.child.kill('SIGUSR2'); // GOOG's bid moves: the reader prints a line into the closed pipe
  await w.line(/^moved$/);
  const { code, signal } = await r.exited;
  assert.equal({ code, signal }, { code: 0, signal: null }, r.stderr());
  assert.not.match(r.stderr(), /EPIPE|internal error|at .*\.js:\d+/);
});

test.run();
