/**
 * `mdfan gc [--prefix P] [--match GLOB] [--dry-run] [--all-users]`: removes every segment whose
 * writer is gone (of those named so), or with --dry-run says which it would remove.
 */
import { optString, parse } from '../../lib/cli/args.js';
import { globToRegExp } from '../../lib/cli/glob.js';
import { ErrorCode, MdfanError, isMdfanError } from '../../native/segment/errors.js';
import { listSegments, ownerOf, removeSegment } from '../../native/segment/inventory.js';

export const USAGE = `usage: mdfan gc [--prefix P] [--match GLOB] [--dry-run] [--all-users] [--json]
  Removes every mdfan segment whose writer lock is free (a writer that died, or closed it with
  --keep-segment), with the objects beside it. Live writers' segments stay. Each removal holds
  the segment's lock, as mdfan rm does. A reader's read lock on a segment is not a writer.
  --prefix P: only segments whose name starts with P (one application's, one test run's); the
  others are not looked at, nor listed in the result.
  --match GLOB: only segments whose whole name matches GLOB (* any characters, ? one, [abc] one of;
  quote it from the shell); the others are not looked at. With --prefix, both must hold.
  --dry-run: lists what it would remove (would_remove), and what it would keep; removes nothing.
  Other users' segments are skipped (not looked at, counted in the result) unless --all-users:
  then root removes them too when their writer is gone (root only: MDFAN_ERR_PERMISSION otherwise).
  --json prints {"removed":[...],"kept":[...],"skipped":[...]} (with --dry-run also "would_remove").`;
export const EXAMPLE = "mdfan gc --prefix books- --dry-run   (or: mdfan gc --match 'books-*-2026*')";
export const EXIT_CODES = '0 done (also when there was nothing to remove); 1 a failure (its code on stderr); 2 bad usage';

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(
    argv,
    { json: { type: 'boolean' }, prefix: { type: 'string' }, match: { type: 'string' }, 'dry-run': { type: 'boolean' }, 'all-users': { type: 'boolean' } },
    USAGE,
  );
  const prefix = optString(values.prefix, '--prefix') ?? '';
  const matchText = optString(values.match, '--match');
  const pattern = matchText === undefined ? null : globToRegExp(matchText);
  const dryRun = values['dry-run'] === true;
  const allUsers = values['all-users'] === true;
  const euid = process.geteuid?.() ?? 0;
  // Unlinking another user's object in /dev/shm (sticky) takes root.
  if (allUsers && euid !== 0) throw new MdfanError(ErrorCode.PERMISSION, "--all-users: only root may remove other users' segments", { flag: '--all-users' });
  const owners = new Map<string, number>();
  const skipped: string[] = [];
  const accept = (name: string): boolean => {
    if (pattern !== null && !pattern.test(name)) return false;
    const owner = ownerOf(name);
    if (owner === undefined) return false; // gone meanwhile
    owners.set(name, owner);
    if (owner === euid || allUsers) return true;
    skipped.push(name); // another user's: not looked at beyond its owner
    return false;
  };
  const removed: string[] = [];
  const wouldRemove: string[] = [];
  const kept: string[] = [];
  for (const s of await listSegments(prefix, { accept, anyOwner: allUsers })) {
    if (s.writer_lock_held || s.state === 'UNSAFE') {
      kept.push(s.name);
      continue;
    }
    if (dryRun) {
      wouldRemove.push(s.name);
      continue;
    }
    const owner = owners.get(s.name);
    try {
      removeSegment(s.name, { ownerUid: owner === euid ? undefined : owner });
      removed.push(s.name);
    } catch (e) {
      if (!isMdfanError(e)) throw e;
      kept.push(s.name); // a writer came back meanwhile, or not ours to remove
    }
  }
  if (values.json) console.log(JSON.stringify({ removed, kept, skipped, ...(dryRun ? { would_remove: wouldRemove } : {}) }));
  else {
    const list = (names: string[]): string => names.join(', ') || 'none';
    const done = dryRun ? `would remove ${wouldRemove.length} (${list(wouldRemove)}), removed none (--dry-run)` : `removed ${removed.length} (${list(removed)})`;
    const others = skipped.length > 0 ? `, skipped ${skipped.length} of other users (--all-users, as root, to include them)` : '';
    console.log(`mdfan gc: ${done}, kept ${kept.length} with a live writer or not ours${others}`);
  }
  return 0;
}
