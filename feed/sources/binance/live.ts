/**
 * `--source binance-*:live`: the live market (WebSocket streams and REST snapshots). Filled in by
 * the network side; until then the kind refuses `live` clearly.
 */
import { ErrorCode, MdfanError } from '../../../native/segment/errors.js';
import type { BinanceVenue } from '../../binance/venues.js';
import type { FeedSource, SourceOptions } from '../../sink.js';

export function openLive(venue: BinanceVenue, _opts: SourceOptions): FeedSource {
  throw new MdfanError(ErrorCode.OPTIONS, `--source ${venue.name}:live is not built yet`, { flag: '--source', found: `${venue.name}:live` });
}
