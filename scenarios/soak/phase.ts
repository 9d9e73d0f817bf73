/**
 * A soak phase: one module each (phase-*.ts), run once per turn in the order of soak-cmd.ts's
 * list. A phase adds what it saw to the totals; the soak times it (wall and CPU) and removes the
 * segments left under its prefix. Adding a phase is a module and a line in that list.
 */
import { readFileSync } from 'node:fs';
import type { Totals } from './totals.js';

export interface SoakContext {
  readonly seed: number;
  /** The soak's seeded generator: a phase draws from it in a fixed order, so a run replays. */
  readonly rand: () => number;
  /** A fresh name under the soak's prefix (segments, and anything else the leak check must see). */
  name(what: string): string;
  readonly totals: Totals;
  /** 1 for the first turn. */
  turn: number;
}

export interface Phase {
  /** Its key in the report's `phases`. */
  readonly name: string;
  /** Once, before the first turn (inputs read, helpers started). */
  start?(ctx: SoakContext): Promise<void>;
  turn(ctx: SoakContext): Promise<void>;
  /** Once at the end, also after a failure: whatever start() made is gone after it. */
  stop?(): Promise<void>;
}

/** Linux's USER_HZ: the unit of /proc's CPU times. */
const TICKS_PER_S = 100;

/** CPU seconds of this process (every thread) and of its children it has waited for. */
export function cpuSeconds(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  // Fields after the command name (which may hold spaces): state is field 3, utime 14 ... cstime 17.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / TICKS_PER_S;
}
