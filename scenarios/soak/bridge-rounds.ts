/**
 * The off-host path under the soak: a round starts nats-server, `mdfan mirror`, `mdfan bridge`
 * and an origin `mdfan feed` of the GOOG day (paced), then SIGKILLs the server and restarts it
 * (the mirror's book must turn stale, then be reloaded), SIGKILLs the origin at a seeded moment
 * (the mirror's book must turn stale: the origin's death) and starts a new origin on the same
 * segment (a takeover that replays the day at full speed): the mirror's book must end equal to the
 * new origin's last, not stale. Every process and segment of the round is removed at its end.
 */
import { readFileSync, rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Child, logLine, spawnMdfan } from '../../lib/child.js';
import { LogEvent } from '../../lib/log.js';
import { formatBookLine } from '../../lib/book-line.js';
import { SegmentReader, unlinkSegmentObjects } from '../../native/segment/index.js';
import { NatsServer, hasNatsServer } from '../../bench/nats-server.js';

export interface BridgeRoundResult {
  rounds: number;
  serverRestarts: number;
  originRestarts: number;
  /** Rounds whose mirror showed the stale mark after the server's death and after the origin's. */
  staleSeen: number;
  /** Rounds whose mirror ended equal to the new origin's last book, not stale. */
  equalAfter: number;
  failures: number;
  firstProblem: string;
}

export const newBridgeResult = (): BridgeRoundResult => ({ rounds: 0, serverRestarts: 0, originRestarts: 0, staleSeen: 0, equalAfter: 0, failures: 0, firstProblem: '' });

/** Whether a round can run here (nats-server installed). */
export const bridgeRoundsPossible = hasNatsServer;

const STEP_MS = 60_000;

/** The GOOG book of segment `name` as a dump line and its stale mark (null: not there yet). */
function googOf(name: string): { line: string; stale: boolean; updates: number } | null {
  let r: SegmentReader;
  try {
    r = SegmentReader.openSync(name, { anyState: true });
  } catch {
    return null;
  }
  try {
    const slot = r.find('GOOG');
    if (slot < 0) return null;
    const snap = r.newSnapshot();
    r.read(slot, snap);
    if (snap.seq === 0) return null;
    return { line: formatBookLine(snap.msgIndex, 'GOOG', snap, snap.levels), stale: snap.stale, updates: snap.seq };
  } catch {
    return null; // mid-commit past the stale bound: look again
  } finally {
    r.close();
  }
}

async function until(what: string, cond: () => boolean, ms = STEP_MS): Promise<void> {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const event = (c: Child, ev: LogEvent): Promise<unknown> => logLine(c, (l) => l.event === ev, STEP_MS);

/** One round on segments `name`-o (origin) and `name`-m (mirror); `random` draws the origin's kill moment. */
export async function bridgeRound(name: string, goog: string, random: () => number, into: BridgeRoundResult): Promise<void> {
  const origin = `${name}-o`;
  const local = `${name}-m`;
  const dir = mkdtempSync(join(tmpdir(), 'mdfan-soak-bridge-'));
  const dump = join(dir, 'dump.txt');
  const children: Child[] = [];
  const spawn = (label: string, args: string[]): Child => {
    const c = spawnMdfan(label, args);
    children.push(c);
    return c;
  };
  let server: NatsServer | null = null;
  into.rounds++;
  try {
    server = await NatsServer.start();
    const mirror = spawn('mirror', ['mirror', '--nats', server.url, '--segment', local]);
    const bridge = spawn('bridge', ['bridge', '--segment', origin, '--nats', server.url, '--book-interval-ms', '5', '--timeout', '60']);
    await event(mirror, LogEvent.MIRROR_SUBSCRIBED);
    await event(bridge, LogEvent.NATS_CONNECTED);
    const first = spawn('origin', ['feed', '--source', `itch:${goog}`, '--segment', origin, '--speed', '30', '--max-gap', '0.02', '--ring-events', '65536']);
    await event(mirror, LogEvent.MIRROR_READY);
    await until('the mirror to publish GOOG books', () => (googOf(local)?.updates ?? 0) >= 20);
    // The server dies: the mirror marks its books stale, and clears them once reloaded.
    await server.kill();
    await until("the mirror's book stale after the server's death", () => googOf(local)?.stale === true);
    await server.restart();
    into.serverRestarts++;
    await event(mirror, LogEvent.MIRROR_RELOADED);
    await until("the mirror's book live again after the reload", () => googOf(local)?.stale === false);
    // The origin dies at a seeded moment: the mirror's book turns stale (the origin's death).
    await new Promise((r) => setTimeout(r, 20 + random() * 300));
    await first.kill();
    await event(bridge, LogEvent.BRIDGE_ORIGIN_DEAD);
    await until("the mirror's book stale after the origin's death", () => googOf(local)?.stale === true);
    into.staleSeen++;
    const second = spawn('origin2', ['feed', '--source', `itch:${goog}`, '--segment', origin, '--speed', 'max', '--ring-events', '65536', '--dump-books', dump]);
    into.originRestarts++;
    const exit = await second.exited;
    if (exit.code !== 0) throw new Error(second.describeExit());
    if ((await bridge.exited).code !== 0) throw new Error(bridge.describeExit());
    const last = readFileSync(dump, 'latin1').trim().split('\n').pop()!;
    await until("the mirror's book equal to the new origin's last, not stale", () => {
      const g = googOf(local);
      return g !== null && g.line === last && !g.stale;
    });
    into.equalAfter++;
    mirror.signal('SIGTERM');
    if ((await mirror.exited).code !== 0) throw new Error(mirror.describeExit());
  } catch (e) {
    into.failures++;
    into.firstProblem ||= `bridge round ${into.rounds}: ${(e as Error).message}`.slice(0, 2000);
  } finally {
    for (const c of children) await c.kill();
    await server?.stop();
    unlinkSegmentObjects(origin);
    unlinkSegmentObjects(local);
    rmSync(dir, { recursive: true, force: true });
  }
}
