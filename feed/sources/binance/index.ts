/**
 * `--source binance-spot:FILE.gz` (and `binance-usdm:`, `binance-coinm:`): a capture of one
 * Binance market replayed through its BinanceMarket, exactly as the live source drives it, one
 * payload at a time; the message index is the capture's 0-based line number. Paced by recv_ns at
 * --speed (the recorder's clock: the pace the messages came at), or as fast as it goes with max.
 * `binance-*:live` is the live market (./live.ts).
 *
 * A capture line without `<recv_ns> <payload>` stops the replay naming file and line (the file is
 * damaged); a payload that is not a Binance message is counted malformed and the replay goes on
 * (it is what the venue sent, and the live source does the same). A capture cut short (a killed
 * recorder) is replayed up to the cut and the cut logged as a warning.
 */
import { LogEvent } from '../../../lib/log.js';
import { CaptureReader, newCaptureLine } from '../../binance/capture-read.js';
import { BinanceMarket } from '../../binance/market.js';
import { BINANCE_VENUES, type BinanceVenue } from '../../binance/venues.js';
import { probeInputFile, sizeUnit, type InputFile } from '../../input-stream.js';
import { BATCH_MESSAGES, pause } from '../../pacing/drive.js';
import { type BookSink, type FeedSource, type RunContext, type SourceCounters, type SourceKind, type SourceOptions, newCounters } from '../../sink.js';
import { openLive } from './live.js';

class BinanceCaptureSource implements FeedSource {
  readonly total: { unit: string; count: number };
  private market: BinanceMarket | null = null;

  constructor(
    private readonly venue: BinanceVenue,
    private readonly input: InputFile,
    private readonly levels: number,
    private readonly decimals?: SourceOptions['decimals'],
  ) {
    this.total = { unit: sizeUnit(input), count: input.size };
  }

  get counters(): SourceCounters {
    return this.market?.counters ?? newCounters();
  }

  async run(sink: BookSink, ctx: RunContext): Promise<void> {
    const market = new BinanceMarket(this.venue, sink, { levels: this.levels, symbols: null, log: ctx.log, priceDecimals: this.decimals?.price, sizeDecimals: this.decimals?.size });
    this.market = market;
    const reader = new CaptureReader(this.input);
    const line = newCaptureLine();
    const pacer = ctx.pacer;
    let baseSec = -1;
    let pending = false; // `line` holds a message not yet due
    let i = 0;
    const report = (): void => {
      sink.flush(market.counters);
      ctx.progress?.(i, reader.bytesRead, this.total.count);
    };
    try {
      while (!ctx.stop.requested) {
        const batchEnd = i + BATCH_MESSAGES;
        let waitNs = 0;
        while (i < batchEnd && (pending || reader.next(line))) {
          if (pacer.paced) {
            if (baseSec < 0) baseSec = line.recvSec;
            // ns since the first line's second: exact in a double for any recording's length.
            waitNs = pacer.delayNs((line.recvSec - baseSec) * 1e9 + line.recvSubNs);
            if (waitNs > 0) {
              pending = true;
              break;
            }
          }
          pending = false;
          market.onMessage(line.payload, line.lineIndex);
          i++;
        }
        report();
        if (waitNs > 0 || i === batchEnd) {
          await pause(waitNs);
          continue;
        }
        if (reader.exhausted) break;
        await reader.fill();
      }
    } finally {
      report();
      reader.close();
    }
    if (reader.truncated !== null) ctx.log.warn({ event: LogEvent.FEED_TRUNCATED, file: this.input.file, lines: reader.lines, reason: reader.truncated }, reader.truncated);
  }

  summary(): string {
    const b = this.market?.binance;
    if (!b) return '';
    const malformed = Object.entries(b.malformed)
      .filter(([, n]) => n > 0)
      .map(([r, n]) => `${r} ${n}`)
      .join(', ');
    return `, ${b.applied} depth events applied, ${b.droppedOld} older than the snapshot, ${b.duplicates} duplicates, ${b.gaps} gaps (${b.staleMarks} stale marks, ${b.resyncs} resyncs), ${b.pastEdge} books past the snapshot's edge (stale), ${b.reanchors} re-anchors (${b.reanchorsFailed} failed), ${b.tickers} tickers, ${b.trades} trades${malformed ? `, malformed: ${malformed}` : ''}`;
  }
}

const binanceKind = (venue: BinanceVenue): SourceKind => ({
  scheme: venue.name,
  syntax: `${venue.name}:FILE.gz|live`,
  open: (rest: string, opts: SourceOptions) => {
    if (rest === '') return null;
    if (rest === 'live') return openLive(venue, opts);
    return new BinanceCaptureSource(venue, probeInputFile(rest), opts.levels, opts.decimals);
  },
});

export const binanceSpot = binanceKind(BINANCE_VENUES['binance-spot']);
export const binanceUsdm = binanceKind(BINANCE_VENUES['binance-usdm']);
export const binanceCoinm = binanceKind(BINANCE_VENUES['binance-coinm']);
