/**
 * `mdfan send --source itch:FILE --to HOST:PORT [--speed max|1|N] [--max-pps N] [--drop FRACTION [--seed N]]
 *   [--rerequest-listen HOST:PORT] [--rerequest-from HOST[:PORT],...] [--max-linger SECONDS]`: the
 *   session's MoldUDP64 publisher and its re-request server.
 */
import { intOption, numOption, optString, parse, required } from '../../lib/cli/args.js';
import { LogEvent, createLogger, rateLimit } from '../../lib/log.js';
import { ErrorCode, MdfanError } from '../../native/segment/errors.js';
import { probeInputFile } from '../input-stream.js';
import { itchMessages } from '../itch/stream.js';
import { parseHostPort } from '../moldudp64/receiver.js';
import { type OutMessage, SEND_DEFAULTS, sendMessages } from '../moldudp64/sender.js';
import { parsePeers } from '../moldudp64/peer.js';
import { REREQUEST_DEFAULTS } from '../moldudp64/rerequest-gate.js';
import { parseSpeed } from '../pacing/pacer.js';

export const USAGE = `usage: mdfan send --source itch:FILE --to HOST:PORT [--speed max|1|N] [--max-pps N (default ${SEND_DEFAULTS.maxPps})]
  [--drop FRACTION (0..1: drop that share of packets on their first transmission) [--seed N (default 1)]]
  [--rerequest-listen HOST:PORT (answer re-requests there; default: on the sending socket, the packets' source address,
    bound to the address of the interface that reaches --to)]
  [--rerequest-from HOST[:PORT],... (answer re-requests from these receivers only: IPv4 addresses, any port if none;
    default: from any source, at most ${REREQUEST_DEFAULTS.answersPerSecond} answers a second and ${REREQUEST_DEFAULTS.bytesPerSource / 2 ** 20} MiB per source address,
    ${REREQUEST_DEFAULTS.bytesTotal / 2 ** 20} MiB in all)]
  [--max-linger SECONDS (default ${SEND_DEFAULTS.maxLingerMs / 1000})]
  After the end of session it answers re-requests until none came for ${SEND_DEFAULTS.lingerMs} ms, and at most --max-linger.`;
export const EXAMPLE = 'mdfan send --source itch:scenarios/data/itch/GOOG-2012-06-21.itch.gz --to 127.0.0.1:31337 --drop 0.02 --seed 7';

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(
    argv,
    {
      source: { type: 'string' },
      to: { type: 'string' },
      speed: { type: 'string' },
      'max-pps': { type: 'string' },
      drop: { type: 'string' },
      seed: { type: 'string' },
      'rerequest-listen': { type: 'string' },
      'rerequest-from': { type: 'string' },
      'max-linger': { type: 'string' },
    },
    USAGE,
  );
  const src = required(values.source, '--source', USAGE);
  if (!src.startsWith('itch:')) throw new MdfanError(ErrorCode.OPTIONS, `--source must be itch:FILE (got ${JSON.stringify(src)})`);
  const { host, port } = parseHostPort(required(values.to, '--to', USAGE), '--to');
  const speed = parseSpeed(optString(values.speed, '--speed'));
  const maxPps = intOption(values['max-pps'], '--max-pps', 1, 10_000_000, SEND_DEFAULTS.maxPps);
  const dropFraction = numOption(values.drop, '--drop', 0, 1, 0);
  if (values.seed !== undefined && values.drop === undefined) throw new MdfanError(ErrorCode.OPTIONS, '--seed goes with --drop', { flag: '--seed' });
  const seed = intOption(values.seed, '--seed', 0, 0xffffffff, 1);
  const listenText = optString(values['rerequest-listen'], '--rerequest-listen');
  const rerequestListen = listenText === undefined ? null : parseHostPort(listenText, '--rerequest-listen');
  const fromText = optString(values['rerequest-from'], '--rerequest-from');
  const rerequestFrom = fromText === undefined ? null : parsePeers(fromText, '--rerequest-from');
  const maxLingerMs = numOption(values['max-linger'], '--max-linger', 0, 3600, SEND_DEFAULTS.maxLingerMs / 1000) * 1000;
  const input = probeInputFile(src.slice(5));
  // Streamed: one reused message object (the packet builder copies the bytes at once).
  async function* messages(): AsyncGenerator<OutMessage> {
    const m: OutMessage = { buf: Buffer.alloc(0), offset: 0, length: 0, exchangeTsNs: 0 };
    for await (const s of itchMessages(input)) {
      const b = s.buf;
      const o = s.frame.offset;
      m.buf = b;
      m.offset = o;
      m.length = s.frame.length;
      m.exchangeTsNs = s.frame.length >= 11 ? ((b[o + 5]! << 8) | b[o + 6]!) * 4294967296 + b.readUInt32BE(o + 7) : 0;
      yield m;
    }
  }
  const log = createLogger('mdfan-send');
  const refusedDue = rateLimit(1000);
  const t0 = performance.now();
  const r = await sendMessages(messages(), {
    host,
    port,
    speed,
    maxPps,
    dropFraction,
    seed,
    rerequestListen,
    rerequestFrom,
    maxLingerMs,
    onRefused: (h, p, reason, count) => {
      if (refusedDue()) log.warn({ event: LogEvent.REREQUEST_REFUSED, host: h, port: p, reason, count }, 're-request not answered');
    },
  });
  const at = r.rerequestAddress ? ` on ${r.rerequestAddress.address}:${r.rerequestAddress.port}` : '';
  console.log(
    `mdfan send: ${r.messages} messages in ${r.packets} packets to ${host}:${port} in ${((performance.now() - t0) / 1000).toFixed(2)} s` +
      `, ${r.dropped} dropped on first transmission, ${r.requests} re-requests answered (${r.resent} messages sent again), ${r.badRequests} requests ignored` +
      `, ${r.refused} from unlisted sources, ${r.rateLimited + r.capped} over the rate or byte limits, ${r.answeredBytes} bytes answered${at}`,
  );
  return 0;
}
