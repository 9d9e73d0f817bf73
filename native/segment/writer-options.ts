/** What a writer is opened with, validated once (MDFAN_ERR_OPTIONS names the field). */
import * as abi from './abi.js';
import { SEGMENT_DEFAULTS } from './defaults.js';
import { ErrorCode, MdfanError } from './errors.js';
import { segmentPath } from './mapping.js';

export interface WriterOptions {
  /** Segment name: the POSIX object /NAME. */
  name: string;
  /** Instruments (directory entries and slots); fixed for the segment's life. */
  maxInstruments: number;
  /** Price levels per side, 1..50. */
  levels: number;
  /** Permission bits, default 0o600 (owner only). */
  mode?: number;
  /** Group id to chown the segment to (readers under another user share it via the group). */
  gid?: number;
  /** Benchmark only: pack slots without 128-byte padding. */
  packed?: boolean;
  /** Records in the event ring `/NAME.events` (a power of two); 0 or absent: no ring. */
  ringEvents?: number;
  /** Back the segment with 2 MiB pages (shared-memory transparent huge pages); MDFAN_ERR_NO_HUGE_PAGES where there are none. */
  hugePages?: boolean;
}


export type ValidOptions = Required<Omit<WriterOptions, 'gid'>> & { gid?: number };

export const validated = (o: WriterOptions): ValidOptions => {
  const bad = (msg: string, found: unknown): never => {
    throw new MdfanError(ErrorCode.OPTIONS, msg, { found: String(found) });
  };
  segmentPath(o.name);
  if (!Number.isInteger(o.maxInstruments) || o.maxInstruments < 1 || o.maxInstruments > 1_000_000)
    bad('options.maxInstruments must be an integer 1..1000000', o.maxInstruments);
  if (!Number.isInteger(o.levels) || o.levels < 1 || o.levels > abi.MAX_LEVELS)
    bad(`options.levels must be an integer 1..${abi.MAX_LEVELS}`, o.levels);
  const mode = o.mode ?? SEGMENT_DEFAULTS.mode;
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o777) bad('options.mode must be permission bits 0..0o777', mode);
  if (o.gid !== undefined && (!Number.isInteger(o.gid) || o.gid < 0)) bad('options.gid must be a non-negative integer', o.gid);
  const ringEvents = o.ringEvents ?? 0;
  if (!Number.isInteger(ringEvents) || ringEvents < 0) bad('options.ringEvents must be 0 (no ring) or a power of two', ringEvents);
  return { name: o.name, maxInstruments: o.maxInstruments, levels: o.levels, mode, gid: o.gid, packed: o.packed ?? false, ringEvents, hugePages: o.hugePages ?? false };
};

