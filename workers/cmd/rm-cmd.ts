/** `mdfan rm --segment NAME` (or `mdfan rm NAME`): removes a dead writer's segment and the objects beside it. */
import { optString, parse } from '../../lib/cli/args.js';
import { ErrorCode, MdfanError } from '../../native/segment/errors.js';
import { removeSegment } from '../../native/segment/inventory.js';

export const USAGE = `usage: mdfan rm --segment NAME | mdfan rm NAME
  Removes segment NAME and the objects beside it (reader registry, event ring, top lines, control
  socket) when its writer is gone. A live writer's segment is refused (MDFAN_ERR_WRITER_ALIVE), and
  so is an object that is not an mdfan segment (MDFAN_ERR_BAD_MAGIC). It holds the segment's lock
  (NAME.lock) from its check to its last unlink: a writer started meanwhile is refused
  (MDFAN_ERR_WRITER_ALIVE) until it is done, and never loses what it made.`;
export const EXAMPLE = 'mdfan rm --segment books';
export const EXIT_CODES = '0 removed; 1 refused or nothing by that name (MDFAN_ERR_NO_SEGMENT); 2 bad usage';

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { segment: { type: 'string' } }, USAGE, true);
  const flagged = optString(values.segment, '--segment');
  // One name, given one way: --segment as every command takes it, or the bare operand.
  const names = flagged === undefined ? positionals : [flagged, ...positionals];
  if (names.length !== 1) throw new MdfanError(ErrorCode.OPTIONS, `give one segment NAME (--segment NAME or NAME)\n${USAGE}`, { flag: '--segment' });
  const removed = removeSegment(names[0]!);
  console.log(`mdfan rm: removed ${removed.join(', ')}`);
  return 0;
}
