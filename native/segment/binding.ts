/**
 * Loads the native addon (a build from source in native/build/Release, else the prebuild in
 * native/prebuilds/<platform>-<arch>: addon-load.ts) and checks, once per thread, that the
 * header it was compiled from agrees with the generated TypeScript tables: a stale build or an
 * edited header fails loudly here instead of corrupting books.
 */
import { fileURLToPath } from 'node:url';
import * as abi from './abi.js';
import * as gen from './abi.generated.js';
import { loadAddon } from './addon-load.js';
import { ErrorCode, MdfanError, isSyscallError, syscallError } from './errors.js';
import type { ErrorDetails } from './errors.js';

export interface FieldInfo {
  offset: number;
  size: number;
}
/** What the compiled addon makes of the header (native/src/abi_export.cc). */
export interface AbiDump {
  structs: Record<string, Record<string, FieldInfo>>;
  sizeof: Record<string, number>;
  constants: Record<string, number>;
  layoutSamples: Array<{
    maxInstruments: number;
    levels: number;
    slotStride: number;
    slotsOffset: number;
    totalBytes: number;
    asksOffset: number;
    packedStride: number;
  }>;
  registryBytes: number;
}
export interface FileStat {
  size: number;
  mode: number;
  uid: number;
  gid: number;
  ino: number;
  ctimeMs: number;
}

/** The addon's surface: numeric and small. Each call throws an Error with syscall/errno/code. */
export interface Addon {
  OPEN_CREATE_EXCL: number;
  OPEN_READ_WRITE: number;
  shmOpen(name: string, flags: number, mode: number): number;
  shmUnlink(name: string): void;
  ftruncate(fd: number, size: number): void;
  /** Reserves `size` bytes of the object (posix_fallocate): ENOSPC now, not SIGBUS later. */
  fallocate(fd: number, size: number): void;
  /** A memfd of `bytes`, reserved and sealed against shrinking, growing and further seals. */
  memfdCreate(bytes: number): number;
  /** Sends one byte with `fd` attached (SCM_RIGHTS) on the connected Unix socket `socketFd`. */
  sendFd(socketFd: number, fd: number): void;
  /** Connects to the Unix socket `path`, writes `request`, returns the first descriptor received. */
  recvFd(path: string, request: string, timeoutMs: number): number;
  /** The peer of the connected Unix socket `fd` as the kernel recorded it at connect (SO_PEERCRED): [pid, uid, gid]. */
  peerCred(fd: number): [number, number, number];
  fchown(fd: number, uid: number, gid: number): void;
  fchmod(fd: number, mode: number): void;
  fstat(fd: number): FileStat;
  close(fd: number): void;
  /** huge: 2 MiB-aligned, advised MADV_HUGEPAGE, then populated (MADV_POPULATE_*), for a segment of 2 MiB pages. */
  mmap(fd: number, length: number, writable: boolean, populate: boolean, huge?: boolean): ArrayBuffer;
  unmap(buffer: ArrayBuffer): void;
  /** An OFD write lock on byte 0: true if taken, false if another open file description holds a lock there. */
  tryLockWriter(fd: number): boolean;
  unlockWriter(fd: number): void;
  /** Another open file description holds a write lock on byte 0 (a reader's read lock does not count). */
  writerLockHeld(fd: number): boolean;
  futexWait(buffer: ArrayBuffer, byteOffset: number, expected: number, timeoutNs: number): 0 | 1 | 2 | 3;
  futexWake(buffer: ArrayBuffer, byteOffset: number, count: number): number;
  monotonicNs(): number;
  realtimeNs(): number;
  setAffinity(cpus: number[]): void;
  getAffinity(): number[];
  currentCpu(): number;
  readSlot(buffer: ArrayBuffer, slotOffset: number, bytes: number, dst: Uint32Array, staleNs: number): number;
  /** Registers a writer's mapping, its tops mapping (or null) and its stage (mdfan_commit_stage_t, then the levels); returns a handle of this thread's. */
  commitBind(map: ArrayBuffer, slotsOffset: number, slotStride: number, levels: number, maxInstruments: number, tops: ArrayBuffer | null, stage: ArrayBuffer): number;
  commitUnbind(handle: number): void;
  /** One book commit (top line, then slot) from the stage (levels and fields); returns publish_ts_ns, or -1 for an unbound handle or index. */
  commitBook(handle: number, index: number): number;
  /**
   * The addon's ITCH engine (native/src/itch_engine.cc): binds the venue's arrays (slot by stock
   * locate, the publisher's per-slot flags, book indexes and upstream marks, its counters, the
   * in/out array) and returns a handle of this thread's.
   */
  itchCreate(levels: number, slotByLocate: Int32Array, flags: Uint32Array, bookIndex: Float64Array, upstream: Uint32Array, counters: Float64Array, io: Float64Array): number;
  itchFree(handle: number): void;
  /** Runs framed messages of `bytes` (positions in the in/out array) through the books into the writer's slots and ring; returns why it stopped. */
  itchRun(handle: number, commitHandle: number, bytes: Uint8Array, ring: ArrayBuffer | null, registry: ArrayBuffer | null): number;
  abi(): AbiDump;
  /** Addon states alive in this process: one per environment (thread) that loaded the addon. */
  addonStates(): number;
}

export const FUTEX_WOKEN = 0;
export const FUTEX_TIMED_OUT = 1;
export const FUTEX_VALUE_CHANGED = 2;
export const FUTEX_INTERRUPTED = 3;

/** The folder node-gyp-build searches: build/Release (a build from source) first, then prebuilds/<platform>-<arch>. */
const nativeDir = fileURLToPath(new URL('../../../native', import.meta.url));

/** No addon, or one that does not load here, is MDFAN_ERR_NO_ADDON with the reason and the fix (addon-load.ts). */
const loaded = loadAddon<Addon>(nativeDir);
export const addonPath = loaded.path;
const raw = loaded.addon;

/** Calls that make syscalls a user's situation can fail (files, permissions, CPUs): cold paths. */
const GUARDED = ['shmOpen', 'shmUnlink', 'ftruncate', 'fallocate', 'memfdCreate', 'sendFd', 'recvFd', 'peerCred', 'fchown', 'fchmod', 'fstat', 'close', 'mmap', 'unmap', 'tryLockWriter', 'unlockWriter', 'writerLockHeld', 'getAffinity'] as const;

/** A guarded call: a failed syscall becomes an MdfanError with a stable code and the errno facts. */
function guard<K extends (typeof GUARDED)[number]>(name: K): Addon[K] {
  const f = raw[name] as (...args: unknown[]) => unknown;
  return ((...args: unknown[]) => {
    try {
      return f(...args);
    } catch (e) {
      if (!isSyscallError(e)) throw e; // a TypeError is a bug in the caller, not the user's
      throw syscallError(e, typeof args[0] === 'string' ? args[0].replace(/^\/+/, '') : null);
    }
  }) as Addon[K];
}

/** CPU numbers the kernel's cpu_set_t can hold. */
const CPU_SETSIZE = 1024;

/** Pins this thread: a CPU the process may not run on is the caller's mistake (MDFAN_ERR_OPTIONS), named. */
function setAffinity(cpus: number[]): void {
  const allowed = raw.getAffinity();
  const bad = cpus.filter((c) => !Number.isInteger(c) || c < 0 || c >= CPU_SETSIZE);
  const notAllowed = () => new MdfanError(ErrorCode.OPTIONS, `CPU ${cpus.join(',')} is not available to this process (it may run on CPUs ${allowed.join(',')})`, { cpus: cpus.join(','), allowed: allowed.join(',') });
  if (bad.length > 0 || cpus.length === 0) throw notAllowed();
  try {
    raw.setAffinity(cpus);
  } catch (e) {
    if (!isSyscallError(e)) throw e;
    if ((e as { code?: string }).code === 'EINVAL') throw notAllowed();
    throw syscallError(e, null);
  }
}

/**
 * The addon as the rest of the program sees it: the cold calls guarded so that every failure is
 * an MdfanError (this is the one place that maps errno), the hot ones (clock, seqlock, futex)
 * untouched.
 */
export const native: Addon = Object.freeze({
  ...raw,
  ...(Object.fromEntries(GUARDED.map((n) => [n, guard(n)])) as Pick<Addon, (typeof GUARDED)[number]>),
  setAffinity,
});

/** One fact on which the generated tables (expected) and the addon's compiled header (found) differ. */
export interface AbiDifference {
  /** e.g. `header.state`, `sizeof.header`, `constants.ABI_MAJOR`, `layout.64x10`, `registryBytes`. */
  field: string;
  expected: string;
  found: string;
}

const show = (v: unknown): string => (v === undefined ? 'absent' : typeof v === 'object' ? JSON.stringify(v) : String(v));

/**
 * Where the addon's compiled header and the generated TypeScript tables differ (empty: they
 * agree). Both come from native/include/mdfan_abi.h, so a difference means one of them was built
 * from an older header.
 */
export function abiDifferences(dump: AbiDump = native.abi()): AbiDifference[] {
  const out: AbiDifference[] = [];
  const diff = (field: string, expected: unknown, found: unknown) => out.push({ field, expected: show(expected), found: show(found) });
  const tsStructs = gen.STRUCTS as unknown as Record<string, Record<string, FieldInfo>>;
  const tsSizes = gen.SIZEOF as unknown as Record<string, number>;
  for (const s of new Set([...Object.keys(dump.structs), ...Object.keys(tsStructs)])) {
    const c = dump.structs[s] ?? {};
    const ts = tsStructs[s] ?? {};
    if (dump.sizeof[s] !== tsSizes[s]) diff(`sizeof.${s}`, tsSizes[s], dump.sizeof[s]);
    for (const k of new Set([...Object.keys(c), ...Object.keys(ts)])) {
      const a = c[k];
      const b = ts[k];
      if (!a || !b || a.offset !== b.offset || a.size !== b.size) diff(`${s}.${k}`, b, a);
    }
  }
  const tsConstants = gen as unknown as Record<string, unknown>;
  for (const [name, value] of Object.entries(dump.constants)) if (tsConstants[name] !== value) diff(`constants.${name}`, tsConstants[name], value);
  for (const s of dump.layoutSamples) {
    const l = abi.computeLayout(s.maxInstruments, s.levels);
    const ts = { ...s, slotStride: l.slotStride, slotsOffset: l.slotsOffset, totalBytes: l.totalBytes, asksOffset: abi.asksOffset(s.levels), packedStride: abi.computeLayout(s.maxInstruments, s.levels, true).slotStride };
    if (JSON.stringify(ts) !== JSON.stringify(s)) diff(`layout.${s.maxInstruments}x${s.levels}`, ts, s);
  }
  if (abi.registryBytes() !== dump.registryBytes) diff('registryBytes', abi.registryBytes(), dump.registryBytes);
  return out;
}

/** The differences as lines: `FIELD: header FOUND vs generated EXPECTED`. */
export function abiMismatches(dump: AbiDump = native.abi()): string[] {
  return abiDifferences(dump).map((d) => `${d.field}: header ${d.found} vs generated ${d.expected}`);
}

/**
 * The load-time refusal: MDFAN_ERR_ABI_VERSION naming the addon and, per differing field,
 * `FIELD.expected` (the generated tables) and `FIELD.found` (the addon's header); null if they agree.
 */
export function abiMismatchError(differences: AbiDifference[], addon: string = addonPath): MdfanError | null {
  if (differences.length === 0) return null;
  const details: ErrorDetails = { addon, fields: differences.map((d) => d.field).join(',') };
  for (const d of differences) {
    details[`${d.field}.expected`] = d.expected;
    details[`${d.field}.found`] = d.found;
  }
  const lines = differences.map((d) => `${d.field}: header ${d.found} vs generated ${d.expected}`);
  return new MdfanError(
    ErrorCode.ABI_VERSION,
    `native/segment/abi.ts (generated) disagrees with the addon's native/include/mdfan_abi.h (${addon}); rebuild: npm run build and the addon:\n  ${lines.join('\n  ')}`,
    details,
  );
}

const abiError = abiMismatchError(abiDifferences());
if (abiError) throw abiError;
