/**
 * A hostile local user against the segment's files: names too long for their companions, planted
 * objects, another user's object under the writer's name, a mode wider than asked, a segment
 * anyone may write, a sparse object of gigabytes, a full /dev/shm, and inputs that are not files.
 * Every refusal has a stable code and leaves nothing the writer made. Cases that need root say so
 * in the output when they cannot run.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SEGMENT_NAME_MAX } from '../native/segment/mapping.js';
import { SegmentReader, SegmentWriter, segmentObjects, topsName } from '../native/segment/index.js';
import { native } from '../native/segment/binding.js';
import { binPath, repoRoot } from './helpers/paths.js';
import { cleanupSegments, codeOf, segName, shmExists } from './helpers/segments.js';
import { specOf } from '../native/segment/directory.js';

const isRoot = process.geteuid?.() === 0;
const NOBODY = 65534;
const shm = (name: string): string => `/dev/shm/${name}`;
const left = (name: string): string[] => segmentObjects(name).filter(shmExists);

test.after.each(cleanupSegments);

/** Runs a case that needs root, or says it was skipped (never a silent pass). */
function asRoot(what: string, fn: () => void | Promise<void>): void {
  test(what, async () => {
    if (!isRoot) {
      console.log(`  (skipped, needs root: ${what})`);
      return;
    }
    await fn();
  });
}

test('a name leaves room for every companion: one character too many is refused before anything exists; the longest works with all its objects', () => {
  const base = `mdfan-test-${process.pid}-long-`;
  const tooLong = base.padEnd(SEGMENT_NAME_MAX + 1, 'x');
  assert.is(codeOf(() => SegmentWriter.open({ name: tooLong, maxInstruments: 1, levels: 1 })), 'MDFAN_ERR_OPTIONS');
  assert.equal(left(tooLong.slice(0, 200)), []);
  const longest = base.padEnd(SEGMENT_NAME_MAX, 'y');
  const w = SegmentWriter.open({ name: longest, maxInstruments: 1, levels: 1, ringEvents: 1024 });
  try {
    assert.equal(left(longest), [longest, `${longest}.events`, `${longest}.tops`, `${longest}.lock`], 'the segment, its ring, its top lines and its lock all exist (the registry is a memfd)');
    const r = SegmentReader.openSync(longest);
    r.close();
  } finally {
    w.close({ unlink: true });
  }
  assert.equal(left(longest), []);
});

test('a planted directory where the top lines go: a coded error, and nothing the writer made is left', () => {
  const name = segName('planted-dir');
  mkdirSync(shm(topsName(name)));
  try {
    let err: unknown;
    try {
      SegmentWriter.open({ name, maxInstruments: 1, levels: 1 });
    } catch (e) {
      err = e;
    }
    assert.match(String((err as { code?: string })?.code), /^MDFAN_ERR_/, String(err));
    assert.not.ok(shmExists(name), 'the data segment it created is gone');
    assert.ok(statSync(shm(topsName(name))).isDirectory(), 'the planted directory is not the writer\'s to remove');
  } finally {
    rmSync(shm(topsName(name)), { recursive: true, force: true });
  }
});

test('a planted symlink where the top lines go is replaced, never followed', () => {
  const name = segName('planted-link');
  const target = join(tmpdir(), `mdfan-target-${process.pid}`);
  writeFileSync(target, 'precious');
  symlinkSync(target, shm(topsName(name)));
  try {
    const w = SegmentWriter.open({ name, maxInstruments: 1, levels: 1 });
    w.close({ unlink: true });
    assert.is(readFileSync(target, 'utf8'), 'precious', 'the link\'s target was not written');
  } finally {
    rmSync(target, { force: true });
  }
});

asRoot('another user\'s object under the writer\'s name (mode 0666) is refused with MDFAN_ERR_UNSAFE_OBJECT and left untouched', () => {
  const name = segName('foreign');
  writeFileSync(shm(name), Buffer.alloc(4096, 7));
  chownSync(shm(name), NOBODY, NOBODY);
  chmodSync(shm(name), 0o666);
  let err: { code?: string; details?: Record<string, unknown> } | undefined;
  try {
    SegmentWriter.open({ name, maxInstruments: 1, levels: 1 });
  } catch (e) {
    err = e as typeof err;
  }
  assert.is(err?.code, 'MDFAN_ERR_UNSAFE_OBJECT');
  assert.equal([err?.details?.field, err?.details?.found], ['uid', NOBODY]);
  assert.ok(readFileSync(shm(name)).equals(Buffer.alloc(4096, 7)), 'not a byte changed');
  assert.not.ok(shmExists(topsName(name)));
});

test('a reader cannot shrink the reader registry (a sealed memfd handed over the control socket): the writer goes on', async () => {
  const name = segName('sealed');
  const w = SegmentWriter.open({ name, maxInstruments: 1, levels: 1 });
  try {
    assert.ok(await w.startControl());
    w.addInstrument('AAA', 1, specOf(0));
    assert.not.ok(shmExists(`${name}.readers`), 'no registry by name in /dev/shm to truncate');
    // A hostile reader, in its own process: gets the descriptor as every reader does, then tries
    // to shrink and to grow the object the writer maps.
    const script = `
      import { native } from ${JSON.stringify(join(repoRoot, 'dist', 'native', 'segment', 'binding.js'))};
      const fd = native.recvFd(${JSON.stringify(`/dev/shm/${name}.ctl`)}, '{"type":"registry"}\\n', 5000);
      const tryIt = (size) => { try { native.ftruncate(fd, size); return 'done'; } catch (e) { return e.details?.errname ?? String(e); } };
      console.log(JSON.stringify({ size: native.fstat(fd).size, shrink: tryIt(0), grow: tryIt(1 << 20) }));`;
    const { execFile } = await import('node:child_process');
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ['--input-type=module', '-e', script], { timeout: 30_000 }, (e, stdout, stderr) => (e ? reject(new Error(`${e.message}\n${stderr}`)) : resolve(stdout))),
    );
    const r = JSON.parse(out) as { size: number; shrink: string; grow: string };
    assert.ok(r.size > 0);
    assert.equal([r.shrink, r.grow], ['EPERM', 'EPERM'], 'sealed against shrinking and growing');
    // The writer's sleeper checks read the registry as before: no SIGBUS.
    w.publish(0, { bidCount: 1, askCount: 0, bids: new Float64Array([1, 1, 1]), asks: new Float64Array(3) }, 1, 0);
    w.wakeIfSleepers();
    assert.is(w.registry.sleepers(), 0);
  } finally {
    w.close({ unlink: true });
  }
});

test('a dead writer\'s segment of this user with a mode wider than asked is replaced, not adopted: the new object has the mode asked', () => {
  const name = segName('wide');
  const old = SegmentWriter.open({ name, maxInstruments: 1, levels: 1, mode: 0o644 });
  old.close(); // kept: CLOSED
  const w = SegmentWriter.open({ name, maxInstruments: 1, levels: 1, mode: 0o600 });
  try {
    assert.is(w.outcome, 'recreated');
    assert.is(statSync(shm(name)).mode & 0o777, 0o600);
    assert.is(w.generation, 2);
  } finally {
    w.close({ unlink: true });
  }
});

test('a reader refuses a segment anyone may write (MDFAN_ERR_UNSAFE_OBJECT)', () => {
  const name = segName('world-writable');
  const w = SegmentWriter.open({ name, maxInstruments: 1, levels: 1 });
  try {
    chmodSync(shm(name), 0o666);
    assert.is(codeOf(() => SegmentReader.openSync(name)), 'MDFAN_ERR_UNSAFE_OBJECT');
  } finally {
    w.close({ unlink: true });
  }
});

asRoot('a reader refuses a segment of another owner unless that owner is named as the writer (writerUid)', () => {
  const name = segName('other-owner');
  const w = SegmentWriter.open({ name, maxInstruments: 1, levels: 1 });
  try {
    chownSync(shm(name), NOBODY, NOBODY);
    assert.is(codeOf(() => SegmentReader.openSync(name)), 'MDFAN_ERR_UNSAFE_OBJECT');
    const r = SegmentReader.openSync(name, { writerUid: NOBODY });
    r.close();
  } finally {
    w.close({ unlink: true });
  }
});

test('a sparse foreign object of 2 GiB is never faulted in: reader, stat and writer refuse it after reading its header alone', () => {
  const name = segName('sparse');
  const fd = openSync(shm(name), 'w', 0o600);
  writeSync(fd, Buffer.from('NOTMDFAN'), 0, 8, 0);
  closeSync(fd);
  const fd2 = native.shmOpen(`/${name}`, native.OPEN_READ_WRITE, 0);
  native.ftruncate(fd2, 2 ** 31);
  native.close(fd2);
  const allocated = (): number => statSync(shm(name)).blocks * 512;
  assert.ok(allocated() <= 64 * 1024, `sparse at the start: ${allocated()} bytes allocated`);
  assert.is(codeOf(() => SegmentReader.openSync(name)), 'MDFAN_ERR_BAD_MAGIC');
  assert.is(codeOf(() => SegmentReader.openSync(name, { anyState: true })), 'MDFAN_ERR_BAD_MAGIC');
  const st = spawnSync(process.execPath, [binPath, 'stat', '--segment', name], { encoding: 'utf8' });
  assert.match(st.stderr, 'MDFAN_ERR_BAD_MAGIC');
  assert.is(codeOf(() => SegmentWriter.open({ name, maxInstruments: 1, levels: 1 })), 'MDFAN_ERR_BAD_MAGIC');
  assert.ok(allocated() <= 64 * 1024, `still sparse: ${allocated()} bytes allocated`);
});

asRoot('a full /dev/shm is MDFAN_ERR_NO_SPACE naming the bytes needed and free, and the writer leaves nothing behind', () => {
  // A private /dev/shm of 256 KiB (a mount namespace), as small as a container's can be.
  const empty = join(tmpdir(), `mdfan-empty-${process.pid}.itch`);
  writeFileSync(empty, '');
  const script = `mount -t tmpfs -o size=256k tmpfs /dev/shm || exit 99
    "${process.execPath}" "${binPath}" feed --source itch:${empty} --segment full-shm --max-instruments 16384; echo "exit=$?"
    echo "left=$(ls /dev/shm | wc -l)"`;
  const r = spawnSync('unshare', ['-m', 'sh', '-c', script], { encoding: 'utf8' });
  rmSync(empty, { force: true });
  if (r.status === 99 || r.error) {
    console.log(`  (skipped, no mount namespace here: ${r.error?.message ?? r.stderr.trim()})`);
    return;
  }
  assert.match(r.stderr, /MDFAN_ERR_NO_SPACE: no space for full-shm in \/dev\/shm: it needs \d+ bytes, \d+ are free/);
  assert.match(r.stdout, /exit=1\b/);
  assert.match(r.stdout, /left=0\b/, 'nothing left in /dev/shm');
  assert.not.match(r.stderr, 'internal error');
});

test('inputs must be regular files: a FIFO and a device are refused by name, before any segment exists', () => {
  const fifo = join(tmpdir(), `mdfan-fifo-${process.pid}`);
  spawnSync('mkfifo', [fifo]);
  try {
    for (const [file, kind] of [
      [fifo, 'a FIFO'],
      ['/dev/zero', 'a device'],
      [tmpdir(), 'a directory'],
    ] as const) {
      const name = segName('not-a-file');
      const r = spawnSync(process.execPath, [binPath, 'feed', '--source', `itch:${file}`, '--segment', name], { encoding: 'utf8', timeout: 30_000 });
      assert.is(r.status, 1, `${file}: ${r.stderr}`);
      assert.match(r.stderr, `MDFAN_ERR_FEED_IO: ${file} is ${kind}: an input must be a regular file`);
      assert.not.ok(shmExists(name));
    }
  } finally {
    rmSync(fifo, { force: true });
  }
  assert.not.ok(existsSync(fifo));
});

test('a FIFO planted under a segment name is refused at once, never waited on: the SDK, mdfan stat, ls and read', () => {
  const name = segName('fifo');
  // mkfifo(1): Node has no mkfifo of its own. The test removes it (cleanupSegments) like any segment.
  const made = spawnSync('mkfifo', [`/dev/shm/${name}`]);
  assert.is(made.status, 0, String(made.stderr));
  // A plain blocking open of it would wait for a writer for ever: each command is given 20 s, and must end by itself.
  const cli = (args: string[]) => spawnSync(process.execPath, [binPath, ...args], { encoding: 'utf8', timeout: 20_000 });
  const stat = cli(['stat', '--segment', name]);
  assert.is(stat.status, 1, `stat ended (signal ${stat.signal})`);
  assert.match(stat.stderr, 'MDFAN_ERR_UNSAFE_OBJECT');
  assert.match(stat.stderr, 'not a shared-memory segment');
  const read = cli(['read', '--segment', name, '--timeout', '1']);
  assert.is(read.status, 1, `read ended (signal ${read.signal})`);
  assert.match(read.stderr, 'MDFAN_ERR_UNSAFE_OBJECT');
  const ls = cli(['ls']);
  assert.is(ls.status, 0, `ls ended (signal ${ls.signal}): ${ls.stderr}`);
  assert.match(ls.stdout, new RegExp(`${name}\\s+UNSAFE \\(MDFAN_ERR_UNSAFE_OBJECT\\)`));
  // In this process last: were the open blocking, the commands above have already failed the test.
  assert.is(codeOf(() => SegmentReader.openSync(name)), 'MDFAN_ERR_UNSAFE_OBJECT');
});

test.run();
