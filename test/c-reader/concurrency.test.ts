/** No torn book under a live writer: the reader's lines while TypeScript publishes flat out in another thread, and every raced first copy caught (a test build that pauses mid-copy). */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { spawnChild } from '../../lib/child.js';
import { ITCH_SPEC, SegmentWriter, type LevelSource } from '../../native/segment/index.js';
import { repoRoot } from '../helpers/paths.js';
import { cleanupSegments, segName } from '../helpers/segments.js';
import { type Side, buildReader, children, dumpLine, killChildren, runReader, source, workDir } from './reader.js';
test.before(buildReader);
test.after.each(() => {
  cleanupSegments();
});
test.after(killChildren);

const FOLLOW_LEVELS = 10;
const SYMBOLS = ['EVEN', 'ODD'];

/** Writes commit m's levels into src (no allocation: the publisher calls it per commit). */
function fillBook(m: number, src: LevelSource): void {
  const n = FOLLOW_LEVELS;
  const bidCount = m % (n + 1);
  const askCount = (m * 7 + 3) % (n + 1);
  src.bidCount = bidCount;
  src.askCount = askCount;
  for (let i = 0; i < n; i++) {
    const b = i < bidCount;
    src.bids[i * 3] = b ? 100_000_000 + 2 * (m % 1_000_000_000) - i : 0;
    src.bids[i * 3 + 1] = b ? ((m * 31 + i * 17) % 100_003) + 1 : 0;
    src.bids[i * 3 + 2] = b ? (m + i) & 0xffff : 0;
    const a = i < askCount;
    src.asks[i * 3] = a ? 100_000_001 + 2 * (m % 1_000_000_000) + i : 0;
    src.asks[i * 3 + 1] = a ? ((m * 13 + i * 29) % 99_991) + 1 : 0;
    src.asks[i * 3 + 2] = a ? (m ^ i) & 0xffff : 0;
  }
}

const newSource = (): LevelSource => ({ bidCount: 0, askCount: 0, bids: new Float64Array(FOLLOW_LEVELS * 3), asks: new Float64Array(FOLLOW_LEVELS * 3) });

function bookOf(m: number): { bids: Side; asks: Side } {
  const src = newSource();
  fillBook(m, src);
  const side = (a: Float64Array, count: number): Side => Array.from({ length: count }, (_, i) => [a[i * 3], a[i * 3 + 1], a[i * 3 + 2]]);
  return { bids: side(src.bids, src.bidCount), asks: side(src.asks, src.askCount) };
}

/**
 * The publisher of the concurrency test, in a worker thread: commits to both slots alternately,
 * flat out, until the main thread raises the stop flag; then closes (CLOSED) and reports how many
 * commits it made. The writer owns its own mapping and the writer lock.
 */
function writerThread(d: { name: string; stop: SharedArrayBuffer }): void {
  const w = SegmentWriter.open({ name: d.name, maxInstruments: 2, levels: FOLLOW_LEVELS });
  const idx = SYMBOLS.map((s, i) => w.addInstrument(s, i, ITCH_SPEC));
  const stop = new Int32Array(d.stop);
  const src = newSource();
  let m = 0;
  const publishOne = (): void => {
    fillBook(m, src);
    w.publish(idx[m % 2], src, m, m * 1000);
    m++;
  };
  publishOne();
  publishOne();
  parentPort!.postMessage({ ready: true });
  // Back to back, no pause: most of the reader's copies race a commit (millions of retries), so
  // a reader that skipped its seq re-check would, in most runs, print torn books here.
  while (Atomics.load(stop, 0) === 0) for (let i = 0; i < 256; i++) publishOne();
  w.close();
  parentPort!.postMessage({ done: m });
}

/**
 * Why `line` is not one whole commit of fillBook(), or null. `last` holds each symbol's previous
 * msgIndex (a seqlock never goes back in time); `published` bounds the msgIndex.
 */
function followLineProblem(line: string, published: number, last: Map<string, number>, levels = FOLLOW_LEVELS): string | null {
  const comma1 = line.indexOf(',');
  const mi = Number(line.slice(0, comma1));
  const sym = line.slice(comma1 + 1, line.indexOf(',', comma1 + 1));
  if (!Number.isInteger(mi) || mi < 0 || mi >= published) return `msgIndex ${mi} never published`;
  if (sym !== SYMBOLS[mi % 2]) return `commit ${mi} belongs to ${SYMBOLS[mi % 2]}, not ${sym}`;
  const { bids, asks } = bookOf(mi);
  if (line !== dumpLine(mi, sym, levels, bids, asks)) return `levels are not those of commit ${mi}`;
  const prev = last.get(sym) ?? -1;
  last.set(sym, mi);
  if (mi <= prev) return `commit ${mi} after ${prev}`;
  return null;
}

test('the follow check rejects a line that mixes two commits, a wrong symbol or a step back', () => {
  const a = bookOf(40);
  const b = bookOf(42);
  assert.is(a.bids.length, 40 % 11); // the payload really varies its depth
  const good = dumpLine(40, 'EVEN', FOLLOW_LEVELS, a.bids, a.asks);
  assert.is(followLineProblem(good, 100, new Map()), null);
  const mixed = dumpLine(40, 'EVEN', FOLLOW_LEVELS, a.bids, b.asks); // header of one commit, levels of another
  assert.match(followLineProblem(mixed, 100, new Map()) ?? '', /levels are not those/);
  assert.match(followLineProblem(dumpLine(40, 'ODD', FOLLOW_LEVELS, a.bids, a.asks), 100, new Map()) ?? '', /belongs to EVEN/);
  assert.match(followLineProblem(good, 100, new Map([['EVEN', 40]])) ?? '', /after 40/);
  assert.match(followLineProblem(good, 40, new Map()) ?? '', /never published/);
  assert.match(followLineProblem(dumpLine(40, 'EVEN', 1, b.bids, b.asks), 100, new Map(), 1) ?? '', /levels are not those/); // a top of another commit
  assert.is(followLineProblem(dumpLine(40, 'EVEN', 1, a.bids, a.asks), 100, new Map(), 1), null);
});

test('--follow 2000 (books, and --top) while TypeScript publishes flat out in another thread: every line is one whole commit', async () => {
  const name = segName('cfollow');
  const stop = new SharedArrayBuffer(4);
  const worker = new Worker(new URL(import.meta.url), { workerData: { role: 'c-reader-writer', name, stop } });
  const messages: Array<{ ready?: boolean; done?: number }> = [];
  let wake: () => void = () => {};
  worker.on('message', (msg) => {
    messages.push(msg);
    wake();
  });
  const failed = new Promise<never>((_, reject) => worker.once('error', reject));
  const next = async (key: 'ready' | 'done'): Promise<{ ready?: boolean; done?: number }> => {
    for (;;) {
      const found = messages.find((x) => key in x);
      if (found) return found;
      await Promise.race([new Promise<void>((r) => (wake = r)), failed]);
    }
  };
  let published = 0;
  try {
    await next('ready');
    // Every commit changes its book's top (fillBook never leaves both sides empty), so the top
    // reader also sees a top line per commit it catches.
    const [book, top] = await Promise.all([runReader([name, '--follow', '2000']), runReader([name, '--top', '--follow', '2000'])]);
    Atomics.store(new Int32Array(stop), 0, 1);
    published = (await next('done')).done!;
    for (const [r, levels, what] of [[book, FOLLOW_LEVELS, 'books'], [top, 1, 'tops']] as const) {
      assert.is(r.code, 0, r.stderr);
      assert.is(r.lines.length, 2000);
      const last = new Map<string, number>();
      const problems: string[] = [];
      for (const line of r.lines) {
        const why = followLineProblem(line, published, last, levels);
        if (why !== null) problems.push(`${why}: ${line}`);
      }
      assert.is(problems.length, 0, `${what}: ${problems.length} torn, foreign or out-of-order lines; first: ${problems[0]}`);
      const counts = /^retries=(\d+) reads=(\d+)$/m.exec(r.stderr);
      assert.ok(counts, r.stderr);
      assert.ok(Number(counts[2]) >= 2000, r.stderr);
      console.log(`  C reader (${what}) under load: ${published} commits published, 2000 printed, ${counts[1]} retries, ${counts[2]} reads`);
    }
  } finally {
    Atomics.store(new Int32Array(stop), 0, 1);
    await worker.terminate();
  }
});

test('every first copy raced by a commit (a pause in mid-copy, test build): each is caught and read again, no torn line', async () => {
  // read_book built with a 2 ms pause between the two halves of each read's first copy: the writer
  // commits thousands of times meanwhile, so every first copy is torn. A reader without its second
  // seq check would print every one of them; this one must retry each.
  const paused = join(workDir, 'read_book_midcopy');
  execFileSync('cc', ['-std=gnu11', '-O2', '-Wall', '-Wextra', '-Werror', '-DMDFAN_SEQLOCK_TEST_MIDCOPY(r)=((void)((r) == 0 && usleep(2000)))', '-I', join(repoRoot, 'native', 'include'), '-o', paused, source], { stdio: 'pipe' });
  const name = segName('cmidcopy');
  const stop = new SharedArrayBuffer(4);
  const worker = new Worker(new URL(import.meta.url), { workerData: { role: 'c-reader-writer', name, stop } });
  const ready = new Promise<void>((resolve, reject) => {
    worker.once('message', () => resolve());
    worker.once('error', reject);
  });
  try {
    await ready;
    const c = spawnChild('read_book (mid-copy pause)', paused, [name, '--follow', '200'], { maxStdoutLines: Infinity });
    children.add(c);
    const e = await c.exited;
    children.delete(c);
    assert.is(e.code, 0, c.stderr());
    const lines = c.stdout.filter((l) => l.length > 0);
    assert.is(lines.length, 200);
    const last = new Map<string, number>();
    const problems = lines.map((l) => followLineProblem(l, Number.MAX_SAFE_INTEGER, last)).filter((p) => p !== null);
    assert.equal(problems, [], 'no torn, foreign or out-of-order line');
    const counts = /^retries=(\d+) reads=(\d+)$/m.exec(c.stderr());
    assert.ok(counts, c.stderr());
    assert.ok(Number(counts[1]) >= Number(counts[2]), `every read's first copy was torn and caught: ${counts[0]}`);
  } finally {
    Atomics.store(new Int32Array(stop), 0, 1);
    await worker.terminate();
  }
});

if (isMainThread) test.run();
else if ((workerData as { role?: string } | null)?.role === 'c-reader-writer') writerThread(workerData as { name: string; stop: SharedArrayBuffer });
