/**
 * One market's WebSocket: every stream of its symbols on one combined-stream connection
 * (`${wsUrl}/stream?streams=a/b/c`), each frame handed on with its message index (a running count of
 * the messages this process took: frames and snapshots), in the turn it arrived in.
 *
 * Keeping it up: a close or an error is a disconnect (the target marks its books stale) and a
 * reconnect after a back-off (jittered, doubling: IPs that reconnect in a loop get banned). The
 * server's pings are answered by `ws` itself; we also ping every silentMs/3, so a peer that is
 * gone without a close (no frame, ping or pong for silentMs) is cut and reconnected. Binance ends
 * every connection at 24 h: before that (maxAgeMs) a second connection is opened and, once it
 * delivers its first frame, takes over and the old one is closed, so the planned cut loses
 * nothing the sequencer cannot see (depth events both carried are dropped as duplicates; a gap
 * between them is a gap). A trade carried by both in that instant is handed on twice.
 */
import WebSocket from 'ws';
import type { Logger } from '../../../lib/log.js';
import { LogEvent } from '../../../lib/log.js';
import type { BinanceVenue } from '../venues.js';
import { streamNames } from '../venues.js';
import { Backoff, type BackoffLimits } from './backoff.js';

/** Where frames go: a BinanceMarket, or the capture writer in front of one. */
export interface StreamTarget {
  onMessage(payload: string, msgIndex: number): void;
  /** The connection is gone: input from msgIndex on may be missing. */
  onDisconnect(msgIndex: number): void;
}

/** The message index shared by a market's stream and its snapshots: the next message's. */
export interface MessageCounter {
  next: number;
}

export const WS_DEFAULTS = Object.freeze({
  /** No frame (data, ping or pong) this long: the connection is dead. Spot pings every 20 s, futures every 3 min; we ping every third of it. */
  silentMs: 30_000,
  /** Binance cuts a connection at 24 h: take over on a fresh one half an hour before. */
  maxAgeMs: 23.5 * 3600_000,
  handshakeTimeoutMs: 10_000,
  backoff: Object.freeze({ minMs: 250, maxMs: 30_000 }) as BackoffLimits,
});

export interface WsStreamOptions {
  /** The whole URL, `${wsUrl}/stream?streams=...` (combinedStreamUrl). */
  url: string;
  log: Logger;
  counter: MessageCounter;
  silentMs?: number;
  maxAgeMs?: number;
  handshakeTimeoutMs?: number;
  backoff?: BackoffLimits;
  /** A connection delivered its first frame (after a connect or a reconnect): snapshots may be asked for again. */
  onLive?: () => void;
  /** The connection went down (before the target's onDisconnect, or when a connect failed). */
  onDown?: () => void;
}

/** The combined-stream URL of `symbols` on `venue`: depth, trade and bookTicker of each. */
export function combinedStreamUrl(venue: BinanceVenue, wsUrl: string, symbols: readonly string[]): string {
  const streams: string[] = [];
  for (const s of symbols) {
    const n = streamNames(venue, s);
    streams.push(n.depth, n.trade, n.bookTicker);
  }
  return `${wsUrl.replace(/\/+$/, '')}/stream?streams=${streams.join('/')}`;
}

/** What the stream has done, for the feed's summary and the tests. */
export interface WsCounters {
  connects: number;
  disconnects: number;
  /** Connections cut because nothing came for silentMs. */
  silentCuts: number;
  /** Planned take-overs before the 24-hour cut. */
  rotations: number;
  frames: number;
}

export class WsStream {
  readonly counters: WsCounters = { connects: 0, disconnects: 0, silentCuts: 0, rotations: 0, frames: 0 };
  private current: WebSocket | null = null;
  /** A fresh connection opened to take over before the 24-hour cut. */
  private successor: WebSocket | null = null;
  private stopped = false;
  private live = false;
  private lastFrameMs = 0;
  private openedMs = 0;
  private readonly backoff: Backoff;
  private retryTimer: NodeJS.Timeout | null = null;
  private watchTimer: NodeJS.Timeout | null = null;
  private readonly silentMs: number;
  private readonly maxAgeMs: number;

  constructor(
    private readonly target: StreamTarget,
    private readonly o: WsStreamOptions,
  ) {
    this.backoff = new Backoff(o.backoff ?? WS_DEFAULTS.backoff);
    this.silentMs = o.silentMs ?? WS_DEFAULTS.silentMs;
    this.maxAgeMs = o.maxAgeMs ?? WS_DEFAULTS.maxAgeMs;
  }

  start(): void {
    this.current = this.connect(false);
    this.watchTimer = setInterval(() => this.watch(), Math.max(10, Math.floor(this.silentMs / 3)));
  }

  /** Closes everything; no reconnect, no disconnect reported. */
  close(): void {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.watchTimer) clearInterval(this.watchTimer);
    for (const ws of [this.current, this.successor]) if (ws) this.drop(ws, 1000);
    this.current = this.successor = null;
  }

  private connect(asSuccessor: boolean): WebSocket {
    const ws = new WebSocket(this.o.url, { perMessageDeflate: false, handshakeTimeout: this.o.handshakeTimeoutMs ?? WS_DEFAULTS.handshakeTimeoutMs });
    let first = true;
    ws.on('open', () => {
      this.counters.connects++;
      if (ws === this.current) this.openedMs = this.lastFrameMs = performance.now();
      this.o.log.info({ event: LogEvent.VENUE_CONNECTED, url: this.o.url, successor: asSuccessor }, 'WebSocket connected');
    });
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (first) {
        first = false;
        if (ws === this.successor) this.takeOver(ws);
        if (ws === this.current) {
          this.backoff.reset();
          if (!this.live) {
            this.live = true;
            this.o.onLive?.();
          }
        }
      }
      if (ws !== this.current) return; // the old connection after a take-over
      this.lastFrameMs = performance.now();
      this.counters.frames++;
      this.target.onMessage(isBinary ? data.toString('latin1') : data.toString(), this.o.counter.next++);
    });
    const alive = (): void => {
      if (ws === this.current) this.lastFrameMs = performance.now();
    };
    ws.on('ping', alive);
    ws.on('pong', alive);
    ws.on('error', (e: Error) => {
      this.o.log.warn({ event: LogEvent.VENUE_ERROR, url: this.o.url, error: e.message }, `WebSocket error: ${e.message}`);
    });
    ws.on('close', (code: number, reason: Buffer) => this.onClose(ws, code, reason.toString()));
    return ws;
  }

  /** The successor delivered: it becomes the connection, the old one is closed. */
  private takeOver(ws: WebSocket): void {
    const old = this.current;
    this.current = ws;
    this.successor = null;
    this.openedMs = this.lastFrameMs = performance.now();
    this.counters.rotations++;
    if (old) this.drop(old, 1000);
    this.o.log.info({ event: LogEvent.VENUE_ROTATED, url: this.o.url }, 'WebSocket taken over by a fresh connection before the 24-hour cut');
  }

  private onClose(ws: WebSocket, code: number, reason: string): void {
    if (this.stopped) return;
    if (ws === this.successor) {
      this.successor = null; // the next watch() tries again
      return;
    }
    if (ws !== this.current) return;
    const wasLive = this.live;
    this.live = false;
    this.counters.disconnects++;
    this.o.log.warn({ event: LogEvent.VENUE_DISCONNECTED, url: this.o.url, code, reason, msgIndex: this.o.counter.next }, `WebSocket closed (${code}${reason ? ` ${reason}` : ''})`);
    this.o.onDown?.();
    if (wasLive) this.target.onDisconnect(this.o.counter.next);
    if (this.successor) {
      // The take-over was under way: it is the connection now.
      this.current = this.successor;
      this.successor = null;
      return;
    }
    this.current = null;
    const waitMs = this.backoff.nextMs();
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (!this.stopped) this.current = this.connect(false);
    }, waitMs);
  }

  /** Pings, cuts a silent connection, and starts the take-over before the 24-hour cut. */
  private watch(): void {
    const ws = this.current;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    const now = performance.now();
    if (now - this.lastFrameMs > this.silentMs) {
      this.counters.silentCuts++;
      this.o.log.warn({ event: LogEvent.VENUE_SILENT, url: this.o.url, silentMs: this.silentMs }, 'WebSocket silent: cut and reconnected');
      ws.terminate(); // 'close' follows: a disconnect
      return;
    }
    ws.ping();
    if (this.successor === null && now - this.openedMs > this.maxAgeMs) this.successor = this.connect(true);
  }

  private drop(ws: WebSocket, code: number): void {
    ws.removeAllListeners('message');
    ws.on('error', () => {}); // a close racing its connect reports an error: nobody cares any more
    if (ws.readyState === WebSocket.OPEN) ws.close(code);
    else ws.terminate();
  }
}
