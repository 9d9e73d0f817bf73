/**
 * A network peer named on the command line as `HOST[:PORT]`: the MoldUDP64 source a receiver
 * takes packets from (`mdfan feed --source-addr`), the receivers a sender answers re-requests from
 * (`mdfan send --rerequest-from`). HOST is an IPv4 address, compared with a datagram's source
 * address as the kernel reports it: a name would have to be resolved, and one lookup's answer
 * could differ from the address packets come from. No PORT: any port of that address.
 */
import { isIPv4 } from 'node:net';
import { ErrorCode, MdfanError } from '../../native/segment/errors.js';

export interface Peer {
  host: string;
  /** null: any port. */
  port: number | null;
}

/** Parses `A.B.C.D` or `A.B.C.D:PORT` (port 1..65535); MDFAN_ERR_OPTIONS naming `flag` otherwise. */
export function parsePeer(text: string, flag: string): Peer {
  const i = text.lastIndexOf(':');
  const host = i < 0 ? text : text.slice(0, i);
  const portText = i < 0 ? null : text.slice(i + 1);
  const port = portText === null ? null : /^\d+$/.test(portText) ? Number(portText) : NaN;
  if (!isIPv4(host) || (port !== null && !(port >= 1 && port <= 65535)))
    throw new MdfanError(ErrorCode.OPTIONS, `${flag} must be an IPv4 address, optionally with :PORT 1..65535 (got ${JSON.stringify(text)})`, { flag, found: text });
  return { host, port };
}

/** A comma-separated list of peers (at least one). */
export function parsePeers(text: string, flag: string): Peer[] {
  return text.split(',').map((t) => parsePeer(t.trim(), flag));
}

/** Whether a datagram from address:port comes from `p`. */
export const peerMatches = (p: Peer, address: string, port: number): boolean => p.host === address && (p.port === null || p.port === port);

/** `HOST` or `HOST:PORT`, as given. */
export const peerText = (p: Peer): string => (p.port === null ? p.host : `${p.host}:${p.port}`);
