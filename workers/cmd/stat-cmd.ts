/** `mdfan stat --segment NAME [--json]` */
import { parse, required } from '../../lib/cli/args.js';
import { type StatReport, statWithReaders } from '../../native/segment/stat.js';

export const USAGE = 'usage: mdfan stat --segment NAME [--json]';
export const EXAMPLE = 'mdfan stat --segment books --json';

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, { segment: { type: 'string' }, json: { type: 'boolean' } }, USAGE);
  const report = await statWithReaders(required(values.segment, '--segment', USAGE));
  console.log(values.json ? JSON.stringify(report) : formatStat(report));
  return 0;
}

/** The text form of a stat report, for people (--json gives the fields). */
export function formatStat(s: StatReport): string {
  const writer = s.state === 'CLOSED'
    ? `pid ${s.writer_pid}, segment closed`
    : `pid ${s.writer_pid} ${s.writer_alive ? 'alive' : 'DEAD'} (lock ${s.writer_lock_held ? 'held' : 'free'}), heartbeat ${s.heartbeat_age_ms === null ? 'never' : `${s.heartbeat_age_ms.toFixed(1)} ms ago`}`;
  const lines = [
    `segment     ${s.segment} (${s.path})`,
    `state       ${s.state}, generation ${s.generation}`,
    `writer      ${writer}${s.writer_started ? `, since ${s.writer_started}` : ''}`,
    `abi         ${s.abi}, header ${s.header_bytes} bytes, total ${s.total_bytes} bytes, mode ${s.mode}, created ${s.created ?? '?'}`,
    `layout      ${s.layout.max_instruments} instruments max, ${s.layout.levels} levels, slot stride ${s.layout.slot_stride_bytes} bytes${s.layout.packed ? ' (PACKED)' : ''}${s.layout.huge_pages ? ', 2 MiB pages' : ''}, directory @${s.layout.directory_offset}, slots @${s.layout.slots_offset}`,
    `counters    ${Object.entries(s.counters).map(([k, v]) => `${k}=${v}`).join(' ')}`,
    `readers     ${s.readers === null ? 'unknown (no control plane)' : s.readers.length === 0 ? 'none attached' : s.readers.map((r) => `pid ${r.pid} (${r.wait || '?'}, since ${r.since}${r.events_read === undefined ? '' : `, events read ${r.events_read} lost ${r.events_lost}`})`).join(', ')}`,
    `instruments ${s.instrument_count}`,
  ];
  if (s.instruments.length > 0) {
    // As wide as the longest name: venue-qualified ones run to 32 characters.
    const w = Math.max(16, ...s.instruments.map((i) => i.symbol.length));
    lines.push(`  ${'index'.padStart(5)}  ${'symbol'.padEnd(w)} ${'feed_id'.padStart(8)} ${'updates'.padStart(10)} ${'msg_index'.padStart(10)}  flags`);
    for (const i of s.instruments)
      lines.push(`  ${String(i.index).padStart(5)}  ${i.symbol.padEnd(w)} ${String(i.feed_id).padStart(8)} ${String(i.updates ?? '?').padStart(10)} ${String(i.msg_index ?? '?').padStart(10)}  ${i.updates === null ? 'MID-UPDATE' : i.stale ? 'STALE' : ''}`);
  }
  return lines.join('\n');
}
