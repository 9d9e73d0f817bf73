/**
 * Reading an input file: only a regular file is an input. A FIFO would hang the feed handler and
 * a device such as /dev/zero would grow without end, so both are refused by name before a byte
 * is read. The file is opened once, non-blocking (opening a FIFO or a device then cannot wait),
 * and what was opened is checked with fstat: a file swapped for a FIFO between a check by path
 * and the open is refused too, and everything after reads that descriptor, never the path again.
 */
import { type Stats, closeSync, constants, existsSync, fstatSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { ErrorCode, MdfanError } from '../native/segment/errors.js';

const kindOf = (st: Stats): string =>
  st.isDirectory() ? 'a directory' : st.isFIFO() ? 'a FIFO' : st.isCharacterDevice() || st.isBlockDevice() ? 'a device' : st.isSocket() ? 'a socket' : 'not a regular file';

/**
 * Tests only: a path prefix; before each input is opened the process writes PREFIX.ready and waits
 * (at most a minute) for PREFIX.go, so a test can swap the file at the one moment that matters.
 * Read once, at start.
 */
const PAUSE_BEFORE_OPEN = process.env.MDFAN_TEST_PAUSE_INPUT_OPEN;
const PAUSE_LIMIT_MS = 60_000;

function pauseForTest(file: string): void {
  if (!PAUSE_BEFORE_OPEN) return;
  writeFileSync(`${PAUSE_BEFORE_OPEN}.ready`, file);
  const nap = new Int32Array(new SharedArrayBuffer(4));
  for (const end = Date.now() + PAUSE_LIMIT_MS; !existsSync(`${PAUSE_BEFORE_OPEN}.go`) && Date.now() < end; ) Atomics.wait(nap, 0, 0, 10);
}

/** An input opened once: its descriptor (the caller's to close) and what fstat said of it. */
export interface OpenedInput {
  fd: number;
  size: number;
  dev: number;
  ino: number;
}

/** Opens `file`, which must be a regular file (MDFAN_ERR_FEED_IO otherwise, naming what it is). */
export function openInputFile(file: string): OpenedInput {
  pauseForTest(file);
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (e) {
    throw new MdfanError(ErrorCode.FEED_IO, `cannot read ${file}: ${(e as Error).message}`, { file, errname: (e as NodeJS.ErrnoException).code });
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new MdfanError(ErrorCode.FEED_IO, `${file} is ${kindOf(st)}: an input must be a regular file`, { file, found: kindOf(st) });
    return { fd, size: st.size, dev: st.dev, ino: st.ino };
  } catch (e) {
    closeSync(fd);
    if (e instanceof MdfanError) throw e;
    throw new MdfanError(ErrorCode.FEED_IO, `cannot read ${file}: ${(e as Error).message}`, { file });
  }
}

/** The size of `file`, which must be a regular file (MDFAN_ERR_FEED_IO otherwise, naming what it is). */
export function statInputFile(file: string): number {
  const f = openInputFile(file);
  closeSync(f.fd);
  return f.size;
}

/** The whole of `file`, which must be a regular file (MDFAN_ERR_FEED_IO otherwise, naming what it is). */
export function readInputFile(file: string): Buffer {
  const f = openInputFile(file);
  try {
    return readFileSync(f.fd);
  } catch (e) {
    throw new MdfanError(ErrorCode.FEED_IO, `cannot read ${file}: ${(e as Error).message}`, { file });
  } finally {
    closeSync(f.fd);
  }
}
