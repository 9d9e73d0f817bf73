/**
 * 2 MiB pages for a segment: Linux's transparent huge pages for shared memory. A writer asks for
 * them with `hugePages`; /dev/shm's tmpfs must allow them (mounted `huge=advise` or more, or the
 * kernel-wide shmem_enabled `force`), the mapping is 2 MiB-aligned and advised before it is populated
 * (native/src/segment.cc), and /proc/self/smaps then says how much of it is mapped by 2 MiB
 * entries: none is MDFAN_ERR_NO_HUGE_PAGES, never a silent fallback to 4 KiB pages.
 */
import { readFileSync } from 'node:fs';
import { ErrorCode, MdfanError } from './errors.js';
import { Mapping } from './mapping.js';

export const HUGE_PAGE_BYTES = 2 << 20;
/** Where the kernel says whether shared memory may use transparent huge pages. */
export const SHMEM_THP_PATH = '/sys/kernel/mm/transparent_hugepage/shmem_enabled';
const SHM_DIR = '/dev/shm';
const MOUNT_ALLOWED = new Set(['always', 'within_size', 'advise']);

/** The `huge=` option of the tmpfs mounted at /dev/shm (the last mount there wins); `never` when absent. */
function shmMountHuge(): string {
  let huge = 'never';
  for (const line of readFileSync('/proc/self/mounts', 'utf8').split('\n')) {
    const [, dir, type, opts] = line.split(' ');
    if (dir === SHM_DIR && type === 'tmpfs') huge = /(?:^|,)huge=(\w+)/.exec(opts ?? '')?.[1] ?? 'never';
  }
  return huge;
}

/**
 * Throws MDFAN_ERR_NO_HUGE_PAGES, naming the setting and how to change it, where a segment in
 * /dev/shm may not have 2 MiB pages: the tmpfs mount's `huge=` option decides (`advise` or more),
 * unless the kernel-wide shmem_enabled forces or denies them.
 */
export function checkHugePages(segment: string): void {
  let global: string;
  try {
    global = /\[(\w+)\]/.exec(readFileSync(SHMEM_THP_PATH, 'utf8'))?.[1] ?? 'never';
  } catch {
    throw new MdfanError(ErrorCode.NO_HUGE_PAGES, `segment ${segment}: this kernel has no transparent huge pages for shared memory (${SHMEM_THP_PATH} is missing)`, { segment, file: SHMEM_THP_PATH });
  }
  if (global === 'force') return;
  if (global === 'deny')
    throw new MdfanError(ErrorCode.NO_HUGE_PAGES, `segment ${segment}: 2 MiB pages for shared memory are denied here (${SHMEM_THP_PATH} is [deny])`, { segment, file: SHMEM_THP_PATH, found: global });
  const huge = shmMountHuge();
  if (!MOUNT_ALLOWED.has(huge))
    throw new MdfanError(
      ErrorCode.NO_HUGE_PAGES,
      `segment ${segment}: ${SHM_DIR} is mounted without 2 MiB pages (huge=${huge}); as root: mount -o remount,huge=advise ${SHM_DIR}`,
      { segment, file: SHM_DIR, found: huge, expected: 'advise' },
    );
}

/** Bytes of this process's mappings of /dev/shm/NAME that 2 MiB page-table entries map (smaps ShmemPmdMapped). */
export function hugeMappedBytes(name: string): number {
  const smaps = readFileSync('/proc/self/smaps', 'latin1').split('\n');
  const path = `/dev/shm/${name}`;
  let inside = false;
  let kb = 0;
  for (const line of smaps) {
    if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) inside = line.endsWith(` ${path}`) || line.endsWith(` ${path} (deleted)`);
    else if (inside && line.startsWith('ShmemPmdMapped:')) kb += Number(/(\d+)/.exec(line)?.[1] ?? 0);
  }
  return kb * 1024;
}

/**
 * Maps a segment: as Mapping.map, and with `hugePages` 2 MiB-aligned, advised and checked. A
 * segment of at least one huge page that got none is MDFAN_ERR_NO_HUGE_PAGES (fd closed).
 */
export function mapSegment(name: string, fd: number, bytes: number, writable: boolean, hugePages: boolean): Mapping {
  const m = Mapping.map(name, fd, bytes, writable, hugePages);
  if (hugePages && bytes >= HUGE_PAGE_BYTES && hugeMappedBytes(name) === 0) {
    m.close();
    throw new MdfanError(
      ErrorCode.NO_HUGE_PAGES,
      `segment ${name}: the kernel mapped none of its ${bytes} bytes with 2 MiB pages (memory too fragmented, or the object was made with 4 KiB pages: remove it with mdfan rm)`,
      { segment: name, expected: bytes, found: 0 },
    );
  }
  return m;
}
