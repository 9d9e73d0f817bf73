/**
 * Stable error codes. Callers branch on `err.code`; the message says what happened with the
 * facts (expected/found, errno, offset), and the same facts sit on `err.details`.
 */

export const ErrorCode = {
  NO_SEGMENT: 'MDFAN_ERR_NO_SEGMENT',
  BAD_MAGIC: 'MDFAN_ERR_BAD_MAGIC',
  ABI_VERSION: 'MDFAN_ERR_ABI_VERSION',
  SEGMENT_SIZE: 'MDFAN_ERR_SEGMENT_SIZE',
  NOT_READY: 'MDFAN_ERR_NOT_READY',
  PERMISSION: 'MDFAN_ERR_PERMISSION',
  WRITER_ALIVE: 'MDFAN_ERR_WRITER_ALIVE',
  WRITER_DEAD: 'MDFAN_ERR_WRITER_DEAD',
  STALE: 'MDFAN_ERR_STALE',
  LAYOUT: 'MDFAN_ERR_LAYOUT',
  OPTIONS: 'MDFAN_ERR_OPTIONS',
  SYSCALL: 'MDFAN_ERR_SYSCALL',
  CLOSED: 'MDFAN_ERR_CLOSED',
  FEED_TRUNCATED: 'MDFAN_ERR_FEED_TRUNCATED',
  FEED_CORRUPT: 'MDFAN_ERR_FEED_CORRUPT',
  FEED_IO: 'MDFAN_ERR_FEED_IO',
  FULL: 'MDFAN_ERR_FULL',
  NO_SPACE: 'MDFAN_ERR_NO_SPACE',
  UNSAFE_OBJECT: 'MDFAN_ERR_UNSAFE_OBJECT',
  /** A slot (or symbol) with no instrument in the segment's directory. */
  NO_INSTRUMENT: 'MDFAN_ERR_NO_INSTRUMENT',
  SCENARIO: 'MDFAN_ERR_SCENARIO',
  /** No addon fits this platform (no prebuild, no build from source): how to build one is in the message. */
  NO_ADDON: 'MDFAN_ERR_NO_ADDON',
  /** A benchmark's C program did not compile (the compiler's message is in the error). */
  BUILD: 'MDFAN_ERR_BUILD',
  /** 2 MiB pages were asked for and cannot be had here (why, and how to enable them, in the message). */
  NO_HUGE_PAGES: 'MDFAN_ERR_NO_HUGE_PAGES',
  /** The NATS server could not be reached, or refused what was asked (the URL and its answer in the message). */
  NATS: 'MDFAN_ERR_NATS',
  /** The NATS server refused our identity (wrong password, token, nkey or credentials; the method named, never the secret). */
  NATS_AUTH: 'MDFAN_ERR_NATS_AUTH',
  /** TLS to the NATS server failed: no TLS there, or its certificate not trusted (the reason in the message). */
  NATS_TLS: 'MDFAN_ERR_NATS_TLS',
  /** An optional package a command needs is not installed (which one, and how, in the message). */
  MISSING_DEPENDENCY: 'MDFAN_ERR_MISSING_DEPENDENCY',
  /** The writer's control plane refused a peer: its claimed pid is not its own, its uid or the plane is full (the reason and facts in the refusal). */
  PEER_REFUSED: 'MDFAN_ERR_PEER_REFUSED',
  /** An output file cannot be written where asked: not a regular file, its directory missing, another file system (the path and errno in the message). */
  OUTPUT: 'MDFAN_ERR_OUTPUT',
  /** An input decompresses past what the command holds in memory (the file and the bound in the message). */
  FEED_TOO_LARGE: 'MDFAN_ERR_FEED_TOO_LARGE',
  /** A number the bridge's wire cannot carry exactly (a 64-bit value at or beyond 2^53, a symbol longer than 32 characters): refused, never sent corrupted. */
  WIRE_RANGE: 'MDFAN_ERR_WIRE_RANGE',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export type ErrorDetails = Record<string, string | number | boolean | undefined>;

export class MdfanError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetails;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}) {
    super(`${code}: ${message}`);
    this.name = 'MdfanError';
    this.code = code;
    this.details = details;
  }

  /** The message without its leading code: for a message that wraps this one (no code twice). */
  get reason(): string {
    return this.message.slice(this.code.length + 2);
  }
}

export const isMdfanError = (e: unknown, code?: ErrorCode): e is MdfanError =>
  e instanceof MdfanError && (code === undefined || e.code === code);

interface SyscallError {
  syscall?: string;
  errno?: number;
  code?: string;
  message: string;
}

/** True for an error the addon threw for a failed syscall (it carries errno and its name). */
export const isSyscallError = (e: unknown): boolean => typeof (e as SyscallError | null)?.errno === 'number';

/**
 * The binding's translation of a failed syscall into a stable code (binding.ts is its only
 * caller): ENOENT is a missing segment, EACCES/EPERM a permission problem, the rest SYSCALL.
 * `segment` is the name when the call named one (shm_open, shm_unlink), else null.
 */
export function syscallError(e: unknown, segment: string | null): MdfanError {
  const se = e as SyscallError;
  const facts = { segment: segment ?? undefined, syscall: se.syscall, errno: se.errno, errname: se.code };
  const on = segment === null ? '' : ` on segment ${segment}`;
  if (se.code === 'ENOENT' && segment !== null) return new MdfanError(ErrorCode.NO_SEGMENT, `no segment ${segment} (${se.message})`, facts);
  if (se.code === 'ENODEV' && se.syscall === 'shm_open' && segment !== null)
    return new MdfanError(ErrorCode.UNSAFE_OBJECT, `${segment} in /dev/shm is not a shared-memory segment (a FIFO, a socket or a device: not something mdfan made), refused without reading it`, facts);
  if (se.code === 'EACCES' || se.code === 'EPERM') {
    // A segment is readable by its writer's user and group only (the writer's --mode, default 0640, and --group).
    const why =
      segment !== null && se.syscall === 'shm_open'
        ? `: run as the writer's user or in the group it gave its segment (the writer's --group), or start the writer with a --mode that lets you read (see \`ls -l /dev/shm/${segment}\`)`
        : '';
    return new MdfanError(ErrorCode.PERMISSION, `permission denied${on} (${se.message})${why}`, facts);
  }
  return new MdfanError(ErrorCode.SYSCALL, `${segment === null ? '' : `segment ${segment}: `}${se.message}`, facts);
}

/** The errno name (e.g. 'EEXIST') of an error from the binding, or undefined. */
export const errnoName = (e: unknown): string | undefined => (e instanceof MdfanError ? (e.details.errname as string | undefined) : undefined);

/** An error from an fd-level call, with the segment it concerned named in its message and details. */
export function inSegment(e: unknown, name: string): unknown {
  if (!(e instanceof MdfanError) || e.details.segment !== undefined) return e;
  return new MdfanError(e.code, `segment ${name}: ${e.message.slice(e.code.length + 2)}`, { ...e.details, segment: name });
}

/** An error as it crosses a thread or process boundary (structured clone keeps no own properties). */
export interface SerializedError {
  code: string | null;
  message: string;
  details: ErrorDetails;
}

/** What a worker sends back: the stable code and facts of an MdfanError, the message of any other error. */
export function serializeError(e: unknown): SerializedError {
  if (e instanceof MdfanError) return { code: e.code, message: e.message, details: e.details };
  const err = e as { code?: unknown; message?: unknown; stack?: unknown };
  return { code: typeof err?.code === 'string' ? err.code : null, message: String(err?.stack ?? err?.message ?? e), details: {} };
}
