/** `mdfan rm NAME`: removes a dead writer's segment and the objects beside it. */
import { parse } from '../../lib/cli/args.js';
import { ErrorCode, MdfanError } from '../../native/segment/errors.js';
import { removeSegment } from '../../native/segment/inventory.js';

export const USAGE = `usage: mdfan rm NAME
  Removes segment NAME and the objects beside it (reader registry, event ring, top lines, control
  socket) when its writer is gone. A live writer's segment is refused (MDFAN_ERR_WRITER_ALIVE), and
  so is an object that is not an mdfan segment (MDFAN_ERR_BAD_MAGIC). It holds the segment's lock
  (NAME.lock) from its check to its last unlink: a writer started meanwhile is refused
  (MDFAN_ERR_WRITER_ALIVE) until it is done, and never loses what it made.
  Exit codes: 0 removed; 1 refused or nothing by that name (MDFAN_ERR_NO_SEGMENT); 2 bad usage.
  Example: mdfan rm books`;

export async function run(argv: string[]): Promise<number> {
  const { positionals } = parse(argv, {}, USAGE, true);
  if (positionals.length !== 1) throw new MdfanError(ErrorCode.OPTIONS, `give one segment NAME\n${USAGE}`);
  const removed = removeSegment(positionals[0]!);
  console.log(`mdfan rm: removed ${removed.join(', ')}`);
  return 0;
}
