/**
 * Refusals: every way a reader or a second writer must be turned away, each with its stable code.
 * Broken segments are made by writing the POSIX object's bytes directly (/dev/shm/NAME).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openSync, closeSync, writeSync, ftruncateSync, writeFileSync, readFileSync } from 'node:fs';
import { SegmentReader, SegmentWriter, MdfanError, abi } from '../native/segment/index.js';
import { segName, cleanupSegments, codeOf } from './helpers/segments.js';
import { startNode, killAll } from './helpers/procs.js';
import { ITCH_SPEC, specOf } from '../native/segment/directory.js';

const proc = new URL('./helpers/writer-proc.js', import.meta.url);
const shm = (name: string): string => `/dev/shm/${name}`;

async function rejectsWith(p: Promise<unknown>): Promise<MdfanError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof MdfanError) return e;
    throw e;
  }
  throw new Error('expected a rejection');
}

/** A valid, CLOSED segment whose bytes the test may then corrupt. */
function closedSegment(tag: string): string {
  const name = segName(tag);
  const w = SegmentWriter.open({ name, maxInstruments: 2, levels: 5 });
  w.addInstrument('AAA', 1, ITCH_SPEC);
  w.close();
  return name;
}

function patch(name: string, offset: number, bytes: Buffer): void {
  const fd = openSync(shm(name), 'r+');
  try {
    writeSync(fd, bytes, 0, bytes.length, offset);
  } finally {
    closeSync(fd);
  }
}
const u16 = (n: number): Buffer => Buffer.from([n & 0xff, n >> 8]);
const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
};

test.after.each(() => {
  killAll();
  cleanupSegments();
});

test('no segment: MDFAN_ERR_NO_SEGMENT, now and after waiting', async () => {
  const name = segName('absent');
  assert.is(codeOf(() => SegmentReader.openSync(name)), 'MDFAN_ERR_NO_SEGMENT');
  const e = await rejectsWith(SegmentReader.attach(name, { timeoutMs: 50 }));
  assert.is(e.code, 'MDFAN_ERR_NO_SEGMENT');
  assert.match(e.message, name);
});

test('foreign magic: MDFAN_ERR_BAD_MAGIC at once, even when willing to wait', async () => {
  const name = segName('magic');
  const bytes = Buffer.alloc(4096);
  bytes.write('NOTMDFAN', 0, 'latin1');
  writeFileSync(shm(name), bytes, { mode: 0o600 });
  assert.is(codeOf(() => SegmentReader.openSync(name)), 'MDFAN_ERR_BAD_MAGIC');
  const e = await rejectsWith(SegmentReader.attach(name, { timeoutMs: 5000 }));
  assert.is(e.code, 'MDFAN_ERR_BAD_MAGIC'); // not NOT_READY: a foreign object is final
  assert.match(e.message, '"MDFANSHM"');
});

test('a writer never replaces a foreign object under its name: MDFAN_ERR_BAD_MAGIC, object intact', () => {
  const name = segName('foreign-writer');
  writeFileSync(shm(name), Buffer.alloc(4096, 0x41), { mode: 0o600 });
  assert.is(codeOf(() => SegmentWriter.open({ name, maxInstruments: 1, levels: 1 })), 'MDFAN_ERR_BAD_MAGIC');
  assert.ok(readFileSync(shm(name)).equals(Buffer.alloc(4096, 0x41)));
});

test('a half-created object (sized, no magic, no lock holder) is replaced by a new segment', () => {
  const name = segName('halfmade');
  writeFileSync(shm(name), Buffer.alloc(4096), { mode: 0o600 });
  const w = SegmentWriter.open({ name, maxInstruments: 1, levels: 1 });
  assert.is(w.outcome, 'recreated');
  assert.is(w.generation, 1);
  w.close();
});

test('another ABI major (a 1.x segment, the 32-bit levels): MDFAN_ERR_ABI_VERSION naming both versions', () => {
  const name = closedSegment('abi');
  patch(name, abi.HDR.abi_major.offset, u16(1));
  let err: MdfanError | undefined;
  try {
    SegmentReader.openSync(name, { anyState: true });
  } catch (e) {
    err = e as MdfanError;
  }
  assert.is(err?.code, 'MDFAN_ERR_ABI_VERSION');
  assert.is(err?.details.found, `1.${abi.ABI_MINOR}`); // the major patched, the minor ours
  assert.is(err?.details.expected, `${abi.ABI_MAJOR}.${abi.ABI_MINOR}`);
  assert.match(err!.message, `ABI 1.${abi.ABI_MINOR}`);
  assert.match(err!.message, `ABI ${abi.ABI_MAJOR}.${abi.ABI_MINOR}`);
});

test('another ABI minor is accepted (minor bumps only add fields)', () => {
  const name = closedSegment('minor');
  patch(name, abi.HDR.abi_minor.offset, u16(7));
  const r = SegmentReader.openSync(name, { anyState: true });
  assert.is(r.header().abiMinor, 7);
  r.close();
});

test('short segment: MDFAN_ERR_SEGMENT_SIZE with expected and found', () => {
  const name = closedSegment('short');
  const full = readFileSync(shm(name)).length;
  const fd = openSync(shm(name), 'r+');
  ftruncateSync(fd, full - abi.LINE_BYTES);
  closeSync(fd);
  let err: MdfanError | undefined;
  try {
    SegmentReader.openSync(name, { anyState: true });
  } catch (e) {
    err = e as MdfanError;
  }
  assert.is(err?.code, 'MDFAN_ERR_SEGMENT_SIZE');
  assert.is(err?.details.expected, full);
  assert.is(err?.details.found, full - abi.LINE_BYTES);
  const fd2 = openSync(shm(name), 'r+');
  ftruncateSync(fd2, 512); // shorter than the header itself
  closeSync(fd2);
  assert.is(codeOf(() => SegmentReader.openSync(name, { anyState: true })), 'MDFAN_ERR_SEGMENT_SIZE');
});

test('header size and layout fields are range-checked before use', () => {
  const name = closedSegment('layout');
  patch(name, abi.HDR.header_bytes.offset, u32(2048));
  assert.is(codeOf(() => SegmentReader.openSync(name, { anyState: true })), 'MDFAN_ERR_SEGMENT_SIZE');
  patch(name, abi.HDR.header_bytes.offset, u32(abi.HEADER_BYTES));
  patch(name, abi.HDR.levels.offset, u32(0));
  assert.is(codeOf(() => SegmentReader.openSync(name, { anyState: true })), 'MDFAN_ERR_LAYOUT');
  patch(name, abi.HDR.levels.offset, u32(5));
  patch(name, abi.HDR.slot_stride_bytes.offset, u32(64));
  assert.is(codeOf(() => SegmentReader.openSync(name, { anyState: true })), 'MDFAN_ERR_LAYOUT');
  patch(name, abi.HDR.slot_stride_bytes.offset, u32(abi.computeLayout(2, 5).slotStride));
  patch(name, abi.HDR.instrument_count.offset, u32(3)); // more than max_instruments
  assert.is(codeOf(() => SegmentReader.openSync(name, { anyState: true })), 'MDFAN_ERR_LAYOUT');
  patch(name, abi.HDR.instrument_count.offset, u32(1));
  assert.is(codeOf(() => SegmentReader.openSync(name, { anyState: true }).close()), 'no error');
});

test('not READY in time: an empty object and an INITIALIZING one give MDFAN_ERR_NOT_READY', async () => {
  const empty = segName('empty');
  writeFileSync(shm(empty), '', { mode: 0o600 });
  assert.is((await rejectsWith(SegmentReader.attach(empty, { timeoutMs: 100 }))).code, 'MDFAN_ERR_NOT_READY');
  const init = closedSegment('init');
  patch(init, abi.HDR.state.offset, u32(abi.STATE_INITIALIZING));
  const e = await rejectsWith(SegmentReader.attach(init, { timeoutMs: 100 }));
  assert.is(e.code, 'MDFAN_ERR_NOT_READY');
  assert.match(e.message, 'INITIALIZING');
  assert.is(codeOf(() => SegmentReader.openSync(init)), 'MDFAN_ERR_NOT_READY');
});

test('a second writer on a live segment: MDFAN_ERR_WRITER_ALIVE naming the pid (same and other process)', async () => {
  const name = segName('second');
  const w = SegmentWriter.open({ name, maxInstruments: 2, levels: 10 });
  try {
    let err: MdfanError | undefined;
    try {
      SegmentWriter.open({ name, maxInstruments: 2, levels: 10 });
    } catch (e) {
      err = e as MdfanError;
    }
    assert.is(err?.code, 'MDFAN_ERR_WRITER_ALIVE');
    assert.is(err?.details.pid, process.pid);
    assert.match(err!.message, `pid ${process.pid}`);
    const p = startNode(proc, ['try-open', name]);
    const res = JSON.parse(await p.line(/^\{/));
    assert.equal(res, { ok: false, code: 'MDFAN_ERR_WRITER_ALIVE', pid: process.pid });
    await p.exited;
  } finally {
    w.close();
  }
});

test('two writers started together: exactly one wins, every round', async () => {
  for (let round = 0; round < 8; round++) {
    const name = segName(`race${round}`);
    // The winner holds the segment until both have answered (a slow second start must still race it).
    const a = startNode(proc, ['try-open-hold', name]);
    const b = startNode(proc, ['try-open-hold', name]);
    const ra = JSON.parse(await a.line(/^\{/));
    const rb = JSON.parse(await b.line(/^\{/));
    a.child.kill('SIGKILL');
    b.child.kill('SIGKILL');
    await Promise.all([a.exited, b.exited]);
    const winners = [ra, rb].filter((r) => r.ok);
    assert.is(winners.length, 1, `round ${round}: ${JSON.stringify([ra, rb])}`);
    const loser = [ra, rb].find((r) => !r.ok);
    assert.is(loser.code, 'MDFAN_ERR_WRITER_ALIVE');
  }
});

test('another user: a reader running as nobody gets MDFAN_ERR_PERMISSION (mode 0600)', async () => {
  if (process.getuid?.() !== 0) {
    console.log('  (skipped the nobody case, not root: checking mode bits only)');
  }
  const name = segName('perm');
  const w = SegmentWriter.open({ name, maxInstruments: 1, levels: 1 });
  try {
    const { statSync } = await import('node:fs');
    assert.is(statSync(shm(name)).mode & 0o777, 0o600);
    if (process.getuid?.() === 0) {
      const p = startNode(proc, ['as-nobody', name]);
      assert.equal(JSON.parse(await p.line(/^\{"ok/)), { ok: false, code: 'MDFAN_ERR_PERMISSION' });
      // The refusal names the way out: the writer's --group and --mode.
      const { message } = JSON.parse(await p.line(/^\{"message/));
      assert.match(message, /permission denied on segment .*the writer's --group.*--mode/);
      await p.exited;
    }
  } finally {
    w.close();
  }
});

test('another user in the segment\'s group may read it: mode 0640 with gid, chowned by the writer', async () => {
  if (process.getuid?.() !== 0) return void console.log('  (skipped, needs root: to drop to nobody and to chown)');
  const name = segName('group');
  const w = SegmentWriter.open({ name, maxInstruments: 1, levels: 1, mode: 0o640, gid: 65534 });
  try {
    const { statSync } = await import('node:fs');
    const st = statSync(shm(name));
    assert.is(st.mode & 0o777, 0o640);
    assert.is(st.gid, 65534);
    const p = startNode(proc, ['as-nobody', name]);
    assert.equal(JSON.parse(await p.line(/^\{/)), { ok: true });
    await p.exited;
  } finally {
    w.close();
  }
});

test('mdfan feed --mode 640 --group nogroup: the segment and its control socket carry the group; nobody in it may read', async () => {
  if (process.getuid?.() !== 0) return void console.log('  (skipped, needs root: to chown to a group)');
  const { spawnSync } = await import('node:child_process');
  const { existsSync, statSync } = await import('node:fs');
  const { binPath, repoRoot } = await import('./helpers/paths.js');
  const name = segName('feedgroup');
  const file = `${repoRoot}/scenarios/data/itch/nasdaq-preopen-1000.itch`;
  const r = spawnSync(process.execPath, [binPath, 'feed', '--source', `itch:${file}`, '--segment', name, '--mode', '640', '--group', 'nogroup', '--keep-segment'], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  const st = statSync(shm(name));
  assert.is(st.mode & 0o777, 0o640);
  assert.is(st.gid, 65534);
  // The registry readers write in is a memfd handed over the control socket: nothing in /dev/shm.
  assert.not.ok(existsSync(shm(`${name}.readers`)));
  const p = startNode(proc, ['as-nobody', name, 'any']);
  assert.equal(JSON.parse(await p.line(/^\{/)), { ok: true });
  await p.exited;
  const bad = spawnSync(process.execPath, [binPath, 'feed', '--source', `itch:${file}`, '--segment', segName('nogrp'), '--group', 'no-such-group-x'], { encoding: 'utf8' });
  assert.is(bad.status, 2);
  assert.match(bad.stderr, '--group: no group named');
});

test('a reader writing to its read-only mapping dies (SIGSEGV); the writer and other readers are unharmed', async () => {
  const name = segName('rdonly');
  const w = SegmentWriter.open({ name, maxInstruments: 1, levels: 2 });
  try {
    w.addInstrument('AAA', 1, specOf(0));
    const src = { bidCount: 1, askCount: 1, bids: new Float64Array([100, 5, 1, 0, 0, 0]), asks: new Float64Array([101, 6, 1, 0, 0, 0]) };
    w.publish(0, src, 1, 1);
    const p = startNode(proc, ['write-mapping', name]);
    await p.line(/^attached/);
    const { signal } = await p.exited;
    assert.is(signal, 'SIGSEGV');
    const r = SegmentReader.openSync(name);
    const s = r.newSnapshot();
    r.read(0, s);
    assert.is(s.bidPrice(0), 100); // not 0xdeadbeef
    w.publish(0, { ...src, bids: new Float64Array([99, 5, 1, 0, 0, 0]) }, 2, 2);
    r.read(0, s);
    assert.is(s.bidPrice(0), 99);
    assert.is(s.msgIndex, 2);
    r.close();
  } finally {
    w.close();
  }
});

test('invalid options are refused once with a message naming the option', () => {
  const e = (o: object): string => {
    try {
      SegmentWriter.open(o as never);
    } catch (err) {
      return (err as MdfanError).message;
    }
    return 'no error';
  };
  assert.match(e({ name: segName('opt'), maxInstruments: 1, levels: 0 }), 'options.levels must be an integer 1..50');
  assert.match(e({ name: segName('opt'), maxInstruments: 0, levels: 1 }), 'options.maxInstruments must be an integer');
  assert.match(e({ name: 'bad/name', maxInstruments: 1, levels: 1 }), 'segment name must be');
});

test.run();
