/** `mdfan send --source itch:FILE --to HOST:PORT [--speed max|1|N] [--max-pps N]` */
import { intOption, optString, parse, required } from '../../bin/lib/args.js';
import { ErrorCode, MdfanError } from '../../native/segment/errors.js';
import { type Frame, loadFeed, nextFrame } from '../itch/framing.js';
import { parseHostPort } from '../moldudp64/receiver.js';
import { type OutMessage, sendMessages } from '../moldudp64/sender.js';
import { parseSpeed } from '../pacing/pacer.js';

export const USAGE = 'usage: mdfan send --source itch:FILE --to HOST:PORT [--speed max|1|N] [--max-pps N (default 50000)]';

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, { source: { type: 'string' }, to: { type: 'string' }, speed: { type: 'string' }, 'max-pps': { type: 'string' } }, USAGE);
  const src = required(values.source, '--source', USAGE);
  if (!src.startsWith('itch:')) throw new MdfanError(ErrorCode.OPTIONS, `--source must be itch:FILE (got ${JSON.stringify(src)})`);
  const { host, port } = parseHostPort(required(values.to, '--to', USAGE), '--to');
  const speed = parseSpeed(optString(values.speed, '--speed'));
  const maxPps = intOption(values['max-pps'], '--max-pps', 1, 10_000_000, 50_000);
  const feed = loadFeed(src.slice(5));
  if (feed.gzipProblem) throw feed.gzipProblem;
  // One reused message object: the packet builder copies the bytes at once.
  function* messages(): Generator<OutMessage> {
    const f: Frame = { offset: 0, length: 0 };
    const m: OutMessage = { buf: feed.bytes, offset: 0, length: 0, exchangeTsNs: 0 };
    const b = feed.bytes;
    for (let pos = 0, i = 0; pos < b.length; i++) {
      pos = nextFrame(b, b.length, pos, i, feed.file, f);
      m.offset = f.offset;
      m.length = f.length;
      m.exchangeTsNs = ((b[f.offset + 5] << 8) | b[f.offset + 6]) * 4294967296 + b.readUInt32BE(f.offset + 7);
      yield m;
    }
  }
  const t0 = performance.now();
  const r = await sendMessages(messages(), { host, port, speed, maxPps });
  console.log(`mdfan send: ${r.messages} messages in ${r.packets} packets to ${host}:${port} in ${((performance.now() - t0) / 1000).toFixed(2)} s`);
  return 0;
}
