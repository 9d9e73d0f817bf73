/**
 * `mdfan gen-market --from FILE.itch.gz[,FILE2…] --instruments N --messages M --out FILE`: writes a
 * synthetic multi-instrument ITCH 5.0 file made of relabelled copies of the real instruments of
 * the given days (feed/market/gen-market.ts). FILE ending in .gz is gzipped.
 */
import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { intOption, parse, required } from '../../lib/cli/args.js';
import { checkOutputTarget, openOutputFile, outputError } from '../../lib/out-file.js';
import { Progress } from '../../lib/cli/progress.js';
import { generateMarket, readMarketSources } from '../market/gen-market.js';

export const USAGE = `usage: mdfan gen-market --from FILE.itch[.gz][,FILE2…] --instruments N (1..65535) --messages M --out FILE[.gz]
  A synthetic market from real days: N instruments, each a relabelled copy of one of the days'
  instruments (its own stock locate, symbol, order references and match numbers; times shifted
  below 1 ms and interleaved), merged in time order up to M messages. Copy k's book after its j-th
  message is its source's book after its j-th message. Prints a JSON summary; on a terminal, a
  progress bar on stderr while it writes.`;
export const EXAMPLE = 'mdfan gen-market --from scenarios/data/itch/GOOG-2012-06-21.itch.gz --instruments 10000 --messages 20000000 --out market.itch.gz';

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, { from: { type: 'string' }, instruments: { type: 'string' }, messages: { type: 'string' }, out: { type: 'string' } }, USAGE);
  const sourceFiles = required(values.from, '--from', USAGE).split(',').filter((f) => f);
  const instruments = intOption(values.instruments, '--instruments', 1, 65535, 0);
  const messages = intOption(values.messages, '--messages', 1, Number.MAX_SAFE_INTEGER, 0);
  const outFile = required(values.out, '--out', USAGE);
  checkOutputTarget(outFile); // a device, FIFO or directory is refused before the sources are read
  const sources = await readMarketSources({ sources: sourceFiles, instruments, messages }); // a bad source fails here, before any file exists
  let written = 0;
  let bytes = 0;
  const bar = Progress.start({ label: 'gen-market', total: messages, unit: 'msgs', fields: '{mib} MiB', initial: { mib: 0 } });
  async function* batches(): AsyncGenerator<Buffer> {
    let batch: Uint8Array[] = [];
    let batchBytes = 0;
    for (const framed of generateMarket({ sources: sourceFiles, instruments, messages }, sources)) {
      batch.push(framed);
      batchBytes += framed.length;
      bytes += framed.length;
      written++;
      if (batchBytes >= 1 << 20) {
        bar?.update(written, { mib: Math.round(bytes / 2 ** 20) });
        yield Buffer.concat(batch, batchBytes);
        batch = [];
        batchBytes = 0;
      }
    }
    if (batchBytes > 0) yield Buffer.concat(batch, batchBytes);
  }
  // Written to a private temporary file beside the target and renamed at the end: FILE is whole or untouched.
  const out = openOutputFile(outFile);
  try {
    const file = createWriteStream(outFile, { fd: out.fd, autoClose: false }); // the temporary file's descriptor: the path is not opened
    if (outFile.endsWith('.gz')) await pipeline(Readable.from(batches()), createGzip(), file);
    else await pipeline(Readable.from(batches()), file);
    out.commit();
  } catch (e) {
    out.abort();
    throw outputError(e, outFile);
  } finally {
    bar?.update(written, { mib: Math.round(bytes / 2 ** 20) });
    bar?.stop();
  }
  console.log(JSON.stringify({ out: outFile, instruments, messages: written, bytes }));
  return 0;
}
