/**
 * `mdfan soak [--minutes M] [--json FILE] [--seed N]`: for as long as asked, in turns, each phase
 * of PHASES once a turn: the seqlock torture (a full-speed writer thread against readers in
 * threads and processes, both read paths), the C reader on books and top lines, kill -9 rounds of
 * the writer at seeded random moments with takeovers, and fuzzing (ITCH frames, segment images,
 * MoldUDP64 packets, scenario files, control-plane lines, NATS records, Binance payloads and
 * captures, DBN files) on both cores, and rounds of the off-host path (nats-server and the origin
 * killed and restarted under a bridge and a mirror). It reports reads, torn reads returned (must be 0), kill
 * rounds, takeovers, fuzz cases, crashes, the segments and descriptors left behind, and where the
 * time went; exit 1 if any of those that must be 0 is not.
 */
import { readdirSync, readlinkSync } from 'node:fs';
import { writeOutputFile } from '../../lib/out-file.js';
import { numOption, optString, parse, intOption } from '../../lib/cli/args.js';
import { Progress } from '../../lib/cli/progress.js';
import { freshSeed, seededRandom } from '../../lib/random.js';
import { unlinkSegmentObjects } from '../../native/segment/index.js';
import { type Phase, type SoakContext, cpuSeconds } from './phase.js';
import { torturePhase } from './phase-torture.js';
import { cReaderPhase } from './phase-c-reader.js';
import { killPhase } from './phase-kills.js';
import { fuzzPhase } from './phase-fuzz.js';
import { bridgePhase } from './phase-bridge.js';
import { isClean, makeReport } from './report.js';
import { fuzzCases, fuzzFailures, newTotals } from './totals.js';

export const SOAK_DEFAULTS = Object.freeze({ minutes: 1 });

export const USAGE = `usage: mdfan soak [--minutes M (default ${SOAK_DEFAULTS.minutes})] [--json FILE] [--seed N (default: random, printed)]
  Torture, kill -9 rounds, fuzzing and rounds of the bridge and mirror (nats-server and the origin
  killed and restarted) in turns until the time is up; exit 1 if a torn read was returned, a fuzz
  case crashed or hung, a kill was missed, a bridge round failed, or a segment or descriptor was left behind.
  On a terminal, a progress bar on stderr (time, turn, reads, kills, fuzz cases); each turn's line on stdout.`;
export const EXAMPLE = 'mdfan soak --minutes 10 --json soak.json';
export const EXIT_CODES = '0 clean; 1 a torn read, a crash, a missed kill, a failed bridge round, or something left behind; 2 bad usage';

/** This process's open descriptors and what each is (a file, a socket, a pipe). */
function openFds(): Map<string, string> {
  const out = new Map<string, string>();
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      out.set(fd, readlinkSync(`/proc/self/fd/${fd}`));
    } catch {
      /* closed while listing (the listing's own descriptor) */
    }
  }
  return out;
}
const ownSegments = (prefix: string): string[] => readdirSync('/dev/shm').filter((f) => f.startsWith(prefix));
const removeOwn = (prefix: string): void => {
  for (const s of new Set(ownSegments(prefix).map((f) => f.replace(/\.(readers|events|tops|ctl|lock)$/, '')))) unlinkSegmentObjects(s);
};

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, { minutes: { type: 'string' }, json: { type: 'string' }, seed: { type: 'string' } }, USAGE);
  const minutes = numOption(values.minutes, '--minutes', 0.01, 7 * 24 * 60, SOAK_DEFAULTS.minutes);
  const jsonFile = optString(values.json, '--json');
  const seed = intOption(values.seed, '--seed', 0, 0xffffffff, freshSeed());
  const prefix = `mdfan-soak-${process.pid}-`;
  let n = 0;
  const t = newTotals();
  const ctx: SoakContext = { seed, rand: seededRandom(seed), name: (what) => `${prefix}${++n}-${what}`, totals: t, turn: 0 };
  const fuzz = fuzzPhase();
  // In this order every turn; a new phase is a module and a line here.
  const bridge = bridgePhase();
  const PHASES: readonly Phase[] = [torturePhase, cReaderPhase, killPhase, fuzz, bridge];
  // Descriptors are compared from the end of the first turn on: the first turn opens what the
  // runtime keeps for good (the worker and zlib machinery); a leak grows turn by turn.
  let fdsBefore: Map<string, string> | null = null;
  // Segments a phase left behind (found after it, then removed so the next one starts clean).
  const leftBehind = new Set<string>();
  console.log(`mdfan soak: ${minutes} min, seed ${seed} (--seed ${seed} replays the draws)`);
  for (const [kind, why] of Object.entries(fuzz.skipped)) console.log(`  fuzz.${kind} skipped: ${why}`);
  if (bridge.skipped !== null) console.log(`  bridge rounds skipped: ${bridge.skipped}`);
  const started = performance.now();
  const cpuStarted = cpuSeconds();
  const end = started + minutes * 60_000;
  const tag = (): string => `${((performance.now() - started) / 1000).toFixed(0)} s`;
  const bar = Progress.start({ label: 'soak', total: Math.ceil(minutes * 60), unit: 's', fields: 'turn {turn} | {reads} reads | {kills} kills | {fuzz} fuzz', initial: { turn: 1, reads: 0, kills: 0, fuzz: 0 } });
  const showProgress = (): void =>
    bar?.update(Math.min(Math.floor((performance.now() - started) / 1000), Math.ceil(minutes * 60)), { turn: ctx.turn, reads: t.reads + t.cReads + t.killReads, kills: t.killRounds, fuzz: fuzzCases(t) });
  const ticker = bar ? setInterval(showProgress, 500).unref() : null;
  try {
    for (const p of PHASES) await p.start?.(ctx);
    // The first turn runs every phase, however short the time asked (the helpers' start counts in it).
    for (ctx.turn = 1; ctx.turn === 1 || performance.now() < end; ctx.turn++) {
      const spent: string[] = [];
      for (const p of PHASES) {
        if (ctx.turn > 1 && performance.now() >= end) break;
        const t0 = performance.now();
        const c0 = cpuSeconds();
        try {
          await p.turn(ctx);
        } finally {
          for (const f of ownSegments(prefix)) leftBehind.add(`${f} (${p.name})`);
          removeOwn(prefix);
          t.phases[p.name] ??= { seconds: 0, cpuSeconds: 0 };
          const pt = t.phases[p.name]!;
          const s = (performance.now() - t0) / 1000;
          pt.seconds += s;
          pt.cpuSeconds += cpuSeconds() - c0;
          spent.push(`${p.name} ${s.toFixed(1)} s`);
        }
      }
      if (ctx.turn === 1) fdsBefore = openFds();
      const line = `  turn ${ctx.turn} (${tag()}): ${t.reads + t.cReads + t.killReads} reads, ${t.torn} torn, ${t.killRounds} kills, ${fuzzCases(t)} fuzz cases, ${fuzzFailures(t)} crashes [${spent.join(', ')}]`;
      if (bar) bar.above(line);
      else console.log(line);
    }
  } finally {
    if (ticker) clearInterval(ticker);
    bar?.stop();
    for (const p of PHASES) await p.stop?.();
    for (const f of ownSegments(prefix)) leftBehind.add(f);
    removeOwn(prefix);
  }
  const turns = ctx.turn - 1;
  const wallS = (performance.now() - started) / 1000;
  const cpuS = cpuSeconds() - cpuStarted;
  const segments = [...leftBehind, ...ownSegments(prefix).map((f) => `${f} (could not be removed)`)];
  await new Promise((r) => setTimeout(r, 100)); // children's pipes close on the next turns of the loop
  const fdsAfter = openFds();
  const fds = fdsBefore === null ? [] : [...fdsAfter].filter(([fd, what]) => fdsBefore!.get(fd) !== what).map(([fd, what]) => `${fd} -> ${what}`);
  const report = makeReport(seed, t, turns, wallS, cpuS, { segments, fds }, fuzz.skipped);
  console.log(JSON.stringify(report));
  if (jsonFile) writeOutputFile(jsonFile, JSON.stringify(report, null, 2));
  const ok = isClean(report);
  console.log(`  fuzz cases: ${Object.entries(report.fuzz).map(([k, f]) => `${k} ${f.cases}`).join(', ')}`);
  console.log(`  time: ${Object.entries(report.phases).map(([k, p]) => `${k} ${p.seconds} s (${p.cpu_seconds} CPU s)`).join(', ')}; ${report.cores_used} cores used`);
  console.log(`  an hour at this rate: ${report.per_hour.reads} reads, ${report.per_hour.kill_rounds} kill rounds, ${report.per_hour.fuzz_cases} fuzz cases`);
  console.log(
    `mdfan soak: ${ok ? 'clean' : 'FAILED'}: ${report.reads} reads, ${report.torn_returned} torn, ${report.kill_rounds} kill rounds, ${report.takeovers} takeovers, ${report.fuzz_cases} fuzz cases, ${report.crashes} crashes, ${report.bridge.rounds} bridge rounds (${report.bridge.failures} failed), ${segments.length} segments and ${report.leaked_fds} descriptors left`,
  );
  return ok ? 0 : 1;
}
