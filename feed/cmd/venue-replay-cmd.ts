/**
 * `mdfan venue-replay --capture FILE.gz --listen HOST:PORT [--speed max|1|N] [faults]`: serves a
 * capture as Binance serves its market (feed/binance/venue-server/server.ts), for the live source's
 * tests and for strategy development without the venue. Prints one line when it listens (with the
 * port, useful with port 0) and one when the capture is played out; serves until SIGINT/SIGTERM.
 */
import { parseArgs } from 'node:util';
import { intOption, optString, parseHostPort, required } from '../../lib/cli/args.js';
import { onStopSignals } from '../../lib/cli/signals.js';
import { LogEvent, createLogger } from '../../lib/log.js';
import { ErrorCode, MdfanError } from '../../native/segment/errors.js';
import { probeInputFile } from '../input-stream.js';
import { lineSet } from '../binance/venue-server/faults.js';
import { VenueServer } from '../binance/venue-server/server.js';
import { parseSpeed } from '../pacing/pacer.js';

export const USAGE = `usage: mdfan venue-replay --capture FILE.gz --listen HOST:PORT (port 0: any free one) [--speed max|1|N (default 1: as recorded)]
  [--drop-line N] [--duplicate-line N] [--garbage-after-line N] [--disconnect-after-line N] (each repeatable; N a capture line, 0-based)
  [--snapshot-delay-ms MS]
  Serves the capture as Binance does: WebSocket ws://HOST:PORT/stream?streams=a/b/c (combined; /ws/NAME raw; SUBSCRIBE requests),
  frames exactly as recorded, paced by their recv_ns, from the first client's connection on; REST depth snapshots of the book
  as it is when asked (GET /api/v3/depth, /fapi/v1/depth or /dapi/v1/depth ?symbol=S&limit=N; an unknown symbol is HTTP 400
  {"code":-1121,"msg":"Invalid symbol."}).
  Faults, for tests and for strategies that must survive them (a fault hits every client; the venue's book is whole):
    --drop-line N             that line is never sent (its depth event still moves the book snapshots come from)
    --duplicate-line N        that line is sent twice
    --garbage-after-line N    after that line, a text frame that is not JSON
    --disconnect-after-line N after that line, every client's socket is cut without a close frame
    --snapshot-delay-ms MS    REST snapshots are answered MS late (the book as it was when asked)
  Prints "venue-replay: listening on HOST:PORT ..." when it serves and "venue-replay: end of capture ..." after the last line;
  then serves the final book until SIGINT/SIGTERM.`;
export const EXAMPLE = 'mdfan venue-replay --capture btcusdt.gz --listen 127.0.0.1:9443 --speed 10 --drop-line 500';

export async function run(argv: string[]): Promise<number> {
  let values: Record<string, string | string[] | boolean | undefined>;
  try {
    values = parseArgs({
      args: argv,
      strict: true,
      options: {
        capture: { type: 'string' },
        listen: { type: 'string' },
        speed: { type: 'string' },
        'drop-line': { type: 'string', multiple: true },
        'duplicate-line': { type: 'string', multiple: true },
        'garbage-after-line': { type: 'string', multiple: true },
        'disconnect-after-line': { type: 'string', multiple: true },
        'snapshot-delay-ms': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (e) {
    throw new MdfanError(ErrorCode.OPTIONS, `${(e as Error).message}\n${USAGE}`);
  }
  const capture = required(values.capture as string | undefined, '--capture', USAGE);
  probeInputFile(capture); // a missing or unreadable capture is refused before anything listens
  const listen = parseListen(required(values.listen as string | undefined, '--listen', USAGE));
  const speed = parseSpeed(optString(values.speed as string | undefined, '--speed') ?? '1');
  const faults = {
    drop: lineSet(values['drop-line'] as string[] | undefined, '--drop-line'),
    duplicate: lineSet(values['duplicate-line'] as string[] | undefined, '--duplicate-line'),
    garbageAfter: lineSet(values['garbage-after-line'] as string[] | undefined, '--garbage-after-line'),
    disconnectAfter: lineSet(values['disconnect-after-line'] as string[] | undefined, '--disconnect-after-line'),
    snapshotDelayMs: intOption(values['snapshot-delay-ms'], '--snapshot-delay-ms', 0, 3_600_000, 0),
  };
  const log = createLogger('mdfan-venue-replay');
  const server = await VenueServer.open({ capture, host: listen.host, port: listen.port, speed, faults, log });
  const { host, port } = server.address;
  const scan = server.scan;
  log.info({ event: LogEvent.VENUE_REPLAY_LISTENING, host, port, capture, lines: scan.lines, symbols: scan.symbols.join(',') }, 'venue-replay serving');
  if (scan.truncated) log.warn({ event: LogEvent.FEED_ERROR, capture, truncated: scan.truncated }, scan.truncated);
  if (scan.unattributed.length > 0)
    log.warn({ capture, lines: scan.unattributed.join(',') }, `snapshot lines ${scan.unattributed.join(',')} bridge no symbol's depth events: not served`);
  console.log(`venue-replay: listening on ${host}:${port} (ws://${host}:${port}/stream, http://${host}:${port}/api/v3/depth), ${scan.lines} lines, symbols ${scan.symbols.join(',')}`);
  let stop!: () => void;
  const stopped = new Promise<void>((r) => (stop = r));
  const offSignals = onStopSignals(() => stop());
  void server.done.then(() => {
    const c = server.counters;
    console.log(`venue-replay: end of capture, ${c.lines} lines, ${c.frames} frames sent, ${c.dropped} dropped, ${c.duplicated} duplicated, ${c.garbage} garbage, ${c.cuts} cuts`);
  });
  await stopped;
  offSignals();
  await server.close();
  const c = server.counters;
  console.log(`venue-replay: stopped, ${c.clients} clients, ${c.frames} frames, ${c.snapshots} snapshots, ${c.restErrors} REST errors`);
  return 0;
}

/** HOST:PORT where port 0 is allowed (any free port). */
function parseListen(text: string): { host: string; port: number } {
  if (/:0$/.test(text)) return { host: text.slice(0, -2), port: 0 };
  return parseHostPort(text, '--listen');
}
