/** The C reader refuses what the TypeScript reader refuses, with the same codes: every header field a raw image gets wrong, a missing segment, permissions, unsafe owners, a stale slot. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync } from 'node:fs';
import { join } from 'node:path';
import { ITCH_SPEC, SegmentWriter, abi, topsName, unlinkSegment } from '../../native/segment/index.js';
import { repoRoot } from '../helpers/paths.js';
import { cleanupSegments, segName } from '../helpers/segments.js';
import { buildReader, errorLine, killChildren, levelSource, runReader, workDir } from './reader.js';
import { rawImage, writeRaw } from './images.js';
test.before(buildReader);
test.after.each(() => {
  cleanupSegments();
});
test.after(killChildren);

test('the raw image the refusal cases start from is accepted (so each refusal is about its one change)', async () => {
  assert.equal(rawImage().subarray(0, 8), Buffer.from([0x4d, 0x44, 0x46, 0x41, 0x4e, 0x53, 0x48, 0x4d])); // LE 0x4D48534E4146444D
  const name = writeRaw('craw', rawImage());
  const r = await runReader([name, '--timeout-ms', '0']);
  assert.is(r.code, 0, r.stderr);
  assert.equal(r.lines, []); // no instruments yet
  // a newer minor only adds fields in reserved space: accepted
  const minor = writeRaw('cminor', rawImage({ edit: (b) => b.writeUInt16LE(7, abi.HDR.abi_minor.offset) }));
  const m = await runReader([minor, '--timeout-ms', '0']);
  assert.is(m.code, 0, m.stderr);
});

const refusals: Array<{ what: string; image: Buffer; code: string; says?: RegExp }> = [
  {
    what: 'a foreign magic',
    image: rawImage({ edit: (b) => b.write('NOTMDFAN', 0, 'latin1') }),
    code: 'MDFAN_ERR_BAD_MAGIC',
    says: /magic 0x4e4146444d544f4e, expected 0x4d48534e4146444d/,
  },
  {
    what: 'a 1.x segment (both versions named)',
    image: rawImage({
      edit: (b) => {
        b.writeUInt16LE(1, abi.HDR.abi_major.offset);
        b.writeUInt16LE(4, abi.HDR.abi_minor.offset);
      },
    }),
    code: 'MDFAN_ERR_ABI_VERSION',
    says: /has ABI 1\.4; this reader speaks ABI 2\.0 \(majors must match\)/,
  },
  {
    what: 'a later ABI major',
    image: rawImage({ edit: (b) => b.writeUInt16LE(3, abi.HDR.abi_major.offset) }),
    code: 'MDFAN_ERR_ABI_VERSION',
    says: /has ABI 3\.0; this reader speaks ABI 2\.0/,
  },
  { what: 'a short segment (half a header)', image: rawImage().subarray(0, 512), code: 'MDFAN_ERR_SEGMENT_SIZE', says: /512 bytes, shorter than the 1024-byte header/ },
  {
    what: 'a header_bytes of another size',
    image: rawImage({ edit: (b) => b.writeUInt32LE(2048, abi.HDR.header_bytes.offset) }),
    code: 'MDFAN_ERR_SEGMENT_SIZE',
    says: /2048-byte header/,
  },
  {
    what: 'a file shorter than total_bytes',
    image: rawImage().subarray(0, rawImage().length - 128),
    code: 'MDFAN_ERR_SEGMENT_SIZE',
    says: /declares \d+ bytes but is \d+ bytes long/,
  },
  {
    what: 'a slot stride that disagrees with the layout arithmetic',
    image: rawImage({ edit: (b) => b.writeUInt32LE(abi.computeLayout(2, 4).slotStride + 128, abi.HDR.slot_stride_bytes.offset) }),
    code: 'MDFAN_ERR_LAYOUT',
    says: /slot_stride_bytes/,
  },
  {
    what: 'levels outside 1..50',
    image: rawImage({ edit: (b) => b.writeUInt32LE(51, abi.HDR.levels.offset) }),
    code: 'MDFAN_ERR_LAYOUT',
    says: /levels is 51/,
  },
  {
    what: 'an instrument_count above max_instruments',
    image: rawImage({ edit: (b) => b.writeUInt32LE(3, abi.HDR.instrument_count.offset) }),
    code: 'MDFAN_ERR_LAYOUT',
    says: /instrument_count is 3/,
  },
  {
    what: 'a segment that stays INITIALIZING',
    image: rawImage({ state: abi.STATE_INITIALIZING }),
    code: 'MDFAN_ERR_NOT_READY',
    says: /did not become READY within 0 ms .*INITIALIZING/,
  },
  { what: 'a segment whose magic never appears', image: Buffer.alloc(4096), code: 'MDFAN_ERR_NOT_READY', says: /no magic yet/ },
];

for (const c of refusals) {
  test(`refuses ${c.what} with ${c.code}, exit 2`, async () => {
    const name = writeRaw('cref', c.image);
    const r = await runReader([name, '--timeout-ms', '0']);
    assert.is(r.code, 2, `exit ${r.code}: ${r.stderr}`);
    assert.ok(errorLine(r).startsWith(`${c.code}: `), r.stderr);
    if (c.says) assert.match(errorLine(r), c.says);
    assert.equal(r.lines, []);
  });
}

test('refuses a segment that does not exist with MDFAN_ERR_NO_SEGMENT, exit 2', async () => {
  const name = segName('cnone');
  const r = await runReader([name, '--timeout-ms', '0']);
  assert.is(r.code, 2, r.stderr);
  assert.match(errorLine(r), new RegExp(`^MDFAN_ERR_NO_SEGMENT: segment ${name} did not appear within 0 ms`));
});

test('another user than the owner of a 0600 segment gets MDFAN_ERR_PERMISSION', async () => {
  if (process.getuid?.() !== 0) {
    console.log('  (skipped: needs root to run the reader as nobody)');
    return;
  }
  const name = segName('cperm');
  const w = SegmentWriter.open({ name, maxInstruments: 1, levels: 1 }); // mode 0600, owner root
  try {
    const r = await runReader([name, '--timeout-ms', '0'], { uid: 65534, gid: 65534 });
    assert.is(r.code, 2, r.stderr);
    assert.match(errorLine(r), /^MDFAN_ERR_PERMISSION: permission denied on segment/);
  } finally {
    w.close({ unlink: true });
  }
});

test('a segment anyone may write, or one of an owner not named, is refused with MDFAN_ERR_UNSAFE_OBJECT; --writer-uid names the writer', async () => {
  const name = segName('cunsafe');
  const w = SegmentWriter.open({ name, maxInstruments: 1, levels: 1 });
  try {
    w.addInstrument('AAPL', 1, ITCH_SPEC);
    chmodSync(`/dev/shm/${name}`, 0o606);
    const open = await runReader([name, '--timeout-ms', '0']);
    assert.is(open.code, 2, open.stderr);
    assert.match(errorLine(open), new RegExp(`^MDFAN_ERR_UNSAFE_OBJECT: segment ${name} has mode 0606: anyone may write it`));
    chmodSync(`/dev/shm/${name}`, 0o600);
    if (process.getuid?.() !== 0) {
      console.log('  (skipped the owner case: needs root to give the segment away)');
      return;
    }
    chownSync(`/dev/shm/${name}`, 65534, 65534);
    const foreign = await runReader([name, '--timeout-ms', '0']);
    assert.is(foreign.code, 2, foreign.stderr);
    assert.match(errorLine(foreign), new RegExp(`^MDFAN_ERR_UNSAFE_OBJECT: segment ${name} belongs to uid 65534`));
    const named = await runReader([name, '--timeout-ms', '0', '--writer-uid', '65534']);
    assert.is(named.code, 0, named.stderr);
    assert.equal(named.lines, ['0,AAPL,9999999999,0,-9999999999,0']);
  } finally {
    w.close({ unlink: true });
  }
});

test('a slot left mid-update (odd seq) is reported MDFAN_ERR_STALE, not spun on forever', async () => {
  const name = segName('cstale');
  const w = SegmentWriter.open({ name, maxInstruments: 2, levels: 2 });
  try {
    const k = w.addInstrument('AAPL', 1, ITCH_SPEC);
    w.publish(k, levelSource(2, [[1, 1, 1]], [[2, 1, 1]]), 5, 0);
    w.slots.beginOnlyForTest(k);
    const r = await runReader([name, '--stale-ms', '20']);
    assert.is(r.code, 3, r.stderr);
    assert.match(errorLine(r), /^MDFAN_ERR_STALE: segment .* slot 0 stayed mid-update \(odd seq 3\)/);
    assert.equal(r.lines, []); // never a torn or half-written book
  } finally {
    w.close({ unlink: true });
  }
});

test('a FIFO planted under a segment name, or under its top lines\' name, is refused at once (MDFAN_ERR_UNSAFE_OBJECT), never waited on: the full reader and the short example', async () => {
  const name = segName('cfifo');
  execFileSync('mkfifo', [`/dev/shm/${name}`]); // any local user may; removed by cleanupSegments like a segment
  const r = await runReader([name, '--timeout-ms', '0']); // a blocking open would wait for a FIFO writer for ever (the guard kills it: no exit code)
  assert.is(r.code, 2, `${r.signal ?? ''} ${r.stderr}`);
  assert.match(errorLine(r), new RegExp(`^MDFAN_ERR_UNSAFE_OBJECT: ${name} in /dev/shm is not a shared-memory segment`));
  const example = join(workDir, 'read_book');
  execFileSync('cc', ['-std=c11', '-O2', '-Wall', '-Wextra', '-Werror', '-I', join(repoRoot, 'native', 'include'), '-o', example, join(repoRoot, 'native', 'examples', 'read_book.c')], { stdio: 'pipe' });
  const short = spawnSync(example, [name], { encoding: 'utf8', timeout: 60_000 }); // the timeout only guards against a hang
  assert.is(short.status, 2, `${short.signal ?? ''} ${short.stderr}`);
  assert.match(short.stderr, 'MDFAN_ERR_UNSAFE_OBJECT');
  // Top lines removed, a FIFO in their place
  const seg = segName('cfifo-tops');
  const w = SegmentWriter.open({ name: seg, maxInstruments: 1, levels: 1 });
  try {
    w.addInstrument('AAPL', 1, ITCH_SPEC);
    unlinkSegment(topsName(seg));
    execFileSync('mkfifo', ['-m', '600', `/dev/shm/${topsName(seg)}`]);
    const t = await runReader([seg, '--top', '--timeout-ms', '0']);
    assert.is(t.code, 2, `${t.signal ?? ''} ${t.stderr}`);
    assert.match(errorLine(t), /^MDFAN_ERR_UNSAFE_OBJECT: .*\.tops in \/dev\/shm is not a regular file/);
  } finally {
    w.close({ unlink: true });
  }
});

// ---- following a live writer ---------------------------------------------------------------

test.run();
