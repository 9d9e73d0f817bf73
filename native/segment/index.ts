/**
 * mdfan's segment API: the TypeScript face of native/. The addon itself (binding.ts) is not part of
 * it: everything here validates its input and owns its errors.
 */
export * as abi from './abi.js';
export { SEGMENT_DEFAULTS } from './defaults.js';
export { ErrorCode, MdfanError, isMdfanError } from './errors.js';
export { SegmentWriter } from './writer.js';
export type { WriterOptions, OpenOutcome } from './writer.js';
export { SegmentReader } from './reader.js';
export { EventBatch, EventRecord, EventRingReader, EventRingWriter, eventsName, newEventFields } from './events.js';
export { eventKindOf, eventTypeOf, toMarketEvent } from './event-object.js';
export type { ClearEvent, EventCommon, EventSide, EventType, MarketEvent, OrderAction, OrderEvent, StatusEvent, SystemEvent, TradeEvent, UnknownEvent } from './event-object.js';
export type { EventFields, StartAt } from './events.js';
export type { AttachOptions, OpenOptions, WriterStatus } from './reader.js';
export { BookSnapshot, SlotWriter, readSlotJs, NATIVE_ORDERING_REQUIRED } from './seqlock.js';
export type { LevelSource } from './seqlock.js';
export { TopSnapshot, topsName } from './tops.js';
export { unlinkSegment, shmPath } from './mapping.js';
export { segmentObjects, unlinkSegmentObjects } from './objects.js';
export type { Instrument, InstrumentSpec } from './directory.js';
export { ITCH_SPEC, specOf } from './directory.js';
