/**
 * A MoldUDP64 listener: joins a multicast group (or listens on a unicast address) and delivers
 * messages in sequence order, whatever the network or a hostile sender does:
 * - the source is pinned: the address (and port) given, else the source of the first data packet
 *   taken; every datagram from anywhere else is counted and dropped before it is read, so another
 *   host (or another socket on the same host) cannot inject, plant, end, freeze or claim the
 *   session;
 * - a gap (messages missing) is asked for again from the re-request server (the pinned source,
 *   or the address given), later messages are held until it is filled, and the handlers hear when
 *   it opens, when it is filled (recovered) and when it is given up (lost, after a bounded time
 *   without progress or when too much is held);
 * - sequence numbers far ahead of the window are believed only when a following data packet from
 *   the same source continues them (one forged packet cannot make every later message a
 *   duplicate); a heartbeat or end of session never moves the sequence past the window;
 * - an end of session counts only in sequence: after every message before it;
 * - the session is pinned by the first packet taken from the pinned source; duplicates, foreign
 *   sessions and malformed packets are counted live and dropped.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIPv4 } from 'node:net';
import { ErrorCode, MdfanError } from '../../native/segment/errors.js';
import { END_OF_SESSION, HEADER_BYTES, MAX_REQUEST_COUNT, type PacketHeader, readHeader, requestPacket } from './packet.js';
import { type Peer, peerMatches } from './peer.js';

/** The receiver's limits, defined once. */
export const MOLD_DEFAULTS = Object.freeze({
  /** A sequence number more than this many messages ahead is not believed until the next data packet from its source continues it. */
  windowMessages: 1 << 20,
  /** An unanswered request is sent again after this long. */
  requestRetryMs: 50,
  /** A gap that makes no progress for this long is given up: its messages are lost. */
  recoveryTimeoutMs: 2000,
  /** Messages held behind an open gap at most; past this the gap is given up. */
  maxHeldMessages: 1 << 20,
});

export interface MoldCounters {
  /** Every datagram handled, whatever became of it. */
  datagrams: number;
  packets: number;
  messages: number;
  heartbeats: number;
  /** Gaps opened, and the messages missing when each was seen. */
  gaps: number;
  gapMessages: number;
  duplicates: number;
  malformed: number;
  foreignSessions: number;
  /** Packets whose sequence number lay beyond the window and that nothing continued (dropped). */
  outOfWindow: number;
  /** End-of-session packets that named a sequence number before messages already received (ignored). */
  staleEnds: number;
  /** Datagrams from a source other than the pinned one (dropped unread). */
  foreignSources: number;
  /** Heartbeats and ends of session before any source was pinned (they cannot pin it; dropped). */
  beforePin: number;
  requests: number;
  recovered: number;
  unrecovered: number;
}

export interface MoldHandlers {
  /** One message, in order: payload at buf[offset, offset+length), its sequence number (1-based). */
  onMessage(buf: Buffer, offset: number, length: number, seq: number): void;
  /** Messages from fromSeq on are missing (count: as far as known now); later ones are held. */
  onGap(fromSeq: number, count: number): void;
  /** Every missing message since the gap opened at fromSeq came back (count of them). */
  onRecovered?(fromSeq: number, count: number): void;
  /** Messages [fromSeq, fromSeq+count) are lost for good; delivery goes on after them. */
  onLost?(fromSeq: number, count: number): void;
  /** End of session, with every message before it delivered or lost: no more messages. */
  onEnd(): void;
  /** The source is pinned: packets from anywhere else are dropped from now on (once). */
  onSourcePinned?(host: string, port: number, session: string): void;
  /** A datagram from host:port was dropped: not the pinned source (count: all such so far). Called per datagram: rate-limit what it logs. */
  onForeignSource?(host: string, port: number, count: number): void;
}

export interface MoldReceiverOptions {
  /** Where requests go (default: the pinned source's address and port). */
  rerequest?: { host: string; port: number } | null;
  /** The only source taken (port null: any port of that address); default: the first data packet's source. */
  sourceAddr?: Peer | null;
  /** Test hook: how a request leaves (default: the receiving socket). */
  send?: (pkt: Buffer, host: string, port: number) => void;
  /** Test hook: the clock, ms. */
  now?: () => number;
  limits?: Partial<typeof MOLD_DEFAULTS>;
}

export { parseHostPort } from '../../lib/cli/args.js';

const isMulticast = (host: string): boolean => isIPv4(host) && Number(host.split('.')[0]) >= 224 && Number(host.split('.')[0]) <= 239;

export class MoldReceiver {
  readonly counters: MoldCounters = {
    datagrams: 0,
    packets: 0,
    messages: 0,
    heartbeats: 0,
    gaps: 0,
    gapMessages: 0,
    duplicates: 0,
    malformed: 0,
    foreignSessions: 0,
    outOfWindow: 0,
    staleEnds: 0,
    foreignSources: 0,
    beforePin: 0,
    requests: 0,
    recovered: 0,
    unrecovered: 0,
  };
  /** Sequence number expected next (1 before anything arrived). */
  expectedSeq = 1;
  session: string | null = null;
  private socket: Socket | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly header: PacketHeader = { session: '', seq: 0, count: 0 };
  private readonly limits: typeof MOLD_DEFAULTS;
  private readonly now: () => number;
  private ended = false;
  /** The sequence number after the last message known to exist (packets, heartbeats, end of session). */
  private knownNext = 1;
  /** Messages received ahead of a gap, by sequence number (copies: the datagram buffer is reused). */
  private readonly held = new Map<number, Buffer>();
  private gapOpen = false;
  private gapFrom = 0;
  private gapRecovered = 0;
  private lastProgressMs = 0;
  private lastRequestMs = 0;
  /** End of session seen: its sequence number (the one after the last message). */
  private endSeq = -1;
  /** The only source taken: given, or the first data packet's; null until then. */
  private pin: Peer | null;
  /** The pinned source's address and port (the first packet taken from it): the default re-request server. */
  private source: { host: string; port: number } | null = null;
  /** The sequence number that would continue the last out-of-window data packet (-1: none), and where that came from. */
  private jumpNext = -1;
  private jumpHost = '';
  private jumpPort = 0;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly handlers: MoldHandlers,
    private readonly opts: MoldReceiverOptions = {},
  ) {
    this.limits = Object.freeze({ ...MOLD_DEFAULTS, ...opts.limits });
    this.now = opts.now ?? (() => performance.now());
    this.pin = opts.sourceAddr ?? null;
  }

  /** Binds (and joins the group if HOST is multicast). Resolves when listening. */
  start(): Promise<void> {
    const s = createSocket({ type: 'udp4', reuseAddr: true });
    this.socket = s;
    s.on('message', (buf, rinfo) => this.onPacket(buf, rinfo));
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
        // A send error (no route to the re-request server) must not kill the feed: the gap times out.
        s.removeAllListeners('error');
        s.on('error', () => undefined);
        this.timer = setInterval(() => this.poll(), this.limits.requestRetryMs);
        this.timer.unref();
        resolve();
      });
    });
  }

  get address(): { address: string; port: number } {
    return this.socket!.address();
  }

  /** Whether a gap is open (messages missing, later ones held). */
  get recovering(): boolean {
    return this.gapOpen;
  }

  /** The pinned source (null: none yet). */
  get pinnedSource(): Readonly<Peer> | null {
    return this.pin;
  }

  /**
   * Handles one datagram and its source. Exposed for tests and the fuzzer, which may hand packets
   * in without a source: those are taken as the pinned source's.
   */
  onPacket(buf: Buffer, from?: Pick<RemoteInfo, 'address' | 'port'>): void {
    if (this.ended) return;
    this.counters.datagrams++;
    // Before anything is read: a datagram from another source must not touch the session's state.
    if (from !== undefined && this.pin !== null && !peerMatches(this.pin, from.address, from.port)) {
      this.counters.foreignSources++;
      this.handlers.onForeignSource?.(from.address, from.port, this.counters.foreignSources);
      return;
    }
    const h = this.header;
    if (!readHeader(buf, h)) {
      this.counters.malformed++;
      return;
    }
    if (this.session !== null && h.session !== this.session) {
      this.counters.foreignSessions++;
      return;
    }
    const control = h.count === 0 || h.count === END_OF_SESSION;
    if (control && this.pin === null && from !== undefined) {
      // Only a data packet may pin the source: a bare header costs a forger nothing.
      this.counters.beforePin++;
      return;
    }
    // Validate every block before delivering any: a malformed packet is dropped whole.
    if (!control) {
      let off = HEADER_BYTES;
      for (let i = 0; i < h.count; i++) {
        if (off + 2 > buf.length || off + 2 + buf.readUInt16BE(off) > buf.length) {
          this.counters.malformed++;
          return;
        }
        off += 2 + buf.readUInt16BE(off);
      }
    }
    if (h.seq > this.expectedSeq + this.limits.windowMessages) {
      // Far ahead: one packet is not believed (a forged 2^62 would end the session's delivery);
      // a data packet from the same source that continues it exactly is a real jump, lost for good
      // (too far to re-request). A heartbeat or end of session neither starts nor confirms one:
      // two forged bare headers would otherwise end or freeze the session.
      const fromHost = from?.address ?? '';
      const fromPort = from?.port ?? 0;
      if (control || h.seq !== this.jumpNext || fromHost !== this.jumpHost || fromPort !== this.jumpPort) {
        if (!control) {
          this.jumpNext = h.seq + h.count;
          this.jumpHost = fromHost;
          this.jumpPort = fromPort;
        }
        this.counters.outOfWindow++;
        return;
      }
      this.jump(h.seq);
    }
    this.jumpNext = -1;
    // Pinned by the first packet taken: a malformed or out-of-window one cannot claim the session,
    // nor the source.
    if (this.session === null) this.session = h.session;
    if (this.source === null && from !== undefined) {
      this.source = { host: from.address, port: from.port };
      this.pin ??= { host: from.address, port: from.port };
      this.handlers.onSourcePinned?.(from.address, from.port, h.session);
    }
    this.counters.packets++;
    if (control) {
      this.counters.heartbeats++;
      if (h.count === END_OF_SESSION) {
        if (h.seq < this.expectedSeq) {
          this.counters.staleEnds++; // names an end before messages already received: not this session's end
          return;
        }
        this.endSeq = h.seq;
      }
      // A heartbeat or end of session carries the next sequence number: messages before it that
      // we never saw are missing.
      if (h.seq > this.expectedSeq) this.missing(h.seq);
      this.maybeEnd();
      return;
    }
    const before = this.expectedSeq;
    let off = HEADER_BYTES;
    for (let i = 0; i < h.count; i++) {
      const len = buf.readUInt16BE(off);
      const seq = h.seq + i;
      if (seq < this.expectedSeq || (this.endSeq >= 0 && seq >= this.endSeq)) this.counters.duplicates++;
      else if (seq === this.expectedSeq) {
        if (this.gapOpen) {
          this.counters.recovered++;
          this.gapRecovered++;
        }
        this.deliver(buf, off + 2, len, seq);
        this.drainHeld();
      } else if (this.held.has(seq)) this.counters.duplicates++;
      else {
        if (this.held.size >= this.limits.maxHeldMessages) this.giveUp();
        if (seq < this.expectedSeq) this.counters.duplicates++; // giving up moved past it
        else if (seq === this.expectedSeq) {
          this.deliver(buf, off + 2, len, seq);
          this.drainHeld();
        } else {
          this.held.set(seq, Buffer.from(buf.subarray(off + 2, off + 2 + len)));
          this.missing(seq + 1);
        }
      }
      off += 2 + len;
    }
    if (this.gapOpen && this.expectedSeq > before) {
      this.lastProgressMs = this.now();
      if (this.expectedSeq >= this.knownNext) this.closeGap();
      else this.request(); // a part came back: ask for what is still missing at once
    }
    this.maybeEnd();
  }

  /** Re-sends an unanswered request, and gives a gap up after the recovery timeout. Called on a timer. */
  poll(): void {
    if (!this.gapOpen || this.ended) return;
    const now = this.now();
    if (now - this.lastProgressMs >= this.limits.recoveryTimeoutMs) {
      this.giveUp();
      this.maybeEnd();
    } else if (now - this.lastRequestMs >= this.limits.requestRetryMs) this.request();
  }

  private deliver(buf: Buffer, offset: number, length: number, seq: number): void {
    this.expectedSeq = seq + 1;
    if (this.knownNext < this.expectedSeq) this.knownNext = this.expectedSeq;
    this.counters.messages++;
    this.handlers.onMessage(buf, offset, length, seq);
  }

  /** Delivers the held messages that now follow in order. */
  private drainHeld(): void {
    for (let b = this.held.get(this.expectedSeq); b !== undefined; b = this.held.get(this.expectedSeq)) {
      this.held.delete(this.expectedSeq);
      this.deliver(b, 0, b.length, this.expectedSeq);
    }
  }

  /** Messages before `nextKnown` exist; those not received are missing. */
  private missing(nextKnown: number): void {
    if (nextKnown > this.knownNext) this.knownNext = nextKnown;
    if (this.gapOpen || this.expectedSeq >= this.knownNext) return;
    this.gapOpen = true;
    this.gapFrom = this.expectedSeq;
    this.gapRecovered = 0;
    this.lastProgressMs = this.now();
    const count = this.firstHeldOr(this.knownNext) - this.expectedSeq;
    this.counters.gaps++;
    this.counters.gapMessages += count;
    this.handlers.onGap(this.expectedSeq, count);
    this.request();
  }

  /** The lowest held sequence number, or `dflt` when nothing is held. Cold path (a gap). */
  private firstHeldOr(dflt: number): number {
    let first = dflt;
    for (const seq of this.held.keys()) if (seq < first) first = seq;
    return first;
  }

  /** Asks for the missing messages before the first held one. */
  private request(): void {
    const to = this.opts.rerequest ?? this.source;
    this.lastRequestMs = this.now();
    if (to === null || this.session === null) return; // nobody to ask: the gap times out
    const count = Math.min(this.firstHeldOr(this.knownNext) - this.expectedSeq, MAX_REQUEST_COUNT);
    if (count <= 0) return;
    const pkt = requestPacket(this.session, this.expectedSeq, count);
    this.counters.requests++;
    if (this.opts.send) this.opts.send(pkt, to.host, to.port);
    else this.socket?.send(pkt, to.port, to.host);
  }

  /** The missing messages before the first held one are lost: deliver on from there. */
  private giveUp(): void {
    const resume = this.firstHeldOr(this.knownNext);
    const lost = resume - this.expectedSeq;
    if (lost > 0) {
      this.counters.unrecovered += lost;
      this.handlers.onLost?.(this.expectedSeq, lost);
      this.expectedSeq = resume;
    }
    this.drainHeld();
    this.lastProgressMs = this.now();
    if (this.expectedSeq >= this.knownNext) this.gapOpen = false; // nothing more missing: no recovery to report
    else this.request();
  }

  /** A real jump far ahead: everything before `seq` is lost at once. */
  private jump(seq: number): void {
    const lost = seq - this.expectedSeq;
    this.counters.gaps++;
    this.counters.gapMessages += lost;
    this.counters.unrecovered += lost;
    this.handlers.onGap(this.expectedSeq, lost);
    this.handlers.onLost?.(this.expectedSeq, lost);
    this.held.clear();
    this.gapOpen = false;
    this.expectedSeq = seq;
    if (this.knownNext < seq) this.knownNext = seq;
  }

  private closeGap(): void {
    this.gapOpen = false;
    this.handlers.onRecovered?.(this.gapFrom, this.gapRecovered);
  }

  private maybeEnd(): void {
    if (this.endSeq < 0 || this.gapOpen || this.expectedSeq < this.endSeq) return;
    this.ended = true;
    this.handlers.onEnd();
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.socket?.close();
    this.socket = null;
  }
}
