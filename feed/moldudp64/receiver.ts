/**
 * A MoldUDP64 listener: joins a multicast group (or listens on a unicast address), delivers
 * messages in sequence order, and detects what the network did to them: gaps (messages never
 * received: counted and reported, so the feed handler marks books stale), duplicates (dropped),
 * foreign sessions and malformed packets (counted, dropped). No retransmission requests: see
 * docs/FEED.md.
 */
import { createSocket, type Socket } from 'node:dgram';
import { isIPv4 } from 'node:net';
import { ErrorCode, MdfanError } from '../../native/segment/errors.js';
import { END_OF_SESSION, HEADER_BYTES, type PacketHeader, readHeader } from './packet.js';

export interface MoldCounters {
  packets: number;
  messages: number;
  heartbeats: number;
  gaps: number;
  gapMessages: number;
  duplicates: number;
  malformed: number;
  foreignSessions: number;
}

export interface MoldHandlers {
  /** One message, in order: payload at buf[offset, offset+length), its sequence number (1-based). */
  onMessage(buf: Buffer, offset: number, length: number, seq: number): void;
  /** Messages [fromSeq, fromSeq+count) were lost. */
  onGap(fromSeq: number, count: number): void;
  /** End of session seen: no more messages. */
  onEnd(): void;
}

/** Parses HOST:PORT (IPv4 host or name, port 1..65535). */
export function parseHostPort(text: string, flag: string): { host: string; port: number } {
  const i = text.lastIndexOf(':');
  const host = i > 0 ? text.slice(0, i) : '';
  const port = Number(text.slice(i + 1));
  if (!host || !Number.isInteger(port) || port < 1 || port > 65535)
    throw new MdfanError(ErrorCode.OPTIONS, `${flag} must be HOST:PORT with a port 1..65535 (got ${JSON.stringify(text)})`);
  return { host, port };
}

const isMulticast = (host: string): boolean => isIPv4(host) && Number(host.split('.')[0]) >= 224 && Number(host.split('.')[0]) <= 239;

export class MoldReceiver {
  readonly counters: MoldCounters = { packets: 0, messages: 0, heartbeats: 0, gaps: 0, gapMessages: 0, duplicates: 0, malformed: 0, foreignSessions: 0 };
  /** Sequence number expected next (1 before anything arrived). */
  expectedSeq = 1;
  session: string | null = null;
  private socket: Socket | null = null;
  private readonly header: PacketHeader = { session: '', seq: 0, count: 0 };
  private ended = false;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly handlers: MoldHandlers,
  ) {}

  /** Binds (and joins the group if HOST is multicast). Resolves when listening. */
  start(): Promise<void> {
    const s = createSocket({ type: 'udp4', reuseAddr: true });
    this.socket = s;
    s.on('message', (buf) => this.onPacket(buf));
    return new Promise((resolve, reject) => {
      s.once('error', (e) => reject(new MdfanError(ErrorCode.FEED_IO, `cannot listen on ${this.host}:${this.port}: ${e.message}`, { host: this.host, port: this.port })));
      const multicast = isMulticast(this.host);
      s.bind(this.port, multicast ? undefined : this.host, () => {
        try {
          if (multicast) s.addMembership(this.host);
          s.setRecvBufferSize(8 << 20); // the kernel caps it at net.core.rmem_max
        } catch (e) {
          reject(new MdfanError(ErrorCode.FEED_IO, `cannot join ${this.host}: ${(e as Error).message}`));
          return;
        }
        resolve();
      });
    });
  }

  get address(): { address: string; port: number } {
    return this.socket!.address();
  }

  /** Handles one datagram; exposed for tests that feed packets directly. */
  onPacket(buf: Buffer): void {
    if (this.ended) return;
    const h = this.header;
    if (!readHeader(buf, h)) {
      this.counters.malformed++;
      return;
    }
    if (this.session === null) this.session = h.session;
    else if (h.session !== this.session) {
      this.counters.foreignSessions++;
      return;
    }
    this.counters.packets++;
    if (h.count === 0 || h.count === END_OF_SESSION) {
      this.counters.heartbeats++;
      // A heartbeat or end-of-session carries the next sequence number: messages before it that
      // we never saw are lost.
      if (h.seq > this.expectedSeq) this.gap(h.seq);
      if (h.count === END_OF_SESSION) {
        this.ended = true;
        this.handlers.onEnd();
      }
      return;
    }
    // Validate every block before delivering any: a malformed packet is dropped whole.
    let off = HEADER_BYTES;
    for (let i = 0; i < h.count; i++) {
      if (off + 2 > buf.length || off + 2 + buf.readUInt16BE(off) > buf.length) {
        this.counters.malformed++;
        return;
      }
      off += 2 + buf.readUInt16BE(off);
    }
    if (h.seq > this.expectedSeq) this.gap(h.seq);
    off = HEADER_BYTES;
    for (let i = 0; i < h.count; i++) {
      const len = buf.readUInt16BE(off);
      const seq = h.seq + i;
      if (seq < this.expectedSeq) this.counters.duplicates++;
      else {
        this.expectedSeq = seq + 1;
        this.counters.messages++;
        this.handlers.onMessage(buf, off + 2, len, seq);
      }
      off += 2 + len;
    }
  }

  private gap(nextSeq: number): void {
    const lost = nextSeq - this.expectedSeq;
    this.counters.gaps++;
    this.counters.gapMessages += lost;
    this.handlers.onGap(this.expectedSeq, lost);
    this.expectedSeq = nextSeq;
  }

  close(): void {
    this.socket?.close();
    this.socket = null;
  }
}
