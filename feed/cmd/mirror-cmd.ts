/**
 * `mdfan mirror --nats nats://HOST:PORT --segment LOCAL [--prefix md] [--symbols A,B]
 *   [--ring-events N]`: the single writer of a local segment fed by a bridge over NATS: the NATS
 * venue (feed/sources/nats) through the one publisher, the segment sized by the bridge's first
 * book. Runs until a signal; then it closes the segment and prints a JSON summary.
 */
import { intOption, optString, parse, required } from '../../lib/cli/args.js';
import { createLogger } from '../../lib/log.js';
import { onStopSignals } from '../../lib/cli/signals.js';
import { BRIDGE_DEFAULTS } from '../../lib/wire/defaults.js';
import { checkPrefix } from '../../lib/wire/subjects.js';
import { SegmentWriter } from '../../native/segment/writer.js';
import { Pacer } from '../pacing/pacer.js';
import { Publisher } from '../publish/publisher.js';
import { NatsFeed } from '../sources/nats/index.js';

export const USAGE = `usage: mdfan mirror --nats nats://HOST:PORT --segment LOCAL [--prefix P (default ${BRIDGE_DEFAULTS.prefix})] [--symbols A,B]
  [--ring-events N (default ${BRIDGE_DEFAULTS.mirrorRingEvents})]
  Becomes the writer of the local segment LOCAL with the bridge's layout: every book from the bucket
  P-books first, then P.SYMBOL.book records as they come, trades and trading actions into its event
  ring. A dropped connection marks every book stale until the bucket is read again; lost records are
  counted (mdfan stat: feed_gaps, feed_unrecovered, stale_marks, feed_recovered, malformed_messages).
  It runs until SIGINT/SIGTERM, then closes the segment and prints a JSON summary.`;
export const EXAMPLE = 'mdfan mirror --nats nats://feed-host:4222 --segment books';

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, { nats: { type: 'string' }, segment: { type: 'string' }, prefix: { type: 'string' }, symbols: { type: 'string' }, 'ring-events': { type: 'string' } }, USAGE);
  const url = required(values.nats, '--nats', USAGE);
  const segment = required(values.segment, '--segment', USAGE);
  const prefix = checkPrefix(optString(values.prefix, '--prefix') ?? BRIDGE_DEFAULTS.prefix);
  const symbolsText = optString(values.symbols, '--symbols');
  const symbols = symbolsText ? new Set(symbolsText.split(',').filter((s) => s)) : null;
  const ringEvents = intOption(values['ring-events'], '--ring-events', 1, 2 ** 30, BRIDGE_DEFAULTS.mirrorRingEvents);
  const log = createLogger('mdfan-mirror').child({ segment });
  const source = new NatsFeed({ url, prefix, symbols, levels: null });
  const stop = { requested: false };
  const offSignals = onStopSignals(() => {
    stop.requested = true;
  });
  try {
    await source.connect(log);
    const layout = await source.layout();
    const writer = SegmentWriter.open({ name: segment, levels: layout.levels, maxInstruments: layout.maxInstruments, ringEvents });
    try {
      writer.startIdleHeartbeat();
      await writer.startControl();
      await source.run(new Publisher(writer, { symbols, log }), { pacer: new Pacer('max'), stop, log });
    } finally {
      writer.close();
    }
  } finally {
    offSignals();
  }
  console.log(JSON.stringify({ segment, prefix, bucket: source.bucket, ...source.stats }));
  return 0;
}
