/**
 * `mdfan bridge --segment NAME --nats nats://HOST:PORT [--prefix md] [--book-interval-ms MS]
 *   [--wait block|spin] [--timeout S] [NATS identity and TLS flags]`: publishes a segment to NATS
 * (workers/bridge/bridge.ts) until the writer closes it or a signal; prints a JSON summary on stdout.
 */
import { numOption, optString, parse, required } from '../../lib/cli/args.js';
import { createLogger } from '../../lib/log.js';
import { onStopSignals } from '../../lib/cli/signals.js';
import { ErrorCode, MdfanError } from '../../native/segment/errors.js';
import { READER_DEFAULTS } from '../sdk/defaults.js';
import { Bridge } from '../bridge/bridge.js';
import { BRIDGE_DEFAULTS } from '../../lib/wire/defaults.js';
import { NATS_AUTH_OPTIONS, NATS_AUTH_USAGE, parseNatsAuth } from '../../lib/wire/auth.js';
import { booksBucket, connectNats } from '../../lib/wire/nats.js';
import { bucketOf, checkPrefix } from '../../lib/wire/subjects.js';

export const USAGE = `usage: mdfan bridge --segment NAME --nats nats://HOST:PORT|tls://HOST:PORT [--prefix P (default ${BRIDGE_DEFAULTS.prefix})]
  [--book-interval-ms MS (default ${BRIDGE_DEFAULTS.bookIntervalMs})] [--wait block|spin (default block)] [--timeout S (wait for the segment, default ${READER_DEFAULTS.attachTimeoutMs / 1000})]
${NATS_AUTH_USAGE}
  Publishes the segment to NATS: P.SYMBOL.top (every top-of-book change), P.SYMBOL.trade, P.SYMBOL.status
  (from the event ring) and P.SYMBOL.book (the full book, at most every --book-interval-ms), and keeps the
  last book per instrument in the JetStream key-value bucket P-books. Records: docs/BRIDGE.md.
  It ends when the writer closes the segment, or on SIGINT/SIGTERM, and prints a JSON summary.`;
export const EXAMPLE = 'mdfan bridge --segment books --nats nats://127.0.0.1:4222';

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(
    argv,
    { segment: { type: 'string' }, nats: { type: 'string' }, prefix: { type: 'string' }, 'book-interval-ms': { type: 'string' }, wait: { type: 'string' }, timeout: { type: 'string' }, ...NATS_AUTH_OPTIONS },
    USAGE,
  );
  const segment = required(values.segment, '--segment', USAGE);
  const url = required(values.nats, '--nats', USAGE);
  const prefix = checkPrefix(optString(values.prefix, '--prefix') ?? BRIDGE_DEFAULTS.prefix);
  const bookIntervalMs = numOption(values['book-interval-ms'], '--book-interval-ms', 0, 3_600_000, BRIDGE_DEFAULTS.bookIntervalMs);
  const wait = optString(values.wait, '--wait') ?? 'block';
  if (wait !== 'block' && wait !== 'spin') throw new MdfanError(ErrorCode.OPTIONS, `--wait must be block or spin (got ${JSON.stringify(wait)})`, { flag: '--wait' });
  const timeoutS = numOption(values.timeout, '--timeout', 0, 1e6, READER_DEFAULTS.attachTimeoutMs / 1000);
  const auth = parseNatsAuth(values, url);
  const log = createLogger('mdfan-bridge');
  let bridge: Bridge | null = null;
  const nc = await connectNats(url, `mdfan-bridge ${segment}`, log, { onDisconnect: () => bridge?.setConnected(false), onReconnect: () => bridge?.setConnected(true) }, auth);
  try {
    const bucket = bucketOf(prefix);
    const kv = await booksBucket(nc, bucket);
    bridge = await Bridge.start({ segment, nc, kv, prefix, bookIntervalMs, wait, log }, timeoutS * 1000);
    const b = bridge;
    const off = onStopSignals(() => b.stop());
    try {
      await b.run();
    } finally {
      off();
    }
    console.log(JSON.stringify({ segment, prefix, bucket, session: b.session, ...b.stats }));
    return 0;
  } finally {
    await nc.close();
  }
}
