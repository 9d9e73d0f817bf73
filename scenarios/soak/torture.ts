/**
 * One torture round: a writer thread commits self-checking payloads to one slot at full speed;
 * readers in worker threads and in separate processes, on both read paths, read it at the same
 * time and check every copy (payload.ts). A torn copy returned, a step back in time, or a reader
 * that never raced the writer is what a round reports.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

export interface ReadResult {
  reads: number;
  retries: number;
  torn: number;
  firstError: string | null;
  backwards: number;
  distinct: number;
  path: string;
}

export interface ReaderSpec {
  host: 'thread' | 'process';
  path: 'js' | 'native';
  reads: number;
}

export interface TortureResult {
  commits: number;
  readers: ReadResult[];
  reads: number;
  retries: number;
  torn: number;
  backwards: number;
  firstError: string | null;
}

const script = (f: string): URL => new URL(`./${f}`, import.meta.url);

function threadReader(name: string, spec: ReaderSpec): Promise<ReadResult> {
  return new Promise((resolve, reject) => {
    const w = new Worker(script('torture-reader.js'), { workerData: { name, reads: spec.reads, path: spec.path } });
    w.once('message', resolve);
    w.once('error', reject);
  });
}

function processReader(name: string, spec: ReaderSpec): Promise<ReadResult> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [fileURLToPath(script('torture-reader.js')), name, String(spec.reads), spec.path], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    c.stdout.on('data', (d) => (out += d));
    c.once('error', reject);
    c.once('close', (code) => (code === 0 ? resolve(JSON.parse(out) as ReadResult) : reject(new Error(`torture reader process exited ${code}: ${out}`))));
  });
}

/** Runs one round on segment `name` (created here, closed but not unlinked: the caller removes it). */
export async function tortureRound(name: string, readers: readonly ReaderSpec[]): Promise<TortureResult> {
  const stop = new Int32Array(new SharedArrayBuffer(4));
  const writer = new Worker(script('torture-writer.js'), { workerData: { name, stop } });
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
    results = await Promise.all(readers.map((r) => (r.host === 'thread' ? threadReader(name, r) : processReader(name, r))));
  } finally {
    Atomics.store(stop, 0, 1);
  }
  const { commits } = await writerDone;
  await writer.terminate();
  return {
    commits,
    readers: results,
    reads: results.reduce((a, r) => a + r.reads, 0),
    retries: results.reduce((a, r) => a + r.retries, 0),
    torn: results.reduce((a, r) => a + r.torn, 0),
    backwards: results.reduce((a, r) => a + r.backwards, 0),
    firstError: results.find((r) => r.firstError !== null)?.firstError ?? null,
  };
}
