/** Who holds a segment: the facts a writer records and a second writer reads to name the live one. */
import { readFileSync } from 'node:fs';
import * as abi from './abi.js';
import { native } from './binding.js';

/** /proc/self/stat field 22: the process start time in clock ticks since boot (pid-reuse guard). */
export function processStartTicks(pid: number): number {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return Number(fields[19]); // field 22 overall; fields after ")" start at field 3
  } catch {
    return 0;
  }
}

/** Reads writer_pid from an fd whose header may be incomplete (0 if unknown). */
export function peekWriterPid(fd: number): number {
  try {
    const size = native.fstat(fd).size;
    if (size < abi.HEADER_BYTES) return 0;
    const buf = native.mmap(fd, abi.HEADER_BYTES, false, false);
    const pid = new Uint32Array(buf)[abi.HDR.writer_pid.offset >>> 2];
    native.unmap(buf);
    return pid;
  } catch {
    return 0;
  }
}
