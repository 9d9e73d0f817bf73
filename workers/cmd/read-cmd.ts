/**
 * `mdfan read --segment NAME [--symbols A,B] [--wait spin|yield|block [--sync]] [--top] [--print] [--record FILE]
 *   [--record-dbn FILE [--schema mbp-10|mbp-1] [--dataset NAME]] [--duration S] [--exit-on-writer-death]`
 *
 * A standalone reader process, the stand-in for a strategy process. Waits for the segment, then
 * reads every book that changes (with --top: every top-of-book line that changes) until the writer
 * closes it (exit 0) or the duration ends (exit 0). --wait spin runs the SDK's synchronous loop
 * (poll(), no Promise per update); yield and block wait with next(), or block with --sync with
 * waitSync() (the thread sleeps in the futex and reads on waking, no event-loop turn). A dead writer is logged with MDFAN_ERR_WRITER_DEAD within the heartbeat timeout; the reader
 * then waits for a new writer, or exits 3 with --exit-on-writer-death.
 *
 * The summary (one JSON line on stdout at the end) has the publish->observe percentiles; with
 * --histogram also the whole HDR histogram (`hist`, hdr-histogram-js compressed base64) so that a
 * benchmark or a replay can merge readers. --expected-interval-ns records with coordinated-omission
 * correction for a writer publishing at that fixed interval. --cpu pins the reader to one CPU.
 * --record-dbn writes what the reader saw as DBN (dbn-recorder.ts).
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import * as hdr from 'hdr-histogram-js';
import { newLatencyHistogram, uncorrectedCount } from '../sdk/histogram.js';
import { percentilesOf } from '../../lib/percentiles.js';
import { LogEvent, createLogger } from '../../lib/log.js';
import { bookLineHeader, formatBookLine, formatBookText } from '../../lib/book-line.js';
import { cpuOption, numOption, optString, parse, required } from '../../lib/cli/args.js';
import { native } from '../../native/segment/binding.js';
import * as abi from '../../native/segment/abi.js';
import { BookReader, type WaitStrategy, parseWait } from '../sdk/book-reader.js';
import { SegmentReader } from '../../native/segment/reader.js';
import { ErrorCode, MdfanError, isMdfanError } from '../../native/segment/errors.js';
import type { StartAt } from '../../native/segment/events.js';
import type { Instrument } from '../../native/segment/directory.js';
import type { BookSnapshot } from '../../native/segment/seqlock.js';
import type { TopSnapshot } from '../../native/segment/tops.js';
import { EventRecorder, parseFrom, parseKinds } from './event-recorder.js';
import { DbnRecorder } from './dbn-recorder.js';
import { type DbnOptions, DBN_DEFAULT_DATASET, parseDbnOptions } from './dbn-options.js';
import { READER_DEFAULTS, WAIT_HELP } from '../sdk/defaults.js';
import { onStopSignals, signalExitCode } from '../../lib/cli/signals.js';
import { resolveUser } from '../../lib/cli/ids.js';

export const USAGE = `usage: mdfan read --segment NAME [--symbols A,B] [--top] [--print] [--record FILE] [--duration S] [--exit-on-writer-death]
  [--timeout S (wait for the segment, default ${READER_DEFAULTS.attachTimeoutMs / 1000})] [--cpu N] [--expected-interval-ns NS] [--histogram]
  [--writer-uid USER|UID (the writer runs as this user, a name or a uid: accept its segment; default only this user's or root's)]
  [${WAIT_HELP}] [--sync (with --wait block: sleep in the futex on this thread, no event-loop turn per update)]
  [--events [--kinds trade,status,order,system] [--record-events FILE|- (default -: stdout)] [--from oldest|newest (default oldest)]]
  [--record-dbn FILE[.zst] [--schema mbp-10|mbp-1 (default mbp-10; mbp-1 with --top)] [--dataset NAME (default ${DBN_DEFAULT_DATASET}, at most 15 characters)]]
  --top reads the top-of-book lines (best bid and ask, one 64-byte line each) instead of whole books;
  its --record lines are book lines of one level.
  --print writes each book read on stdout for people: \`GOOG #1234 09:30:00.000123 bid 100 @ 585.3300, ... | ask ... | spread 0.0100\`.
  --record FILE writes one line per book read: a header line naming the columns, then
  \`msgIndex,SYMBOL,ask1price,ask1size,bid1price,bid1size,...\` (prices as the feed's integers).
  --record-dbn FILE writes the same books as Databento DBN v3 (zstd-compressed, streamed, if FILE ends in .zst):
  metadata (the instruments followed at attach, each mapped to its feed id), then one MBP record per book read
  (--schema mbp-10: ten levels, or mbp-1: the best), prices in 1e-9 units, sizes in the instrument's units,
  ts_event the book's exchange time, ts_recv when this reader saw it, sequence its input message (mod 2^32);
  with --events also one trade record per printable trade (the metadata's schema is then mixed). A size or order
  count above 2^32-1 is written as 2^32-1 and counted (summary: dbn.clamped_sizes, dbn.clamped_counts).
  --top records mbp-1 (--schema mbp-10 with --top is refused). An instrument of more than 9 price decimals is refused.
  What each record means, and the limits: docs/READERS.md, "Recording what a reader saw as DBN".
  --events writes one line per event (\`msgIndex,SYMBOL,...\`, \`LAPPED,N\` where events were lost; docs/READERS.md) to the
  --record-events FILE, or to stdout without one or with \`-\`.
  The summary is the last line on stdout (JSON, the only line starting with \`{\`): every line before it is an event line
  or a --print line.`;
export const EXAMPLE = 'mdfan read --segment books --symbols GOOG --wait spin --top --record goog.txt';
export const EXIT_CODES = '0 the writer closed the segment, or --duration ended; 1 a failure (its code on stderr); 2 bad usage; 3 the writer died, with --exit-on-writer-death';
export const EXIT_WRITER_DEATH = 3;
/** --sync: the longest the loop stays off the event loop (signals, timers). */
const SYNC_TURN_MS = 50;

/** The options of `mdfan read`, checked. */
interface ReadOptions {
  name: string;
  wait: WaitStrategy;
  durationS: number;
  timeoutS: number;
  symbols: Set<string> | null;
  recordFile: string | undefined;
  pinCpu: number | null;
  intervalNs: number;
  events: boolean;
  kinds: number[] | undefined;
  from: StartAt;
  eventsFile: string | undefined;
  sync: boolean;
  writerUid: number | undefined;
  top: boolean;
  print: boolean;
  dbn: DbnOptions | null;
  histogram: boolean;
  exitOnWriterDeath: boolean;
}

function readOptions(argv: string[]): ReadOptions {
  const { values } = parse(
    argv,
    {
      segment: { type: 'string' },
      symbols: { type: 'string' },
      wait: { type: 'string' },
      record: { type: 'string' },
      duration: { type: 'string' },
      timeout: { type: 'string' },
      'exit-on-writer-death': { type: 'boolean' },
      cpu: { type: 'string' },
      'expected-interval-ns': { type: 'string' },
      histogram: { type: 'boolean' },
      top: { type: 'boolean' },
      sync: { type: 'boolean' },
      'writer-uid': { type: 'string' },
      events: { type: 'boolean' },
      kinds: { type: 'string' },
      'record-events': { type: 'string' },
      from: { type: 'string' },
      print: { type: 'boolean' },
      'record-dbn': { type: 'string' },
      schema: { type: 'string' },
      dataset: { type: 'string' },
    },
    USAGE,
  );
  const name = required(values.segment, '--segment', USAGE);
  const wait = parseWait(optString(values.wait, '--wait'));
  const durationS = numOption(values.duration, '--duration', 0.001, 1e7, Infinity);
  const timeoutS = numOption(values.timeout, '--timeout', 0, 1e6, READER_DEFAULTS.attachTimeoutMs / 1000);
  const symbolsText = optString(values.symbols, '--symbols');
  const symbols = symbolsText ? new Set(symbolsText.split(',').filter((s) => s)) : null;
  const recordFile = optString(values.record, '--record');
  const pinCpu = values.cpu === undefined ? null : cpuOption(values.cpu, '--cpu');
  const intervalNs = numOption(values['expected-interval-ns'], '--expected-interval-ns', 1, 1e12, 0);
  const kinds = parseKinds(optString(values.kinds, '--kinds'));
  const from = parseFrom(optString(values.from, '--from'));
  const eventsFile = optString(values['record-events'], '--record-events');
  if (!values.events && (kinds || eventsFile || values.from !== undefined))
    throw new MdfanError(ErrorCode.OPTIONS, '--kinds, --record-events and --from go with --events', { flag: '--events' });
  const sync = values.sync === true;
  if (sync && (wait !== 'block' || values.events))
    throw new MdfanError(ErrorCode.OPTIONS, '--sync goes with --wait block, without --events', { flag: '--sync' });
  const writerUidText = optString(values['writer-uid'], '--writer-uid');
  const writerUid = writerUidText === undefined ? undefined : resolveUser(writerUidText, '--writer-uid');
  const dbn = parseDbnOptions(optString(values['record-dbn'], '--record-dbn'), optString(values.schema, '--schema'), optString(values.dataset, '--dataset'), values.top === true);
  return {
    name,
    wait,
    durationS,
    timeoutS,
    symbols,
    recordFile,
    pinCpu,
    intervalNs,
    events: values.events === true,
    kinds,
    from,
    eventsFile,
    sync,
    writerUid,
    top: values.top === true,
    print: values.print === true,
    dbn,
    histogram: values.histogram === true,
    exitOnWriterDeath: values['exit-on-writer-death'] === true,
  };
}

export async function run(argv: string[]): Promise<number> {
  const { name, wait, durationS, timeoutS, symbols, recordFile, pinCpu, intervalNs, kinds, from, eventsFile, sync, writerUid, top, print, dbn: dbnOptions, ...o } = readOptions(argv);
  if (pinCpu !== null) native.setAffinity([pinCpu]);
  const log = createLogger('mdfan-read');
  const startedMs = performance.now();
  const cpu0 = process.cpuUsage();
  // Say at once what is awaited, and for how long, when the segment is not there yet.
  try {
    SegmentReader.openSync(name, { writerUid }).close();
  } catch (e) {
    if (isMdfanError(e, ErrorCode.NO_SEGMENT) || isMdfanError(e, ErrorCode.NOT_READY))
      log.info({ event: LogEvent.READER_WAITING, segment: name, timeoutS, code: e.code }, `waiting up to ${timeoutS} s for segment ${name} (${e.code})`);
  }
  // Opened before the wait for the segment: an unwritable file fails at once, not after it.
  const dbn = dbnOptions ? await DbnRecorder.open(dbnOptions, { trades: o.events && (kinds === undefined || kinds.includes(abi.EVENT_KIND_TRADE)), top }) : null;
  // While it waits for the segment, a stop ends the process as it would without a recording,
  // but removes the recording (not begun: no metadata yet) rather than leave an empty file.
  const offEarly = dbn
    ? onStopSignals((signal) => {
        dbn.close();
        process.exit(signalExitCode(signal));
      })
    : null;
  let reader: BookReader;
  try {
    reader = await BookReader.attach(name, { timeoutMs: timeoutS * 1000, wait, writerUid, ...(symbols ? { symbols: [...symbols] } : {}) });
  } catch (e) {
    dbn?.close();
    // The facts for whoever reacts (the replay's faults); the message is printed once, by the command table.
    if (isMdfanError(e)) log.error({ event: LogEvent.READER_REFUSED, segment: name, code: e.code, ...e.details }, 'attach refused');
    throw e;
  } finally {
    offEarly?.();
  }
  // From here every way out (the writer's close, --duration, a signal, an error) closes the files:
  // the stop is heard before the reader says it is attached.
  const stop = new AbortController();
  const offSignals = onStopSignals(() => stop.abort());
  let events: EventRecorder | null;
  let record: number;
  const levels = (): number => (top ? 1 : reader.levels);
  try {
    dbn?.start(reader.seg.instruments(), symbols);
    events = o.events ? new EventRecorder(eventsFile) : null;
    record = recordFile ? openSync(recordFile, 'w') : -1;
    if (record >= 0) writeSync(record, `${bookLineHeader(levels())}\n`);
  } catch (e) {
    dbn?.close();
    offSignals();
    reader.close();
    throw e;
  }
  log.info({ event: LogEvent.READER_ATTACHED, segment: name, wait, generation: reader.seg.generation, events: events !== null }, 'attached');
  let pending: string[] = [];
  const flush = (): void => {
    if (record >= 0 && pending.length > 0) writeSync(record, pending.join('\n') + '\n');
    pending = [];
  };
  const hist = newLatencyHistogram();
  let updates = 0;
  // A slot left mid-commit past the stale timeout (writer stopped or descheduled while committing):
  // reported and counted, never fatal.
  let stale = 0;
  let code = 0;
  const onSnapshot = (snap: BookSnapshot | TopSnapshot, inst: Instrument): void => {
    updates++;
    if (record >= 0) {
      pending.push(formatBookLine(snap.msgIndex, inst.symbol, snap, levels()));
      if (pending.length >= 4096) flush();
    }
    dbn?.book(snap, inst);
    if (print) process.stdout.write(`${formatBookText(inst.symbol, snap.msgIndex, snap.exchangeTsNs, snap, levels(), inst.priceScale, inst.sizeScale)}\n`);
  };
  try {
    await reader.follow(
      {
        onBook: onSnapshot,
        onTop: onSnapshot,
        onEvent: events
          ? (rec, inst) => {
              events.event(rec, inst);
              dbn?.event(rec, inst);
            }
          : undefined,
        onEventsLost: events ? (lost) => events.lapped(lost) : undefined,
        onStale(_inst, e) {
          if (stale++ === 0 || stale % 1000 === 0) log.warn({ event: LogEvent.STALE, code: e.code, ...e.details, count: stale }, e.message);
        },
        onWriterDead(e) {
          log.error({ event: LogEvent.WRITER_DEAD, code: e.code, ...e.details }, e.message);
          if (o.exitOnWriterDeath) {
            code = EXIT_WRITER_DEATH;
            stop.abort();
          }
        },
        onWriterBack(pid) {
          log.info({ event: LogEvent.WRITER_BACK, segment: name, pid }, 'the writer is alive again (it had stopped beating)');
        },
        onNewWriter(generation) {
          log.info({ event: LogEvent.NEW_WRITER, generation }, 'a new writer: re-read the directory');
        },
        onClosed() {
          log.info({ event: LogEvent.WRITER_CLOSED, segment: name }, 'writer closed the segment');
        },
      },
      {
        tops: top,
        events: events ? { kinds, from } : undefined,
        latency: hist,
        expectedIntervalNs: intervalNs,
        signal: stop.signal,
        ...(Number.isFinite(durationS) ? { durationMs: durationS * 1000 } : {}),
        ...(sync ? { turnEveryMs: SYNC_TURN_MS } : {}),
      },
    );
  } finally {
    try {
      flush();
      if (record >= 0) closeSync(record);
      events?.close();
    } finally {
      dbn?.close();
      offSignals();
    }
  }

  const cpu = process.cpuUsage(cpu0);
  if (symbols !== null) {
    const never = [...symbols].filter((s) => reader.find(s) < 0);
    if (never.length > 0) log.warn({ event: LogEvent.SYMBOLS_UNKNOWN, segment: name, symbols: never }, `segment ${name} never listed ${never.join(', ')}`);
  }
  const summary = {
    segment: name,
    wait,
    updates,
    reads: reader.seg.reads,
    retries: reader.retries,
    stale,
    latency_ns: percentilesOf(hist),
    // Latencies recorded without coordinated-omission correction: its budget ran out (a reader far behind).
    latency_uncorrected: uncorrectedCount(hist),
    cpu_ms: Math.round((cpu.user + cpu.system) / 1000),
    wall_ms: Math.round(performance.now() - startedMs),
    cpu: pinCpu,
    ...(events ? { events: events.summary } : {}),
    ...(dbn ? { dbn: dbn.summary } : {}),
    ...(o.histogram ? { hist: hdr.encodeIntoCompressedBase64(hist) } : {}),
  };
  reader.close();
  console.log(JSON.stringify(summary));
  return code;
}
