/**
 * Sends a sequence of ITCH messages as MoldUDP64 packets (`mdfan send`), paced by the messages'
 * exchange timestamps (--speed) and capped in packets per second (a loopback receiver drops what
 * its socket buffer cannot hold), then a few end-of-session packets. It is also the session's
 * re-request server: it keeps what it sent (up to a byte budget) and answers request packets,
 * on its sending socket (bound to the address of the interface that reaches the destination, not
 * every interface) or on a socket of its own, until no request has come for a while after the end
 * of session, and never longer than a bound (a stream of requests cannot keep it alive). Who is
 * answered, and how much, is the gate's (rerequest-gate.ts): listed receivers only, or a rate and
 * byte budgets per source. Fault injection drops a share of packets on their first transmission.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCode, MdfanError } from '../../native/segment/errors.js';
import { native } from '../../native/segment/binding.js';
import { Pacer, type Speed } from '../pacing/pacer.js';
import { seededRandom } from '../../lib/random.js';
import { END_OF_SESSION, HEADER_BYTES, type PacketHeader, PacketBuilder, readHeader, sessionName } from './packet.js';
import type { Peer } from './peer.js';
import { type Refusal, RerequestGate, type RerequestLimits } from './rerequest-gate.js';

/** The sender's defaults, defined once. */
export const SEND_DEFAULTS = Object.freeze({
  maxPps: 50_000,
  session: 'MDFAN00001',
  /** After the end of session, answer requests until none came for this long. */
  lingerMs: 1000,
  /** ...and never longer than this after the end of session, however many requests come. */
  maxLingerMs: 10_000,
  /** Bytes of sent packets kept for re-requests (older ones cannot be sent again). */
  keepBytes: 256 << 20,
  /** End-of-session packets sent (UDP may drop one). */
  endPackets: 3,
});

export interface SendOptions {
  host: string;
  port: number;
  speed: Speed;
  /** Packets per second at most. */
  maxPps?: number;
  session?: string;
  maxPacketBytes?: number;
  /** Test hook: packet indexes (0-based) not to send the first time. */
  dropPackets?: Set<number>;
  /** Drop this share of packets on their first transmission (0..1), from a PRNG seeded with `seed`. */
  dropFraction?: number;
  seed?: number;
  /** Answer re-requests (default true): on the sending socket, or on `rerequestListen`. */
  answerRequests?: boolean;
  rerequestListen?: { host: string; port: number } | null;
  /** Answer re-requests from these receivers only (default: from any source, within the gate's rate and byte budgets). */
  rerequestFrom?: readonly Peer[] | null;
  rerequestLimits?: Partial<RerequestLimits>;
  lingerMs?: number;
  maxLingerMs?: number;
  /** A request was not answered (count: of that reason so far). Called per request: rate-limit what it logs. */
  onRefused?(address: string, port: number, why: Refusal, count: number): void;
  /** The re-request socket listens at address:port (before the first packet is sent). */
  onListening?(address: string, port: number): void;
}

export interface SendResult {
  messages: number;
  packets: number;
  dropped: number;
  /** Requests answered, requests ignored (foreign session, outside what was kept), messages sent again. */
  requests: number;
  badRequests: number;
  resent: number;
  /** Requests refused: from an unlisted source; over a source's rate; over a byte budget. */
  refused: number;
  rateLimited: number;
  capped: number;
  /** Bytes answered in all. */
  answeredBytes: number;
  /** Where re-requests were answered (null: not answering). */
  rerequestAddress: { address: string; port: number } | null;
}

/** One message: payload bytes, and its exchange timestamp in ns (for pacing). */
export interface OutMessage {
  buf: Uint8Array;
  offset: number;
  length: number;
  exchangeTsNs: number;
}

/**
 * The packets sent so far, by first sequence number, within a byte budget; answers a request
 * with one packet of the messages from the sequence number asked for, as MoldUDP64 servers do.
 */
export class Retransmitter {
  private readonly packets: Buffer[] = [];
  private readonly firstSeqs: number[] = [];
  private start = 0;
  private bytes = 0;
  private readonly header: PacketHeader = { session: '', seq: 0, count: 0 };
  requests = 0;
  badRequests = 0;
  resent = 0;

  constructor(
    private readonly session: string,
    private readonly maxPacketBytes: number,
    private readonly keepBytes: number,
  ) {}

  keep(pkt: Buffer, firstSeq: number): void {
    this.packets.push(pkt);
    this.firstSeqs.push(firstSeq);
    this.bytes += pkt.length;
    while (this.bytes > this.keepBytes && this.start < this.packets.length - 1) {
      this.bytes -= this.packets[this.start]!.length;
      this.packets[this.start] = Buffer.alloc(0); // forgotten; the index stays
      this.start++;
    }
  }

  /** The answer to a request datagram, or null (not a request of this session, or nothing kept). */
  answer(req: Buffer): Buffer | null {
    const h = this.header;
    if (req.length !== HEADER_BYTES || !readHeader(req, h) || h.session !== this.session || h.count === 0 || h.count === END_OF_SESSION) {
      this.badRequests++;
      return null;
    }
    const from = h.seq;
    const want = h.count;
    // The packet holding `from`: the last whose first sequence number is <= it.
    let lo = this.start;
    let hi = this.firstSeqs.length - 1;
    if (hi < lo || from < this.firstSeqs[lo]!) {
      this.badRequests++;
      return null;
    }
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.firstSeqs[mid]! <= from) lo = mid;
      else hi = mid - 1;
    }
    const b = new PacketBuilder(this.session, from, this.maxPacketBytes);
    for (let p = lo; p < this.packets.length && b.pending < want; p++) {
      const pkt = this.packets[p]!;
      readHeader(pkt, h);
      let seq = h.seq;
      let off = HEADER_BYTES;
      for (let i = 0; i < h.count && b.pending < want; i++, seq++) {
        const len = pkt.readUInt16BE(off);
        if (seq >= from) {
          if (!b.fits(len)) return this.done(b);
          b.add(pkt, off + 2, len);
        }
        off += 2 + len;
      }
    }
    if (b.pending === 0) {
      this.badRequests++; // asked beyond what was sent
      return null;
    }
    return this.done(b);
  }

  private done(b: PacketBuilder): Buffer {
    this.requests++;
    this.resent += b.pending;
    return b.take();
  }
}

/** The local address of the interface the kernel routes `host` through (a connected probe socket's own address). */
async function interfaceAddressFor(host: string, port: number): Promise<string> {
  const probe = createSocket('udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.connect(port, host, (e?: Error) => (e ? reject(e) : resolve()));
    });
    return probe.address().address;
  } finally {
    probe.close();
  }
}

/** A failure to reach HOST:PORT, as MDFAN_ERR_FEED_IO naming them. */
function sendError(e: Error, host: string, port: number): MdfanError {
  const errno = (e as NodeJS.ErrnoException).code;
  const why = errno === 'EACCES' ? ' (a broadcast address: mdfan sends to a unicast or multicast address)' : '';
  return new MdfanError(ErrorCode.FEED_IO, `cannot send to ${host}:${port}: ${e.message}${why}`, { host, port, errno: errno ?? '' });
}

export async function sendMessages(messages: Iterable<OutMessage> | AsyncIterable<OutMessage>, o: SendOptions): Promise<SendResult> {
  const session = sessionName(o.session ?? SEND_DEFAULTS.session);
  const maxPacketBytes = o.maxPacketBytes;
  const builder = new PacketBuilder(session, 1, maxPacketBytes);
  const keeper = o.answerRequests === false ? null : new Retransmitter(session, builder.maxPacketBytes, SEND_DEFAULTS.keepBytes);
  // Unconnected: datagrams are fire-and-forget, as a market-data publisher's are. A connected
  // socket would turn a receiver that has gone (ICMP port unreachable) into ECONNREFUSED errors
  // on later sends, and an 'error' event with no listener kills the process.
  const sock = createSocket('udp4');
  let socketError: Error | null = null;
  sock.on('error', (e) => (socketError ??= e));
  // The sending socket is the default re-request server (the packets' source address): bound to
  // the interface that reaches the destination, not to every interface of the host.
  try {
    const local = await interfaceAddressFor(o.host, o.port);
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(0, local, () => {
        sock.off('error', reject);
        resolve();
      });
    });
  } catch (e) {
    sock.close();
    throw sendError(e as Error, o.host, o.port);
  }
  const gate = keeper ? new RerequestGate(o.rerequestFrom ?? null, o.rerequestLimits) : null;
  let lastRequestMs = performance.now();
  const refused = (from: RemoteInfo, why: Refusal): void => {
    const n = why === 'unlisted' ? gate!.refused : why === 'rate' ? gate!.rateLimited : gate!.capped;
    o.onRefused?.(from.address, from.port, why, n);
  };
  const serve = (s: Socket) => (req: Buffer, from: RemoteInfo) => {
    let why = gate!.admit(from.address, from.port);
    if (why !== null) return refused(from, why);
    const pkt = keeper!.answer(req);
    if (pkt === null) return;
    why = gate!.charge(from.address, pkt.length);
    if (why !== null) return refused(from, why);
    // Only an answered request keeps the server lingering after the end of session.
    lastRequestMs = performance.now();
    s.send(pkt, from.port, from.address);
  };
  let listener: Socket | null = null;
  let rerequestAddress: { address: string; port: number } | null = null;
  if (keeper) {
    if (o.rerequestListen) {
      const l = createSocket('udp4');
      listener = l;
      const at = o.rerequestListen;
      try {
        await new Promise<void>((resolve, reject) => {
          l.once('error', (e) => reject(new MdfanError(ErrorCode.FEED_IO, `cannot listen for re-requests on ${at.host}:${at.port}: ${e.message}`, { host: at.host, port: at.port })));
          l.bind(at.port, at.host, () => resolve());
        });
      } catch (e) {
        l.close();
        sock.close();
        throw e;
      }
      l.removeAllListeners('error');
      l.on('error', () => undefined);
      l.on('message', serve(l));
      rerequestAddress = l.address();
    } else {
      sock.on('message', serve(sock));
      rerequestAddress = sock.address();
    }
    o.onListening?.(rerequestAddress.address, rerequestAddress.port);
  }
  const sendTo = (pkt: Buffer): Promise<void> =>
    new Promise<void>((resolve, reject) =>
      sock.send(pkt, o.port, o.host, (e) => {
        if (!e || (e as NodeJS.ErrnoException).code === 'ECONNREFUSED') resolve();
        else reject(sendError(e, o.host, o.port));
      }),
    );
  const pacer = new Pacer(o.speed);
  const gapNs = 1e9 / (o.maxPps ?? SEND_DEFAULTS.maxPps);
  const random = o.dropFraction ? seededRandom(o.seed ?? 1) : null;
  let nextSendNs = native.monotonicNs();
  let packets = 0;
  let dropped = 0;
  let count = 0;
  const send = async (): Promise<void> => {
    const firstSeq = builder.nextSeq - builder.pending;
    const pkt = builder.take();
    keeper?.keep(pkt, firstSeq);
    // Rate cap: wait (sleeping when far ahead, else spinning) until this packet's turn.
    let now = native.monotonicNs();
    if (nextSendNs - now > 2e6) await sleep((nextSendNs - now) / 1e6);
    while (now < nextSendNs) now = native.monotonicNs();
    nextSendNs = Math.max(nextSendNs + gapNs, now);
    if (socketError) throw socketError;
    const drop = o.dropPackets?.has(packets) || (random !== null && random() < o.dropFraction!);
    if (drop) dropped++;
    else await sendTo(pkt);
    packets++;
  };
  try {
    for await (const m of messages) {
      const wait = pacer.delayNs(m.exchangeTsNs);
      if (wait > 0) {
        if (builder.pending > 0) await send(); // flush before idling
        if (wait > 1e6) await sleep(wait / 1e6);
      }
      if (!builder.fits(m.length)) await send();
      builder.add(m.buf, m.offset, m.length);
      count++;
    }
    if (builder.pending > 0) await send();
    // End of session, a few times (UDP may drop one); the receiver may be gone after the first.
    for (let i = 0; i < SEND_DEFAULTS.endPackets; i++) {
      await sendTo(builder.control(END_OF_SESSION)).catch(() => undefined);
      await sleep(5);
    }
    // Stay to answer re-requests for the tail, until none came for the linger time, and no longer
    // than the bound whatever comes.
    if (keeper) {
      const lingerMs = o.lingerMs ?? SEND_DEFAULTS.lingerMs;
      const maxLingerMs = o.maxLingerMs ?? SEND_DEFAULTS.maxLingerMs;
      const since = performance.now();
      lastRequestMs = since;
      for (let now = since; now - lastRequestMs < lingerMs && now - since < maxLingerMs; now = performance.now())
        await sleep(Math.max(1, Math.min(50, lingerMs, maxLingerMs - (now - since))));
    }
  } finally {
    sock.close();
    listener?.close();
  }
  return {
    messages: count,
    packets,
    dropped,
    requests: keeper?.requests ?? 0,
    badRequests: keeper?.badRequests ?? 0,
    resent: keeper?.resent ?? 0,
    refused: gate?.refused ?? 0,
    rateLimited: gate?.rateLimited ?? 0,
    capped: gate?.capped ?? 0,
    answeredBytes: gate?.answeredBytes ?? 0,
    rerequestAddress,
  };
}
