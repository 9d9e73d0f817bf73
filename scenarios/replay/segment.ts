/**
 * What the replay does to the segment itself: look at it (the stat of `mdfan stat --json`, read
 * in this process, never disturbing the writer), patch its ABI major (the version-mismatch
 * fault), and remove it with its reader registry and control socket at the end, whatever
 * happened.
 */
import { closeSync, existsSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import * as abi from '../../native/segment/abi.js';
import { unlinkSegmentObjects } from '../../native/segment/objects.js';
import { statSegment, type StatReport } from '../../native/segment/stat.js';

export const shmFile = (name: string): string => `/dev/shm/${name}`;

/** The segment's stat, or null if it does not exist (yet) or cannot be read right now. */
export function tryStat(name: string): StatReport | null {
  if (!existsSync(shmFile(name))) return null;
  try {
    return statSegment(name);
  } catch {
    return null;
  }
}

/** Removes the segment, the objects beside it (registry, event ring) and its control socket (each if present). */
export function removeSegment(name: string): void {
  unlinkSegmentObjects(name);
  rmSync(shmFile(`${name}.ctl`), { force: true });
}

export function segmentExists(name: string): boolean {
  return existsSync(shmFile(name));
}

/** Overwrites the header's ABI major (u16 LE); returns the previous value. */
export function patchAbiMajor(name: string, major: number): number {
  const fd = openSync(shmFile(name), 'r+');
  try {
    const old = Buffer.alloc(2);
    readSync(fd, old, 0, 2, abi.HDR.abi_major.offset);
    const b = Buffer.alloc(2);
    b.writeUInt16LE(major);
    writeSync(fd, b, 0, 2, abi.HDR.abi_major.offset);
    return old.readUInt16LE(0);
  } finally {
    closeSync(fd);
  }
}
