/**
 * Torture reader: N seqlock reads of slot 0, each checked; runs as a worker thread (workerData)
 * or as a process (argv: name reads path), reporting { reads, retries, torn, firstError, backwards }.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { SegmentReader, TopSnapshot } from '../../native/segment/index.js';
import { check, checkTop } from './payload.js';

interface Job {
  name: string;
  reads: number;
  path: 'js' | 'native';
}
const job: Job = isMainThread ? { name: process.argv[2], reads: Number(process.argv[3]), path: process.argv[4] as Job['path'] } : (workerData as Job);

const r = SegmentReader.openSync(job.name, { readPath: job.path, staleAfterMs: 2000 });
const snap = r.newSnapshot();
const top = new TopSnapshot();
let lastTop = 0;
let torn = 0;
let backwards = 0;
let firstError: string | null = null;
let last = 0;
let distinct = 0;
// Read at least `reads` times AND until 1000 distinct commits were seen (so a fast reader that
// ran while the writer was descheduled keeps going), within 20 s.
const MIN_DISTINCT = 1000;
const giveUpAt = Date.now() + 20_000;
for (let i = 0; i < job.reads || (distinct < MIN_DISTINCT && ((i & 4095) !== 0 || Date.now() < giveUpAt)); i++) {
  r.read(0, snap);
  const err = check(snap);
  if (err !== null) {
    torn++;
    firstError ??= err;
  }
  // The top line too: never torn, always level 0 of the book committed with it, never older than
  // the book read just before it (the writer commits the top first).
  r.readTop(0, top);
  const terr = top.seq === 0 ? null : checkTop(top);
  if (terr !== null) {
    torn++;
    firstError ??= terr;
  }
  if (top.msgIndex < lastTop || top.msgIndex < snap.msgIndex) backwards++;
  lastTop = top.msgIndex;
  const k = snap.msgIndex;
  if (k < last) backwards++;
  if (k !== last) distinct++;
  last = k;
}
const result = { reads: r.reads, retries: r.retries, torn, firstError, backwards, distinct, path: job.path };
r.close();
if (isMainThread) process.stdout.write(JSON.stringify(result) + '\n');
else parentPort!.postMessage(result);
