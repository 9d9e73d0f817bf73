/**
 * Every mdfan segment on this host, and removing a dead writer's: what `mdfan ls`, `mdfan rm`
 * and `mdfan gc` do. Looking never disturbs a writer (stat's read-only mapping and lock query);
 * removing refuses a segment whose writer lock is held, and never touches an object that is not
 * an mdfan segment, and holds the segment lock while it removes.
 */
import { lstatSync, readdirSync, rmSync } from 'node:fs';
import { ErrorCode, MdfanError, isMdfanError } from './errors.js';
import { COMPANION_SUFFIXES, segmentPath, unlinkSegment } from './mapping.js';
import { segmentObjects } from './objects.js';
import { statWithReaders, statSegment } from './stat.js';
import { lockName, releaseSegmentLock, takeSegmentLock } from './writer-lock.js';
import { testPause } from './test-pause.js';

const SHM_DIR = '/dev/shm';
/** The control socket beside a segment. */
const CONTROL_SUFFIX = '.ctl';
const BESIDE = [...Object.values(COMPANION_SUFFIXES), CONTROL_SUFFIX];

export interface SegmentEntry {
  name: string;
  /** READY, CLOSED, BROKEN, INITIALIZING; UNSAFE (another user's, or writable by all); UNREADABLE (a coded refusal). */
  state: string;
  generation: number | null;
  writer_pid: number | null;
  writer_alive: boolean;
  writer_lock_held: boolean;
  heartbeat_age_ms: number | null;
  instruments: number | null;
  /** Readers attached through the control plane (null: it did not answer). */
  readers: number | null;
  size_bytes: number | null;
  /** Why the segment could not be read (its error code), when it could not. */
  problem: string | null;
}

/** Names in /dev/shm that could be segments (starting with `prefix`): not an object beside a segment. */
function candidates(prefix: string): string[] {
  let names: string[];
  try {
    names = readdirSync(SHM_DIR);
  } catch {
    return [];
  }
  return names.filter((n) => n.startsWith(prefix) && !BESIDE.some((s) => n.endsWith(s))).sort();
}

export interface ListOptions {
  /** Only names this accepts are looked at (as names without the prefix are not). */
  accept?: (name: string) => boolean;
  /**
   * A segment of another user is read as its owner's writer's (the owner is its writerUid):
   * root cleaning up after every user. Default: only this user's or root's are read.
   */
  anyOwner?: boolean;
}

/** The uid owning /dev/shm/NAME (undefined if it is gone). */
export function ownerOf(name: string): number | undefined {
  try {
    return lstatSync(`${SHM_DIR}/${name}`).uid;
  } catch {
    return undefined;
  }
}

/**
 * Every mdfan segment here whose name starts with `prefix` (objects that are not mdfan segments
 * are left out). Names without the prefix, or refused by `accept`, are not looked at: no mapping,
 * no lock query, no control connection to their writers.
 */
export async function listSegments(prefix = '', opts: ListOptions = {}): Promise<SegmentEntry[]> {
  const out: SegmentEntry[] = [];
  for (const name of candidates(prefix)) {
    if (opts.accept && !opts.accept(name)) continue;
    try {
      const s = await statWithReaders(name, opts.anyOwner ? ownerOf(name) : undefined);
      out.push({
        name,
        state: s.state,
        generation: s.generation,
        writer_pid: s.writer_pid,
        writer_alive: s.writer_alive,
        writer_lock_held: s.writer_lock_held,
        heartbeat_age_ms: s.heartbeat_age_ms,
        instruments: s.instrument_count,
        readers: s.readers === null ? null : s.readers.length,
        size_bytes: s.total_bytes,
        problem: null,
      });
    } catch (e) {
      if (!isMdfanError(e)) throw e;
      // Another program's shared memory, or gone meanwhile: not ours to list.
      if (e.code === ErrorCode.BAD_MAGIC || e.code === ErrorCode.NO_SEGMENT || e.code === ErrorCode.OPTIONS) continue;
      out.push({
        name,
        state: e.code === ErrorCode.UNSAFE_OBJECT ? 'UNSAFE' : 'UNREADABLE',
        generation: null,
        writer_pid: null,
        writer_alive: false,
        writer_lock_held: false,
        heartbeat_age_ms: null,
        instruments: null,
        readers: null,
        size_bytes: null,
        problem: e.code,
      });
    }
  }
  return out;
}

/** Test hook (MDFAN_TEST_PAUSE_REMOVE): a removal that holds the lock and found no live writer pauses; the test starts a writer then. */
const pauseForTest = testPause('MDFAN_TEST_PAUSE_REMOVE');

/**
 * Removes segment `name` and the objects beside it (registry, event ring, top lines, control
 * socket, lock). Holds the segment lock (writer-lock.ts) from before its check to after its last
 * unlink, so no writer starts meanwhile: a writer that tries is refused (MDFAN_ERR_WRITER_ALIVE)
 * and never loses what it made. Refuses a segment whose writer lock is held
 * (MDFAN_ERR_WRITER_ALIVE, with its pid) and an object that is not an mdfan segment; with no
 * segment left, removes the leftovers beside it. Returns what it removed; MDFAN_ERR_NO_SEGMENT
 * when there was nothing. `ownerUid`: the segment is this other user's (root removing it), whose
 * segment and lock object are accepted as this user's would be.
 */
export function removeSegment(name: string, opts: { ownerUid?: number } = {}): string[] {
  segmentPath(name);
  const lockFd = takeSegmentLock(name, opts.ownerUid);
  if (lockFd === null) {
    let live = 0;
    try {
      const s = statSegment(name, undefined, opts.ownerUid);
      if (s.writer_lock_held) live = s.writer_pid;
    } catch {
      /* no segment yet: a writer is creating it */
    }
    throw new MdfanError(
      ErrorCode.WRITER_ALIVE,
      live > 0
        ? `segment ${name} has a live writer, pid ${live}: stop it first (it removes its segment when it exits)`
        : `segment ${name} is locked by a writer starting, or by another mdfan rm or gc: try again when it is done`,
      { segment: name, pid: live },
    );
  }
  try {
    let exists = true;
    try {
      const s = statSegment(name, undefined, opts.ownerUid);
      if (s.writer_lock_held)
        throw new MdfanError(ErrorCode.WRITER_ALIVE, `segment ${name} has a live writer, pid ${s.writer_pid}: stop it first (it removes its segment when it exits)`, { segment: name, pid: s.writer_pid });
    } catch (e) {
      if (!isMdfanError(e, ErrorCode.NO_SEGMENT)) throw e;
      exists = false;
    }
    pauseForTest();
    const removed: string[] = [];
    // The lock last, by releaseSegmentLock below: unlinked while still held.
    const objects = segmentObjects(name).filter((o) => o !== lockName(name));
    for (const obj of exists ? objects : objects.slice(1)) if (unlinkSegment(obj)) removed.push(obj);
    const ctl = `${SHM_DIR}/${name}${CONTROL_SUFFIX}`;
    try {
      rmSync(ctl);
      removed.push(`${name}${CONTROL_SUFFIX}`);
    } catch {
      /* none */
    }
    if (removed.length === 0) throw new MdfanError(ErrorCode.NO_SEGMENT, `no segment ${name} (nothing in ${SHM_DIR} by that name)`, { segment: name });
    return removed;
  } finally {
    releaseSegmentLock(name, lockFd, true);
  }
}
