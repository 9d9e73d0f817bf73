/**
 * Who may hold a control-plane connection: the admission policy, apart from the sockets. Every
 * peer is known by what the kernel says of it (SO_PEERCRED: pid and uid at connect), never by
 * what it claims. Connections are capped in total and per uid; when a cap is reached, room is
 * made first from connections whose process is gone (a socket inherited by a child), then from
 * connections that never announced a reader, and, in total only, from the uid that holds the
 * most; otherwise the newcomer is refused. So a flood from one user costs that user its own
 * connections, never another user's readers.
 */
import { SEGMENT_DEFAULTS } from './defaults.js';

/** A connection as the writer knows it. */
export interface Peer {
  /** The connecting process, from the kernel (SO_PEERCRED). */
  pid: number;
  uid: number;
  /** True once it announced a reader (an `attach` whose pid is its own). */
  reader: boolean;
}

/** The control plane's caps (each defaults to SEGMENT_DEFAULTS). */
export interface ControlLimits {
  /** Connections at most, all uids together. */
  maxConnections: number;
  /** Connections at most from one uid. */
  maxPerUid: number;
  /** Unread answer bytes the writer buffers for one peer before it hangs up. */
  maxUnreadBytes: number;
}

export function controlLimits(o: Partial<ControlLimits> = {}): ControlLimits {
  return {
    maxConnections: o.maxConnections ?? SEGMENT_DEFAULTS.controlMaxConnections,
    maxPerUid: o.maxPerUid ?? SEGMENT_DEFAULTS.controlMaxPerUid,
    maxUnreadBytes: o.maxUnreadBytes ?? SEGMENT_DEFAULTS.controlMaxUnreadBytes,
  };
}

/** Why a peer was refused or cut off (the `reason` of a refusal; the keys of the counts). */
export type RefusalReason = 'pid' | 'uid_full' | 'full' | 'unread';

/** The newcomer gets in after `evict` (if any) is closed, or is refused. */
export type Admission<K> = { admit: true; evict: K | null; why: 'dead' | 'idle' | 'share' | null } | { admit: false; reason: 'uid_full' | 'full' };

/** The process exists (EPERM: it does, as another user). Called only when a cap is reached. */
export function pidAlive(pid: number): boolean {
  if (pid <= 0) return true; // unknown: never taken for dead
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code !== 'ESRCH';
  }
}

/** Whom of `mine` (oldest first) to close for room: a dead process's, else one that is no reader, else (if allowed) the oldest. */
function victim<K>(mine: Array<[K, Peer]>, alive: (pid: number) => boolean, anyReader: boolean): { key: K; why: 'dead' | 'idle' | 'share' } | null {
  for (const [k, p] of mine) if (!alive(p.pid)) return { key: k, why: 'dead' };
  for (const [k, p] of mine) if (!p.reader) return { key: k, why: 'idle' };
  return anyReader && mine.length > 0 ? { key: mine[0][0], why: 'share' } : null;
}

/** Decides on a newcomer from `uid`, given the connections open now (Map order: arrival). */
export function admit<K>(peers: Map<K, Peer>, uid: number, limits: ControlLimits, alive: (pid: number) => boolean = pidAlive): Admission<K> {
  const byUid = new Map<number, Array<[K, Peer]>>();
  for (const e of peers) {
    const list = byUid.get(e[1].uid);
    if (list) list.push(e);
    else byUid.set(e[1].uid, [e]);
  }
  const mine = byUid.get(uid) ?? [];
  if (mine.length >= limits.maxPerUid) {
    const v = victim(mine, alive, false);
    return v ? { admit: true, evict: v.key, why: v.why } : { admit: false, reason: 'uid_full' };
  }
  if (peers.size < limits.maxConnections) return { admit: true, evict: null, why: null };
  // Full: the uid holding the most gives one up, unless the newcomer's own uid holds as many.
  let heaviest = mine;
  for (const list of byUid.values()) if (list.length > heaviest.length) heaviest = list;
  const v = victim(heaviest, alive, heaviest !== mine);
  return v ? { admit: true, evict: v.key, why: v.why } : { admit: false, reason: 'full' };
}
