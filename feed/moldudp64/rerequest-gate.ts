/**
 * Who a re-request server answers, and how much. An answer is up to a full packet for a 20-byte
 * request, sent to the request's source address, which UDP does not prove: an open server is an
 * amplifier aimed wherever a forger likes. So a request is answered only
 * - from a listed receiver, when receivers are listed (`mdfan send --rerequest-from`);
 * - within a per-source rate (a token bucket per source address: a burst, then a steady rate);
 * - and, when no receivers are listed, within a byte budget per source address and in total
 *   for the session, so what a forger can draw is bounded whatever addresses it names.
 * Requests refused are counted by reason; the caller logs them rate-limited.
 */
import { type Peer, peerMatches } from './peer.js';

export interface RerequestLimits {
  answersPerSecond: number;
  bytesPerSource: number;
  bytesTotal: number;
  maxSources: number;
}

/** The re-request server's limits, defined once. */
export const REREQUEST_DEFAULTS: Readonly<RerequestLimits> = Object.freeze({
  /** Answers per second to one source address at most (and a burst of as many). */
  answersPerSecond: 1000,
  /** Bytes answered to one source address in a session at most, when no receivers are listed. */
  bytesPerSource: 64 << 20,
  /** Bytes answered in all in a session at most, when no receivers are listed. */
  bytesTotal: 256 << 20,
  /** Source addresses tracked at most: past this a new address is refused (a forger can name millions). */
  maxSources: 4096,
});

/** Why a request was not answered. */
export type Refusal = 'unlisted' | 'rate' | 'cap';

interface SourceState {
  tokens: number;
  lastMs: number;
  bytes: number;
}

export class RerequestGate {
  /** Requests from a source not listed (only with a list). */
  refused = 0;
  /** Requests over a source's rate, or from a new source past maxSources. */
  rateLimited = 0;
  /** Answers not sent: they would pass a byte budget (only without a list). */
  capped = 0;
  /** Bytes answered in all. */
  answeredBytes = 0;
  private readonly limits: Readonly<RerequestLimits>;
  private readonly sources = new Map<string, SourceState>();

  constructor(
    private readonly allow: readonly Peer[] | null,
    limits: Partial<RerequestLimits> = {},
    private readonly now: () => number = () => performance.now(),
  ) {
    this.limits = Object.freeze({ ...REREQUEST_DEFAULTS, ...limits });
  }

  /** Whether a request from address:port may be answered now; null if so, else why not (counted). */
  admit(address: string, port: number): Refusal | null {
    if (this.allow !== null && !this.allow.some((p) => peerMatches(p, address, port))) {
      this.refused++;
      return 'unlisted';
    }
    const st = this.stateOf(address);
    if (st === null) {
      this.rateLimited++;
      return 'rate';
    }
    const now = this.now();
    const rate = this.limits.answersPerSecond;
    st.tokens = Math.min(rate, st.tokens + ((now - st.lastMs) * rate) / 1000);
    st.lastMs = now;
    if (st.tokens < 1) {
      this.rateLimited++;
      return 'rate';
    }
    st.tokens -= 1;
    return null;
  }

  /** Whether an answer of `bytes` to `address` may go (admitted first); null if so and it is counted, else why not. */
  charge(address: string, bytes: number): Refusal | null {
    const st = this.sources.get(address);
    if (st === undefined) return 'rate'; // not admitted
    if (this.allow === null && (st.bytes + bytes > this.limits.bytesPerSource || this.answeredBytes + bytes > this.limits.bytesTotal)) {
      this.capped++;
      return 'cap';
    }
    st.bytes += bytes;
    this.answeredBytes += bytes;
    return null;
  }

  /** Bytes answered to `address` so far. */
  bytesTo(address: string): number {
    return this.sources.get(address)?.bytes ?? 0;
  }

  private stateOf(address: string): SourceState | null {
    let st = this.sources.get(address);
    if (st === undefined) {
      if (this.sources.size >= this.limits.maxSources) return null;
      st = { tokens: this.limits.answersPerSecond, lastMs: this.now(), bytes: 0 };
      this.sources.set(address, st);
    }
    return st;
  }
}
