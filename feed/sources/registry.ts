/** Every venue `mdfan feed --source` knows. Adding one is a folder and a line here. */
import { ErrorCode, MdfanError } from '../../native/segment/errors.js';
import { binanceCoinm, binanceSpot, binanceUsdm } from './binance/index.js';
import { dbn } from './dbn/index.js';
import { itchFile } from './itch-file/index.js';
import { lobster } from './lobster/index.js';
import { moldudp64 } from './moldudp64/index.js';
import { nats } from './nats/index.js';
import type { FeedSource, SourceKind, SourceOptions } from '../sink.js';

export const SOURCE_KINDS: readonly SourceKind[] = Object.freeze([itchFile, lobster, moldudp64, nats, binanceSpot, binanceUsdm, binanceCoinm, dbn]);

/** `itch:FILE|lobster:MESSAGES.csv,ORDERBOOK.csv|...`, for usage lines. */
export const sourceSyntax = (): string => SOURCE_KINDS.map((k) => k.syntax).join('|');

/** Opens `--source SCHEME:REST`: the input is read and checked before any segment exists. */
export function openSource(text: string, opts: SourceOptions): FeedSource {
  const i = text.indexOf(':');
  const kind = i > 0 ? SOURCE_KINDS.find((k) => k.scheme === text.slice(0, i)) : undefined;
  const source = kind?.open(text.slice(i + 1), opts) ?? null;
  if (source) return source;
  const list = SOURCE_KINDS.map((k) => k.syntax);
  throw new MdfanError(ErrorCode.OPTIONS, `--source must be ${list.slice(0, -1).join(', ')} or ${list[list.length - 1]} (got ${JSON.stringify(text)})`);
}
