/**
 * Reading and validating the segment header (ABI v1). Cold path: attach, stat, liveness checks.
 * Validation order follows what a reader can trust: size, magic, ABI major, header size, then
 * the layout, each range-checked against the mapping before any offset is followed.
 */
import * as abi from './abi.js';
import { native } from './binding.js';
import { MdfanError, ErrorCode, inSegment } from './errors.js';
import { Mapping, loadU64, readU64 } from './mapping.js';

export interface HeaderInfo {
  abiMajor: number;
  abiMinor: number;
  headerBytes: number;
  totalBytes: number;
  layout: abi.Layout;
  layoutFlags: number;
  mode: number;
  createdRealtimeNs: number;
  state: number;
  stateName: string;
  generation: number;
  writerPid: number;
  instrumentCount: number;
  writerStartRealtimeNs: number;
  writerStartTicks: number;
  lastErrorCode: number;
  controlSocketPath: string;
}

/** Outcome of checking a header that may still be under construction. */
export type HeaderCheck = { ok: true } | { ok: false; retry: boolean; error: MdfanError };

/** The magic with one 64-bit atomic load (it is stored with one 64-bit atomic store). */
export const loadMagic = (m: Mapping): bigint => (m.byteLength >= 8 ? Atomics.load(m.u64, 0) : 0n);

/**
 * Checks identity and layout of a mapped header against the mapping's length.
 * retry=true: the segment may still be initialising (empty or zero magic): wait and look again.
 * The magic is checked before the size, so a foreign object is always named as foreign.
 */
export function checkHeader(m: Mapping, fileBytes: number): HeaderCheck {
  const name = m.name;
  const fail = (retry: boolean, code: ErrorCode, msg: string, facts: Record<string, number | string> = {}) =>
    ({ ok: false, retry, error: new MdfanError(code, msg, { segment: name, ...facts }) }) as const;
  if (fileBytes === 0) return fail(true, ErrorCode.NOT_READY, `segment ${name} is empty: its creator has not sized it yet`);
  const magic = fileBytes >= 8 ? loadMagic(m) : -1n;
  if (magic !== abi.MAGIC_U64 && magic !== 0n)
    return fail(false, ErrorCode.BAD_MAGIC, `segment ${name} is not an mdfan segment: magic ${magic < 0n ? '(shorter than 8 bytes)' : `0x${magic.toString(16).padStart(16, '0')}`}, expected 0x${abi.MAGIC_U64.toString(16)} ("MDFANSHM")`, {
      expected: `0x${abi.MAGIC_U64.toString(16)}`,
      found: magic < 0n ? 'none' : `0x${magic.toString(16).padStart(16, '0')}`,
    });
  if (fileBytes < abi.HEADER_BYTES)
    return fail(false, ErrorCode.SEGMENT_SIZE, `segment ${name} is ${fileBytes} bytes, shorter than the ${abi.HEADER_BYTES}-byte header`, {
      expected: abi.HEADER_BYTES,
      found: fileBytes,
    });
  if (magic === 0n) return fail(true, ErrorCode.NOT_READY, `segment ${name} has no magic yet: its creator is initialising it`);
  const u32 = m.u32;
  const dv = m.dv;
  const major = dv.getUint16(abi.HDR.abi_major.offset, true);
  const minor = dv.getUint16(abi.HDR.abi_minor.offset, true);
  if (major !== abi.ABI_MAJOR)
    return fail(false, ErrorCode.ABI_VERSION, `segment ${name} has ABI ${major}.${minor}; this reader speaks ABI ${abi.ABI_MAJOR}.${abi.ABI_MINOR} (majors must match)`, {
      expected: `${abi.ABI_MAJOR}.${abi.ABI_MINOR}`,
      found: `${major}.${minor}`,
    });
  const headerBytes = dv.getUint32(abi.HDR.header_bytes.offset, true);
  if (headerBytes !== abi.HEADER_BYTES)
    return fail(false, ErrorCode.SEGMENT_SIZE, `segment ${name} declares a ${headerBytes}-byte header; ABI ${abi.ABI_MAJOR} has ${abi.HEADER_BYTES}`, {
      field: 'header_bytes',
      expected: abi.HEADER_BYTES,
      found: headerBytes,
    });
  const total = readU64(u32, abi.HDR.total_bytes.offset);
  if (total !== fileBytes)
    return fail(false, ErrorCode.SEGMENT_SIZE, `segment ${name} declares ${total} bytes but is ${fileBytes} bytes long`, {
      field: 'total_bytes',
      expected: total,
      found: fileBytes,
    });
  const layoutError = checkLayout(m, total);
  if (layoutError) return fail(false, layoutError.code, layoutError.msg, layoutError.facts);
  return { ok: true };
}

interface LayoutProblem {
  code: ErrorCode;
  msg: string;
  facts: Record<string, number | string>;
}

/** Every offset in the header must stay inside the segment and agree with the ABI arithmetic. */
function checkLayout(m: Mapping, total: number): LayoutProblem | null {
  const dv = m.dv;
  const u32 = m.u32;
  const max = dv.getUint32(abi.HDR.max_instruments.offset, true);
  const levels = dv.getUint32(abi.HDR.levels.offset, true);
  const stride = dv.getUint32(abi.HDR.slot_stride_bytes.offset, true);
  const dirEntry = dv.getUint32(abi.HDR.dir_entry_bytes.offset, true);
  const dirOff = readU64(u32, abi.HDR.directory_offset.offset);
  const slotsOff = readU64(u32, abi.HDR.slots_offset.offset);
  const flags = dv.getUint32(abi.HDR.layout_flags.offset, true);
  const bad = (field: string, found: number, expected: string): LayoutProblem => ({
    code: ErrorCode.LAYOUT,
    msg: `segment ${m.name}: header field ${field} is ${found}, expected ${expected}`,
    facts: { field, found, expected },
  });
  if (max < 1 || max > abi.MAX_INSTRUMENTS) return bad('max_instruments', max, `1..${abi.MAX_INSTRUMENTS}`);
  if (levels < 1 || levels > abi.MAX_LEVELS) return bad('levels', levels, `1..${abi.MAX_LEVELS}`);
  const expect = abi.computeLayout(max, levels, (flags & abi.LAYOUT_PACKED) !== 0);
  if (dirEntry !== abi.DIR_ENTRY_BYTES) return bad('dir_entry_bytes', dirEntry, String(abi.DIR_ENTRY_BYTES));
  if (stride !== expect.slotStride) return bad('slot_stride_bytes', stride, String(expect.slotStride));
  if (dirOff !== expect.directoryOffset) return bad('directory_offset', dirOff, String(expect.directoryOffset));
  if (slotsOff !== expect.slotsOffset) return bad('slots_offset', slotsOff, String(expect.slotsOffset));
  if (expect.totalBytes !== total)
    return {
      code: ErrorCode.SEGMENT_SIZE,
      msg: `segment ${m.name}: layout needs ${expect.totalBytes} bytes, total_bytes says ${total}`,
      facts: { field: 'total_bytes', expected: expect.totalBytes, found: total },
    };
  const count = Atomics.load(u32, abi.W.hdrInstrumentCount);
  if (count > max) return bad('instrument_count', count, `<= max_instruments (${max})`);
  return null;
}

/** The layout a validated header declares. */
/**
 * Runs `use` on a mapping of the object's header alone (not pre-faulted): an object's declared
 * layout is checked before its size is trusted, so a hostile sparse object of gigabytes is never
 * faulted in. The header mapping is gone when `use` returns; `fd` stays open.
 */
export function withHeader<T>(name: string, fd: number, fileBytes: number, writable: boolean, use: (header: Mapping) => T): T {
  let buffer: ArrayBuffer;
  try {
    buffer = native.mmap(fd, Math.max(1, Math.min(fileBytes, abi.HEADER_BYTES)), writable, false);
  } catch (e) {
    throw inSegment(e, name);
  }
  try {
    return use(new Mapping(name, fd, buffer, writable));
  } finally {
    native.unmap(buffer);
  }
}

/** "this user (uid 1000), root or the writer named by writerUid (uid 1001)": whom `uids` (this user first, each once) stand for. */
function ownersText(uids: readonly number[]): string {
  const [me, ...rest] = uids;
  const names = [`this user (uid ${me})`, ...rest.map((u) => (u === 0 ? 'root' : `the writer named by writerUid (uid ${u})`))];
  return names.length === 1 ? names[0]! : `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`;
}

/** The way out of an owner refusal: name the writer's user, or remove a stranger's object. */
function ownerFix(name: string, ownerUid: number, uids: readonly number[]): string {
  const named = uids.slice(1).some((u) => u !== 0);
  return named
    ? `remove /dev/shm/${name} if it is not yours to share`
    : `if uid ${ownerUid} is the writer you mean to read, say so (the writerUid option, --writer-uid ${ownerUid}); else remove /dev/shm/${name}`;
}

/**
 * Owner and mode of an existing object a writer would adopt or a reader would trust: it must
 * belong to `uids` (this user, root, or a named writer) and be writable by nobody else. Another
 * user's object could be shrunk (SIGBUS) or forged under the writer and its readers.
 */
export function checkOwner(name: string, fd: number, uids: readonly number[], what: string): MdfanError | null {
  const st = native.fstat(fd);
  if (!uids.includes(st.uid)) {
    const allowed = [...new Set(uids)];
    return new MdfanError(ErrorCode.UNSAFE_OBJECT, `${what} ${name} belongs to uid ${st.uid}, not to ${ownersText(allowed)}: refusing to use it (${ownerFix(name, st.uid, allowed)})`, {
      segment: name,
      expected: allowed.join(','),
      found: st.uid,
      field: 'uid',
    });
  }
  if (st.mode & 0o002)
    return new MdfanError(ErrorCode.UNSAFE_OBJECT, `${what} ${name} has mode 0${st.mode.toString(8)}: anyone may write it, so anyone could forge or shrink it; refusing to use it`, {
      segment: name,
      found: `0${st.mode.toString(8)}`,
      field: 'mode',
    });
  return null;
}

export function layoutOf(m: Mapping): abi.Layout {
  const dv = m.dv;
  const flags = dv.getUint32(abi.HDR.layout_flags.offset, true);
  return abi.computeLayout(dv.getUint32(abi.HDR.max_instruments.offset, true), dv.getUint32(abi.HDR.levels.offset, true), (flags & abi.LAYOUT_PACKED) !== 0, (flags & abi.LAYOUT_HUGE_PAGES) !== 0);
}

export function readHeader(m: Mapping): HeaderInfo {
  const dv = m.dv;
  const u32 = m.u32;
  const state = Atomics.load(u32, abi.W.hdrState);
  const pathBytes = m.u8.subarray(abi.HDR.control_socket_path.offset, abi.HDR.control_socket_path.offset + abi.SOCKET_PATH_BYTES);
  const nul = pathBytes.indexOf(0);
  return {
    abiMajor: dv.getUint16(abi.HDR.abi_major.offset, true),
    abiMinor: dv.getUint16(abi.HDR.abi_minor.offset, true),
    headerBytes: dv.getUint32(abi.HDR.header_bytes.offset, true),
    totalBytes: readU64(u32, abi.HDR.total_bytes.offset),
    layout: layoutOf(m),
    layoutFlags: dv.getUint32(abi.HDR.layout_flags.offset, true),
    mode: dv.getUint32(abi.HDR.mode.offset, true),
    createdRealtimeNs: readU64(u32, abi.HDR.created_realtime_ns.offset),
    state,
    stateName: abi.STATE_NAMES[state] ?? `UNKNOWN(${state})`,
    generation: Atomics.load(u32, abi.W.hdrGeneration),
    writerPid: Atomics.load(u32, abi.HDR.writer_pid.offset >>> 2),
    instrumentCount: Atomics.load(u32, abi.W.hdrInstrumentCount),
    writerStartRealtimeNs: loadU64(m, abi.HDR.writer_start_realtime_ns.offset),
    writerStartTicks: loadU64(m, abi.HDR.writer_start_ticks.offset),
    lastErrorCode: Atomics.load(u32, abi.HDR.last_error_code.offset >>> 2),
    controlSocketPath: Buffer.from(pathBytes.subarray(0, nul < 0 ? pathBytes.length : nul)).toString('utf8'),
  };
}

/** The counters the writer keeps in lines 4 and 5 (64-bit atomic loads). */
export const COUNTER_FIELDS = [
  'messages',
  'publishes',
  'input_bytes',
  'events',
  'unknown_message_types',
  'unknown_order_refs',
  'feed_gaps',
  'feed_duplicates',
  'reader_attaches',
  'reader_detaches',
  'version_mismatches',
  'takeovers',
  'stale_marks',
  'reveals',
  'malformed_messages',
  'unannounced_messages',
  'feed_recovered',
  'feed_unrecovered',
  'instruments_refused',
] as const;
export type CounterName = (typeof COUNTER_FIELDS)[number];

export function readCounters(m: Mapping): Record<CounterName, number> {
  const out = {} as Record<CounterName, number>;
  for (const f of COUNTER_FIELDS) out[f] = loadU64(m, abi.HDR[f].offset);
  return out;
}
