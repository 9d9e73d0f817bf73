/**
 * The peer transports of `mdfan bench`: what the shared-memory path is compared with,
 * measured in the same run on the same 304-byte payload. Shared types and option checks.
 */
import * as hdr from 'hdr-histogram-js';
import { newLatencyHistogram } from '../../workers/index.js';

export const PEER_TRANSPORTS = ['postMessage', 'unix-socket', 'zeromq-ipc', 'native-c'] as const;
export type PeerTransport = (typeof PEER_TRANSPORTS)[number];

export interface PeerOptions {
  /** Messages per second, paced (bench/paced.ts). */
  rate: number;
  /** Length of the measured period. */
  seconds: number;
  /** Receivers; each gets every message. */
  readers: number;
  /** native-c only: the segment's name (default mdfan-bench-peer-<pid>-<n>); tests pass their own. */
  segment?: string;
  /** native-c only: what the C reader follows, slot 0's book (default) or its top-of-book line. */
  layout?: 'book' | 'top';
}

export interface PeerResult {
  transport: PeerTransport;
  readers: number;
  /** How the receiver waits: 'event-loop' for the Node ones, 'spin' for native-c. */
  wait: string;
  /** Send -> receive latency in ns, merged over receivers, corrected for coordinated omission at the send interval. */
  histogram: hdr.Histogram;
  /** Messages received, all receivers together. */
  count: number;
  /** Messages sent (each to every receiver). */
  sent: number;
  /** Messages whose payload did not match what was sent for their sequence number. */
  corrupt: number;
}

/** What each receiver reports back (over postMessage, or as one JSON line on stdout). */
export interface ReceiverReport {
  /** hdr-histogram-js compressed base64. */
  hist: string;
  count: number;
  corrupt: number;
}

/** The histogram every receiver records into (the project's one latency histogram, mergeable with the shm rows). */
export const newHistogram = newLatencyHistogram;

export function isPeerTransport(t: unknown): t is PeerTransport {
  return typeof t === 'string' && (PEER_TRANSPORTS as readonly string[]).includes(t);
}

/** Throws a RangeError naming the bad option. */
export function checkOptions(o: PeerOptions): void {
  if (!(Number.isFinite(o.rate) && o.rate > 0)) throw new RangeError(`peer bench: rate must be a number > 0 (got ${o.rate})`);
  if (!(Number.isFinite(o.seconds) && o.seconds > 0)) throw new RangeError(`peer bench: seconds must be a number > 0 (got ${o.seconds})`);
  if (!(Number.isInteger(o.readers) && o.readers >= 1)) throw new RangeError(`peer bench: readers must be an integer >= 1 (got ${o.readers})`);
}

/** Merges the receivers' reports into one result. */
export function mergeReports(transport: PeerTransport, wait: string, readers: number, sent: number, reports: ReceiverReport[]): PeerResult {
  const histogram = newHistogram();
  let count = 0;
  let corrupt = 0;
  for (const r of reports) {
    const h = hdr.decodeFromCompressedBase64(r.hist);
    histogram.add(h);
    h.destroy();
    count += r.count;
    corrupt += r.corrupt;
  }
  return { transport, readers, wait, histogram, count, sent, corrupt };
}
