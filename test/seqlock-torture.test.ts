/**
 * Seqlock torture: one writer thread commits self-checking payloads to one slot at full speed;
 * readers in worker threads (JavaScript and native read paths) and in a separate process read it
 * over a million times in all. Zero torn copies may be returned, and retries must be non-zero
 * (proof the readers really raced the writer).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Worker } from 'node:worker_threads';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { segName, cleanupSegments } from './helpers/segments.js';

interface ReadResult {
  reads: number;
  retries: number;
  torn: number;
  firstError: string | null;
  backwards: number;
  distinct: number;
  path: string;
}

const helper = (f: string): URL => new URL(`./helpers/${f}`, import.meta.url);

function threadReader(name: string, reads: number, path: 'js' | 'native'): Promise<ReadResult> {
  return new Promise((resolve, reject) => {
    const w = new Worker(helper('torture-reader.js'), { workerData: { name, reads, path } });
    w.once('message', resolve);
    w.once('error', reject);
  });
}

function processReader(name: string, reads: number, path: 'js' | 'native'): Promise<ReadResult> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [fileURLToPath(helper('torture-reader.js')), name, String(reads), path], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    c.stdout.on('data', (d) => (out += d));
    c.once('error', reject);
    c.once('close', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`reader process exited ${code}: ${out}`))));
  });
}

test.after.each(cleanupSegments);

test('a million reads under a full-speed writer: zero torn copies, retries > 0', async () => {
  const name = segName('torture');
  const stop = new Int32Array(new SharedArrayBuffer(4));
  const writer = new Worker(helper('torture-writer.js'), { workerData: { name, stop } });
  const writerDone = new Promise<{ commits: number }>((resolve, reject) => {
    writer.on('message', (m: { ready?: boolean; commits?: number }) => m.commits !== undefined && resolve(m as { commits: number }));
    writer.once('error', reject);
  });
  await new Promise<void>((resolve, reject) => {
    writer.once('message', () => resolve());
    writer.once('error', reject);
  });
  let results: ReadResult[];
  try {
    results = await Promise.all([
      threadReader(name, 350_000, 'js'),
      threadReader(name, 300_000, 'native'),
      processReader(name, 250_000, 'js'),
      processReader(name, 150_000, 'native'),
    ]);
  } finally {
    Atomics.store(stop, 0, 1);
  }
  const { commits } = await writerDone;
  await writer.terminate();
  const reads = results.reduce((a, r) => a + r.reads, 0);
  const retries = results.reduce((a, r) => a + r.retries, 0);
  for (const r of results) {
    assert.is(r.torn, 0, `${r.path} reader returned ${r.torn} torn copies; first: ${r.firstError}`);
    assert.is(r.backwards, 0, `${r.path} reader saw the slot go back in time`);
  }
  assert.ok(reads >= 1_000_000, `reads ${reads}`);
  assert.ok(retries > 0, `no retries in ${reads} reads: the test did not create contention`);
  assert.ok(commits > 10_000, `writer made only ${commits} commits`);
  assert.ok(results.every((r) => r.distinct >= 1000), `each reader must observe >= 1000 commits: ${results.map((r) => r.distinct)}`);
});

test('the check detects a torn copy (the torture test can fail)', async () => {
  const { check } = await import('./helpers/torture-payload.js');
  const { BookSnapshot } = await import('../native/segment/index.js');
  const { fill, TORTURE_LEVELS } = await import('./helpers/torture-payload.js');
  const s = new BookSnapshot(TORTURE_LEVELS);
  // Build commit 7 by hand in the snapshot's words, then tear one level from commit 8.
  const src = { bidCount: TORTURE_LEVELS, askCount: TORTURE_LEVELS, bids: new Uint32Array(30), asks: new Uint32Array(30) };
  fill(src, 7);
  s.words[0] = 14;
  s.words[2] = 7;
  s.words[4] = 21;
  s.words[8] = 10;
  s.words[9] = 10;
  s.words[10] = 7;
  s.words.set(src.bids, 16);
  s.words.set(src.asks, 16 + 30);
  assert.is(check(s), null);
  fill(src, 8);
  s.words[16 + 30 + 3] = src.asks[3];
  assert.match(String(check(s)), /ask level 1/);
});

test.run();
