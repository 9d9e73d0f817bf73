/**
 * `mdfan feed --source itch:FILE | lobster:MESSAGES.csv,ORDERBOOK.csv | moldudp64:HOST:PORT [--source-addr HOST[:PORT]] [--rerequest HOST:PORT] --segment NAME
 *   [--levels N] [--speed max|1|N] [--symbols A,B] [--dump-books FILE] [--max-instruments N] [--mode OCTAL] [--keep-segment]`
 *
 * The single writer. At the end of a file it sets the segment CLOSED and exits 0; a fatal input
 * error sets it BROKEN (what was published stays readable) and exits 1 with the code, byte offset
 * and message index. The segment name is unlinked at exit unless --keep-segment.
 */
import * as abi from '../../native/segment/abi.js';
import { intOption, numOption, optString, parse, required } from '../../lib/cli/args.js';
import { LogEvent, type Logger, createLogger } from '../../lib/log.js';
import { ErrorCode, MdfanError, isMdfanError } from '../../native/segment/errors.js';
import { SegmentWriter, type WriterOptions } from '../../native/segment/writer.js';
import { SEGMENT_DEFAULTS } from '../../native/segment/defaults.js';
import { BookDump } from '../publish/dump.js';
import { Pacer, parseSpeed } from '../pacing/pacer.js';
import { Publisher } from '../publish/publisher.js';
import { openSource, sourceSyntax } from '../sources/registry.js';
import { planSources, runSources } from './feed-sources.js';
import { DEFAULT_DECIMALS, MAX_PRICE_DECIMALS, MAX_SIZE_DECIMALS } from '../binance/market.js';
import { parseHostPort } from '../moldudp64/receiver.js';
import { parsePeer } from '../moldudp64/peer.js';
import { onStopSignals } from '../../lib/cli/signals.js';
import { resolveGroup } from '../../lib/cli/ids.js';
import { Progress } from '../../lib/cli/progress.js';
import { logControlRefusals } from '../../lib/control-refusals.js';
import { NATS_AUTH_OPTIONS, NATS_AUTH_USAGE } from '../../lib/wire/auth.js';

export const USAGE = `usage: mdfan feed --source ${sourceSyntax()} --segment NAME [--levels N (default ${SEGMENT_DEFAULTS.levels})]
  [--speed max|1|N] [--symbols A,B] [--dump-books FILE] [--max-instruments N (default ${SEGMENT_DEFAULTS.maxInstruments})]
  [--mode OCTAL (default ${SEGMENT_DEFAULTS.mode.toString(8)})] [--group NAME|GID] [--keep-segment] [--max-gap SECONDS (cap idle exchange time when paced)]
  [--source ... again (several venues into one segment: each symbol named SCHEME:SYMBOL, --symbols takes those or bare names; one source per scheme)]
  [--price-decimals N (0..${MAX_PRICE_DECIMALS}) --size-decimals N (0..${MAX_SIZE_DECIMALS}) (binance-*: the decimals numbers are held at, default ${DEFAULT_DECIMALS}: every Binance number exactly; a number with more is counted malformed, never rounded)]
  [--pace event|recv (dbn: pace --speed by each record's ts_event, default, or its ts_recv)]
  [--ws-url URL] [--rest-url URL] (binance-*:live: the venue's WebSocket and REST base URLs, e.g. a venue-replay's; --symbols names the symbols to subscribe)
  [--source-addr HOST[:PORT] (moldudp64: take packets from this IPv4 source only, any port if none; default the first data packet's source; others are counted and dropped)]
  [--rerequest HOST:PORT (moldudp64: where lost packets are asked for again; default the pinned source)]
  [--huge-pages (back the segment with 2 MiB pages: /dev/shm mounted huge=advise; MDFAN_ERR_NO_HUGE_PAGES otherwise)]
  [--ring-events N (records in the event ring /NAME.events, a power of two; 0: none; default ${abi.EVENTS_DEFAULT_CAPACITY}, ${(abi.EVENTS_DEFAULT_CAPACITY * abi.EVENT_BYTES) / 2 ** 20} MiB: a reader stalled 100 ms at the top rate is not lapped)]
  nats: (as mdfan mirror)
${NATS_AUTH_USAGE}`;
export const EXAMPLE = 'mdfan feed --source itch:scenarios/data/itch/GOOG-2012-06-21.itch.gz --segment books --speed 1';
export const EXIT_CODES = '0 end of input (CLOSED) or stopped by SIGINT/SIGTERM; 1 bad input (MDFAN_ERR_FEED_*: the segment goes BROKEN) or another failure; 2 bad usage';

/** Opens the segment; a refusal (another writer holds it) is also an event, for the replay's second-writer fault. */
function openWriter(log: Logger, o: WriterOptions): SegmentWriter {
  try {
    return SegmentWriter.open(o);
  } catch (e) {
    // The command table prints the error itself: the line here carries the facts, not the message.
    if (isMdfanError(e, ErrorCode.WRITER_ALIVE)) log.error({ event: LogEvent.WRITER_REFUSED, code: e.code, ...e.details }, 'refused: another writer holds the segment');
    throw e;
  }
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(
    argv,
    {
      source: { type: 'string', multiple: true },
      segment: { type: 'string' },
      levels: { type: 'string' },
      speed: { type: 'string' },
      symbols: { type: 'string' },
      'dump-books': { type: 'string' },
      'max-instruments': { type: 'string' },
      mode: { type: 'string' },
      'keep-segment': { type: 'boolean' },
      'max-gap': { type: 'string' },
      group: { type: 'string' },
      'ring-events': { type: 'string' },
      'huge-pages': { type: 'boolean' },
      rerequest: { type: 'string' },
      ...NATS_AUTH_OPTIONS,
      'source-addr': { type: 'string' },
      'ws-url': { type: 'string' },
      'price-decimals': { type: 'string' },
      'size-decimals': { type: 'string' },
      'rest-url': { type: 'string' },
      pace: { type: 'string' },
    },
    USAGE,
  );
  const name = required(values.segment, '--segment', USAGE);
  const levels = intOption(values.levels, '--levels', 1, abi.MAX_LEVELS, SEGMENT_DEFAULTS.levels);
  const sourceTexts = (values.source as unknown as string[] | undefined) ?? [];
  if (sourceTexts.length === 0) required(undefined, '--source', USAGE);
  const anySource = (test: (text: string) => boolean): boolean => sourceTexts.some(test);
  const maxGapS = numOption(values['max-gap'], '--max-gap', 0, 1e9, Infinity);
  const pacer = new Pacer(parseSpeed(optString(values.speed, '--speed')), maxGapS * 1e9);
  const maxInstruments = intOption(values['max-instruments'], '--max-instruments', 1, abi.MAX_INSTRUMENTS, SEGMENT_DEFAULTS.maxInstruments);
  const modeText = optString(values.mode, '--mode') ?? SEGMENT_DEFAULTS.mode.toString(8);
  if (!/^0?[0-7]{3}$/.test(modeText)) throw new MdfanError(ErrorCode.OPTIONS, `--mode must be octal permission bits such as 600 or 640 (got ${JSON.stringify(modeText)})`);
  const symbolsText = optString(values.symbols, '--symbols');
  const symbols = symbolsText ? new Set(symbolsText.split(',').filter((s) => s !== '')) : null;
  const dumpFile = optString(values['dump-books'], '--dump-books');
  const ringEvents = intOption(values['ring-events'], '--ring-events', 0, abi.EVENTS_MAX_CAPACITY, abi.EVENTS_DEFAULT_CAPACITY);
  if (ringEvents !== 0 && (ringEvents < abi.EVENTS_MIN_CAPACITY || (ringEvents & (ringEvents - 1)) !== 0))
    throw new MdfanError(ErrorCode.OPTIONS, `--ring-events must be 0 or a power of two ${abi.EVENTS_MIN_CAPACITY}..${abi.EVENTS_MAX_CAPACITY} (got ${ringEvents})`, { flag: '--ring-events', found: ringEvents });
  const groupText = optString(values.group, '--group');
  const gid = groupText === undefined ? undefined : resolveGroup(groupText);
  const rerequestText = optString(values.rerequest, '--rerequest');
  if (rerequestText !== undefined && !anySource((t) => t.startsWith('moldudp64:')))
    throw new MdfanError(ErrorCode.OPTIONS, '--rerequest goes with --source moldudp64:HOST:PORT', { flag: '--rerequest' });
  const rerequest = rerequestText === undefined ? null : parseHostPort(rerequestText, '--rerequest');
  const sourceAddrText = optString(values['source-addr'], '--source-addr');
  if (sourceAddrText !== undefined && !anySource((t) => t.startsWith('moldudp64:')))
    throw new MdfanError(ErrorCode.OPTIONS, '--source-addr goes with --source moldudp64:HOST:PORT', { flag: '--source-addr' });
  const sourceAddr = sourceAddrText === undefined ? null : parsePeer(sourceAddrText, '--source-addr');
  const natsFlags = Object.fromEntries(Object.keys(NATS_AUTH_OPTIONS).map((k) => [k, values[k]]));
  const natsFlag = Object.keys(natsFlags).find((k) => natsFlags[k] !== undefined);
  if (natsFlag !== undefined && !anySource((t) => t.startsWith('nats:')))
    throw new MdfanError(ErrorCode.OPTIONS, `--${natsFlag} goes with --source nats:URL`, { flag: `--${natsFlag}` });
  const wsUrl = optString(values['ws-url'], '--ws-url');
  const restUrl = optString(values['rest-url'], '--rest-url');
  const urlFlag = wsUrl !== undefined ? '--ws-url' : restUrl !== undefined ? '--rest-url' : null;
  if (urlFlag !== null && !anySource((t) => t.endsWith(':live'))) throw new MdfanError(ErrorCode.OPTIONS, `${urlFlag} goes with a live source (--source binance-spot:live, ...)`, { flag: urlFlag });
  // Inputs are read before the segment is created: a bad path leaves nothing behind.
  const decimals = {
    price: intOption(values['price-decimals'], '--price-decimals', 0, MAX_PRICE_DECIMALS, DEFAULT_DECIMALS),
    size: intOption(values['size-decimals'], '--size-decimals', 0, MAX_SIZE_DECIMALS, DEFAULT_DECIMALS),
  };
  const decimalsFlag = values['price-decimals'] !== undefined ? '--price-decimals' : values['size-decimals'] !== undefined ? '--size-decimals' : null;
  if (decimalsFlag !== null && !anySource((t) => t.startsWith('binance-')))
    throw new MdfanError(ErrorCode.OPTIONS, `${decimalsFlag} goes with a crypto venue (--source binance-spot:..., ...): ITCH and LOBSTER prices have their own scale`, { flag: decimalsFlag });
  const pace = optString(values.pace, '--pace');
  if (pace !== undefined && pace !== 'event' && pace !== 'recv') throw new MdfanError(ErrorCode.OPTIONS, `--pace must be event or recv (got ${JSON.stringify(pace)})`, { flag: '--pace', found: pace });
  if (pace !== undefined && !anySource((t) => t.startsWith('dbn:'))) throw new MdfanError(ErrorCode.OPTIONS, '--pace goes with --source dbn:FILE', { flag: '--pace' });
  const { plans, published } = planSources(sourceTexts, symbols);
  const sources = plans.map((p) => openSource(p.text, { levels, rerequest, sourceAddr, natsFlags, symbols: p.symbols, wsUrl, restUrl, decimals, pace }));
  const log = createLogger('mdfan-feed');
  const writer = openWriter(log, { name, maxInstruments, levels, mode: parseInt(modeText, 8), gid, ringEvents, hugePages: values['huge-pages'] === true });
  const dump = dumpFile ? new BookDump(dumpFile, levels) : null;
  const pub = new Publisher(writer, { symbols: published, dump, log });
  const stop = { requested: false };
  const onSignal = (sig: string): void => {
    log.info({ event: LogEvent.STOPPING, signal: sig }, 'stopping');
    stop.requested = true;
  };
  const offSignals = onStopSignals(onSignal);
  writer.startIdleHeartbeat();
  if (!(await writer.startControl())) log.warn({ event: LogEvent.NO_CONTROL_PLANE, segment: name }, 'no control plane (socket path too long, or cannot listen): data plane only');
  logControlRefusals(writer, log, name);
  log.info({ event: LogEvent.WRITER_READY, segment: name, outcome: writer.outcome, generation: writer.generation, levels, maxInstruments }, 'writer ready');
  const t0 = performance.now();
  let code = 0;
  const total = sources.length === 1 ? sources[0]!.total : null;
  // A file's progress on a terminal (quiet otherwise: the log lines and the summary say the rest).
  const bar = total ? Progress.start({ label: 'feed', total: total.count, unit: total.unit, fields: '{msgs} msgs', initial: { msgs: 0 } }) : null;
  try {
    await runSources(sources, plans, pub, { pacer, stop, log, progress: (i, done) => bar?.update(done, { msgs: i }) });
  } catch (e) {
    if (!isMdfanError(e) || !e.code.startsWith('MDFAN_ERR_FEED')) throw e;
    writer.setLastError(e.code === ErrorCode.FEED_TRUNCATED ? abi.ERRNUM_FEED_TRUNCATED : abi.ERRNUM_FEED_CORRUPT);
    // The event's fields are for code that reacts; the message is printed once, the command table's way.
    log.error({ event: LogEvent.FEED_ERROR, code: e.code, ...e.details }, 'input error: segment marked broken');
    console.error(`mdfan feed: ${e.message}`);
    code = 1;
  } finally {
    bar?.stop();
    if (sources.length === 1) pub.flush(sources[0]!.counters); // several: each flushed its part of the sum
    dump?.close();
    writer.close({ unlink: !values['keep-segment'], state: code === 0 ? abi.STATE_CLOSED : abi.STATE_BROKEN });
    offSignals();
  }
  const secs = (performance.now() - t0) / 1000;
  const c = sources.length === 1 ? sources[0]!.counters : pub.flushed;
  console.log(
    `mdfan feed: ${c.messages} messages in ${secs.toFixed(2)} s (${Math.round(c.messages / secs)} msg/s), ${writer.publishes} publishes, ` +
      `${writer.instruments} instruments, unknown types ${c.unknownTypes}, unknown order refs ${c.unknownOrderRefs}` +
      (dump ? `, ${dump.lines} lines to ${dump.file}` : '') +
      (writer.ring ? `, ${writer.ring.appended} events` : '') +
      sources.map((s) => s.summary()).join(''),
  );
  return code;
}
