/**
 * `mdfan gen-market --from FILE.itch.gz[,FILE2…] --instruments N --messages M --out FILE`: writes a
 * synthetic multi-instrument ITCH 5.0 file made of relabelled copies of the real instruments of
 * the given days (feed/market/gen-market.ts). FILE ending in .gz is gzipped.
 */
import { createWriteStream, renameSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { createGzip } from 'node:zlib';
import type { Writable } from 'node:stream';
import { intOption, parse, required } from '../../lib/cli/args.js';
import { generateMarket } from '../market/gen-market.js';

export const USAGE = `usage: mdfan gen-market --from FILE.itch[.gz][,FILE2…] --instruments N (1..65535) --messages M --out FILE[.gz]
  A synthetic market from real days: N instruments, each a relabelled copy of one of the days'
  instruments (its own stock locate, symbol, order references and match numbers; times shifted
  below 1 ms and interleaved), merged in time order up to M messages. Copy k's book after its j-th
  message is its source's book after its j-th message. Prints a JSON summary.`;
export const EXAMPLE = 'mdfan gen-market --from scenarios/data/itch/GOOG-2012-06-21.itch.gz --instruments 10000 --messages 20000000 --out market.itch.gz';

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, { from: { type: 'string' }, instruments: { type: 'string' }, messages: { type: 'string' }, out: { type: 'string' } }, USAGE);
  const sources = required(values.from, '--from', USAGE).split(',').filter((f) => f);
  const instruments = intOption(values.instruments, '--instruments', 1, 65535, 0);
  const messages = intOption(values.messages, '--messages', 1, Number.MAX_SAFE_INTEGER, 0);
  const outFile = required(values.out, '--out', USAGE);
  const market = generateMarket({ sources, instruments, messages });
  const first = market.next(); // reads the sources: a bad one fails here, before any file exists
  // Written beside the target and renamed at the end: FILE is whole or absent.
  const tmp = `${outFile}.${process.pid}.tmp`;
  const file = createWriteStream(tmp);
  const gz = outFile.endsWith('.gz') ? createGzip() : null;
  const sink: Writable = gz ?? file;
  gz?.pipe(file);
  let written = 0;
  let bytes = 0;
  let batch: Uint8Array[] = [];
  let batchBytes = 0;
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    if (!sink.write(Buffer.concat(batch, batchBytes))) await once(sink, 'drain');
    batch = [];
    batchBytes = 0;
  };
  try {
    for (let r = first; !r.done; r = market.next()) {
      const framed = r.value;
      batch.push(framed);
      batchBytes += framed.length;
      bytes += framed.length;
      written++;
      if (batchBytes >= 1 << 20) await flush();
    }
    await flush();
    sink.end();
    await once(file, 'close');
    renameSync(tmp, outFile);
  } catch (e) {
    file.destroy();
    rmSync(tmp, { force: true });
    throw e;
  }
  console.log(JSON.stringify({ out: outFile, instruments, messages: written, bytes }));
  return 0;
}
