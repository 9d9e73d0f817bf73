/** `mdfan stat --segment NAME [--json]` */
import { parse, required } from '../../bin/lib/args.js';
import { formatStat, statWithReaders } from '../../native/segment/stat.js';

const USAGE = 'usage: mdfan stat --segment NAME [--json]';

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, { segment: { type: 'string' }, json: { type: 'boolean' } }, USAGE);
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const report = await statWithReaders(required(values.segment, '--segment', USAGE));
  console.log(values.json ? JSON.stringify(report) : formatStat(report));
  return 0;
}
