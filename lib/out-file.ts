/**
 * Writing an output file so that nobody else's file can be hit: the bytes go to a private
 * temporary file beside the target (an unpredictable name, created O_CREAT|O_EXCL|O_NOFOLLOW with
 * mode 0600, so a link or file planted under a guessed name is never opened), which is given the
 * target's mode and renamed over it once whole: the target is whole or untouched. A target that
 * exists and is not a regular file (a device, a FIFO, a directory, a link to one) is refused:
 * renaming over it would replace a device node or a FIFO someone reads. File-system errors become
 * codes naming the path: MDFAN_ERR_PERMISSION, MDFAN_ERR_NO_SPACE, else MDFAN_ERR_OUTPUT.
 */
import { randomBytes } from 'node:crypto';
import { type Stats, closeSync, constants, fchmodSync, fsyncSync, lstatSync, openSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ErrorCode, MdfanError } from '../native/segment/errors.js';

const kindOf = (st: Stats): string =>
  st.isDirectory() ? 'a directory' : st.isFIFO() ? 'a FIFO' : st.isCharacterDevice() || st.isBlockDevice() ? 'a device' : st.isSocket() ? 'a socket' : 'not a regular file';

/** A file-system error on `file` as a code: what the errno means for an output (any other error as it is). */
export function outputError(e: unknown, file: string): Error {
  const err = e as NodeJS.ErrnoException;
  if (e instanceof MdfanError || !(e instanceof Error) || typeof err.errno !== 'number') return e as Error;
  const facts = { file, syscall: err.syscall, errno: err.errno, errname: err.code };
  const dir = dirname(file);
  switch (err.code) {
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return new MdfanError(ErrorCode.PERMISSION, `cannot write ${file}: ${err.code === 'EROFS' ? 'read-only file system' : 'permission denied'} (${err.syscall ?? 'write'})`, facts);
    case 'ENOSPC':
    case 'EDQUOT':
      return new MdfanError(ErrorCode.NO_SPACE, `cannot write ${file}: no space left on its file system (${err.code})`, facts);
    case 'ENOENT':
      return new MdfanError(ErrorCode.OUTPUT, `cannot write ${file}: the directory ${dir} does not exist`, facts);
    case 'ENOTDIR':
      return new MdfanError(ErrorCode.OUTPUT, `cannot write ${file}: ${dir} is not a directory`, facts);
    case 'EISDIR':
      return new MdfanError(ErrorCode.OUTPUT, `cannot write ${file}: it is a directory`, facts);
    case 'EXDEV':
    case 'EBUSY':
      return new MdfanError(ErrorCode.OUTPUT, `cannot replace ${file}: it is a mount point or on another file system than its directory (${err.code})`, facts);
    default:
      return new MdfanError(ErrorCode.OUTPUT, `cannot write ${file}: ${err.message}`, facts);
  }
}

/**
 * The mode the output gets: an existing regular target's own permission bits, else what a new
 * file gets (0666 less the umask). Refuses (MDFAN_ERR_OUTPUT) a target that exists and is not a
 * regular file, or is a link to one that is not.
 */
export function checkOutputTarget(file: string): number {
  let st: Stats;
  try {
    st = lstatSync(file);
    if (st.isSymbolicLink()) st = statSync(file); // the rename replaces the link; what it points to says what was meant
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return 0o666 & ~process.umask(); // a new name (or a dangling link, replaced)
    throw outputError(e, file);
  }
  if (!st.isFile())
    throw new MdfanError(ErrorCode.OUTPUT, `${file} is ${kindOf(st)}: an output must be a regular file or a new name; refusing to replace it`, { file, found: kindOf(st) });
  return st.mode & 0o777;
}

export interface OutputFile {
  readonly file: string;
  /** The private temporary file's descriptor: write here, then commit() or abort(). */
  readonly fd: number;
  /** Flushes, gives the target's mode, and renames the temporary file over the target. */
  commit(): void;
  /** Removes the temporary file (safe to call after a failed commit, or twice). */
  abort(): void;
}

/** A new private file beside `file` (never an existing name, never through a link), with the mode the target is to get. */
function openPrivateTemp(file: string): { tmp: string; fd: number; mode: number } {
  const mode = checkOutputTarget(file);
  const tmp = join(dirname(file), `.${basename(file)}.${randomBytes(8).toString('hex')}.tmp`);
  try {
    return { tmp, fd: openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600), mode };
  } catch (e) {
    throw outputError(e, file);
  }
}

/** Opens a private temporary file beside `file` (the target checked first: see checkOutputTarget). */
export function openOutputFile(file: string): OutputFile {
  const { tmp, fd, mode } = openPrivateTemp(file);
  let open = true;
  let present = true;
  const close = (): void => {
    if (open) closeSync(fd);
    open = false;
  };
  return {
    file,
    fd,
    commit() {
      try {
        fsyncSync(fd);
        fchmodSync(fd, mode);
        close();
        checkOutputTarget(file); // again, just before the rename: a target swapped meanwhile is still refused
        renameSync(tmp, file);
        present = false;
      } catch (e) {
        throw outputError(e, file);
      }
    },
    abort() {
      try {
        close();
      } catch {
        /* already closed */
      }
      if (present) {
        try {
          unlinkSync(tmp);
        } catch {
          /* gone */
        }
        present = false;
      }
    },
  };
}

/** Writes `data` to `file` whole or not at all (see openOutputFile). */
export function writeOutputFile(file: string, data: string | Uint8Array): void {
  const out = openOutputFile(file);
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    for (let at = 0; at < bytes.length; ) at += writeSync(out.fd, bytes, at, bytes.length - at);
    out.commit();
  } catch (e) {
    out.abort();
    throw outputError(e, file);
  }
}

/** An output written while it grows: see openGrowingOutputFile. */
export interface GrowingOutputFile {
  readonly file: string;
  /** The descriptor of the file now at `file`: write here. */
  readonly fd: number;
  /** Flushes to the disk and closes the descriptor (safe to call twice). */
  close(): void;
}

/**
 * An output that must be readable while it is written and after its writer is killed (a capture):
 * the private temporary file (as openOutputFile makes it) is given the target's mode and renamed
 * over the target at once, before anything is written, and is written through its descriptor
 * after. The target is never opened by name, so a planted link is replaced, never followed; but
 * it is not whole-or-untouched: it holds what was written so far.
 */
export function openGrowingOutputFile(file: string): GrowingOutputFile {
  const { tmp, fd, mode } = openPrivateTemp(file);
  try {
    fchmodSync(fd, mode);
    checkOutputTarget(file); // again, just before the rename: a target swapped meanwhile is still refused
    renameSync(tmp, file);
  } catch (e) {
    closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      /* gone */
    }
    throw outputError(e, file);
  }
  let open = true;
  return {
    file,
    fd,
    close() {
      if (!open) return;
      open = false;
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    },
  };
}
