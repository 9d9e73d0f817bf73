/**
 * The segment lock: an OFD write lock on `/NAME.lock`, an object of the writer's user alone (mode
 * 0600). A writer holds it for its whole life, `mdfan rm` and `mdfan gc` for a whole removal: so a
 * remover never unlinks what a starting writer has just made, and no reader can take it. (Every
 * reader may open the data segment, so any lock there can be blocked by a reader's read lock: the
 * writer still holds one on the data segment's byte 0, for readers to see it alive, but exclusion
 * lives here.)
 *
 * The object is made on demand and unlinked by its holder: whoever takes the lock then checks that
 * the name still names the object it locked (an unlink between its open and its lock would leave it
 * holding an orphan while another process locks a new object under the name) and tries again if not.
 */
import { statSync } from 'node:fs';
import { testPause } from './test-pause.js';
import { native } from './binding.js';
import { ErrorCode, MdfanError, errnoName, inSegment } from './errors.js';
import { COMPANION_SUFFIXES, shmPath } from './mapping.js';

const SHM_DIR = '/dev/shm';
/** Mode of the lock object: its user's alone, so nobody else can open it, let alone lock it. */
const LOCK_MODE = 0o600;
/** Takes of a lock object unlinked under us in a row before giving up (each is another holder's whole turn). */
const ATTEMPTS = 5;

export const lockName = (segment: string): string => `${segment}${COMPANION_SUFFIXES.lock}`;

/** Test hook (MDFAN_TEST_PAUSE_LOCK): the first take pauses with its lock object opened, not yet locked; the test replaces the object under the name then. */
const pauseForTest = testPause('MDFAN_TEST_PAUSE_LOCK');

/** The inode the name has now, or -1 if it names nothing. */
function inodeOf(name: string): number {
  try {
    return statSync(`${SHM_DIR}/${name}`).ino;
  } catch {
    return -1;
  }
}

/**
 * Takes the lock of `segment`: its fd, or null when another process holds it. Throws
 * MDFAN_ERR_UNSAFE_OBJECT for a lock object that is not this user's alone (another user planted
 * it, or it was made readable to others), MDFAN_ERR_PERMISSION for one this user may not open.
 * `ownerUid`: the segment belongs to this other user, whose writer's lock object is accepted too
 * (root removing another user's dead segment: `mdfan gc --all-users`).
 */
export function takeSegmentLock(segment: string, ownerUid?: number): number | null {
  const name = lockName(segment);
  const path = shmPath(name);
  const euid = process.geteuid?.() ?? 0;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    let fd: number;
    try {
      fd = native.shmOpen(path, native.OPEN_CREATE_EXCL | native.OPEN_READ_WRITE, LOCK_MODE);
    } catch (e) {
      if (errnoName(e) !== 'EEXIST') throw inSegment(e, name);
      try {
        fd = native.shmOpen(path, native.OPEN_READ_WRITE, 0);
      } catch (e2) {
        if (errnoName(e2) === 'ENOENT') continue; // its holder removed it meanwhile
        throw inSegment(e2, name);
      }
    }
    try {
      const st = native.fstat(fd);
      if ((st.uid !== euid && st.uid !== ownerUid) || (st.mode & 0o077) !== 0)
        throw new MdfanError(
          ErrorCode.UNSAFE_OBJECT,
          `${name} (the lock of segment ${segment}) belongs to uid ${st.uid} with mode 0${(st.mode & 0o7777).toString(8)}; it must be this user's (uid ${euid}) alone, mode 0600, or another user could hold it and keep every writer out: refusing it (remove ${SHM_DIR}/${name} if no writer of yours runs)`,
          { segment: name, field: st.uid !== euid ? 'uid' : 'mode', expected: st.uid !== euid ? euid : '0600', found: st.uid !== euid ? st.uid : `0${(st.mode & 0o7777).toString(8)}` },
        );
      pauseForTest();
      if (!native.tryLockWriter(fd)) {
        native.close(fd);
        return null;
      }
      if (inodeOf(name) === st.ino) return fd;
    } catch (e) {
      native.close(fd);
      throw e;
    }
    native.close(fd); // an orphan: its holder unlinked it before our lock; the name has another object now
  }
  throw new MdfanError(ErrorCode.WRITER_ALIVE, `segment ${segment}: its lock ${name} was removed under us ${ATTEMPTS} times in a row (other writers or removers are racing for it)`, { segment });
}

/** Releases a lock taken by takeSegmentLock; `unlink` removes the object first (while it is still held). */
export function releaseSegmentLock(segment: string, fd: number, unlink: boolean): void {
  try {
    if (unlink) native.shmUnlink(shmPath(lockName(segment)));
  } catch {
    /* gone already: nothing to remove */
  } finally {
    native.close(fd);
  }
}
