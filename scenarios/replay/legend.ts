/**
 * What the report's latency table means, printed under it: a first reader has only the report.
 * And a note when the readers, the pool's workers and the writer outnumber the cores, because
 * then the tail shows the scheduler's turns, and the spinning reader (the fastest on a core of
 * its own) shows the worst of them.
 */
import type { RunReport } from './types.js';

/** The latency table's columns, one entry each (a second line indented under the first). */
export const LEGEND: readonly string[] = [
  'legend',
  '  row        a reader group (its wait strategy: spin, yield or block), or the strategy pool',
  '  count      reader processes in the group; for the pool, its worker threads',
  "  updates    books observed by the row's readers together",
  "  seen %     updates per reader as a share of the writer's publishes. Below 100 by design: a reader",
  '             reads the latest book, and commits made faster than it looks are conflated. A group with',
  '             `top: true` reads the top lines, committed only when a top changes: fewer still',
  '  retries    reads that found the book mid-commit (its seq odd, or changed during the copy) and read',
  '             again; a reader waiting out one commit counts every look',
  '  pN ns      publish→observe latency at percentile N, in ns: from the commit stamped by the writer to',
  '             the reader holding a consistent copy (one host clock), from the merged HDR histograms',
  '  max ns     the largest latency recorded',
];

/** Reader processes, pool worker threads and the writer: each wants a core while books flow. */
export function busyThreads(r: RunReport): { readers: number; workers: number; total: number } {
  const readers = r.readers.length;
  const workers = r.pool?.workers ?? 0;
  return { readers, workers, total: readers + workers + 1 };
}

/**
 * Null when every reader, worker and the writer can have a core; otherwise why the tail is long,
 * naming the groups that spin (always runnable, so a book published while one is off the CPU
 * waits for its next turn; a sleeper woken by the writer is run soon).
 */
export function coresNote(r: RunReport): string[] | null {
  const b = busyThreads(r);
  if (b.total <= r.cores) return null;
  const spinning = [...r.groups.filter((g) => g.wait !== 'block').map((g) => `${g.group} (${g.wait})`), ...(r.pool && r.pool.wait !== 'block' ? [`the pool (${r.pool.wait})`] : [])];
  const yields = r.groups.some((g) => g.wait === 'yield') || r.pool?.wait === 'yield';
  const who = [`${b.readers} reader process${b.readers === 1 ? '' : 'es'}`, ...(b.workers > 0 ? [`${b.workers} pool worker thread${b.workers === 1 ? '' : 's'}`] : [])];
  const lines = [
    `cores: the writer, ${who.join(' and ')} (${b.total} in all) share ${r.cores} core${r.cores === 1 ? '' : 's'} (os.availableParallelism()):`,
    '  they take turns on the CPU, and a book published while its reader waits for a turn is seen a',
    '  time slice later (up to milliseconds): the upper percentiles show the scheduler, not the seqlock.',
  ];
  if (spinning.length > 0)
    lines.push(
      `  ${spinning.join(', ')} wait${spinning.length === 1 ? 's' : ''} by spinning${yields ? ' (yield parks 200 µs at most)' : ''}: the writer never wakes ${spinning.length === 1 ? 'it' : 'them'},`,
      '  so a book published while one is off the CPU waits for its next turn. Block readers sleep until',
      '  the writer wakes them, and the scheduler runs a woken sleeper soon: on shared cores spinning buys',
      '  no speed. With a core each, spinning is the fastest (docs/BENCHMARKS.md).',
    );
  return lines;
}
