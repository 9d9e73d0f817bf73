/**
 * How a writer comes to its object, under the segment lock (writer-lock.ts): the name's object is
 * created, found empty, taken over from a dead writer, or replaced. Who initialises is decided here
 * (see writer.ts); the writer itself is made by SegmentWriter.
 */
import * as abi from './abi.js';
import { native } from './binding.js';
import { ErrorCode, MdfanError, errnoName, inSegment } from './errors.js';
import { checkHeader, layoutOf, loadMagic, withHeader } from './header.js';
import { type Mapping, reserve, storeU64, unlinkSegment } from './mapping.js';
import type { ValidOptions } from './writer-options.js';
import { peekWriterPid } from './writer-identity.js';
import { mapSegment } from './huge-pages.js';

export type OpenOutcome = 'created' | 'takeover' | 'recreated';

/** What findSegment found: a new object to initialise (its descriptor), or a dead writer's to take over (mapped). */
export type FoundSegment = { kind: 'new'; fd: number; generation: number; outcome: OpenOutcome } | { kind: 'takeover'; map: Mapping };

/** The writer's mapping of its segment, with 2 MiB pages if its options ask. */
export const mapHuge = (o: ValidOptions, fd: number, bytes: number): Mapping => mapSegment(o.name, fd, bytes, true, o.hugePages);

/** MDFAN_ERR_WRITER_ALIVE for a segment whose lock another process holds: a live writer (named), or a writer starting or a remover. */
export function lockedOut(name: string, path: string): MdfanError {
  let pid = 0;
  let live = false;
  try {
    const fd = native.shmOpen(path, 0, 0);
    try {
      live = native.writerLockHeld(fd);
      pid = live ? peekWriterPid(fd) : 0;
    } finally {
      native.close(fd);
    }
  } catch {
    /* no data segment yet: a writer is creating it */
  }
  return new MdfanError(
    ErrorCode.WRITER_ALIVE,
    live && pid > 0
      ? `segment ${name} already has a live writer, pid ${pid}`
      : `segment ${name} is locked by another process: a writer starting, or mdfan rm or gc removing it (try again when it is done)`,
    { segment: name, pid },
  );
}

/**
 * Finds the object under the segment lock (no other writer and no remover runs meanwhile): a new or
 * empty one, ours and locked, to initialise; or a dead writer's of the same layout to take over
 * (mapped). Replaces what can be neither; refuses what is not ours or not mdfan's.
 */
export function findSegment(o: ValidOptions, path: string, want: abi.Layout): FoundSegment {
  let nextGeneration = 1;
  let replaced = false;
  for (let attempt = 0; attempt < 5; attempt++) {
    let fd: number;
    let created = false;
    try {
      // Mode 0600 until the writer lock is ours: no reader can open the new object, so none can
      // take a read lock on it first (its real mode comes right after the lock).
      fd = native.shmOpen(path, native.OPEN_CREATE_EXCL | native.OPEN_READ_WRITE, 0o600);
      created = true;
    } catch (e) {
      if (errnoName(e) !== 'EEXIST') throw e;
      try {
        fd = native.shmOpen(path, native.OPEN_READ_WRITE, 0);
      } catch (e2) {
        if (errnoName(e2) === 'ENOENT') continue; // unlinked meanwhile: try again
        throw e2;
      }
    }
    const locked = native.tryLockWriter(fd);
    if (!locked && native.writerLockHeld(fd)) {
      // A write lock: a live writer (one that does not take the segment lock, of an older mdfan).
      const pid = peekWriterPid(fd);
      native.close(fd);
      throw new MdfanError(
        ErrorCode.WRITER_ALIVE,
        pid > 0
          ? `segment ${o.name} already has a live writer, pid ${pid}`
          : `segment ${o.name} is being initialised by another writer`,
        { segment: o.name, pid },
      );
    }
    // Locked, or held only by read locks (a reader's: its writer is dead, and the segment lock
    // keeps every other writer out): nobody else writes this object.
    const st = native.fstat(fd);
    const euid = process.geteuid?.() ?? st.uid;
    if (!created && st.uid !== euid) {
      // Someone else's object under our name: adopting it would let its owner forge books or
      // shrink it under us (SIGBUS). Never used, never removed.
      native.close(fd);
      throw new MdfanError(
        ErrorCode.UNSAFE_OBJECT,
        `segment ${o.name} exists and belongs to uid ${st.uid}, not to this user (uid ${euid}); refusing to use it (remove /dev/shm/${o.name} if it is not in use)`,
        { segment: o.name, field: 'uid', expected: euid, found: st.uid },
      );
    }
    if (created) {
      if (!locked) {
        native.close(fd);
        unlinkSegment(o.name);
        continue; // not even our own new object would lock: start again
      }
      if (o.gid !== undefined) native.fchown(fd, -1, o.gid);
      native.fchmod(fd, o.mode);
    }
    const size = st.size;
    if (size === 0) {
      // New (ours, or a creator that died before sizing it).
      if (locked) return { kind: 'new', fd, generation: nextGeneration, outcome: replaced ? 'recreated' : 'created' };
      native.close(fd);
      unlinkSegment(o.name);
      replaced = true;
      continue;
    }
    // A dead writer's segment, ours. Its header is read through a mapping of the header alone:
    // its size is trusted only once the header agrees. Same layout, ABI and no wider mode than
    // asked, and its byte 0 ours: take over in place; otherwise replace it.
    const wider = (st.mode & 0o777 & ~o.mode) !== 0;
    const seen = withHeader(o.name, fd, size, true, (h) => {
      const check = checkHeader(h, size);
      const magic = loadMagic(h);
      const blank = magic === 0n && h.u8.every((b) => b === 0);
      const generation = check.ok || check.error.code !== ErrorCode.BAD_MAGIC ? Atomics.load(h.u32, abi.W.hdrGeneration) : 0;
      const have = check.ok ? layoutOf(h) : null;
      const same = have !== null && have.maxInstruments === want.maxInstruments && have.levels === want.levels && have.packed === want.packed && have.hugePages === want.hugePages;
      // Replaced: readers still mapping the old object see it CLOSED, flagged REPLACED first so
      // they re-open the name instead of ending.
      if (check.ok && (!same || wider || !locked)) {
        Atomics.or(h.u32, abi.W.hdrFlags, abi.HEADER_REPLACED);
        Atomics.store(h.u32, abi.W.hdrState, abi.STATE_CLOSED);
      }
      return { ours: magic === abi.MAGIC_U64 || blank, generation, takeOver: same && !wider && locked, magic };
    });
    if (!seen.ours) {
      // Not an mdfan segment: never destroy another program's shared memory.
      native.close(fd);
      throw new MdfanError(
        ErrorCode.BAD_MAGIC,
        `segment ${o.name} exists and is not an mdfan segment; refusing to replace it (remove /dev/shm/${o.name} if it is yours)`,
        { segment: o.name, found: size >= 8 ? `0x${seen.magic.toString(16)}` : `${size} bytes` },
      );
    }
    if (seen.takeOver) return { kind: 'takeover', map: mapHuge(o, fd, size) };
    // Another layout, an unreadable one, a mode wider than asked, or a byte 0 a reader's read
    // lock keeps from us: create a new object under the same name.
    nextGeneration = Math.max(nextGeneration, (seen.generation >>> 0) + 1);
    unlinkSegment(o.name);
    native.close(fd);
    replaced = true;
  }
  throw new MdfanError(ErrorCode.WRITER_ALIVE, `segment ${o.name}: could not create or take it over after 5 attempts (another writer is racing)`, {
    segment: o.name,
  });
}

/** Sizes and maps a new object and writes its header, state INITIALIZING, magic last; the caller makes the writer and stores READY. */
export function initialiseSegment(o: ValidOptions, fd: number, layout: abi.Layout, generation: number): Mapping {
  try {
    reserve(o.name, fd, layout.totalBytes, o.hugePages);
  } catch (e) {
    // Nothing left behind: the object is ours (we hold its lock) and holds nothing yet.
    unlinkSegment(o.name);
    native.close(fd);
    throw inSegment(e, o.name);
  }
  let m: Mapping;
  try {
    m = mapHuge(o, fd, layout.totalBytes);
  } catch (e) {
    unlinkSegment(o.name); // nothing left behind: the object holds nothing yet
    throw e;
  }
  const dv = m.dv;
  const H = abi.HDR;
  // Everything before `state`: readers trust these only after they load-acquire READY.
  dv.setUint16(H.abi_major.offset, abi.ABI_MAJOR, true);
  dv.setUint16(H.abi_minor.offset, abi.ABI_MINOR, true);
  dv.setUint32(H.header_bytes.offset, abi.HEADER_BYTES, true);
  storeU64(m, H.total_bytes.offset, layout.totalBytes);
  dv.setUint32(H.max_instruments.offset, layout.maxInstruments, true);
  dv.setUint32(H.levels.offset, layout.levels, true);
  dv.setUint32(H.slot_stride_bytes.offset, layout.slotStride, true);
  dv.setUint32(H.dir_entry_bytes.offset, abi.DIR_ENTRY_BYTES, true);
  storeU64(m, H.directory_offset.offset, layout.directoryOffset);
  storeU64(m, H.slots_offset.offset, layout.slotsOffset);
  dv.setUint32(H.layout_flags.offset, (layout.packed ? abi.LAYOUT_PACKED : 0) | (layout.hugePages ? abi.LAYOUT_HUGE_PAGES : 0), true);
  dv.setUint32(H.mode.offset, o.mode, true);
  storeU64(m, H.created_realtime_ns.offset, native.realtimeNs());
  Atomics.store(m.u32, abi.W.hdrState, abi.STATE_INITIALIZING);
  Atomics.store(m.u32, abi.W.hdrGeneration, generation);
  // Magic last among identity fields, in one 64-bit store: a reader sees all of it or none,
  // and one that sees it sees a sized, laid-out header.
  Atomics.store(m.u64, 0, abi.MAGIC_U64);
  return m;
}
