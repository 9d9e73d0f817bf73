/**
 * `mdfan soak [--minutes M] [--json FILE] [--seed N]`: for as long as asked, in turn, the seqlock
 * torture (a full-speed writer thread against readers in threads and processes, both read paths,
 * and the C reader on books and top lines), kill -9 rounds of the writer at seeded random moments
 * with takeovers, and fuzzing (ITCH frames, segment images, MoldUDP64 packets, scenario files, control-plane lines, NATS records).
 * It reports reads, torn reads returned (must be 0), kill rounds, takeovers, fuzz cases, crashes,
 * and the segments and descriptors left behind; exit 1 if any of those that must be 0 is not.
 */
import { readdirSync, readlinkSync } from 'node:fs';
import { writeOutputFile } from '../../lib/out-file.js';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { numOption, optString, parse, intOption } from '../../lib/cli/args.js';
import { freshSeed, seededRandom } from '../../lib/random.js';
import { readInput } from '../../feed/index.js';
import { unlinkSegmentObjects } from '../../native/segment/index.js';
import { measurePeer } from '../../bench/peers/index.js';
import { tortureRound } from './torture.js';
import { killRounds } from './kills.js';
import { type FuzzResult, fuzzItch, fuzzMold, fuzzScenario, fuzzSegment } from './fuzz.js';
import { fuzzControl } from './fuzz-control.js';
import { fuzzNats } from './fuzz-nats.js';

/** What one turn of each phase does (a turn is a few seconds on this machine). */
export const SOAK_DEFAULTS = Object.freeze({
  minutes: 1,
  readsPerReader: 1_000_000,
  killRoundsPerTurn: 25,
  fuzz: Object.freeze({ itch: 50_000, segment: 1000, mold: 20_000, scenario: 200, control: 2000, nats: 20_000 }),
  cPeerRate: 200_000,
  cPeerSeconds: 1,
});

export const USAGE = `usage: mdfan soak [--minutes M (default ${SOAK_DEFAULTS.minutes})] [--json FILE] [--seed N (default: random, printed)]
  Torture, kill -9 rounds and fuzzing in turns until the time is up; exit 1 if a torn read was
  returned, a fuzz case crashed, a kill was missed, or a segment or descriptor was left behind.`;
export const EXAMPLE = 'mdfan soak --minutes 10 --json soak.json';
export const EXIT_CODES = '0 clean; 1 a torn read, a crash, a missed kill, or something left behind; 2 bad usage';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const DATA = join(repoRoot, 'scenarios', 'data', 'itch');

interface Totals {
  reads: number;
  retries: number;
  torn: number;
  backwards: number;
  firstTorn: string;
  tortureRounds: number;
  cReads: number;
  cCorrupt: number;
  killRounds: number;
  takeovers: number;
  killReads: number;
  staleRefusals: number;
  missedDeaths: number;
  fuzz: Record<'itch' | 'segment' | 'mold' | 'scenario' | 'control' | 'nats', FuzzResult>;
}

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

function addFuzz(into: FuzzResult, r: FuzzResult): void {
  into.cases += r.cases;
  into.crashes += r.crashes;
  into.badFacts += r.badFacts;
  into.firstCrash ||= r.firstCrash;
  for (const [k, v] of Object.entries(r.outcomes)) into.outcomes[k] = (into.outcomes[k] ?? 0) + v;
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, { minutes: { type: 'string' }, json: { type: 'string' }, seed: { type: 'string' } }, USAGE);
  const minutes = numOption(values.minutes, '--minutes', 0.01, 7 * 24 * 60, SOAK_DEFAULTS.minutes);
  const jsonFile = optString(values.json, '--json');
  const seed = intOption(values.seed, '--seed', 0, 0xffffffff, freshSeed());
  const rand = seededRandom(seed);
  const prefix = `mdfan-soak-${process.pid}-`;
  let n = 0;
  const name = (what: string): string => `${prefix}${++n}-${what}`;
  // Descriptors are compared from the end of the first turn on: the first turn opens what the
  // runtime keeps for good (the worker and zlib machinery); a leak grows turn by turn.
  let fdsBefore: Map<string, string> | null = null;
  const started = performance.now();
  const end = started + minutes * 60_000;
  const itchSources = [await readInput(join(DATA, 'GOOG-2012-06-21.itch.gz')), await readInput(join(DATA, 'nasdaq-preopen-1000.itch'))]; // bounded: a bomb in their place is refused
  const scenarioFiles = readdirSync(join(repoRoot, 'scenarios'))
    .filter((f) => f.endsWith('.json'))
    .map((f) => join(repoRoot, 'scenarios', f));
  const emptyFuzz = (): FuzzResult => ({ cases: 0, outcomes: {}, crashes: 0, firstCrash: '', badFacts: 0 });
  const t: Totals = {
    reads: 0,
    retries: 0,
    torn: 0,
    backwards: 0,
    firstTorn: '',
    tortureRounds: 0,
    cReads: 0,
    cCorrupt: 0,
    killRounds: 0,
    takeovers: 0,
    killReads: 0,
    staleRefusals: 0,
    missedDeaths: 0,
    fuzz: { itch: emptyFuzz(), segment: emptyFuzz(), mold: emptyFuzz(), scenario: emptyFuzz(), control: emptyFuzz(), nats: emptyFuzz() },
  };
  console.log(`mdfan soak: ${minutes} min, seed ${seed} (--seed ${seed} replays the draws)`);
  const tag = (): string => `${((performance.now() - started) / 1000).toFixed(0)} s`;
  try {
    for (let turn = 1; performance.now() < end; turn++) {
      // Torture: threads and processes, both read paths, at once.
      const per = SOAK_DEFAULTS.readsPerReader;
      const seg = name('torture');
      try {
        const tr = await tortureRound(seg, [
          { host: 'thread', path: 'js', reads: per },
          { host: 'thread', path: 'native', reads: per / 2 },
          { host: 'process', path: 'js', reads: per },
          { host: 'process', path: 'native', reads: per / 2 },
        ]);
        t.reads += tr.reads;
        t.retries += tr.retries;
        t.torn += tr.torn;
        t.backwards += tr.backwards;
        t.firstTorn ||= tr.firstError ?? '';
        t.tortureRounds++;
      } finally {
        unlinkSegmentObjects(seg);
      }
      // The C reader, on the book and on the top line.
      for (const layout of ['book', 'top'] as const) {
        const c = await measurePeer('native-c', { rate: SOAK_DEFAULTS.cPeerRate, seconds: SOAK_DEFAULTS.cPeerSeconds, readers: 1, layout, segment: name(`c-${layout}`) });
        t.cReads += c.count;
        t.cCorrupt += c.corrupt;
      }
      if (turn > 1 && performance.now() >= end) break; // the first turn runs every phase
      // kill -9 rounds with takeovers, on a fresh segment.
      const ks = name('kills');
      try {
        const k = await killRounds(ks, SOAK_DEFAULTS.killRoundsPerTurn, rand);
        t.killRounds += k.rounds;
        t.takeovers += k.takeovers;
        t.killReads += k.whole + k.topsWhole;
        t.staleRefusals += k.stale;
        t.torn += k.torn;
        t.firstTorn ||= k.firstTorn;
        t.missedDeaths += k.deathsMissed + k.badStarts;
      } finally {
        unlinkSegmentObjects(ks);
      }
      if (turn > 1 && performance.now() >= end) break; // the first turn runs every phase
      // Fuzzing.
      const f = SOAK_DEFAULTS.fuzz;
      addFuzz(t.fuzz.itch, fuzzItch(f.itch, rand, itchSources));
      addFuzz(t.fuzz.segment, fuzzSegment(f.segment, rand, name('fuzz-seg')));
      addFuzz(t.fuzz.mold, fuzzMold(f.mold, rand, itchSources[0]!, name('fuzz-mold')));
      addFuzz(t.fuzz.scenario, fuzzScenario(f.scenario, rand, scenarioFiles));
      addFuzz(t.fuzz.control, await fuzzControl(f.control, rand, name('fuzz-ctl')));
      addFuzz(t.fuzz.nats, fuzzNats(f.nats, rand, name('fuzz-nats')));
      if (turn === 1) fdsBefore = openFds();
      const fuzzCases = Object.values(t.fuzz).reduce((a, r) => a + r.cases, 0);
      console.log(`  turn ${turn} (${tag()}): ${t.reads + t.cReads + t.killReads} reads, ${t.torn} torn, ${t.killRounds} kills, ${fuzzCases} fuzz cases, ${Object.values(t.fuzz).reduce((a, r) => a + r.crashes, 0)} crashes`);
    }
  } finally {
    for (const s of new Set(ownSegments(prefix).map((f) => f.replace(/\.(readers|events|tops|ctl)$/, '')))) unlinkSegmentObjects(s);
  }
  const leakedSegments = ownSegments(prefix);
  await new Promise((r) => setTimeout(r, 100)); // children's pipes close on the next turns of the loop
  const fdsAfter = openFds();
  const leaked = fdsBefore === null ? [] : [...fdsAfter].filter(([fd, what]) => fdsBefore!.get(fd) !== what).map(([fd, what]) => `${fd} -> ${what}`);
  const leakedFds = leaked.length;
  const fuzzCases = Object.values(t.fuzz).reduce((a, r) => a + r.cases, 0);
  const crashes = Object.values(t.fuzz).reduce((a, r) => a + r.crashes + r.badFacts, 0);
  const report = {
    seed,
    minutes: Math.round(((performance.now() - started) / 60_000) * 100) / 100,
    reads: t.reads + t.cReads + t.killReads,
    reads_by: { torture_js_native: t.reads, c_reader: t.cReads, during_kills: t.killReads },
    retries: t.retries,
    torn_returned: t.torn + t.cCorrupt,
    first_torn: t.firstTorn || null,
    went_backwards: t.backwards,
    torture_rounds: t.tortureRounds,
    kill_rounds: t.killRounds,
    takeovers: t.takeovers,
    stale_refusals: t.staleRefusals,
    missed_deaths: t.missedDeaths,
    fuzz_cases: fuzzCases,
    fuzz: Object.fromEntries(Object.entries(t.fuzz).map(([k, r]) => [k, { cases: r.cases, crashes: r.crashes, bad_facts: r.badFacts, outcomes: r.outcomes }])),
    crashes,
    first_crash: Object.values(t.fuzz).find((r) => r.firstCrash)?.firstCrash ?? null,
    leaked_segments: leakedSegments,
    leaked_fds: leakedFds,
    leaked_fd_targets: leaked,
  };
  console.log(JSON.stringify(report));
  if (jsonFile) writeOutputFile(jsonFile, JSON.stringify(report, null, 2));
  const ok = report.torn_returned === 0 && report.went_backwards === 0 && crashes === 0 && report.missed_deaths === 0 && leakedSegments.length === 0 && leakedFds === 0;
  console.log(`mdfan soak: ${ok ? 'clean' : 'FAILED'}: ${report.reads} reads, ${report.torn_returned} torn, ${report.kill_rounds} kill rounds, ${report.takeovers} takeovers, ${fuzzCases} fuzz cases, ${crashes} crashes, ${leakedSegments.length} segments and ${leakedFds} descriptors left`);
  return ok ? 0 : 1;
}
