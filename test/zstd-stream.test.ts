/**
 * zstd inputs: frames read one after the other (skippable frames skipped), each frame's content
 * checksum verified, at any chunking; damage, a cut and trailing bytes are errors with the feed's
 * codes. The reference is the zstd tool.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readInput } from '../feed/input-stream.js';
import { zstdStream } from '../feed/zstd-stream.js';
import { GOOG_DBN } from './helpers/oracle.js';

const dir = mkdtempSync(join(tmpdir(), 'mdfan-zstd-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const tool = (args: string[], input: Buffer): Buffer => {
  const r = spawnSync('zstd', ['-q', '-c', ...args], { input, maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(String(r.stderr));
  return r.stdout;
};
const raw = tool(['-d'], readFileSync(GOOG_DBN));
const file = (name: string, bytes: Buffer): string => {
  const f = join(dir, name);
  writeFileSync(f, bytes);
  return f;
};
const codeOf = async (f: string): Promise<string> => {
  try {
    await readInput(f, 64 << 20);
    return 'none';
  } catch (e) {
    return `${(e as { code: string }).code}: ${(e as Error).message}`;
  }
};

test('the GOOG frame decodes to what the zstd tool gives, its checksum verified', async () => {
  assert.ok(Buffer.compare(await readInput(GOOG_DBN, 64 << 20), raw) === 0);
});

test('several frames, with and without checksums, a skippable frame between: all of it, in order', async () => {
  const skippable = Buffer.from([0x5a, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 1, 2, 3]);
  const cat = Buffer.concat([tool(['--check'], raw.subarray(0, 3_000_000)), skippable, tool(['--no-check', '-19'], raw.subarray(3_000_000, 6_000_000)), tool(['--check', '-1'], raw.subarray(6_000_000))]);
  assert.ok(Buffer.compare(await readInput(file('three.zst', cat), 64 << 20), raw) === 0);
});

test('every block and header form: RLE blocks (a run of one byte), raw blocks (random bytes), a single-segment frame with its content size', async () => {
  let seed = 7;
  const random = Buffer.alloc(100_000).map(() => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed >>> 24;
  });
  const content = Buffer.concat([raw.subarray(0, 50_000), Buffer.alloc(400_000, 0x41), random, raw.subarray(50_000, 60_000)]);
  // From a file the tool knows the content size: a single-segment frame with the size in its header.
  const src = file('content.bin', content);
  const r = spawnSync('zstd', ['-q', '-c', '--check', src], { maxBuffer: 1 << 30 });
  assert.is(r.status, 0);
  assert.ok((r.stdout[4]! & 0x20) !== 0, 'the tool wrote a single-segment frame');
  assert.ok(Buffer.compare(await readInput(file('forms.zst', r.stdout), 64 << 20), content) === 0);
  // Under 256 bytes: the content size is one byte, announced by the single-segment bit alone.
  const tiny = raw.subarray(0, 200);
  const t = spawnSync('zstd', ['-q', '-c', '--check', file('tiny.bin', tiny)]);
  assert.is(t.stdout[4]! >> 6, 0, 'no content-size flag');
  assert.ok((t.stdout[4]! & 0x20) !== 0, 'single segment');
  assert.ok(Buffer.compare(await readInput(file('tiny.zst', Buffer.concat([t.stdout, t.stdout])), 64 << 20), Buffer.concat([tiny, tiny])) === 0);
});

test('at any chunking (1 to 7 bytes at a time), frames and checksums are found the same', async () => {
  const small = raw.subarray(0, 200_000);
  const z = Buffer.concat([tool(['--check'], small.subarray(0, 70_000)), tool(['--check'], small.subarray(70_000))]);
  for (const step of [1, 2, 3, 7]) {
    const { out: s, failure } = zstdStream();
    const parts: Buffer[] = [];
    s.on('data', (c: Buffer) => parts.push(c));
    const done = new Promise<void>((resolve, reject) => {
      s.on('end', resolve);
      s.on('error', reject);
    });
    for (let i = 0; i < z.length; i += step) s.write(z.subarray(i, i + step));
    s.end();
    await done;
    assert.is(failure(), null);
    assert.ok(Buffer.compare(Buffer.concat(parts), small) === 0, `step ${step}`);
  }
});

test('a damaged block that still decodes is caught by the frame\'s checksum; a damaged checksum too', async () => {
  const z = readFileSync(GOOG_DBN);
  const block = Buffer.from(z);
  block[1_000_000] ^= 0x5a;
  assert.match(await codeOf(file('block.zst', block)), /^MDFAN_ERR_FEED_CORRUPT: .*content checksum 0x[0-9a-f]+ is not the frame's/);
  const sum = Buffer.from(z);
  sum[sum.length - 1] ^= 1;
  assert.match(await codeOf(file('sum.zst', sum)), /^MDFAN_ERR_FEED_CORRUPT: .*content checksum/);
});

test('a cut inside a frame is truncated; bytes after the last frame that are no frame, a reserved header bit, a bad magic: corrupt', async () => {
  const z = readFileSync(GOOG_DBN);
  assert.match(await codeOf(file('cut.zst', z.subarray(0, 1_000_000))), /^MDFAN_ERR_FEED_TRUNCATED: .*ends early/);
  assert.match(await codeOf(file('cut-in-checksum.zst', z.subarray(0, z.length - 2))), /^MDFAN_ERR_FEED_TRUNCATED/);
  assert.match(await codeOf(file('trailing.zst', Buffer.concat([z, Buffer.from([1, 2, 3])]))), /^MDFAN_ERR_FEED_CORRUPT: .*3 bytes after frame 0 that are not a zstd frame/);
  assert.match(await codeOf(file('second-magic.zst', Buffer.concat([z, Buffer.from([1, 2, 3, 4, 5, 6])]))), /^MDFAN_ERR_FEED_CORRUPT: .*not a zstd frame at compressed byte offset 1971728/);
  const reserved = Buffer.from(z);
  reserved[4] |= 0x08;
  assert.match(await codeOf(file('reserved.zst', reserved)), /^MDFAN_ERR_FEED_CORRUPT: .*reserved bit/);
});

test.run();
