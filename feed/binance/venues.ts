/**
 * The three Binance markets mdfan speaks, as one frozen table: how each sequences its diff-depth
 * stream, where its REST depth snapshot and its WebSocket live, and what a snapshot costs against
 * the market's request-weight budget. Everything venue-specific the decoder and the transport need
 * is here, so a fourth market is one row.
 */

/** `futures`: events carry `pu` (the previous event's `u`); `spot`: `U` follows the previous `u` + 1. */
export type Sequencing = 'futures' | 'spot';

export type BinanceVenueName = 'binance-spot' | 'binance-usdm' | 'binance-coinm';

export interface BinanceVenue {
  readonly name: BinanceVenueName;
  readonly sequencing: Sequencing;
  /** REST base URL (no trailing slash). */
  readonly restUrl: string;
  /** WebSocket base URL; combined streams are `${wsUrl}/stream?streams=a/b/c`. */
  readonly wsUrl: string;
  /** Path of the REST depth snapshot (`?symbol=BTCUSDT&limit=1000`). */
  readonly depthPath: string;
  /** Levels a side asked of a snapshot (the largest every market accepts). */
  readonly snapshotLimit: number;
  /** Request weight of one depth request at snapshotLimit levels. */
  readonly snapshotWeight: number;
  /** The market's REQUEST_WEIGHT budget a minute (the server says the current one in `X-MBX-USED-WEIGHT-1M`). */
  readonly weightPerMinute: number;
  /**
   * The diff-depth stream's suffix: `<lower-case symbol>@depth<suffix>`. Spot's fastest is 100 ms;
   * the futures markets also offer `@0ms` (every event, as the COIN-M recording shows), usdm's
   * real-time stream being `@depth@0ms` too.
   */
  readonly depthSuffix: string;
  /** Whether a REST snapshot body names its symbol (`symbol`): only COIN-M's does. */
  readonly snapshotNamesSymbol: boolean;
}

/** Binance's documented weights (limit 1000): spot 50 of 6000 a minute; USDⓈ-M and COIN-M 20 of 2400. */
export const BINANCE_VENUES: Readonly<Record<BinanceVenueName, BinanceVenue>> = Object.freeze({
  'binance-spot': Object.freeze({
    name: 'binance-spot',
    sequencing: 'spot',
    restUrl: 'https://api.binance.com',
    wsUrl: 'wss://stream.binance.com:9443',
    depthPath: '/api/v3/depth',
    snapshotLimit: 1000,
    snapshotWeight: 50,
    weightPerMinute: 6000,
    depthSuffix: '@depth@100ms',
    snapshotNamesSymbol: false,
  }),
  'binance-usdm': Object.freeze({
    name: 'binance-usdm',
    sequencing: 'futures',
    restUrl: 'https://fapi.binance.com',
    wsUrl: 'wss://fstream.binance.com',
    depthPath: '/fapi/v1/depth',
    snapshotLimit: 1000,
    snapshotWeight: 20,
    weightPerMinute: 2400,
    depthSuffix: '@depth@0ms',
    snapshotNamesSymbol: false,
  }),
  'binance-coinm': Object.freeze({
    name: 'binance-coinm',
    sequencing: 'futures',
    restUrl: 'https://dapi.binance.com',
    wsUrl: 'wss://dstream.binance.com',
    depthPath: '/dapi/v1/depth',
    snapshotLimit: 1000,
    snapshotWeight: 20,
    weightPerMinute: 2400,
    depthSuffix: '@depth@0ms',
    snapshotNamesSymbol: true,
  }),
} satisfies Record<BinanceVenueName, BinanceVenue>);

export const BINANCE_VENUE_NAMES: readonly BinanceVenueName[] = Object.freeze(Object.keys(BINANCE_VENUES) as BinanceVenueName[]);

/** The venue named `name`, or null. */
export const binanceVenue = (name: string): BinanceVenue | null =>
  Object.hasOwn(BINANCE_VENUES, name) ? BINANCE_VENUES[name as BinanceVenueName] : null;

/** A symbol's three stream names on `venue` (Binance's stream names are lower case). */
export function streamNames(venue: BinanceVenue, symbol: string): { depth: string; trade: string; bookTicker: string } {
  const s = symbol.toLowerCase();
  return { depth: `${s}${venue.depthSuffix}`, trade: `${s}@trade`, bookTicker: `${s}@bookTicker` };
}
