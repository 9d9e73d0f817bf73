/**
 * `mdfan capture --source binance-spot:live --symbols A,B --out FILE.gz [--ws-url URL] [--rest-url URL]
 *   [--duration-s N]`: records a Binance market into a capture (feed/binance/live/recorder.ts):
 * what `mdfan feed --source binance-spot:FILE.gz` replays and `mdfan venue-replay` serves.
 */
import { numOption, optString, parse, required } from '../../lib/cli/args.js';
import { onStopSignals } from '../../lib/cli/signals.js';
import { LogEvent, createLogger } from '../../lib/log.js';
import { ErrorCode, MdfanError } from '../../native/segment/errors.js';
import { CaptureWriter } from '../binance/live/capture-write.js';
import { Recorder } from '../binance/live/recorder.js';
import { BINANCE_VENUE_NAMES, binanceVenue } from '../binance/venues.js';
import { checkUrl, parseSymbols } from '../binance/live/live-options.js';
import { Progress } from '../../lib/cli/progress.js';

export const USAGE = `usage: mdfan capture --source ${BINANCE_VENUE_NAMES.map((n) => `${n}:live`).join('|')} --symbols A,B --out FILE.gz
  [--ws-url URL (default the venue's)] [--rest-url URL (default the venue's)] [--duration-s N (default: until SIGINT/SIGTERM)]
  Writes one line per message, \`<recv_ns> <payload as received>\` (recv_ns: ns since the epoch, the wall clock read once at
  start plus the monotonic clock since): every WebSocket frame of the symbols' depth, trade and bookTicker streams, and every
  REST depth snapshot body, taken when a symbol is first seen, after a gap and after a reconnect, as the live feed takes them.
  The gzip stream is flushed every 100 ms, so a killed capture reads up to its last 100 ms.
  On a terminal, a progress line on stderr (seconds, lines, snapshots; a bar with --duration-s).`;
export const EXAMPLE = 'mdfan capture --source binance-spot:live --symbols BTCUSDT,ETHUSDT --out btc-eth.gz --duration-s 3600';

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(
    argv,
    {
      source: { type: 'string' },
      symbols: { type: 'string' },
      out: { type: 'string' },
      'ws-url': { type: 'string' },
      'rest-url': { type: 'string' },
      'duration-s': { type: 'string' },
    },
    USAGE,
  );
  const sourceText = required(values.source, '--source', USAGE);
  const m = /^([a-z-]+):live$/.exec(sourceText);
  const venue = m ? binanceVenue(m[1]!) : null;
  if (venue === null)
    throw new MdfanError(ErrorCode.OPTIONS, `--source must be ${BINANCE_VENUE_NAMES.map((n) => `${n}:live`).join(', ')} (got ${JSON.stringify(sourceText)})`, { flag: '--source', found: sourceText });
  const symbols = parseSymbols(required(values.symbols, '--symbols', USAGE));
  const out = required(values.out, '--out', USAGE);
  const wsUrl = optString(values['ws-url'], '--ws-url') ?? venue.wsUrl;
  const restUrl = optString(values['rest-url'], '--rest-url') ?? venue.restUrl;
  checkUrl(wsUrl, '--ws-url', ['ws:', 'wss:']);
  checkUrl(restUrl, '--rest-url', ['http:', 'https:']);
  const durationS = numOption(values['duration-s'], '--duration-s', 0.001, 1e9, Infinity);
  const log = createLogger('mdfan-capture');
  const writer = CaptureWriter.open(out);
  let fatal: Error | null = null;
  let stop!: () => void;
  const stopped = new Promise<void>((r) => (stop = r));
  const rec = new Recorder(writer, {
    venue,
    symbols,
    wsUrl,
    restUrl,
    log,
    onFatal: (e) => {
      fatal ??= e;
      stop();
    },
  });
  const offSignals = onStopSignals(() => stop());
  const timer = Number.isFinite(durationS) ? setTimeout(stop, durationS * 1000) : null;
  const t0 = performance.now();
  const bar = Progress.start({ label: 'capture', total: Number.isFinite(durationS) ? Math.ceil(durationS) : null, unit: 's', fields: '{lines} lines | {snapshots} snapshots', initial: { lines: 0, snapshots: 0 } });
  // A write error (the disk full) stops the capture with its code.
  const watch = setInterval(() => {
    if (writer.failed) {
      fatal ??= writer.failed;
      stop();
    }
    bar?.update(Math.floor((performance.now() - t0) / 1000), { lines: writer.lines, snapshots: rec.snapshots });
  }, 100);
  rec.start();
  log.info({ event: LogEvent.CAPTURE_READY, out, venue: venue.name, symbols: symbols.join(','), wsUrl, restUrl }, 'capturing');
  try {
    await stopped;
  } finally {
    if (timer) clearTimeout(timer);
    clearInterval(watch);
    bar?.stop();
    offSignals();
    rec.close();
  }
  await writer.close().catch((e: Error) => {
    fatal ??= e;
  });
  if (fatal) throw fatal;
  const s = (performance.now() - t0) / 1000;
  const ws = rec.stream.counters;
  console.log(
    `mdfan capture: ${writer.lines} lines (${rec.snapshots} snapshots) to ${out} in ${s.toFixed(2)} s, ${ws.connects} connections, ${ws.disconnects} disconnects, ` +
      `${rec.market.binance.gaps} gaps, ${rec.rest.counters.failures} snapshot failures${writer.rewritten ? `, ${writer.rewritten} payloads with line breaks made spaces` : ''}`,
  );
  return 0;
}
