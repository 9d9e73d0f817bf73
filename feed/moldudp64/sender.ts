/**
 * Sends a sequence of ITCH messages as MoldUDP64 packets (`mdfan send`), paced by the messages'
 * exchange timestamps (--speed) and capped in packets per second (a loopback receiver drops what
 * its socket buffer cannot hold), then a few end-of-session packets.
 */
import { createSocket } from 'node:dgram';
import { setTimeout as sleep } from 'node:timers/promises';
import { native } from '../../native/segment/binding.js';
import { Pacer, type Speed } from '../pacing/pacer.js';
import { END_OF_SESSION, PacketBuilder } from './packet.js';

export interface SendOptions {
  host: string;
  port: number;
  speed: Speed;
  /** Packets per second at most (default 50,000). */
  maxPps?: number;
  session?: string;
  maxPacketBytes?: number;
  /** Test hook: sequence numbers of packets (0-based packet index) not to send. */
  dropPackets?: Set<number>;
}

export interface SendResult {
  messages: number;
  packets: number;
  dropped: number;
}

/** One message: payload bytes, and its exchange timestamp in ns (for pacing). */
export interface OutMessage {
  buf: Uint8Array;
  offset: number;
  length: number;
  exchangeTsNs: number;
}

export async function sendMessages(messages: Iterable<OutMessage>, o: SendOptions): Promise<SendResult> {
  // Unconnected: datagrams are fire-and-forget, as a market-data publisher's are. A connected
  // socket would turn a receiver that has gone (ICMP port unreachable) into ECONNREFUSED errors
  // on later sends, and an 'error' event with no listener kills the process.
  const sock = createSocket('udp4');
  let socketError: Error | null = null;
  sock.on('error', (e) => (socketError ??= e));
  const sendTo = (pkt: Buffer): Promise<void> =>
    new Promise<void>((resolve, reject) => sock.send(pkt, o.port, o.host, (e) => (e && (e as NodeJS.ErrnoException).code !== 'ECONNREFUSED' ? reject(e) : resolve())));
  const builder = new PacketBuilder(o.session ?? 'MDFAN00001', 1, o.maxPacketBytes);
  const pacer = new Pacer(o.speed);
  const gapNs = 1e9 / (o.maxPps ?? 50_000);
  let nextSendNs = native.monotonicNs();
  let packets = 0;
  let dropped = 0;
  let count = 0;
  const send = async (pkt: Buffer): Promise<void> => {
    // Rate cap: wait (sleeping when far ahead, else spinning) until this packet's turn.
    let now = native.monotonicNs();
    if (nextSendNs - now > 2e6) await sleep((nextSendNs - now) / 1e6);
    while (now < nextSendNs) now = native.monotonicNs();
    nextSendNs = Math.max(nextSendNs + gapNs, now);
    if (socketError) throw socketError;
    if (o.dropPackets?.has(packets)) dropped++;
    else await sendTo(pkt);
    packets++;
  };
  for (const m of messages) {
    const wait = pacer.delayNs(m.exchangeTsNs);
    if (wait > 0) {
      if (builder.pending > 0) await send(builder.take()); // flush before idling
      if (wait > 1e6) await sleep(wait / 1e6);
    }
    if (!builder.fits(m.length)) await send(builder.take());
    builder.add(m.buf, m.offset, m.length);
    count++;
  }
  if (builder.pending > 0) await send(builder.take());
  // End of session, a few times (UDP may drop one); the receiver may be gone after the first.
  for (let i = 0; i < 3; i++) {
    await sendTo(builder.control(END_OF_SESSION)).catch(() => undefined);
    await sleep(5);
  }
  sock.close();
  return { messages: count, packets, dropped };
}
