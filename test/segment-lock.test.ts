/**
 * The writer lock against readers and removers. Every reader may open the data segment, so a
 * reader may take a read lock on it: a dead writer's segment held so must still be taken over, and
 * called dead by stat, ls and gc. And `mdfan rm`/`mdfan gc` hold the segment lock for the whole
 * removal: a writer starting in the middle of one never loses what it made (the removal is paused
 * at its worst moment by a test hook, so the race is certain, not likely).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Child, spawnChild } from '../lib/child.js';
import { SegmentReader, SegmentWriter, eventsName, isMdfanError, topsName } from '../native/segment/index.js';
import { lockName } from '../native/segment/writer-lock.js';
import { binPath } from './helpers/paths.js';
import { killAll, startNode } from './helpers/procs.js';
import { cleanupSegments, segName, shmExists } from './helpers/segments.js';
import { pauseReached, releasePause } from './helpers/test-pause.js';

const proc = new URL('./helpers/writer-proc.js', import.meta.url);
const work = mkdtempSync(join(tmpdir(), 'mdfan-lock-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));

/** A hostile reader: opens /dev/shm/NAME read-only, read-locks all of it (as any reader may), says "locked", holds it until killed. */
const LOCKER_C = `#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
int main(int argc, char **argv) {
  char path[512];
  snprintf(path, sizeof path, "/dev/shm/%s", argv[1]);
  int fd = open(path, O_RDONLY | O_NONBLOCK);
  if (fd < 0) { perror("open"); return 1; }
  struct flock fl;
  memset(&fl, 0, sizeof fl);
  fl.l_type = F_RDLCK; fl.l_whence = SEEK_SET; fl.l_start = 0; fl.l_len = 0;
  if (fcntl(fd, F_OFD_SETLK, &fl) != 0) { perror("fcntl"); return 1; }
  puts("locked");
  fflush(stdout);
  for (;;) pause();
}
`;
const locker = join(work, 'read-locker');
const held: Child[] = [];

test.before(() => {
  writeFileSync(`${locker}.c`, LOCKER_C);
  execFileSync('cc', ['-std=c11', '-O2', '-Wall', '-Werror', '-o', locker, `${locker}.c`], { stdio: 'pipe' });
});
test.after.each(() => {
  for (const c of held.splice(0)) c.signal('SIGKILL');
  killAll();
  cleanupSegments();
});

/** A writer in its own process, killed with SIGKILL: its segment stays READY, its writer lock is gone. */
async function deadWritersSegment(name: string): Promise<number> {
  const p = startNode(proc, ['serve', name]);
  await p.line(/^ready /);
  const pid = p.child.pid!;
  p.child.kill('SIGKILL');
  await p.exited;
  return pid;
}

async function readLock(name: string): Promise<void> {
  const c = spawnChild('read-locker', locker, [name]);
  held.push(c);
  await c.line(/^locked$/);
}

const cli = (args: string[], env: NodeJS.ProcessEnv = process.env) => spawnSync(process.execPath, [binPath, ...args], { encoding: 'utf8', env, timeout: 60_000 });

test('a reader\'s read lock on a dead writer\'s segment: stat and ls call the writer dead, a new writer starts, the old object\'s readers are sent to the new one', async () => {
  const name = segName('rdlock');
  const dead = await deadWritersSegment(name);
  const old = SegmentReader.openSync(name, { anyState: true }); // a reader still mapping the dead writer's object
  try {
    await readLock(name);
    const st = cli(['stat', '--segment', name, '--json']);
    assert.is(st.status, 0, st.stderr);
    const s = JSON.parse(st.stdout) as { writer_pid: number; writer_lock_held: boolean; writer_alive: boolean };
    assert.equal([s.writer_pid, s.writer_lock_held, s.writer_alive], [dead, false, false], 'a read lock is not a writer');
    const ls = JSON.parse(cli(['ls', '--json']).stdout) as Array<{ name: string; writer_alive: boolean; writer_lock_held: boolean }>;
    const mine = ls.find((e) => e.name === name);
    assert.equal([mine?.writer_alive, mine?.writer_lock_held], [false, false]);
    let w: SegmentWriter | undefined;
    try {
      w = SegmentWriter.open({ name, maxInstruments: 2, levels: 10 });
    } catch (e) {
      assert.unreachable(`the new writer was refused: ${String(e)}`);
    }
    try {
      assert.is(w!.generation, 2, 'a new generation');
      assert.is(w!.outcome, 'recreated', 'the read-locked object is replaced by a new one under the name');
      assert.ok(old.replaced, 'the old object says it was replaced: its readers re-open the name');
      const r = SegmentReader.openSync(name);
      assert.ok(r.writerStatus().lockHeld, 'the new writer holds the new object\'s lock');
      r.close();
    } finally {
      w!.close({ unlink: true });
    }
  } finally {
    old.close();
  }
});

test('mdfan gc removes a dead writer\'s segment a reader holds read-locked', async () => {
  const name = segName('rdlock-gc');
  await deadWritersSegment(name);
  await readLock(name);
  const gc = cli(['gc', '--json', '--prefix', name]); // this test's segment only
  assert.is(gc.status, 0, gc.stderr);
  const out = JSON.parse(gc.stdout) as { removed: string[]; kept: string[] };
  assert.ok(out.removed.includes(name), gc.stdout);
  assert.not.ok(shmExists(name));
});

test('mdfan rm paused between its check and its unlinks: a writer starting then loses nothing (it is refused until the removal is done, then starts)', async () => {
  const name = segName('rm-race');
  const old = SegmentWriter.open({ name, maxInstruments: 1, levels: 1, ringEvents: 16 });
  old.close(); // a dead writer's segment (CLOSED), with its ring and top lines
  const fifo = join(work, `${name}.pause`);
  execFileSync('mkfifo', [fifo]);
  const rm = spawnChild('mdfan rm', binPath, ['rm', name], { env: { ...process.env, MDFAN_TEST_PAUSE_REMOVE: fifo } });
  held.push(rm);
  await pauseReached(fifo, 'mdfan rm to reach its pause');
  // The window: rm has found no live writer and has not unlinked anything yet.
  let w: SegmentWriter | null = null;
  let refused: unknown = null;
  try {
    w = SegmentWriter.open({ name, maxInstruments: 1, levels: 1, ringEvents: 16 });
  } catch (e) {
    refused = e;
  }
  try {
    await releasePause(fifo, 'mdfan rm to wait on its FIFO');
    const exit = await rm.exited;
    assert.is(exit.code, 0, rm.stderr());
    if (w !== null) {
      // Started in the window: whatever rm did, a live writer keeps all it made.
      assert.ok(shmExists(name), 'the live writer\'s segment is there');
      assert.ok(shmExists(topsName(name)), 'the live writer\'s top lines are there');
      assert.ok(shmExists(eventsName(name)), 'the live writer\'s event ring is there');
    } else {
      assert.ok(isMdfanError(refused, 'MDFAN_ERR_WRITER_ALIVE'), String(refused));
      assert.match(String(refused), 'mdfan rm or gc');
      assert.not.ok(shmExists(lockName(name)), 'rm removed the lock last');
      w = SegmentWriter.open({ name, maxInstruments: 1, levels: 1, ringEvents: 16 });
      assert.ok(shmExists(topsName(name)) && shmExists(eventsName(name)));
    }
  } finally {
    w?.close({ unlink: true });
  }
});

test('a lock object replaced under its name between open and lock is noticed: mdfan rm then finds the new writer, and removes nothing of it', async () => {
  const name = segName('lock-swap');
  const old = SegmentWriter.open({ name, maxInstruments: 1, levels: 1, ringEvents: 16 });
  old.close(); // a dead writer's segment; its lock object went with it
  const fifo = join(work, `${name}.lockpause`);
  execFileSync('mkfifo', [fifo]);
  const rm = spawnChild('mdfan rm', binPath, ['rm', name], { env: { ...process.env, MDFAN_TEST_PAUSE_LOCK: fifo } });
  held.push(rm);
  await pauseReached(fifo, 'mdfan rm to open the lock object and pause before locking it');
  // The window: a writer comes and goes (its lock object is unlinked with it), and a second one
  // starts under a new lock object. rm still holds the first, which no one locks any more.
  SegmentWriter.open({ name, maxInstruments: 1, levels: 1, ringEvents: 16 }).close();
  const live = SegmentWriter.open({ name, maxInstruments: 1, levels: 1, ringEvents: 16 });
  try {
    await releasePause(fifo, 'mdfan rm to wait on its FIFO');
    const exit = await rm.exited;
    // Locking the orphan alone would have let rm remove a live writer's segment.
    assert.is(exit.code, 1, rm.stderr());
    assert.match(rm.stderr(), `MDFAN_ERR_WRITER_ALIVE: segment ${name} has a live writer, pid ${process.pid}`);
    for (const n of [name, topsName(name), eventsName(name), lockName(name)]) assert.ok(shmExists(n), n);
  } finally {
    live.close({ unlink: true });
  }
});

test('mdfan rm of a live writer\'s segment is refused naming the writer, and takes nothing of it', async () => {
  const name = segName('rm-live');
  const w = SegmentWriter.open({ name, maxInstruments: 1, levels: 1, ringEvents: 16 });
  try {
    const r = cli(['rm', name]);
    assert.is(r.status, 1);
    assert.match(r.stderr, `MDFAN_ERR_WRITER_ALIVE: segment ${name} has a live writer, pid ${process.pid}`);
    for (const n of [name, topsName(name), eventsName(name), lockName(name)]) assert.ok(shmExists(n), n);
  } finally {
    w.close({ unlink: true });
  }
  assert.not.ok(shmExists(lockName(name)), 'a closed writer leaves no lock object');
});

/** Plants `/dev/shm/NAME.lock` as another process could: owned by `uid`, with `mode`. */
function plantLock(name: string, uid: number, mode: number): void {
  const path = `/dev/shm/${lockName(name)}`;
  writeFileSync(path, '', { mode });
  chownSync(path, uid, uid);
  chmodSync(path, mode);
}

/** A writer and `mdfan rm` both refuse the planted lock (MDFAN_ERR_UNSAFE_OBJECT on `field`); the writer makes nothing. */
function assertLockRefused(name: string, field: 'uid' | 'mode'): void {
  let err: { code?: string; details?: Record<string, unknown> } | undefined;
  let w: SegmentWriter | undefined;
  try {
    w = SegmentWriter.open({ name, maxInstruments: 1, levels: 1 });
  } catch (e) {
    err = e as typeof err;
  } finally {
    w?.close({ unlink: true });
  }
  assert.is(err?.code, 'MDFAN_ERR_UNSAFE_OBJECT', `the writer took a planted lock (${field}): ${String(err)}`);
  assert.is(err?.details?.field, field);
  assert.not.ok(shmExists(name), 'the refused writer made no segment');
  assert.ok(shmExists(lockName(name)), 'the refused writer left the planted object alone');
  const r = cli(['rm', name]);
  assert.is.not(r.status, 0, r.stdout);
  assert.match(r.stderr, 'MDFAN_ERR_UNSAFE_OBJECT');
}

test('a lock object others may read (mode 0640, this user\'s) is refused by a writer and by mdfan rm: exclusion needs it 0600', () => {
  const name = segName('lock-mode');
  plantLock(name, process.geteuid?.() ?? 0, 0o640);
  assertLockRefused(name, 'mode');
});

test('a lock object planted by another user (mode 0600) is refused by a writer and by mdfan rm: it could hold every writer out', () => {
  if (process.geteuid?.() !== 0) {
    console.log('  (skipped, needs root: a lock object planted by another user)');
    return;
  }
  const name = segName('lock-uid');
  plantLock(name, 65534, 0o600);
  assertLockRefused(name, 'uid');
});

test.run();
