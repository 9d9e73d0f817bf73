/** `mdfan read` (issue 4): placeholder until the reader SDK lands; the helper building it replaces this file. */
import { ErrorCode, MdfanError } from '../native/ts/errors.js';

export async function run(_argv: string[]): Promise<number> {
  throw new MdfanError(ErrorCode.OPTIONS, 'mdfan read is not built yet (issue 4)');
}
