/**
 * What a soak adds up, turn by turn: each phase adds its counts here, and the report is made from
 * them (report.ts). A new phase adds its fields here and its figures to the report.
 */
import type { FuzzResult } from './fuzz.js';
import { type BridgeRoundResult, newBridgeResult } from './bridge-rounds.js';

/** The fuzzers, as the report names them (`fuzz.<name>`). */
export const FUZZERS = ['itch', 'segment', 'mold', 'scenario', 'control', 'nats', 'binance', 'dbn'] as const;
export type FuzzerName = (typeof FUZZERS)[number];

/** One fuzzer's cases over the soak, and the worker time they took. */
export interface FuzzTotal extends FuzzResult {
  seconds: number;
}

/** Wall and CPU time a phase took over the soak (CPU: this process's and its children's). */
export interface PhaseTime {
  seconds: number;
  cpuSeconds: number;
}

export interface Totals {
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
  /** Kills that left the slot mid-commit (its seq odd). */
  midCommitKills: number;
  missedDeaths: number;
  fuzz: Record<FuzzerName, FuzzTotal>;
  /** Fuzz shares that did not answer in time (a case that hangs), with the first one's story. */
  hangs: number;
  firstHang: string;
  phases: Record<string, PhaseTime>;
  /** The off-host path's rounds (bridge-rounds.ts). */
  bridge: BridgeRoundResult;
}

export const emptyFuzz = (): FuzzTotal => ({ cases: 0, outcomes: {}, crashes: 0, firstCrash: '', badFacts: 0, seconds: 0 });

export function newTotals(): Totals {
  return {
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
    midCommitKills: 0,
    missedDeaths: 0,
    fuzz: Object.fromEntries(FUZZERS.map((f) => [f, emptyFuzz()])) as Record<FuzzerName, FuzzTotal>,
    hangs: 0,
    firstHang: '',
    phases: {},
    bridge: newBridgeResult(),
  };
}

export function addFuzz(into: FuzzTotal, r: FuzzResult, seconds: number): void {
  into.cases += r.cases;
  into.crashes += r.crashes;
  into.badFacts += r.badFacts;
  into.firstCrash ||= r.firstCrash;
  into.seconds += seconds;
  for (const [k, v] of Object.entries(r.outcomes)) into.outcomes[k] = (into.outcomes[k] ?? 0) + v;
}

export const fuzzCases = (t: Totals): number => Object.values(t.fuzz).reduce((a, r) => a + r.cases, 0);
/** Crashes and wrong facts of every fuzzer, and hangs: all must be 0. */
export const fuzzFailures = (t: Totals): number => Object.values(t.fuzz).reduce((a, r) => a + r.crashes + r.badFacts, 0) + t.hangs;
