/**
 * The control plane: a Unix domain socket per segment, `/dev/shm/NAME.ctl`, its
 * path in the header (control_socket_path). Newline-delimited JSON:
 *   reader -> writer  {"type":"attach","pid":P,"wait":"spin"}   (detach = closing the connection)
 *   writer -> reader  {"type":"hello","generation":G,"pid":P}, {"type":"shutdown","state":"CLOSED"}
 *   reader -> writer  {"type":"events","read":R,"lost":L}     (an event reader's counts, now and then)
 *   any    -> writer  {"type":"list"}  ->  {"type":"readers","readers":[{pid, wait, since, events_read?, events_lost?}],
 *                                              "refused":{"pid":N,"uid_full":N,"full":N,"unread":N}}
 *   writer -> peer    {"type":"refused","code":"MDFAN_ERR_PEER_REFUSED","reason":R,...facts}
 * Peers are known by the kernel's word (SO_PEERCRED), not their own: an attach must claim the
 * connecting process's own pid (else refused, reason "pid", and not listed); connections are
 * capped per uid and in total (control-peers.ts: reasons "uid_full", "full"); a peer that leaves
 * more than a few KiB of answers unread is hung up on (counted as "unread", no answer).
 * Everything here is best effort: the data plane (the segment) never depends on it, so a lost
 * socket, a full buffer or a confused peer only costs the announcements.
 */
import { chmodSync, chownSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import * as abi from './abi.js';
import type { Mapping } from './mapping.js';
import { native } from './binding.js';
import { SEGMENT_DEFAULTS } from './defaults.js';
import { ErrorCode } from './errors.js';
import { type ControlLimits, type Peer, type RefusalReason, admit, controlLimits } from './control-peers.js';

export { announceAttach, listReaders } from './control-client.js';
export type { ControlLimits, RefusalReason } from './control-peers.js';

/** What a peer may send, checked as data: anything else is dropped (a peer is not trusted). */
type ControlMessage =
  | { type: 'attach'; pid: number; wait: string }
  | { type: 'events'; read: unknown; lost: unknown }
  | { type: 'list' }
  | { type: 'registry' };

/** The longest wait name a peer may claim (the SDK's are 5 characters). */
const MAX_WAIT_CHARS = 16;

/** One control line as a message of the protocol, or null (not JSON, not an object, an unknown type, fields of the wrong kind). */
export function parseControlLine(line: string): ControlMessage | null {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return null;
  const m = v as Record<string, unknown>;
  switch (m.type) {
    case 'attach': {
      const pid = Number.isInteger(m.pid) && (m.pid as number) > 0 && (m.pid as number) <= 0x7fffffff ? (m.pid as number) : 0;
      const wait = typeof m.wait === 'string' && m.wait.length <= MAX_WAIT_CHARS ? m.wait : '';
      return { type: 'attach', pid, wait };
    }
    case 'events':
      return { type: 'events', read: m.read, lost: m.lost };
    case 'list':
      return { type: 'list' };
    case 'registry':
      return { type: 'registry' };
    default:
      return null;
  }
}

export interface ReaderInfo {
  pid: number;
  wait: string;
  since: string;
  /** Events this reader has read from the ring, and lost to lapping, as it last reported them. */
  events_read?: number;
  events_lost?: number;
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** The socket path for a segment, or null if it would not fit sockaddr_un (then no control plane). */
export function controlPath(segment: string): string | null {
  const p = `/dev/shm/${segment}.ctl`;
  return Buffer.byteLength(p) < abi.SOCKET_PATH_BYTES ? p : null;
}

/** Writes the path (NUL-terminated) into the header's control_socket_path. */
export function writeControlPath(m: Mapping, path: string | null): void {
  const off = abi.HDR.control_socket_path.offset;
  m.u8.fill(0, off, off + abi.SOCKET_PATH_BYTES);
  if (path) m.u8.set(Buffer.from(path), off);
}

/** A connection: the kernel's facts about its peer, and the reader it announced (null: none yet). */
interface Client extends Peer {
  info: ReaderInfo | null;
}

/** The descriptor of a connection's socket (libuv's stream handle), or -1. */
const fdOf = (sock: Socket): number => (sock as unknown as { _handle?: { fd?: number } })._handle?.fd ?? -1;

export class ControlServer {
  private readonly clients = new Map<Socket, Client>();
  /** Peers refused or cut off, by reason (also in every `list` answer). */
  private readonly refusedCounts: Record<RefusalReason, number> = { pid: 0, uid_full: 0, full: 0, unread: 0 };
  /** Connections accepted since start (refused ones included). */
  private acceptedCount = 0;
  /** After close(), sockets still emit 'close' events: they must not reach the writer. */
  private closed = false;
  /** Told of every refusal or cut-off (the writer's owner logs them, rate-limited): the reason and the kernel's facts. */
  onRefused: ((reason: RefusalReason, facts: Readonly<Record<string, number>>) => void) | null = null;
  private constructor(
    readonly path: string,
    private readonly server: Server,
    private readonly limits: ControlLimits,
    private readonly onAttach: (attached: boolean) => void,
  ) {}

  /** Listens on `path` (replacing a dead writer's socket file). Resolves null on failure. */
  /** `registryFd`: the reader registry's memfd, handed to a reader that asks (SCM_RIGHTS). */
  static async start(
    path: string,
    mode: number,
    gid: number | undefined,
    info: () => { generation: number },
    registryFd: number,
    onAttach: (attached: boolean) => void,
    limits: Partial<ControlLimits> = {},
  ): Promise<ControlServer | null> {
    try {
      unlinkSync(path); // a dead writer's: we hold the segment's writer lock
    } catch {
      /* none */
    }
    const server = createServer();
    const ok = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(path, () => resolve(true));
    });
    if (!ok) return null;
    try {
      chmodSync(path, mode | ((mode & 0o044) >>> 1)); // connecting needs write permission
      if (gid !== undefined) chownSync(path, -1, gid);
    } catch {
      /* best effort */
    }
    server.unref(); // never keeps the writer alive
    const cs = new ControlServer(path, server, controlLimits(limits), onAttach);
    server.on('connection', (sock) => {
      try {
        cs.accept(sock, info, registryFd);
      } catch {
        sock.destroy(); // whoever connects, the writer goes on
      }
    });
    server.on('error', () => undefined);
    return cs;
  }

  private accept(sock: Socket, info: () => { generation: number }, registryFd: number): void {
    this.acceptedCount++;
    sock.unref();
    sock.setEncoding('utf8');
    sock.on('error', () => undefined);
    let pid: number;
    let uid: number;
    try {
      [pid, uid] = native.peerCred(fdOf(sock));
    } catch {
      return void sock.destroy(); // gone already, or not a socket the kernel can vouch for
    }
    const room = admit(this.clients, uid, this.limits);
    if (!room.admit) return void this.refuse(sock, room.reason, { uid, limit: room.reason === 'uid_full' ? this.limits.maxPerUid : this.limits.maxConnections });
    if (room.evict) {
      // Forgotten now (the next newcomer must not pick it again); a reader's detach is counted here, its 'close' finds nothing.
      if (this.clients.get(room.evict)?.info && !this.closed) this.onAttach(false);
      this.clients.delete(room.evict);
      room.evict.destroy();
    }
    const client: Client = { pid, uid, reader: false, info: null };
    this.clients.set(sock, client);
    this.send(sock, { type: 'hello', generation: info().generation, pid: process.pid });
    let buf = '';
    sock.on('data', (d: string) => {
      try {
        serve(d);
      } catch {
        sock.destroy(); // whatever a peer sends, the writer goes on: only this connection ends
      }
    });
    const serve = (d: string): void => {
      buf += d;
      for (let i = buf.indexOf('\n'); i >= 0 && !sock.destroyed; i = buf.indexOf('\n')) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        const msg = parseControlLine(line);
        if (msg === null) continue; // not a message of the protocol: never a reason to stop serving
        if (msg.type === 'attach' && client.info === null && !this.closed) {
          if (client.pid <= 0 || msg.pid !== client.pid) {
            // Not its own pid (or one the kernel cannot name here: another pid namespace): a
            // listing, a count and a liveness check must not rest on a claim.
            this.refusedCounts.pid++;
            this.onRefused?.('pid', { claimed: msg.pid, found: client.pid, uid: client.uid });
            this.send(sock, { type: 'refused', code: ErrorCode.PEER_REFUSED, reason: 'pid', claimed: msg.pid, found: client.pid });
            continue;
          }
          client.reader = true;
          client.info = { pid: msg.pid, wait: msg.wait, since: new Date().toISOString() };
          this.onAttach(true);
        } else if (msg.type === 'events') {
          // A peer's claim, shown by `mdfan stat` only: kept when it is two counts, else ignored.
          const r = client.info;
          if (r && isCount(msg.read) && isCount(msg.lost)) {
            r.events_read = msg.read;
            r.events_lost = msg.lost;
          }
        } else if (msg.type === 'list') this.send(sock, { type: 'readers', readers: this.readers(), refused: this.refusedCounts });
        else if (msg.type === 'registry' && !this.closed) {
          // The registry's descriptor, on this connection's own socket.
          const fd = fdOf(sock);
          try {
            if (fd >= 0) native.sendFd(fd, registryFd);
          } catch {
            /* the reader went: it polls instead of sleeping */
          }
        }
      }
      // What is left is one unfinished line: past the bound, a confused or hostile peer (many whole lines in one chunk are fine).
      if (buf.length > SEGMENT_DEFAULTS.controlMaxLineBytes) sock.destroy();
    };
    sock.on('close', () => {
      if (this.clients.get(sock)?.info && !this.closed) this.onAttach(false);
      this.clients.delete(sock);
    });
  }

  /** Says why (one short line, on a new connection's empty buffer) and hangs up. */
  private refuse(sock: Socket, reason: 'uid_full' | 'full', facts: Record<string, number>): void {
    this.refusedCounts[reason]++;
    this.onRefused?.(reason, facts);
    sock.end(`${JSON.stringify({ type: 'refused', code: ErrorCode.PEER_REFUSED, reason, ...facts })}\n`);
    sock.destroySoon(); // closed once written, whether or not the peer ever reads or hangs up
  }

  /** One line to a peer, unless it left more than the bound unread: then it is cut off instead. */
  private send(sock: Socket, msg: object): void {
    if (sock.destroyed || !sock.writable) return;
    if (sock.writableLength > this.limits.maxUnreadBytes) {
      this.refusedCounts.unread++;
      const peer = this.clients.get(sock);
      this.onRefused?.('unread', { unreadBytes: sock.writableLength, pid: peer?.pid ?? 0, uid: peer?.uid ?? -1 });
      return void sock.destroy();
    }
    sock.write(JSON.stringify(msg) + '\n');
  }

  readers(): ReaderInfo[] {
    const out: ReaderInfo[] = [];
    for (const c of this.clients.values()) if (c.info) out.push(c.info);
    return out;
  }

  /** Counts for tests and tools: connections open now (per uid), accepted so far, refusals by reason, bytes left unread. */
  stats(): { connections: number; byUid: Record<number, number>; accepted: number; refused: Record<RefusalReason, number>; unreadBytes: number } {
    const byUid: Record<number, number> = {};
    let unreadBytes = 0;
    for (const [s, c] of this.clients) {
      byUid[c.uid] = (byUid[c.uid] ?? 0) + 1;
      unreadBytes += s.writableLength;
    }
    return { connections: this.clients.size, byUid, accepted: this.acceptedCount, refused: { ...this.refusedCounts }, unreadBytes };
  }

  announce(msg: object): void {
    for (const s of this.clients.keys()) this.send(s, msg);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.announce({ type: 'shutdown', state: 'CLOSED' });
    for (const s of this.clients.keys()) s.end();
    this.server.close();
    try {
      unlinkSync(this.path);
    } catch {
      /* gone */
    }
  }
}
