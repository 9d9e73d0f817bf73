/**
 * Loads the native addon (native/build/Release/mdfan.node) and checks, once per thread, that the
 * compiled ABI header agrees with abi.ts: a stale build or an edited header fails loudly here
 * instead of corrupting books.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import * as abi from './abi.js';

export interface FieldInfo {
  offset: number;
  size: number;
}
export interface AbiDump {
  header: Record<string, FieldInfo>;
  dir: Record<string, FieldInfo>;
  level: Record<string, FieldInfo>;
  slot: Record<string, FieldInfo>;
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
  fchown(fd: number, uid: number, gid: number): void;
  fstat(fd: number): FileStat;
  close(fd: number): void;
  mmap(fd: number, length: number, writable: boolean, populate: boolean): ArrayBuffer;
  unmap(buffer: ArrayBuffer): void;
  /** Binds a mapping's pages to one NUMA node (mbind MPOL_BIND, moving pages already placed). */
  mbind(buffer: ArrayBuffer, node: number): void;
  /** The NUMA node holding the page at byteOffset of a mapping (get_mempolicy). */
  memNode(buffer: ArrayBuffer, byteOffset: number): number;
  tryLockWriter(fd: number): boolean;
  unlockWriter(fd: number): void;
  writerLockHeld(fd: number): boolean;
  futexWait(buffer: ArrayBuffer, byteOffset: number, expected: number, timeoutNs: number): 0 | 1 | 2 | 3;
  futexWake(buffer: ArrayBuffer, byteOffset: number, count: number): number;
  monotonicNs(): number;
  realtimeNs(): number;
  setAffinity(cpus: number[]): void;
  getAffinity(): number[];
  currentCpu(): number;
  readSlot(buffer: ArrayBuffer, slotOffset: number, bytes: number, dst: Uint32Array, staleNs: number): number;
  writeBegin(buffer: ArrayBuffer, slotOffset: number): number;
  benchReadSlot(
    buffer: ArrayBuffer,
    slotOffset: number,
    bytes: number,
    iterations: number,
  ): { nsPerRead: number; retries: number };
  abi(): AbiDump;
  /** Cache-line ping-pong between two pinned threads: sorted one-way latencies (ns). */
  c2cPingPong(cpuA: number, cpuB: number, roundTrips: number): { oneWayNs: Float64Array; nsPerTick: number; pinned: boolean };
}

export const FUTEX_WOKEN = 0;
export const FUTEX_TIMED_OUT = 1;
export const FUTEX_VALUE_CHANGED = 2;
export const FUTEX_INTERRUPTED = 3;

export const addonPath = fileURLToPath(new URL('../../../native/build/Release/mdfan.node', import.meta.url));

const require = createRequire(import.meta.url);
export const native: Addon = require(addonPath) as Addon;

/** Differences between the compiled header and abi.ts, as human-readable lines (empty: agree). */
export function abiMismatches(dump: AbiDump = native.abi()): string[] {
  const out: string[] = [];
  const cmp = (what: string, c: Record<string, FieldInfo>, ts: Record<string, FieldInfo>): void => {
    for (const k of new Set([...Object.keys(c), ...Object.keys(ts)])) {
      const a = c[k];
      const b = ts[k];
      if (!a || !b || a.offset !== b.offset || a.size !== b.size)
        out.push(`${what}.${k}: header ${JSON.stringify(a)} vs abi.ts ${JSON.stringify(b)}`);
    }
  };
  cmp('header', dump.header, abi.HDR);
  cmp('dir', dump.dir, abi.DIR);
  cmp('level', dump.level, abi.LEVEL);
  cmp('slot', dump.slot, abi.SLOT);
  const k = dump.constants;
  const pairs: Array<[string, number, number | undefined]> = [
    ['MAGIC_LO', abi.MAGIC_LO, k.MAGIC_LO],
    ['MAGIC_HI', abi.MAGIC_HI, k.MAGIC_HI],
    ['ABI_MAJOR', abi.ABI_MAJOR, k.MDFAN_ABI_MAJOR],
    ['ABI_MINOR', abi.ABI_MINOR, k.MDFAN_ABI_MINOR],
    ['LINE_BYTES', abi.LINE_BYTES, k.MDFAN_LINE_BYTES],
    ['HEADER_BYTES', abi.HEADER_BYTES, k.MDFAN_HEADER_BYTES],
    ['DIR_ENTRY_BYTES', abi.DIR_ENTRY_BYTES, k.MDFAN_DIR_ENTRY_BYTES],
    ['SLOT_HEADER_BYTES', abi.SLOT_HEADER_BYTES, k.MDFAN_SLOT_HEADER_BYTES],
    ['LEVEL_BYTES', abi.LEVEL_BYTES, k.MDFAN_LEVEL_BYTES],
    ['MAX_LEVELS', abi.MAX_LEVELS, k.MDFAN_MAX_LEVELS],
    ['MAX_INSTRUMENTS', abi.MAX_INSTRUMENTS, k.MDFAN_MAX_INSTRUMENTS],
    ['STATE_UNINITIALIZED', abi.STATE_UNINITIALIZED, k.MDFAN_STATE_UNINITIALIZED],
    ['SYMBOL_BYTES', abi.SYMBOL_BYTES, k.MDFAN_SYMBOL_BYTES],
    ['SOCKET_PATH_BYTES', abi.SOCKET_PATH_BYTES, k.MDFAN_SOCKET_PATH_BYTES],
    ['STATE_INITIALIZING', abi.STATE_INITIALIZING, k.MDFAN_STATE_INITIALIZING],
    ['STATE_READY', abi.STATE_READY, k.MDFAN_STATE_READY],
    ['STATE_BROKEN', abi.STATE_BROKEN, k.MDFAN_STATE_BROKEN],
    ['STATE_CLOSED', abi.STATE_CLOSED, k.MDFAN_STATE_CLOSED],
    ['LAYOUT_PACKED', abi.LAYOUT_PACKED, k.MDFAN_LAYOUT_PACKED],
    ['SLOT_STALE', abi.SLOT_STALE, k.MDFAN_SLOT_STALE],
    ['DIR_ACTIVE', abi.DIR_ACTIVE, k.MDFAN_DIR_ACTIVE],
    ['ERRNUM_FEED_TRUNCATED', abi.ERRNUM_FEED_TRUNCATED, k.MDFAN_ERRNUM_FEED_TRUNCATED],
    ['ERRNUM_FEED_CORRUPT', abi.ERRNUM_FEED_CORRUPT, k.MDFAN_ERRNUM_FEED_CORRUPT],
    ['ERRNUM_FEED_GAP', abi.ERRNUM_FEED_GAP, k.MDFAN_ERRNUM_FEED_GAP],
    ['SIZEOF_HEADER', abi.HEADER_BYTES, k.SIZEOF_HEADER],
    ['SIZEOF_DIR_ENTRY', abi.DIR_ENTRY_BYTES, k.SIZEOF_DIR_ENTRY],
    ['SIZEOF_LEVEL', abi.LEVEL_BYTES, k.SIZEOF_LEVEL],
    ['SIZEOF_SLOT_HEADER', abi.SLOT_HEADER_BYTES, k.SIZEOF_SLOT_HEADER],
  ];
  for (const [name, ts, c] of pairs) if (ts !== c) out.push(`constant ${name}: header ${c} vs abi.ts ${ts}`);
  for (const s of dump.layoutSamples) {
    const l = abi.computeLayout(s.maxInstruments, s.levels);
    if (
      l.slotStride !== s.slotStride ||
      l.slotsOffset !== s.slotsOffset ||
      l.totalBytes !== s.totalBytes ||
      abi.asksOffset(s.levels) !== s.asksOffset ||
      abi.computeLayout(s.maxInstruments, s.levels, true).slotStride !== s.packedStride
    )
      out.push(`layout(${s.maxInstruments}, ${s.levels}): header ${JSON.stringify(s)} vs abi.ts ${JSON.stringify(l)}`);
  }
  return out;
}

const mismatches = abiMismatches();
if (mismatches.length > 0)
  throw new Error(`mdfan: native/ts/abi.ts disagrees with native/include/mdfan_abi.h:\n  ${mismatches.join('\n  ')}`);
