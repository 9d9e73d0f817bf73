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
  SCENARIO: 'MDFAN_ERR_SCENARIO',
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
}

export const isMdfanError = (e: unknown, code?: ErrorCode): e is MdfanError =>
  e instanceof MdfanError && (code === undefined || e.code === code);

interface SyscallError {
  syscall?: string;
  errno?: number;
  code?: string;
  message: string;
}

/** Maps an errno-carrying error from the addon to an MdfanError for segment `name`. */
export function fromSyscall(e: unknown, name: string): MdfanError {
  const se = e as SyscallError;
  const facts = { segment: name, syscall: se.syscall, errno: se.errno, errname: se.code };
  if (se.code === 'ENOENT') return new MdfanError(ErrorCode.NO_SEGMENT, `no segment ${name} (${se.message})`, facts);
  if (se.code === 'EACCES' || se.code === 'EPERM')
    return new MdfanError(ErrorCode.PERMISSION, `permission denied on segment ${name} (${se.message})`, facts);
  return new MdfanError(ErrorCode.SYSCALL, `segment ${name}: ${se.message}`, facts);
}
