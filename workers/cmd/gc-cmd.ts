/** `mdfan gc [--prefix P]`: removes every segment whose writer is gone (of those named P…). */
import { optString, parse } from '../../lib/cli/args.js';
import { isMdfanError } from '../../native/segment/errors.js';
import { listSegments, removeSegment } from '../../native/segment/inventory.js';

export const USAGE = `usage: mdfan gc [--prefix P] [--json]
  Removes every mdfan segment whose writer lock is free (a writer that died, or closed it with
  --keep-segment), with the objects beside it. Live writers' segments stay. Each removal holds
  the segment's lock, as mdfan rm does. A reader's read lock on a segment is not a writer.
  --prefix P: only segments whose name starts with P (one application's, one test run's); the
  others are not looked at, nor listed in the result.
  Exit codes: 0 (also when there was nothing to remove).
  Example: mdfan gc --prefix books-`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, { json: { type: 'boolean' }, prefix: { type: 'string' } }, USAGE);
  const prefix = optString(values.prefix, '--prefix') ?? '';
  const removed: string[] = [];
  const kept: string[] = [];
  for (const s of await listSegments(prefix)) {
    if (s.writer_lock_held || s.state === 'UNSAFE') {
      kept.push(s.name);
      continue;
    }
    try {
      removeSegment(s.name);
      removed.push(s.name);
    } catch (e) {
      if (!isMdfanError(e)) throw e;
      kept.push(s.name); // a writer came back meanwhile, or not ours to remove
    }
  }
  console.log(values.json ? JSON.stringify({ removed, kept }) : `mdfan gc: removed ${removed.length} (${removed.join(', ') || 'none'}), kept ${kept.length} with a live writer or not ours`);
  return 0;
}
