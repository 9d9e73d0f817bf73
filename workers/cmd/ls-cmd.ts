/** `mdfan ls [--json]`: every mdfan segment on this host. */
import { parse } from '../../lib/cli/args.js';
import { formatTable } from '../../lib/cli/table.js';
import { type SegmentEntry, listSegments } from '../../native/segment/inventory.js';

export const USAGE = `usage: mdfan ls [--json]
  Every mdfan segment in /dev/shm: name, state, generation, writer pid and whether it is alive,
  heartbeat age, instruments, readers attached, size. Objects of other programs are left out.`;
export const EXAMPLE = "mdfan ls --json | jq '.[] | select(.writer_alive | not) | .name'";
export const EXIT_CODES = '0 (also when there is none); 1 a failure (its code on stderr); 2 bad usage (MDFAN_ERR_OPTIONS)';

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, { json: { type: 'boolean' } }, USAGE);
  const list = await listSegments();
  console.log(values.json ? JSON.stringify(list) : format(list));
  return 0;
}

function format(list: SegmentEntry[]): string {
  if (list.length === 0) return 'no mdfan segment in /dev/shm';
  const rows = list.map((s) => [
    s.name,
    s.problem ? `${s.state} (${s.problem})` : s.state,
    s.generation ?? '–',
    s.writer_pid === null ? '–' : `${s.writer_pid} ${s.writer_alive ? 'alive' : s.writer_lock_held ? 'silent' : 'dead'}`,
    s.heartbeat_age_ms === null ? '–' : `${Math.round(s.heartbeat_age_ms)} ms`,
    s.instruments ?? '–',
    s.readers ?? '?',
    s.size_bytes === null ? '–' : `${s.size_bytes}`,
  ].map(String));
  const head = ['NAME', 'STATE', 'GEN', 'WRITER', 'HEARTBEAT', 'INSTRUMENTS', 'READERS', 'BYTES'];
  return formatTable(head, rows).join('\n');
}
