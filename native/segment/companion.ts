/**
 * A reader's opening of an object beside a data segment (the event ring, the top lines). Any local
 * user may create a file under a companion's name in /dev/shm while it is absent (a writer that
 * keeps no ring, top lines someone removed), so a companion is trusted as far as its data segment
 * is and no further: it is opened only if the data segment's header names it (ABI 1.4), and kept
 * only if it has the data segment's owner and no permission bit the data segment lacks (a
 * companion anyone may write is refused too). Opened non-blocking, and refused unless it is a
 * regular file (the binding's shmOpen).
 */
import * as abi from './abi.js';
import { native } from './binding.js';
import { ErrorCode, MdfanError, inSegment } from './errors.js';
import { checkOwner, loadMagic, withHeader } from './header.js';
import { type Mapping, segmentPath, shmPath } from './mapping.js';

/** What a reader must know of a data segment to judge the objects beside it. */
export interface CompanionTrust {
  segment: string;
  /** The data segment's owner and permission bits (fstat of the reader's own descriptor). */
  uid: number;
  mode: number;
  /** The header's MDFAN_COMPANION_* bits. */
  named: number;
}

/** Trust from a data segment the caller holds mapped (at least its header; `m.fd` its descriptor). */
export function trustOf(segment: string, m: Mapping): CompanionTrust {
  const st = native.fstat(m.fd);
  return { segment, uid: st.uid, mode: st.mode & 0o777, named: Atomics.load(m.u32, abi.W.hdrCompanions) };
}

/**
 * Trust from the data segment itself, for a reader of a companion that holds no SegmentReader:
 * the data segment must pass the reader's owner check (this user, root, or `writerUid`) and carry
 * an mdfan header of this major.
 */
export function segmentTrust(segment: string, writerUid?: number): CompanionTrust {
  const fd = native.shmOpen(segmentPath(segment), 0, 0);
  try {
    const euid = process.geteuid?.() ?? 0;
    const unsafe = checkOwner(segment, fd, writerUid === undefined ? [euid, 0] : [euid, 0, writerUid], 'segment');
    if (unsafe) throw unsafe;
    const size = native.fstat(fd).size;
    if (size < abi.HEADER_BYTES)
      throw new MdfanError(ErrorCode.NOT_READY, `segment ${segment} is ${size} bytes: its writer has not sized it yet`, { segment, found: size });
    return withHeader(segment, fd, size, false, (h) => {
      if (loadMagic(h) !== abi.MAGIC_U64) throw new MdfanError(ErrorCode.NOT_READY, `segment ${segment} has no mdfan magic (yet)`, { segment });
      const major = h.dv.getUint16(abi.HDR.abi_major.offset, true);
      if (major !== abi.ABI_MAJOR)
        throw new MdfanError(ErrorCode.ABI_VERSION, `segment ${segment} has ABI ${major}.x; this reader speaks ABI ${abi.ABI_MAJOR}.${abi.ABI_MINOR}`, { segment, found: major, expected: abi.ABI_MAJOR });
      return trustOf(segment, h);
    });
  } catch (e) {
    throw inSegment(e, segment);
  } finally {
    native.close(fd);
  }
}

export interface CompanionRefusals {
  /** The data segment's writer made none (its header says so, or a header older than 1.4 and nothing there). */
  absent: () => MdfanError;
  /** The header names it and it is not there: someone removed it. */
  removed: () => MdfanError;
}

/**
 * Opens companion `name` (MDFAN_COMPANION_* `flag`) of the data segment `trust` describes,
 * read-only: its fd and size, or a coded refusal (absent, removed, MDFAN_ERR_UNSAFE_OBJECT). The
 * caller checks the size, then maps (Mapping.map) or closes the fd.
 */
export function openCompanion(trust: CompanionTrust, flag: number, name: string, refuse: CompanionRefusals): { fd: number; size: number } {
  if ((trust.named & flag) === 0) throw refuse.absent(); // never opened: whatever is there is not the writer's
  let fd: number;
  try {
    fd = native.shmOpen(shmPath(name), 0, 0);
  } catch (e) {
    const err = inSegment(e, name);
    if ((err as MdfanError).code === ErrorCode.NO_SEGMENT) throw refuse.removed();
    throw err;
  }
  try {
    const st = native.fstat(fd);
    const mode = st.mode & 0o777;
    if (st.uid !== trust.uid)
      throw new MdfanError(ErrorCode.UNSAFE_OBJECT, `${name} belongs to uid ${st.uid}, not to segment ${trust.segment}'s owner (uid ${trust.uid}): another user put it there; refusing to read it`, {
        segment: name,
        field: 'uid',
        expected: trust.uid,
        found: st.uid,
      });
    if ((mode & ~trust.mode) !== 0 || (mode & 0o002) !== 0)
      throw new MdfanError(
        ErrorCode.UNSAFE_OBJECT,
        `${name} has mode 0${mode.toString(8)}, segment ${trust.segment} 0${trust.mode.toString(8)}: its writer gives what it makes beside the segment the segment's own mode, and one anyone may write could be forged; refusing to read it`,
        { segment: name, field: 'mode', expected: `0${trust.mode.toString(8)}`, found: `0${mode.toString(8)}` },
      );
    return { fd, size: st.size };
  } catch (e) {
    native.close(fd);
    throw inSegment(e, name);
  }
}
