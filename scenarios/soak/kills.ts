/**
 * kill -9 rounds under load: a writer process (hammer.ts) commits to a slot as fast as it can,
 * this thread reads it (and its top-of-book line) as fast as it can, and the writer is SIGKILLed
 * at a moment drawn from a seeded generator, possibly mid-commit. Every read must be whole or
 * MDFAN_ERR_STALE, never torn; the reader must see the writer dead; the next round's writer takes
 * the segment over with generation + 1.
 *
 * A kill that lands inside a commit leaves the book's or the top line's seq odd: readers must
 * refuse it STALE and the next writer must take the odd line over. Those kills are counted
 * (midCommit); a commit's odd windows are a small part of the writer's loop: a few in a hundred.
 *
 * A round's cost is mostly a process start: the next rounds' writers are started ahead
 * (standbys, hammer.ts) and each opens the segment only when told, after this thread has seen the
 * previous writer dead. They load between rounds, on both cores (this thread waits), and are
 * stopped (SIGSTOP) while a writer runs: it has its core as a production writer would, so a kill
 * lands inside a commit as often as it would there. Exactly `rounds` writers are started.
 */
import { fileURLToPath } from 'node:url';
import { type Child, spawnChild } from '../../lib/child.js';
import { type MdfanError, SegmentReader, TopSnapshot } from '../../native/segment/index.js';
import { checkPayload, checkTopPayload } from './payload.js';

export interface KillResult {
  rounds: number;
  takeovers: number;
  /** Reads that returned a whole book or top line, STALE refusals, reads before a first commit. */
  whole: number;
  topsWhole: number;
  stale: number;
  empty: number;
  torn: number;
  firstTorn: string;
  /** Kills that landed inside a commit (the book or its top line left odd). */
  midCommit: number;
  /** Rounds whose writer the reader did not see dead after the kill (must be 0). */
  deathsMissed: number;
  /** Rounds whose writer did not open with the expected generation and outcome (must be 0). */
  badStarts: number;
  firstProblem: string;
}

const HAMMER = fileURLToPath(new URL('./hammer.js', import.meta.url));
const READY_TIMEOUT_MS = 20_000;
/** Writers started ahead of the one running: each has this many rounds' time to load. */
const STANDBYS = 2;
/** Reading through the death and after it: whole books or STALE (an odd slot costs its staleAfterMs). */
const AFTER_DEATH_MS = 5;
/** The reader's staleAfterMs: a slot odd for longer is refused STALE (a writer killed mid-commit). */
const STALE_AFTER_MS = 20;

/**
 * How long the writer commits before its kill: mostly 1–20 ms (rounds are cheap), one round in
 * five 20–160 ms (a writer long past its first commits).
 */
export function killDelayMs(random: () => number): number {
  return random() < 0.8 ? 1 + random() * 19 : 20 + random() * 140;
}

/**
 * `rounds` kill rounds on segment `name` (created by the first round, taken over by the next; the
 * caller removes it). `random` draws each round's time before the kill (killDelayMs).
 */
export async function killRounds(name: string, rounds: number, random: () => number, firstGeneration = 1): Promise<KillResult> {
  const r: KillResult = { rounds: 0, takeovers: 0, whole: 0, topsWhole: 0, stale: 0, empty: 0, torn: 0, firstTorn: '', midCommit: 0, deathsMissed: 0, badStarts: 0, firstProblem: '' };
  let reader: SegmentReader | null = null;
  const queue: Child[] = [];
  let started = 0;
  const topUp = (): void => {
    for (; queue.length < 1 + STANDBYS && started < rounds; started++) queue.push(spawnChild('hammer', HAMMER, [], { stdin: 'pipe' }));
  };
  try {
    for (let round = 0; round < rounds; round++) {
      const generation = firstGeneration + round;
      topUp();
      const p = queue.shift()!;
      let staleBefore = r.stale;
      try {
        await p.line(/^standby$/, READY_TIMEOUT_MS);
        for (const c of queue) c.signal('SIGSTOP'); // the standbys wait while this writer runs
        p.proc.stdin!.write(`go ${name}\n`);
        const ready = await p.line(/^ready/, READY_TIMEOUT_MS);
        const want = generation === 1 ? 'ready 1 created' : `ready ${generation} takeover`;
        if (ready !== want) {
          r.badStarts++;
          r.firstProblem ||= `round ${round}: "${ready}", expected "${want}"`;
        } else if (generation > 1) r.takeovers++;
        reader ??= SegmentReader.openSync(name, { staleAfterMs: STALE_AFTER_MS });
        reader.refreshTops(); // the new writer made new top lines
        readFor(reader, killDelayMs(random), r, round);
      } finally {
        const dead = p.kill(); // SIGKILL, possibly mid-commit
        // Through the death and after it: whole books or STALE, never torn.
        staleBefore = r.stale;
        if (reader !== null) readFor(reader, AFTER_DEATH_MS, r, round);
        await dead;
        for (const c of queue) c.signal('SIGCONT');
        topUp(); // the next writers load now
      }
      // Killed inside a commit: the book or its top line left odd, refused STALE since (the slot's
      // seq by an acquire load, pairing with the dead writer's last release store of it).
      if (r.stale > staleBefore || (Atomics.load(reader!.map.u32, reader!.slotWord(0)) & 1) !== 0) r.midCommit++;
      try {
        reader!.checkWriter();
        r.deathsMissed++;
        r.firstProblem ||= `round ${round}: the reader did not see the writer dead`;
      } catch (e) {
        if ((e as MdfanError).code !== 'MDFAN_ERR_WRITER_DEAD') throw e;
      }
      r.rounds++;
    }
  } finally {
    reader?.close();
    await Promise.all(queue.map((c) => c.kill())); // standbys of rounds that did not run (an error)
  }
  return r;
}

function readFor(reader: SegmentReader, ms: number, r: KillResult, round: number): void {
  const snap = reader.newSnapshot();
  const top = new TopSnapshot();
  const end = performance.now() + ms;
  // The clock every 64 reads, and after a STALE refusal (which took staleAfterMs itself).
  for (let i = 1; (i & 63) !== 0 || performance.now() < end; i++) {
    try {
      reader.read(0, snap);
    } catch (e) {
      if ((e as MdfanError).code !== 'MDFAN_ERR_STALE') throw e;
      r.stale++;
      i |= 63;
      continue;
    }
    try {
      reader.readTop(0, top);
      if (top.seq !== 0 && !top.stale) {
        const why = checkTopPayload(top);
        if (why !== null) {
          r.torn++;
          r.firstTorn ||= `round ${round}: top: ${why} (seq ${top.seq}, msgIndex ${top.msgIndex})`;
        } else r.topsWhole++;
      }
    } catch (e) {
      if ((e as MdfanError).code !== 'MDFAN_ERR_STALE') throw e;
      r.stale++;
      i |= 63;
    }
    if (snap.stale) continue; // the takeover's empty placeholder until the first commit
    if (snap.seq === 0) {
      r.empty++; // never committed yet (the writer printed "ready" before its first commit)
      continue;
    }
    const why = checkPayload(snap);
    if (why !== null) {
      r.torn++;
      r.firstTorn ||= `round ${round}: ${why} (seq ${snap.seq}, flags ${snap.flags}, msgIndex ${snap.msgIndex}, gen ${reader.currentGeneration})`;
    } else r.whole++;
  }
}
