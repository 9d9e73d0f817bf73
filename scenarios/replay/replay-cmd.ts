/** `mdfan replay SCENARIO.json`: placeholder until the scenario runner lands (issue 5). */
import { ErrorCode, MdfanError } from '../../native/ts/errors.js';

export async function run(_argv: string[]): Promise<number> {
  throw new MdfanError(ErrorCode.OPTIONS, 'mdfan replay is not built yet');
}
