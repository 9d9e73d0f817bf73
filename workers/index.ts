/**
 * mdfan's public API: the reader SDK and the strategy interface (workers/), and the segment API
 * for writers and tools (native/segment/).
 *
 * The reference below is kept in the shipped index.d.ts (preserve): the public types name Node's
 * (a writer's control-plane socket), and a user's strict project with `"types": []` (TypeScript
 * 7's default) and no @types/node of its own gets them from our dependency on @types/node.
 */
/// <reference types="node" preserve="true" />
export * from '../native/segment/index.js';
export { BookReader, PollStatus, WaitResult, WAIT_STRATEGIES, latencyNs } from './sdk/book-reader.js';
export type { BookReaderOptions, WaitStrategy } from './sdk/book-reader.js';
export type { Strategy, StrategyContext } from './pool/strategy.js';
export { runPool, POOL_DEFAULTS } from './pool/pool.js';
export { READER_DEFAULTS } from './sdk/defaults.js';
export { newLatencyHistogram } from './sdk/histogram.js';
export { EventReader } from './sdk/event-reader.js';
export { follow, updates } from './sdk/follow.js';
export type { FollowEnd } from './sdk/follow.js';
export type { FollowOptions } from './sdk/follower.js';
export type { FollowHandler, Update, UpdateKind } from './sdk/update.js';
export { IdleStrategy } from './sdk/idle.js';
export type { IdleTarget } from './sdk/idle.js';
export type { EventKindFilter, EventReaderOptions } from './sdk/event-reader.js';
export type { PoolOptions, PoolReport, WorkerReport } from './pool/pool.js';
/** The NATS bridge's record (docs/BRIDGE.md): encode, decode, offsets; and its subjects and keys. */
export * as wire from '../lib/wire/wire.js';
export { bucketOf, escapeSymbol, parseSubject, subjectOf, unescapeSymbol } from '../lib/wire/subjects.js';
