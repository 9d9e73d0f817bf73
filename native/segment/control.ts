/**
 * The control plane: a Unix domain socket per segment, `/dev/shm/NAME.ctl`, its
 * path in the header (control_socket_path). Newline-delimited JSON:
 *   reader -> writer  {"type":"attach","pid":P,"wait":"spin"}   (detach = closing the connection)
 *   writer -> reader  {"type":"hello","generation":G,"pid":P}, {"type":"generation","generation":G},
 *                     {"type":"shutdown","state":"CLOSED"}
 *   reader -> writer  {"type":"events","read":R,"lost":L}     (an event reader's counts, now and then)
 *   any    -> writer  {"type":"list"}  ->  {"type":"readers","readers":[{pid, wait, since, events_read?, events_lost?}]}
 * Everything here is best effort: the data plane (the segment) never depends on it, so a lost
 * socket, a full buffer or a confused peer only costs the announcements.
 */
import { chmodSync, chownSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import * as abi from './abi.js';
import type { Mapping } from './mapping.js';
import { native } from './binding.js';
import { SEGMENT_DEFAULTS } from './defaults.js';

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

export class ControlServer {
  private readonly clients = new Map<Socket, ReaderInfo | null>();
  /** After close(), sockets still emit 'close' events: they must not reach the writer. */
  private closed = false;
  private constructor(
    readonly path: string,
    private readonly server: Server,
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
    const cs = new ControlServer(path, server, onAttach);
    server.on('connection', (sock) => cs.accept(sock, info, registryFd));
    server.on('error', () => undefined);
    return cs;
  }

  private accept(sock: Socket, info: () => { generation: number }, registryFd: number): void {
    sock.unref();
    sock.setEncoding('utf8');
    if (this.clients.size >= SEGMENT_DEFAULTS.controlMaxConnections) {
      // Full (a flood?): the oldest connection that never announced a reader makes room (Map
      // order is arrival order); with every one a reader, the newcomer goes.
      let idle: Socket | null = null;
      for (const [s, r] of this.clients)
        if (r === null) {
          idle = s;
          break;
        }
      if (idle === null) return void sock.destroy();
      this.clients.delete(idle);
      idle.destroy();
    }
    this.clients.set(sock, null);
    send(sock, { type: 'hello', generation: info().generation, pid: process.pid });
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
      if (buf.length > SEGMENT_DEFAULTS.controlMaxLineBytes) return void sock.destroy(); // a confused or hostile peer
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        const msg = parseControlLine(line);
        if (msg === null) continue; // not a message of the protocol: never a reason to stop serving
        if (msg.type === 'attach' && this.clients.get(sock) === null && !this.closed) {
          this.clients.set(sock, { pid: msg.pid, wait: msg.wait, since: new Date().toISOString() });
          this.onAttach(true);
        } else if (msg.type === 'events') {
          // A peer's claim, shown by `mdfan stat` only: kept when it is two counts, else ignored.
          const r = this.clients.get(sock);
          if (r && isCount(msg.read) && isCount(msg.lost)) {
            r.events_read = msg.read;
            r.events_lost = msg.lost;
          }
        } else if (msg.type === 'list') send(sock, { type: 'readers', readers: this.readers() });
        else if (msg.type === 'registry' && !this.closed) {
          // The registry's descriptor, on this connection's own socket (libuv's stream handle).
          const fd = (sock as unknown as { _handle?: { fd?: number } })._handle?.fd;
          try {
            if (typeof fd === 'number' && fd >= 0) native.sendFd(fd, registryFd);
          } catch {
            /* the reader went: it polls instead of sleeping */
          }
        }
      }
    };
    const gone = (): void => {
      if (this.clients.get(sock) && !this.closed) this.onAttach(false);
      this.clients.delete(sock);
    };
    sock.on('close', gone);
    sock.on('error', () => undefined);
  }

  readers(): ReaderInfo[] {
    return [...this.clients.values()].filter((r): r is ReaderInfo => r !== null);
  }

  announce(msg: object): void {
    for (const s of this.clients.keys()) send(s, msg);
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

function send(sock: Socket, msg: object): void {
  if (!sock.destroyed && sock.writable) sock.write(JSON.stringify(msg) + '\n');
}

/** A reader's announcement: connects, says attach, and stays connected (closing = detach). */
export function announceAttach(path: string, wait: string, onMessage?: (msg: { type: string }) => void): Socket | null {
  if (!path) return null;
  const sock = createConnection(path);
  sock.unref(); // never keeps a reader alive
  sock.setEncoding('utf8');
  sock.on('error', () => undefined); // best effort: the data plane does not need it
  sock.on('connect', () => sock.write(JSON.stringify({ type: 'attach', pid: process.pid, wait }) + '\n'));
  let buf = '';
  sock.on('data', (d: string) => {
    buf += d;
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      try {
        const m: unknown = JSON.parse(line);
        if (typeof m === 'object' && m !== null && typeof (m as { type?: unknown }).type === 'string') onMessage?.(m as { type: string });
      } catch {
        /* ignore */
      }
    }
    if (buf.length > SEGMENT_DEFAULTS.controlMaxLineBytes) sock.destroy(); // a confused or hostile peer
  });
  return sock;
}

/** Asks the writer for its attached readers (null if the socket does not answer in time). */
export function listReaders(path: string, timeoutMs: number = SEGMENT_DEFAULTS.controlAnswerMs): Promise<ReaderInfo[] | null> {
  return new Promise((resolve) => {
    const sock = createConnection(path);
    const timer = setTimeout(() => finish(null), timeoutMs);
    let buf = '';
    const finish = (r: ReaderInfo[] | null): void => {
      clearTimeout(timer);
      sock.destroy();
      resolve(r);
    };
    sock.setEncoding('utf8');
    sock.on('error', () => finish(null));
    sock.on('connect', () => sock.write('{"type":"list"}\n'));
    sock.on('data', (d: string) => {
      buf += d;
      if (buf.length > SEGMENT_DEFAULTS.controlMaxLineBytes * 64) return finish(null); // a list is never this long
      for (const line of buf.split('\n').slice(0, -1)) {
        try {
          const m: unknown = JSON.parse(line);
          if (typeof m === 'object' && m !== null && (m as { type?: unknown }).type === 'readers') {
            const readers = (m as { readers?: unknown }).readers;
            return finish(Array.isArray(readers) ? readers.filter((r): r is ReaderInfo => typeof r === 'object' && r !== null) : null);
          }
        } catch {
          /* keep reading */
        }
      }
    });
  });
}
