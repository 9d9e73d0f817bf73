/**
 * Reading an input file: only a regular file is an input. A FIFO would hang the feed handler and
 * a device such as /dev/zero would grow without end, so both are refused by name before a byte
 * is read. The file is opened once, non-blocking (opening a FIFO or a device then cannot wait),
 * and what was opened is checked with fstat: a file swapped for a FIFO between a check by path
 * and the open is refused too, and everything after reads that descriptor, never the path again.
 */
import { type Stats, closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';
import { ErrorCode, MdfanError } from '../native/segment/errors.js';
import { testPause } from '../native/segment/test-pause.js';

const kindOf = (st: Stats): string =>
  st.isDirectory() ? 'a directory' : st.isFIFO() ? 'a FIFO' : st.isCharacterDevice() || st.isBlockDevice() ? 'a device' : st.isSocket() ? 'a socket' : 'not a regular file';

/** Test hook (MDFAN_TEST_PAUSE_INPUT_OPEN): the first input open pauses, so a test can swap the file at the one moment that matters. */
const pauseForTest = testPause('MDFAN_TEST_PAUSE_INPUT_OPEN');

/** An input opened once: its descriptor (the caller's to close) and what fstat said of it. */
export interface OpenedInput {
  fd: number;
  size: number;
  dev: number;
  ino: number;
}

/** Opens `file`, which must be a regular file (MDFAN_ERR_FEED_IO otherwise, naming what it is). */
export function openInputFile(file: string): OpenedInput {
  pauseForTest();
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
