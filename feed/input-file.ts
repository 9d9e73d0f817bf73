/**
 * Reading an input file: only a regular file is an input. A FIFO would hang the feed handler and
 * a device such as /dev/zero would grow without end, so both are refused by name before a byte
 * is read.
 */
import { type Stats, readFileSync, statSync } from 'node:fs';
import { ErrorCode, MdfanError } from '../native/segment/errors.js';

const kindOf = (st: Stats): string =>
  st.isDirectory() ? 'a directory' : st.isFIFO() ? 'a FIFO' : st.isCharacterDevice() || st.isBlockDevice() ? 'a device' : st.isSocket() ? 'a socket' : 'not a regular file';

/** The size of `file`, which must be a regular file (MDFAN_ERR_FEED_IO otherwise, naming what it is). */
export function statInputFile(file: string): number {
  let st: Stats;
  try {
    st = statSync(file);
  } catch (e) {
    throw new MdfanError(ErrorCode.FEED_IO, `cannot read ${file}: ${(e as Error).message}`, { file });
  }
  if (!st.isFile()) throw new MdfanError(ErrorCode.FEED_IO, `${file} is ${kindOf(st)}: an input must be a regular file`, { file });
  return st.size;
}

/** The whole of `file`, which must be a regular file (MDFAN_ERR_FEED_IO otherwise, naming what it is). */
export function readInputFile(file: string): Buffer {
  statInputFile(file);
  try {
    return readFileSync(file);
  } catch (e) {
    throw new MdfanError(ErrorCode.FEED_IO, `cannot read ${file}: ${(e as Error).message}`, { file });
  }
}
