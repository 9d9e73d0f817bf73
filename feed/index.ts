/**
 * The feed layer's public module: what benchmarks, scenarios and embedders may use. Everything
 * else under feed/ is internal to the feed handler.
 */
export { Publisher } from './publish/publisher.js';
export type { PublisherOptions } from './publish/publisher.js';
export { BookDump } from './publish/dump.js';
export { TopOfBook } from './book/top.js';
export { Pacer, parseSpeed } from './pacing/pacer.js';
export type { Speed } from './pacing/pacer.js';
export { openSource, sourceSyntax, SOURCE_KINDS } from './sources/registry.js';
export { NOT_PUBLISHED, OWN_INDEX, newCounters } from './sink.js';
export type { BookSink, FeedSource, RunContext, SourceCounters, SourceKind, SourceOptions, StopFlag } from './sink.js';
export { NullSink } from './sink.js';
export { ItchVenue, ITCH_PRICE_SCALE } from './itch/venue.js';
export { NativeItchVenue, NATIVE_STOP, type NativeRun } from './itch/native-venue.js';
export { ItchReplay } from './itch/engine.js';
export { ItchMessage, decode } from './itch/message.js';
export { loadFeed, nextFrame } from './itch/framing.js';
export type { Frame, LoadedFeed } from './itch/framing.js';
export { PacketBuilder, requestPacket } from './moldudp64/packet.js';
export { MoldReceiver, MOLD_DEFAULTS } from './moldudp64/receiver.js';
export type { MoldHandlers, MoldReceiverOptions } from './moldudp64/receiver.js';
export { NatsFeed } from './sources/nats/index.js';
export type { NatsFeedOptions } from './sources/nats/index.js';
export { generateMarket, copySymbol, readMarketSources } from './market/gen-market.js';
export { itchMessages } from './itch/stream.js';
export { INPUT_DEFAULTS, probeInputFile, readInput } from './input-stream.js';
export { BinanceMarket } from './binance/market.js';
export { MessageDecoder } from './binance/messages.js';
export { mergeCaptures, readCapture } from './binance/capture-read.js';
export { BINANCE_VENUES } from './binance/venues.js';
export { VenueServer } from './binance/venue-server/server.js';
export { NO_FAULTS } from './binance/venue-server/faults.js';
export type { BinanceVenueName } from './binance/venues.js';
export { DbnReader } from './dbn/reader.js';
export type { RecordView } from './dbn/reader.js';
export { DbnVenue } from './dbn/venue.js';
