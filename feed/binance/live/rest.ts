/**
 * A market's REST depth snapshots (`${restUrl}${depthPath}?symbol=X&limit=N`), one request at a
 * time, in the order asked, a symbol queued at most once. Every request fits the weight budget
 * (weight-budget.ts). Failures are retried, never fatal, except a symbol the venue says it does
 * not have on its first request (HTTP 400, Binance code -1121): a misspelt --symbols stops the
 * source with the URL and the venue's answer. Otherwise:
 *   429 (over the limit)  wait Retry-After (s; a minute if absent), then go on
 *   418 (IP banned)        wait Retry-After, at least BANNED_MIN_MS, doubling while it lasts
 *   other answers, network errors, timeouts: the back-off (doubling, jittered)
 * Each failure is a log line naming the URL and the HTTP status. A body that is not a depth snapshot
 * (no `lastUpdateId`: a proxy's error page) is a failure too. A body is handed on whole, as received,
 * with the next message index.
 */
import type { Logger } from '../../../lib/log.js';
import { LogEvent } from '../../../lib/log.js';
import { ErrorCode, MdfanError } from '../../../native/segment/errors.js';
import type { BinanceVenue } from '../venues.js';
import { Backoff, type BackoffLimits } from './backoff.js';
import { WeightBudget } from './weight-budget.js';
import type { MessageCounter } from './ws-stream.js';

/** Where snapshots go: a BinanceMarket (or the capture writer in front of one). */
export interface SnapshotTarget {
  onSnapshot(symbol: string, payload: string, msgIndex: number): void;
}

export const REST_DEFAULTS = Object.freeze({
  timeoutMs: 10_000,
  /** The part of the IP's weight budget snapshots may use: the rest is the other programs'. */
  weightShare: 0.8,
  backoff: Object.freeze({ minMs: 500, maxMs: 60_000 }) as BackoffLimits,
  /** When a 429 has no Retry-After. */
  rateLimitedMs: 60_000,
  /** A 418 ban waits at least this (Binance bans for 2 minutes up to 3 days). */
  bannedMinMs: 120_000,
});

/** Binance's "Invalid symbol." */
const INVALID_SYMBOL = -1121;
/** fetchOne's outcomes besides a wait (>= 0 ms): the snapshot came; the request is given up. */
const DONE = -1;
const DROPPED = -2;
/** Levels a side asked when a symbol is only checked (the smallest weight). */
const VERIFY_LIMIT = 5;

export interface RestOptions {
  venue: BinanceVenue;
  /** REST base URL (the venue's by default; a venue-replay's in tests). */
  restUrl: string;
  log: Logger;
  counter: MessageCounter;
  /** A request that cannot succeed (an unknown symbol): the source stops with it. */
  onFatal(e: MdfanError): void;
  timeoutMs?: number;
  weightShare?: number;
  backoff?: BackoffLimits;
}

export interface RestCounters {
  requests: number;
  snapshots: number;
  failures: number;
  /** 429 answers. */
  rateLimited: number;
  /** 418 answers. */
  banned: number;
  /** Requests that waited for the next weight window. */
  budgetWaits: number;
}

export class SnapshotFetcher {
  readonly counters: RestCounters = { requests: 0, snapshots: 0, failures: 0, rateLimited: 0, banned: 0, budgetWaits: 0 };
  private readonly queue: string[] = [];
  /** Symbols that had a snapshot: a later 400 for one is the venue's hiccup, not a misspelling. */
  private readonly known = new Set<string>();
  private readonly budget: WeightBudget;
  private readonly backoff: Backoff;
  private running = false;
  private held = false;
  private stopped = false;
  private wake: (() => void) | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly abort = new AbortController();
  private bannedMs: number = REST_DEFAULTS.bannedMinMs;
  /** Why the last request failed before an answer. */
  private lastError = '';

  constructor(
    private readonly target: SnapshotTarget,
    private readonly o: RestOptions,
  ) {
    this.budget = new WeightBudget(o.venue.weightPerMinute, o.weightShare ?? REST_DEFAULTS.weightShare);
    this.backoff = new Backoff(o.backoff ?? REST_DEFAULTS.backoff);
  }

  /** The URL of `symbol`'s snapshot (`limit` levels a side; the venue's snapshot depth by default). */
  url(symbol: string, limit = this.o.venue.snapshotLimit): string {
    return `${this.o.restUrl.replace(/\/+$/, '')}${this.o.venue.depthPath}?symbol=${encodeURIComponent(symbol.toUpperCase())}&limit=${limit}`;
  }

  /**
   * Asks the venue once for a small book of each symbol (at start, beside the stream): a symbol it
   * does not have is fatal at once (the stream would just stay silent for it). Other failures are
   * left to the snapshot requests, which retry.
   */
  async verify(symbols: readonly string[]): Promise<void> {
    for (const symbol of symbols) {
      if (this.stopped) return;
      const url = this.url(symbol, VERIFY_LIMIT);
      this.budget.spend(this.o.venue.snapshotWeight); // more than it costs: the budget errs on the safe side
      const r = await this.get(url);
      if (r === null) continue;
      if (r.status === 200) this.known.add(symbol);
      else if (r.status === 400 && venueCode(r.body) === INVALID_SYMBOL) {
        this.o.onFatal(this.unknownSymbol(symbol, url, r.status, r.body));
        return;
      }
    }
  }

  private unknownSymbol(symbol: string, url: string, status: number, body: string): MdfanError {
    return new MdfanError(ErrorCode.OPTIONS, `${this.o.venue.name} has no symbol ${JSON.stringify(symbol)}: GET ${url} answered HTTP ${status} ${body.slice(0, 200)}`, { url, status, symbol });
  }

  /** One GET: status, headers and body, or null when it failed before an answer (logged). */
  private async get(url: string): Promise<{ status: number; headers: Headers; body: string } | null> {
    try {
      const signal = AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.o.timeoutMs ?? REST_DEFAULTS.timeoutMs)]);
      const res = await fetch(url, { signal, headers: { accept: 'application/json' } });
      const body = await res.text();
      if (res.headers.has('x-mbx-used-weight-1m')) this.budget.report(Number(res.headers.get('x-mbx-used-weight-1m')));
      return { status: res.status, headers: res.headers, body };
    } catch (e) {
      if (this.stopped) return null;
      const err = e as Error;
      const cause = (err.cause as Error | undefined)?.message;
      this.lastError = err.name === 'TimeoutError' ? `no answer within ${this.o.timeoutMs ?? REST_DEFAULTS.timeoutMs} ms` : `${err.message}${cause ? ` (${cause})` : ''}`;
      return null;
    }
  }

  /** Asks for `symbol`'s snapshot (the market's transport call): queued unless already waiting. */
  requestSnapshot(symbol: string): void {
    if (this.stopped || this.queue.includes(symbol)) return;
    this.queue.push(symbol);
    this.pump();
  }

  /** Requests wait (the stream is down: a snapshot now could not be bridged by the events). */
  hold(): void {
    this.held = true;
  }

  /** Requests go again. */
  release(): void {
    this.held = false;
    this.pump();
  }

  /** Symbols waiting for a snapshot (the one in flight first). */
  get pending(): readonly string[] {
    return this.queue;
  }

  close(): void {
    this.stopped = true;
    this.abort.abort();
    if (this.timer) clearTimeout(this.timer);
    this.wake?.();
  }

  private pump(): void {
    if (this.running || this.stopped || this.held || this.queue.length === 0) return;
    this.running = true;
    void this.loop().finally(() => {
      this.running = false;
      if (!this.stopped && !this.held && this.queue.length > 0) this.pump();
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      this.wake = resolve;
      this.timer = setTimeout(resolve, ms);
    }).then(() => {
      this.wake = null;
      this.timer = null;
    });
  }

  private async loop(): Promise<void> {
    while (!this.stopped && !this.held && this.queue.length > 0) {
      const symbol = this.queue[0]!;
      const weight = this.o.venue.snapshotWeight;
      const waitMs = this.budget.delayMs(weight);
      if (waitMs > 0) {
        this.counters.budgetWaits++;
        this.o.log.info({ event: LogEvent.VENUE_RATE_LIMITED, reason: 'budget', waitMs, used: this.budget.used }, 'snapshot waits for the next request-weight window');
        await this.sleep(waitMs);
        continue;
      }
      const r = await this.fetchOne(symbol, weight);
      if (r === DONE) {
        this.queue.shift();
        this.backoff.reset();
      } else if (r >= 0) await this.sleep(r);
    }
  }

  /** One request: DONE, DROPPED (given up: fatal, or stopped), or the ms to wait before it is made again (>= 0). */
  private async fetchOne(symbol: string, weight: number): Promise<number> {
    const url = this.url(symbol);
    this.counters.requests++;
    this.budget.spend(weight);
    const r = await this.get(url);
    if (r === null) return this.stopped ? DROPPED : this.failed(url, 0, this.lastError);
    const { status, headers, body } = r;
    if (status === 200 && body.startsWith('{') && body.includes('"lastUpdateId"')) {
      this.known.add(symbol);
      this.counters.snapshots++;
      // Its message index in the log: frames after it are one index further on (bench live maps them back).
      const msgIndex = this.o.counter.next++;
      this.o.log.debug({ event: LogEvent.VENUE_SNAPSHOT, symbol, url, bytes: body.length, msgIndex }, 'depth snapshot received');
      this.target.onSnapshot(symbol, body, msgIndex);
      return DONE;
    }
    const retryAfterS = Number(headers.get('retry-after'));
    const retryAfterMs = Number.isFinite(retryAfterS) && retryAfterS > 0 ? retryAfterS * 1000 : 0;
    if (status === 429) {
      this.counters.rateLimited++;
      const ms = retryAfterMs || REST_DEFAULTS.rateLimitedMs;
      this.o.log.warn({ event: LogEvent.VENUE_RATE_LIMITED, reason: 'http_429', url, status, waitMs: ms }, `GET ${url}: HTTP 429 (request weight over the limit): waiting ${ms} ms`);
      this.counters.failures++;
      return ms;
    }
    if (status === 418) {
      this.counters.banned++;
      const ms = Math.max(retryAfterMs, this.bannedMs);
      this.bannedMs = Math.min(this.bannedMs * 2, 24 * 3600_000);
      this.o.log.error({ event: LogEvent.VENUE_RATE_LIMITED, reason: 'http_418', url, status, waitMs: ms }, `GET ${url}: HTTP 418 (this IP is banned for going over the limits): waiting ${ms} ms`);
      this.counters.failures++;
      return ms;
    }
    if (status === 400 && !this.known.has(symbol) && venueCode(body) === INVALID_SYMBOL) {
      this.queue.shift();
      this.o.onFatal(this.unknownSymbol(symbol, url, status, body));
      return DROPPED;
    }
    return this.failed(url, status, status === 200 ? `not a depth snapshot: ${JSON.stringify(body.slice(0, 80))}` : body.slice(0, 200));
  }

  private failed(url: string, status: number, why: string): number {
    this.counters.failures++;
    const ms = this.backoff.nextMs();
    this.o.log.warn({ event: LogEvent.VENUE_SNAPSHOT_FAILED, url, status, error: why, retryMs: ms, failures: this.backoff.failures }, `GET ${url}: ${status ? `HTTP ${status}` : 'failed'}: ${why}; again in ${ms} ms`);
    return ms;
  }
}

/** Binance's error `code` in an error body `{"code":-1121,"msg":"..."}`, or 0. */
function venueCode(body: string): number {
  try {
    const j = JSON.parse(body) as { code?: unknown };
    return typeof j.code === 'number' ? j.code : 0;
  } catch {
    return 0;
  }
}
