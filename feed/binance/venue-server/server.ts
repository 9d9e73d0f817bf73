/**
 * A venue-replay: serves a capture as Binance serves its market, for tests and for developing
 * strategies without the venue.
 *   WebSocket  `/stream?streams=a/b/c` (combined: each frame exactly as recorded) and `/ws/NAME`
 *              (raw: the recorded frame's `data`); SUBSCRIBE / UNSUBSCRIBE / LIST_SUBSCRIPTIONS
 *              requests on the socket as Binance takes them. A client gets the frames of its
 *              streams from when it subscribes on, as live.
 *   REST       the depth endpoints (rest-api.ts), answered from the venue's book of the moment
 *              (book.ts): the recorded snapshot moved by every depth event reached so far. Asked
 *              before the capture's snapshot line is reached, the answer waits for it.
 * The replay starts when the first WebSocket client connects, and runs at `speed` times the
 * recorded pace (paced by recv_ns) or at `max`; at max it waits for slow clients (a client that
 * takes nothing for SLOW_CLIENT_MS is cut, as Binance cuts one). Every client gets the same frames;
 * faults (faults.ts) hit every client. After the last line it goes on serving the final book.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setImmediate as yieldNow, setTimeout as sleep } from 'node:timers/promises';
import { WebSocket, WebSocketServer } from 'ws';
import type { Logger } from '../../../lib/log.js';
import { LogEvent } from '../../../lib/log.js';
import { Pacer, type Speed } from '../../pacing/pacer.js';
import { pause } from '../../pacing/drive.js';
import { CaptureReader, type CaptureLine, newCaptureLine } from '../capture-read.js';
import { ServerBook } from './book.js';
import { type FaultPlan, GARBAGE_FRAME } from './faults.js';
import { VenueErrors, WeightCounter, parseDepthRequest, sendJson, sendVenueError } from './rest-api.js';
import { type CaptureScan, parseObject, scanCapture, streamOf } from './scan.js';

export interface VenueServerOptions {
  capture: string;
  host: string;
  /** 0: any free port (see address). */
  port: number;
  speed: Speed;
  faults: FaultPlan;
  log: Logger;
  /**
   * Called right after a frame is handed to a client's socket (`bench live` stamps its send time
   * here): the frame's index among the frames this client was sent (replayed and garbage frames;
   * not the answers to its requests), and its capture line (-1 for a garbage frame). Frame
   * indexes are per client: with one client they are its message indexes, snapshots aside.
   */
  onSent?: (clientFrame: number, lineIndex: number) => void;
}

export interface VenueCounters {
  /** Capture lines reached. */
  lines: number;
  /** Frames sent (one per client). */
  frames: number;
  dropped: number;
  duplicated: number;
  garbage: number;
  /** Client sockets cut by --disconnect-after-line, and slow clients cut. */
  cuts: number;
  slowCuts: number;
  clients: number;
  snapshots: number;
  restErrors: number;
}

interface Client {
  ws: WebSocket;
  streams: Set<string>;
  /** `/ws/NAME`: frames carry the data alone. */
  raw: boolean;
  /** Frames sent to it so far (onSent's index). */
  sent: number;
}

/** At max speed the replay waits while a client has this much unsent. */
const HIGH_WATER_BYTES = 4 << 20;
/** A client that took nothing for this long while the replay waited for it is cut. */
const SLOW_CLIENT_MS = 10_000;
/** A paced client this far behind is cut. */
const MAX_BUFFERED_BYTES = 64 << 20;
/** Lines between event-loop turns at max speed. */
const MAX_SPEED_BATCH = 256;

export class VenueServer {
  readonly counters: VenueCounters = { lines: 0, frames: 0, dropped: 0, duplicated: 0, garbage: 0, cuts: 0, slowCuts: 0, clients: 0, snapshots: 0, restErrors: 0 };
  readonly books = new Map<string, ServerBook>();
  /** Resolves when the last line has been reached. */
  readonly done: Promise<void>;
  private readonly clients = new Set<Client>();
  private readonly http: Server;
  private readonly wss: WebSocketServer;
  private readonly weights = new WeightCounter();
  /** REST requests waiting for their symbol's snapshot line. */
  private readonly waiting = new Map<string, Array<() => void>>();
  private startReplay!: () => void;
  private readonly started = new Promise<void>((r) => (this.startReplay = r));
  private ended = false;
  private stopped = false;
  private endDone!: () => void;

  private constructor(
    private readonly o: VenueServerOptions,
    readonly scan: CaptureScan,
  ) {
    for (const s of scan.symbols) this.books.set(s, new ServerBook(s));
    this.done = new Promise((r) => (this.endDone = r));
    this.http = createServer((req, res) => this.onRest(req, res));
    this.wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
    this.http.on('upgrade', (req, socket, head) => {
      const url = new URL(req.url ?? '/', 'http://venue');
      if (url.pathname !== '/stream' && !url.pathname.startsWith('/ws')) {
        socket.end('HTTP/1.1 404 Not Found\r\n\r\n');
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this.onClient(ws, url));
    });
  }

  /** Reads the capture once (symbols, snapshots), then listens. */
  static async open(o: VenueServerOptions): Promise<VenueServer> {
    const scan = await scanCapture(o.capture);
    const s = new VenueServer(o, scan);
    await new Promise<void>((resolve, reject) => {
      s.http.once('error', reject);
      s.http.listen(o.port, o.host, () => resolve());
    });
    void s.run().catch((e: unknown) => {
      o.log.error({ event: LogEvent.FEED_ERROR, error: (e as Error).message }, `venue-replay stopped: ${(e as Error).message}`);
      s.finish();
    });
    return s;
  }

  get address(): { host: string; port: number } {
    const a = this.http.address() as AddressInfo;
    return { host: a.address, port: a.port };
  }

  async close(): Promise<void> {
    this.stopped = true;
    this.startReplay();
    for (const c of this.clients) c.ws.terminate();
    this.wss.close();
    this.http.closeAllConnections();
    await new Promise<void>((r) => this.http.close(() => r()));
  }

  private onClient(ws: WebSocket, url: URL): void {
    const raw = url.pathname.startsWith('/ws');
    const names = raw ? url.pathname.slice(4).split('/') : (url.searchParams.get('streams') ?? '').split('/');
    const c: Client = { ws, streams: new Set(names.filter((n) => n !== '')), raw, sent: 0 };
    this.clients.add(c);
    this.counters.clients++;
    ws.on('message', (data: Buffer) => this.onRequest(c, data.toString()));
    ws.on('close', () => this.clients.delete(c));
    ws.on('error', () => this.clients.delete(c));
    this.startReplay();
  }

  /** Binance's live subscription requests: `{"method":"SUBSCRIBE","params":[...],"id":1}`. */
  private onRequest(c: Client, text: string): void {
    const j = parseObject(text);
    const id = j?.id ?? null;
    const params = Array.isArray(j?.params) ? (j!.params as unknown[]).filter((p): p is string => typeof p === 'string') : [];
    let result: unknown = null;
    switch (j?.method) {
      case 'SUBSCRIBE':
        for (const p of params) c.streams.add(p);
        break;
      case 'UNSUBSCRIBE':
        for (const p of params) c.streams.delete(p);
        break;
      case 'LIST_SUBSCRIPTIONS':
        result = [...c.streams];
        break;
      default:
        c.ws.send(JSON.stringify({ error: { code: 2, msg: 'Invalid request: unknown method' }, id }));
        return;
    }
    c.ws.send(JSON.stringify({ result, id }));
  }

  private onRest(req: IncomingMessage, res: ServerResponse): void {
    const address = req.socket.remoteAddress ?? '';
    const r = parseDepthRequest(req);
    if (r === null) {
      this.counters.restErrors++;
      sendVenueError(res, VenueErrors.notFound);
      return;
    }
    if ('error' in r) {
      this.counters.restErrors++;
      sendVenueError(res, r.error, this.weights.add(address, 1));
      return;
    }
    const used = this.weights.add(address, r.weight);
    const book = this.books.get(r.symbol);
    if (!book) {
      this.counters.restErrors++;
      sendVenueError(res, VenueErrors.invalidSymbol, used);
      return;
    }
    const answer = (): void => {
      if (!book.seeded) {
        this.counters.restErrors++;
        sendVenueError(res, VenueErrors.notYet, used);
        return;
      }
      // The book as it is when asked; a late answer is sent as it was then.
      const body = book.snapshotBody(r.limit);
      this.o.log.info(
        { event: LogEvent.VENUE_REPLAY_SNAPSHOT, symbol: r.symbol, limit: r.limit, lastUpdateId: book.lastUpdateId, line: this.counters.lines - 1, delayMs: this.o.faults.snapshotDelayMs },
        'depth snapshot served',
      );
      const send = (): void => {
        if (res.destroyed) return;
        this.counters.snapshots++;
        sendJson(res, 200, body, used);
      };
      if (this.o.faults.snapshotDelayMs > 0) setTimeout(send, this.o.faults.snapshotDelayMs);
      else send();
    };
    if (book.seeded || this.ended) answer();
    else {
      const list = this.waiting.get(r.symbol) ?? [];
      list.push(answer);
      this.waiting.set(r.symbol, list);
    }
  }

  private async run(): Promise<void> {
    await this.started;
    const reader = CaptureReader.open(this.o.capture);
    const line = newCaptureLine();
    const pacer = new Pacer(this.o.speed);
    let firstSec = -1;
    let firstSubNs = 0;
    let n = 0;
    try {
      for (;;) {
        while (!this.stopped && reader.next(line)) {
          if (firstSec < 0) {
            firstSec = line.recvSec;
            firstSubNs = line.recvSubNs;
          }
          if (pacer.paced) {
            const atNs = (line.recvSec - firstSec) * 1e9 + (line.recvSubNs - firstSubNs);
            for (let d = pacer.delayNs(atNs); d > 0 && !this.stopped; d = pacer.delayNs(atNs)) await pause(d);
          } else if (++n % MAX_SPEED_BATCH === 0) {
            await yieldNow();
            await this.drain();
          }
          if (this.stopped) return;
          this.emit(line);
        }
        if (this.stopped || reader.exhausted) break;
        await reader.fill();
      }
    } finally {
      reader.close();
    }
    if (!this.stopped) this.finish();
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    for (const [, list] of this.waiting) for (const answer of list) answer();
    this.waiting.clear();
    this.o.log.info({ event: LogEvent.VENUE_REPLAY_END, lines: this.counters.lines, frames: this.counters.frames }, 'venue-replay: end of capture');
    this.endDone();
  }

  /** One capture line: the venue's book moves; the frame goes to its subscribers, faults applied. */
  private emit(line: CaptureLine): void {
    const i = line.lineIndex;
    const payload = line.payload;
    const f = this.o.faults;
    this.counters.lines++;
    const stream = streamOf(payload);
    if (stream === null) {
      const symbol = this.scan.snapshotOf.get(i);
      const j = parseObject(payload);
      if (symbol !== undefined && j !== null) this.seed(symbol, j);
      else if (j === null || typeof j.lastUpdateId !== 'number') this.send(null, Buffer.from(payload, 'latin1'), i); // a recorded frame of no stream: everyone's
    } else {
      const symbol = this.scan.streams.get(stream);
      if (symbol !== undefined && stream.includes('@depth')) {
        const data = parseObject(payload)?.data;
        if (data && typeof data === 'object') this.books.get(symbol)?.apply(data as Record<string, unknown>);
      }
      this.send(stream, Buffer.from(payload, 'latin1'), i);
    }
    if (f.garbageAfter.has(i)) {
      this.counters.garbage++;
      for (const c of this.clients) this.sendTo(c, Buffer.from(GARBAGE_FRAME), -1);
    }
    if (f.disconnectAfter.has(i)) {
      for (const c of this.clients) {
        this.counters.cuts++;
        c.ws.terminate();
      }
      this.clients.clear();
    }
  }

  private seed(symbol: string, snap: Record<string, unknown>): void {
    const book = this.books.get(symbol);
    if (!book?.seed(snap)) return;
    const list = this.waiting.get(symbol);
    if (!list) return;
    this.waiting.delete(symbol);
    for (const answer of list) answer();
  }

  /** A recorded frame to the clients of `stream` (null: every client), unless dropped; twice if duplicated. */
  private send(stream: string | null, frame: Buffer, lineIndex: number): void {
    if (this.o.faults.drop.has(lineIndex)) {
      this.counters.dropped++;
      return;
    }
    const times = this.o.faults.duplicate.has(lineIndex) ? 2 : 1;
    if (times === 2) this.counters.duplicated++;
    let data: Buffer | null = null;
    for (const c of this.clients) {
      if (stream !== null && !c.streams.has(stream)) continue;
      let out = frame;
      if (c.raw && stream !== null) out = data ??= rawData(frame);
      for (let k = 0; k < times; k++) this.sendTo(c, out, lineIndex);
    }
  }

  private sendTo(c: Client, frame: Buffer, lineIndex: number): void {
    if (c.ws.readyState !== WebSocket.OPEN) return;
    if (c.ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.counters.slowCuts++;
      c.ws.terminate();
      return;
    }
    c.ws.send(frame, { binary: false });
    this.counters.frames++;
    const k = c.sent++;
    this.o.onSent?.(k, lineIndex);
  }

  /** At max speed: waits while a client has much unsent; cuts one that takes nothing for SLOW_CLIENT_MS. */
  private async drain(): Promise<void> {
    const t0 = performance.now();
    for (;;) {
      let full: Client | null = null;
      for (const c of this.clients) if (c.ws.readyState === WebSocket.OPEN && c.ws.bufferedAmount > HIGH_WATER_BYTES) full = c;
      if (full === null || this.stopped) return;
      if (performance.now() - t0 > SLOW_CLIENT_MS) {
        this.counters.slowCuts++;
        full.ws.terminate();
        this.clients.delete(full);
        continue;
      }
      await sleep(1);
    }
  }
}

/** The `data` of a combined-stream frame `{"stream":"x","data":{...}}` (a raw stream's frame). */
function rawData(frame: Buffer): Buffer {
  const text = frame.toString('latin1');
  const at = text.indexOf('"data":');
  return at < 0 ? frame : Buffer.from(text.slice(at + 7, text.lastIndexOf('}')), 'latin1');
}
