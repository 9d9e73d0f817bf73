/**
 * `--source binance-spot:live --symbols BTCUSDT,ETHUSDT [--ws-url URL] [--rest-url URL]` (and
 * binance-usdm:live, binance-coinm:live): one market live. Its symbols' depth, trade and bookTicker
 * streams come over one WebSocket (feed/binance/live/ws-stream.ts), depth snapshots over REST
 * (rest.ts), and both go to the market (feed/binance/market.ts), which publishes the books.
 * A gap or a sequence break marks that book STALE and the market asks for a new snapshot; a
 * disconnect marks every book STALE, the stream reconnects and the snapshots wait for its first
 * frame (a snapshot must be bridged by the events after it); the first book applied after the
 * new snapshot clears the mark. Message indexes count every message taken, frames and snapshots,
 * in the order taken: the line numbers a capture of the same session has.
 */
import { LogEvent } from '../../../lib/log.js';
import { ErrorCode, MdfanError } from '../../../native/segment/errors.js';
import { BinanceMarket } from '../../binance/market.js';
import { holdLiveSession } from '../live-session.js';
import { checkUrl, parseSymbols } from '../../binance/live/live-options.js';
import { SnapshotFetcher } from '../../binance/live/rest.js';
import { type MessageCounter, WsStream, combinedStreamUrl } from '../../binance/live/ws-stream.js';
import type { BinanceVenue } from '../../binance/venues.js';
import { type BookSink, type FeedSource, type RunContext, type SourceCounters, type SourceOptions, newCounters } from '../../sink.js';


class BinanceLiveSource implements FeedSource {
  readonly total = null;
  private market: BinanceMarket | null = null;
  private stream: WsStream | null = null;
  private rest: SnapshotFetcher | null = null;

  constructor(
    private readonly venue: BinanceVenue,
    private readonly symbols: string[],
    private readonly levels: number,
    private readonly wsUrl: string,
    private readonly restUrl: string,
    private readonly decimals?: SourceOptions['decimals'],
  ) {}

  get counters(): SourceCounters {
    return this.market?.counters ?? newCounters();
  }

  async run(sink: BookSink, ctx: RunContext): Promise<void> {
    const counter: MessageCounter = { next: 0 };
    let fatal: Error | null = null;
    let done!: () => void;
    const finished = new Promise<void>((resolve) => (done = resolve));
    const rest = new SnapshotFetcher(
      { onSnapshot: (symbol, payload, msgIndex) => market.onSnapshot(symbol, payload, msgIndex) },
      {
        venue: this.venue,
        restUrl: this.restUrl,
        log: ctx.log,
        counter,
        onFatal: (e) => {
          fatal ??= e;
          done();
        },
      },
    );
    const market = new BinanceMarket(this.venue, sink, { levels: this.levels, symbols: this.symbols, log: ctx.log, transport: rest, priceDecimals: this.decimals?.price, sizeDecimals: this.decimals?.size });
    const stream = new WsStream(market, {
      url: combinedStreamUrl(this.venue, this.wsUrl, this.symbols),
      log: ctx.log,
      counter,
      onDown: () => rest.hold(),
      onLive: () => rest.release(),
    });
    this.market = market;
    this.stream = stream;
    this.rest = rest;
    rest.hold(); // until the stream delivers
    stream.start();
    void rest.verify(this.symbols); // a misspelt symbol stops the source at once
    ctx.log.info({ event: LogEvent.FEED_LISTENING, venue: this.venue.name, wsUrl: this.wsUrl, restUrl: this.restUrl, symbols: this.symbols.join(',') }, `${this.venue.name} live`);
    await holdLiveSession(sink, () => this.counters, ctx, finished, done, () => {
      stream.close();
      rest.close();
    });
    ctx.log.info({ event: LogEvent.FEED_SESSION_END, ...stream.counters, ...rest.counters, ...market.binance, malformed: this.counters.malformed }, `${this.venue.name} live session ended`);
    if (fatal) throw fatal;
  }

  summary(): string {
    const m = this.market?.binance;
    const w = this.stream?.counters;
    const r = this.rest?.counters;
    if (!m || !w || !r) return '';
    return (
      `, connections ${w.connects}, disconnects ${w.disconnects}, gaps ${m.gaps}, resyncs ${m.resyncs}, snapshots ${r.snapshots}` +
      `, snapshot failures ${r.failures}, re-anchors ${m.reanchors} (${m.reanchorRequests} asked, ${m.reanchorsFailed} failed), books past the edge ${m.pastEdge}, duplicates ${m.duplicates}, malformed ${this.counters.malformed}`
    );
  }
}

/** The live source of `venue` (`--source VENUE:live`); --symbols is required. */
export function openLive(venue: BinanceVenue, opts: SourceOptions): FeedSource {
  if (!opts.symbols || opts.symbols.length === 0)
    throw new MdfanError(ErrorCode.OPTIONS, `--source ${venue.name}:live needs --symbols (the symbols to subscribe, e.g. BTCUSDT,ETHUSDT)`, { flag: '--symbols' });
  const symbols = parseSymbols(opts.symbols.join(','));
  const wsUrl = opts.wsUrl ?? venue.wsUrl;
  const restUrl = opts.restUrl ?? venue.restUrl;
  checkUrl(wsUrl, '--ws-url', ['ws:', 'wss:']);
  checkUrl(restUrl, '--rest-url', ['http:', 'https:']);
  return new BinanceLiveSource(venue, symbols, opts.levels, wsUrl, restUrl, opts.decimals);
}
