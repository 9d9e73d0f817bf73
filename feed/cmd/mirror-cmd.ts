/**
 * `mdfan mirror --nats nats://HOST:PORT --segment LOCAL [--prefix md] [--symbols A,B]
 *   [--levels N] [--max-instruments N] [--ring-events N] [NATS identity and TLS flags]`: the single
 * writer of a local segment fed by a bridge over NATS: the NATS venue (feed/sources/nats) through
 * the one publisher, the segment laid out by its own options (never by what arrives: whoever may
 * publish may send anything). Runs until a signal; then it closes and removes the segment (unless
 * --keep-segment) and prints a JSON summary.
 */
import * as abi from '../../native/segment/abi.js';
import { intOption, optString, parse, required } from '../../lib/cli/args.js';
import { LogEvent, createLogger } from '../../lib/log.js';
import { onStopSignals } from '../../lib/cli/signals.js';
import { logControlRefusals } from '../../lib/control-refusals.js';
import { NATS_AUTH_OPTIONS, NATS_AUTH_USAGE, parseNatsAuth, redactUrl } from '../../lib/wire/auth.js';
import { BRIDGE_DEFAULTS } from '../../lib/wire/defaults.js';
import { checkPrefix } from '../../lib/wire/subjects.js';
import { SEGMENT_DEFAULTS } from '../../native/segment/defaults.js';
import { SegmentWriter } from '../../native/segment/writer.js';
import { Pacer } from '../pacing/pacer.js';
import { Publisher } from '../publish/publisher.js';
import { NatsFeed } from '../sources/nats/index.js';

export const USAGE = `usage: mdfan mirror --nats nats://HOST:PORT|tls://HOST:PORT --segment LOCAL [--prefix P (default ${BRIDGE_DEFAULTS.prefix})] [--symbols A,B]
  [--levels N (default ${SEGMENT_DEFAULTS.levels}: the origin's depth; books of another depth are refused)] [--max-instruments N (default ${SEGMENT_DEFAULTS.maxInstruments})]
  [--ring-events N (default ${BRIDGE_DEFAULTS.mirrorRingEvents})] [--queue-bytes N (records held before READY, default ${BRIDGE_DEFAULTS.mirrorQueueBytes})]
  [--bucket-timeout-ms MS (reading the bucket, default ${BRIDGE_DEFAULTS.mirrorBucketTimeoutMs})] [--keep-segment]
${NATS_AUTH_USAGE}
  Becomes the writer of the local segment LOCAL, laid out by its own options: every book from the bucket
  P-books first, then P.SYMBOL.book records as they come, trades and trading actions into its event
  ring. A dropped connection marks every book stale until the bucket is read again; lost records are
  counted (mdfan stat: feed_gaps, feed_unrecovered, stale_marks, feed_recovered, malformed_messages), and
  every record it does not apply is counted by reason in its summary (docs/BRIDGE.md).
  It runs until SIGINT/SIGTERM, then closes and removes the segment (unless --keep-segment) and prints a JSON summary.`;
export const EXAMPLE = 'mdfan mirror --nats tls://feed-host:4222 --nats-ca ca.pem --nats-creds mirror.creds --segment books';

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(
    argv,
    {
      nats: { type: 'string' },
      segment: { type: 'string' },
      prefix: { type: 'string' },
      symbols: { type: 'string' },
      levels: { type: 'string' },
      'max-instruments': { type: 'string' },
      'ring-events': { type: 'string' },
      'queue-bytes': { type: 'string' },
      'bucket-timeout-ms': { type: 'string' },
      'keep-segment': { type: 'boolean' },
      ...NATS_AUTH_OPTIONS,
    },
    USAGE,
  );
  const url = required(values.nats, '--nats', USAGE);
  const segment = required(values.segment, '--segment', USAGE);
  const prefix = checkPrefix(optString(values.prefix, '--prefix') ?? BRIDGE_DEFAULTS.prefix);
  const symbolsText = optString(values.symbols, '--symbols');
  const symbols = symbolsText ? new Set(symbolsText.split(',').filter((s) => s)) : null;
  const levels = intOption(values.levels, '--levels', 1, abi.MAX_LEVELS, SEGMENT_DEFAULTS.levels);
  const maxInstruments = intOption(values['max-instruments'], '--max-instruments', 1, abi.MAX_INSTRUMENTS, SEGMENT_DEFAULTS.maxInstruments);
  const ringEvents = intOption(values['ring-events'], '--ring-events', 1, 2 ** 30, BRIDGE_DEFAULTS.mirrorRingEvents);
  const queueBytes = intOption(values['queue-bytes'], '--queue-bytes', 0, 2 ** 40, BRIDGE_DEFAULTS.mirrorQueueBytes);
  const bucketTimeoutMs = intOption(values['bucket-timeout-ms'], '--bucket-timeout-ms', 1, 3_600_000, BRIDGE_DEFAULTS.mirrorBucketTimeoutMs);
  const auth = parseNatsAuth(values, url);
  const unlink = values['keep-segment'] !== true;
  const log = createLogger('mdfan-mirror').child({ segment });
  const source = new NatsFeed({ url, prefix, symbols, levels, auth, queueBytes, bucketTimeoutMs });
  const stop = { requested: false };
  let writer: SegmentWriter | null = null;
  const offSignals = onStopSignals((signal) => {
    // A second signal exits at once (onStopSignals); the segment is then closed and removed on the way out.
    process.once('exit', () => writer?.close({ unlink }));
    log.info({ event: LogEvent.STOPPING, signal }, 'stopping');
    stop.requested = true;
  });
  try {
    await source.connect(log);
    writer = SegmentWriter.open({ name: segment, levels, maxInstruments, ringEvents });
    try {
      writer.startIdleHeartbeat();
      await writer.startControl();
      logControlRefusals(writer, log, segment);
      log.info({ event: LogEvent.WRITER_READY, segment, outcome: writer.outcome, generation: writer.generation, levels, maxInstruments }, 'writer ready');
      await source.run(new Publisher(writer, { symbols, log }), { pacer: new Pacer('max'), stop, log });
    } finally {
      writer.close({ unlink });
    }
  } finally {
    offSignals();
  }
  console.log(JSON.stringify({ segment, prefix, bucket: source.bucket, nats: redactUrl(url), ...source.stats, dropped: source.drops.summary() }));
  return 0;
}
