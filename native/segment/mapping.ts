/**
 * A mapped segment: one fd, one mapping, and the typed views over it. Every thread maps for
 * itself (see native/src/segment.cc for why), so a Mapping never crosses threads.
 */
import { statfsSync } from 'node:fs';
import { native } from './binding.js';
import { errnoName, inSegment, MdfanError, ErrorCode } from './errors.js';

/** The longest name of any POSIX object mdfan makes (a segment's or one beside it). */
const OBJECT_NAME_MAX = 200;
/** The objects beside a segment NAME are NAME + one of these (reader registry, event ring, top lines, the writer's lock). */
export const COMPANION_SUFFIXES = Object.freeze({ registry: '.readers', events: '.events', tops: '.tops', lock: '.lock' });
/** A segment's name leaves room for its longest companion suffix. */
export const SEGMENT_NAME_MAX = OBJECT_NAME_MAX - Math.max(...Object.values(COMPANION_SUFFIXES).map((s) => s.length));
const OBJECT_NAME_RE = /^[A-Za-z0-9._-]+$/;
/** Where POSIX shared memory lives on Linux (for the free space an ENOSPC names). */
const SHM_DIR = '/dev/shm';

function checkName(name: string, max: number, what: string): string {
  if (typeof name !== 'string' || name.length < 1 || name.length > max || !OBJECT_NAME_RE.test(name) || name === '.' || name === '..')
    throw new MdfanError(ErrorCode.OPTIONS, `${what} must be 1..${max} characters of A-Z a-z 0-9 . _ - (got ${JSON.stringify(name)})`, {
      segment: String(name),
      expected: max,
      found: typeof name === 'string' ? name.length : 0,
    });
  return `/${name}`;
}

/** Validates a segment NAME (the POSIX object /NAME, /dev/shm/NAME on Linux), with room for its companions' suffixes. */
export const segmentPath = (name: string): string => checkName(name, SEGMENT_NAME_MAX, 'segment name');

/** Validates the name of any object (a segment or one beside it) and gives its POSIX path. */
export const shmPath = (name: string): string => checkName(name, OBJECT_NAME_MAX, 'object name');

/**
 * Sizes a new object and reserves its pages: a full /dev/shm is MDFAN_ERR_NO_SPACE naming the
 * bytes needed and free, never a SIGBUS at a later store. Does not close `fd`.
 */
export function reserve(name: string, fd: number, bytes: number, hugePages = false): void {
  native.ftruncate(fd, bytes);
  // 2 MiB pages: fallocate would put 4 KiB pages in the object before the advised mapping can ask
  // for huge ones; the huge mapping's populate reserves the pages instead, failing as loudly.
  if (hugePages) return;
  try {
    native.fallocate(fd, bytes);
  } catch (e) {
    if (errnoName(e) !== 'ENOSPC') throw e;
    let free = -1;
    try {
      const s = statfsSync(SHM_DIR);
      free = s.bavail * s.bsize;
    } catch {
      /* no statfs: the size alone */
    }
    throw new MdfanError(
      ErrorCode.NO_SPACE,
      `no space for ${name} in ${SHM_DIR}: it needs ${bytes} bytes${free >= 0 ? `, ${free} are free` : ''} (enlarge ${SHM_DIR}, e.g. docker run --shm-size, or ask for fewer instruments or events)`,
      { segment: name, expected: bytes, found: free, errname: 'ENOSPC' },
    );
  }
}

export class Mapping {
  readonly name: string;
  readonly fd: number;
  readonly buffer: ArrayBuffer;
  readonly u8: Uint8Array;
  readonly u32: Uint32Array;
  readonly i32: Int32Array;
  /** 64-bit atomic access for cold fields (heartbeat, counters): one load, no tearing. */
  readonly u64: BigUint64Array;
  readonly dv: DataView;
  readonly writable: boolean;
  private closed = false;

  constructor(name: string, fd: number, buffer: ArrayBuffer, writable: boolean) {
    this.name = name;
    this.fd = fd;
    this.buffer = buffer;
    this.u8 = new Uint8Array(buffer);
    this.u32 = new Uint32Array(buffer);
    this.i32 = new Int32Array(buffer);
    this.u64 = new BigUint64Array(buffer);
    this.dv = new DataView(buffer);
    this.writable = writable;
  }

  get byteLength(): number {
    return this.closed ? 0 : this.buffer.byteLength;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Maps `length` bytes of an open shm fd (2 MiB-aligned and advised for huge pages if asked); on failure closes the fd. */
  static map(name: string, fd: number, length: number, writable: boolean, hugePages = false): Mapping {
    try {
      return new Mapping(name, fd, native.mmap(fd, length, writable, true, hugePages), writable);
    } catch (e) {
      native.close(fd);
      throw inSegment(e, name);
    }
  }

  /** Unmaps (views become length 0) and closes the fd, which releases any lock it held. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    native.unmap(this.buffer);
    native.close(this.fd);
  }
}

/** Reads an 8-byte little-endian field as a Number from its two 32-bit words (no BigInt). */
export const readU64 = (u32: Uint32Array, byteOffset: number): number =>
  u32[(byteOffset >>> 2) + 1] * 4294967296 + u32[byteOffset >>> 2];

/** 64-bit atomic load (cold path: allocates a BigInt). */
export const loadU64 = (m: Mapping, byteOffset: number): number => Number(Atomics.load(m.u64, byteOffset >>> 3));

/** 64-bit atomic store (cold path). */
export const storeU64 = (m: Mapping, byteOffset: number, value: number): void => {
  Atomics.store(m.u64, byteOffset >>> 3, BigInt(Math.max(0, Math.floor(value))));
};

export function unlinkSegment(name: string): boolean {
  try {
    native.shmUnlink(shmPath(name));
    return true;
  } catch (e) {
    if (errnoName(e) === 'ENOENT') return false;
    throw e;
  }
}

/**
 * A writer's new or reused object beside the segment (registry, event ring): chowned to `gid`
 * (if given), sized to `bytes`, mapped read-write. Closes `fd` on failure.
 */
export function sizeAndMap(name: string, fd: number, bytes: number, gid: number | undefined): Mapping {
  try {
    if (gid !== undefined) native.fchown(fd, -1, gid);
    reserve(name, fd, bytes);
  } catch (e) {
    native.close(fd);
    throw inSegment(e, name);
  }
  return Mapping.map(name, fd, bytes, true);
}

/**
 * A writer's new object beside the segment, for one generation (event ring, top lines): a
 * leftover one (a dead writer's: the data segment's writer lock is ours) is unlinked first, so a
 * reader still mapping it never sees two generations mixed. Created with `mode`, then sized and
 * mapped as sizeAndMap does.
 */
export function createFresh(name: string, bytes: number, mode: number, gid: number | undefined): Mapping {
  const path = shmPath(name);
  try {
    native.shmUnlink(path);
  } catch (e) {
    if (errnoName(e) !== 'ENOENT') throw inSegment(e, name);
  }
  const fd = native.shmOpen(path, native.OPEN_CREATE_EXCL | native.OPEN_READ_WRITE, mode);
  return sizeAndMap(name, fd, bytes, gid);
}
