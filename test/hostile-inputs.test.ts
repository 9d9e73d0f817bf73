/**
 * Inputs that try to exhaust or hang a command: a gzip bomb through every path that once read a
 * whole file (gen-market's sources, the replay's message count, the soak's and the benchmarks'
 * loader) costs bounded memory and says what is wrong; an input swapped for a FIFO between its
 * check and its open is refused, not waited on; a second stop signal ends a command whose stop
 * never finishes.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { createWriteStream, existsSync, lstatSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { LogEvent } from '../lib/log.js';
import { openOutputFile } from '../lib/out-file.js';
import { frameMessages } from '../feed/itch/framing.js';
import { add, directory } from './helpers/itch-encode.js';
import { GOOG_ITCH } from './helpers/oracle.js';
import { binPath } from './helpers/paths.js';
import { killAll, startNode } from './helpers/procs.js';
import { cleanupSegments, segName } from './helpers/segments.js';
import { waitUntil } from './helpers/wait.js';
import { pauseReached, releasePause } from './helpers/test-pause.js';

const dir = mkdtempSync(join(tmpdir(), 'mdfan-hostile-inputs-'));
test.after.each(() => {
  killAll();
  cleanupSegments();
});
test.after(() => rmSync(dir, { recursive: true, force: true }));

/** A generous bound on a process's peak RSS: the bombs expand to several times more. */
const RSS_BOUND = 300 * 2 ** 20;
const MIB = 2 ** 20;

/** Writes `mib` MiB of `block` repeated, gzip'd, to `file` (streamed: the test holds one block). */
async function gzipBomb(file: string, block: Buffer, mib: number, head: Buffer = Buffer.alloc(0)): Promise<void> {
  const unit = Buffer.concat(Array.from({ length: Math.ceil(MIB / block.length) }, () => block));
  async function* blocks(): AsyncGenerator<Buffer> {
    if (head.length) yield head;
    for (let i = 0; i < mib; i++) yield unit;
  }
  await pipeline(Readable.from(blocks()), createGzip({ level: 1 }), createWriteStream(file));
}

async function bombProc(args: string[]): Promise<{ result?: unknown; code?: string; message?: string; maxRssBytes: number }> {
  const p = startNode(new URL('./helpers/bomb-proc.js', import.meta.url), args);
  const { code } = await p.exited;
  assert.is(code, 0, p.stderr());
  return JSON.parse(p.run.stdout.at(-1)!);
}

const zeros = join(dir, 'zeros.itch.gz');
const orders = join(dir, 'orders.itch.gz');
test.before(async () => {
  // 512 MiB of zeros (about 0.5 MB on disk), and 200 MiB of valid order messages of one instrument.
  await gzipBomb(zeros, Buffer.alloc(MIB), 512);
  const framedAdd = frameMessages([add(7, 'B', 100, 1_000_000)]);
  await gzipBomb(orders, framedAdd, 200, frameMessages([directory(1, 'BOMB')]));
});

test('a gzip bomb as gen-market source: bounded memory; zeros are a clear FEED_CORRUPT, valid messages a market of --messages', async () => {
  const out = join(dir, 'market.itch');
  const z = await bombProc(['gen-market', zeros, out]);
  assert.is(z.code, 'MDFAN_ERR_FEED_CORRUPT', JSON.stringify(z));
  assert.match(z.message!, /zeros\.itch\.gz: message 0 at byte offset 0: length prefix is 0/);
  assert.ok(z.maxRssBytes < RSS_BOUND, `peak RSS ${Math.round(z.maxRssBytes / MIB)} MiB`);
  assert.not.ok(existsSync(out), 'no output for a bad source');
  const v = await bombProc(['gen-market', orders, out]);
  assert.is(v.result, 0, JSON.stringify(v));
  assert.ok(v.maxRssBytes < RSS_BOUND, `peak RSS ${Math.round(v.maxRssBytes / MIB)} MiB for ${200} MiB of messages`);
  assert.ok(existsSync(out));
});

test("a gzip bomb through the replay's message count, and the soak's and benchmarks' loader: bounded memory, a clear answer", async () => {
  const count = await bombProc(['count', zeros]);
  assert.is(count.result, null, 'no count for a corrupt file (the feed names the error)');
  assert.ok(count.maxRssBytes < RSS_BOUND, `count: peak RSS ${Math.round(count.maxRssBytes / MIB)} MiB`);
  const counted = await bombProc(['count', orders]);
  assert.ok((counted.result as number) > 5_000_000, `counted ${counted.result}`);
  assert.ok(counted.maxRssBytes < RSS_BOUND, `count of valid messages: peak RSS ${Math.round(counted.maxRssBytes / MIB)} MiB`);
  for (const path of ['read', 'bench']) {
    const r = await bombProc([path, zeros]);
    assert.is(r.code, 'MDFAN_ERR_FEED_TOO_LARGE', JSON.stringify(r));
    assert.match(r.message!, /zeros\.itch\.gz holds more than \d+ bytes/);
    assert.ok(r.maxRssBytes < RSS_BOUND, `${path}: peak RSS ${Math.round(r.maxRssBytes / MIB)} MiB`);
  }
  const goog = await bombProc(['read', GOOG_ITCH]);
  assert.is(goog.result, 4776853, 'the bundled day still loads whole');
});

test('an input swapped for a FIFO between its check and its open: refused with a code naming it, no hang', async () => {
  const input = join(dir, 'swapped.itch');
  writeFileSync(input, readFileSync(GOOG_ITCH));
  const pause = join(dir, 'pause');
  execFileSync('mkfifo', [pause]);
  const feed = startNode(binPath, ['feed', '--source', `itch:${input}`, '--segment', segName('fifo'), '--speed', 'max'], {
    env: { ...process.env, MDFAN_TEST_PAUSE_INPUT_OPEN: pause },
  });
  await pauseReached(pause, 'the feed to pause before opening its input');
  const fifo = join(dir, 'fifo.tmp');
  execFileSync('mkfifo', [fifo]);
  renameSync(fifo, input);
  await releasePause(pause, 'the feed to wait on its pause');
  const exited = await Promise.race([feed.exited, waitUntil(() => false, 20_000, { what: 'the feed to refuse the FIFO and exit' }).catch((e: Error) => e)]);
  assert.ok(!(exited instanceof Error), `${exited instanceof Error ? exited.message : ''}; stderr: ${feed.stderr()}`);
  assert.is((exited as { code: number | null }).code, 1, feed.stderr());
  assert.match(feed.stderr(), new RegExp(`MDFAN_ERR_FEED_IO: ${input} is a FIFO: an input must be a regular file`));
});

test('a second SIGTERM ends a command stuck in its stop, at once (128 + 15)', async () => {
  const p = startNode(new URL('./helpers/stop-proc.js', import.meta.url), []);
  await p.event(LogEvent.WRITER_READY);
  p.child.kill('SIGTERM');
  await p.event(LogEvent.STOPPING);
  assert.is(p.run.exit, null, 'the first signal only asks it to stop');
  p.child.kill('SIGTERM');
  const exited = await Promise.race([p.exited, waitUntil(() => false, 20_000, { what: 'the second SIGTERM to end it' }).catch((e: Error) => e)]);
  assert.ok(!(exited instanceof Error), exited instanceof Error ? exited.message : '');
  assert.is((exited as { code: number | null }).code, 143, p.stderr());
});

test('an output swapped for a FIFO while its bytes are written: the commit refuses it, the FIFO stays, no temporary file is left', () => {
  const target = join(dir, 'swapped.out');
  writeFileSync(target, 'old');
  const out = openOutputFile(target);
  writeSync(out.fd, 'new bytes');
  rmSync(target);
  execFileSync('mkfifo', [target]);
  let code = '';
  try {
    out.commit();
  } catch (e) {
    code = String((e as { code?: unknown }).code);
  } finally {
    out.abort();
  }
  assert.is(code, 'MDFAN_ERR_OUTPUT');
  assert.ok(lstatSync(target).isFIFO(), 'the FIFO is still there, not replaced');
  assert.equal(
    readdirSync(dir).filter((f) => f.startsWith('.swapped.out.')),
    [],
    'no temporary file left',
  );
});

test.run();
