/**
 * The soak's report (printed as one JSON line, written with --json): the totals, what was left
 * behind, where the time went (per phase, wall and CPU), and the rates as an hour's worth.
 * Fields are only ever added: tests and docs read the existing ones.
 */
import { type Totals, fuzzCases, fuzzFailures } from './totals.js';

export interface Leftovers {
  segments: string[];
  fds: string[];
}

const round2 = (x: number): number => Math.round(x * 100) / 100;

export function makeReport(seed: number, t: Totals, turns: number, wallS: number, cpuS: number, left: Leftovers, skipped: Record<string, string>) {
  const reads = t.reads + t.cReads + t.killReads;
  const cases = fuzzCases(t);
  const perHour = (n: number): number => Math.round((n / wallS) * 3600);
  return {
    seed,
    minutes: round2(wallS / 60),
    reads,
    reads_by: { torture_js_native: t.reads, c_reader: t.cReads, during_kills: t.killReads },
    retries: t.retries,
    torn_returned: t.torn + t.cCorrupt,
    first_torn: t.firstTorn || null,
    went_backwards: t.backwards,
    torture_rounds: t.tortureRounds,
    kill_rounds: t.killRounds,
    takeovers: t.takeovers,
    stale_refusals: t.staleRefusals,
    mid_commit_kills: t.midCommitKills,
    missed_deaths: t.missedDeaths,
    fuzz_cases: cases,
    fuzz: Object.fromEntries(
      Object.entries(t.fuzz).map(([k, r]) => [
        k,
        { cases: r.cases, crashes: r.crashes, bad_facts: r.badFacts, outcomes: r.outcomes, seconds: round2(r.seconds), us_per_case: r.cases > 0 ? round2((r.seconds * 1e6) / r.cases) : null },
      ]),
    ),
    fuzz_skipped: skipped,
    bridge: {
      rounds: t.bridge.rounds,
      server_restarts: t.bridge.serverRestarts,
      origin_restarts: t.bridge.originRestarts,
      stale_seen: t.bridge.staleSeen,
      equal_after: t.bridge.equalAfter,
      failures: t.bridge.failures,
      first_problem: t.bridge.firstProblem || null,
    },
    hangs: t.hangs,
    crashes: fuzzFailures(t),
    first_crash: Object.values(t.fuzz).find((r) => r.firstCrash)?.firstCrash ?? (t.firstHang || null),
    leaked_segments: left.segments,
    leaked_fds: left.fds.length,
    leaked_fd_targets: left.fds,
    turns,
    phases: Object.fromEntries(Object.entries(t.phases).map(([k, p]) => [k, { seconds: round2(p.seconds), cpu_seconds: round2(p.cpuSeconds) }])),
    // CPU of this process and its children over the wall time: how much of the machine the soak had.
    cpu_seconds: round2(cpuS),
    cores_used: round2(cpuS / wallS),
    per_hour: { reads: perHour(reads), kill_rounds: perHour(t.killRounds), fuzz_cases: perHour(cases) },
  };
}

export type SoakReport = ReturnType<typeof makeReport>;

/** Whether the report is clean: nothing torn, no step back, no crash or hang, no kill missed, no bridge round failed, nothing left. */
export const isClean = (r: SoakReport): boolean =>
  r.torn_returned === 0 &&
  r.bridge.failures === 0 && r.went_backwards === 0 && r.crashes === 0 && r.missed_deaths === 0 && r.leaked_segments.length === 0 && r.leaked_fds === 0;
