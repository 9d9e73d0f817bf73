/**
 * An event record as a plain typed object: a discriminated union on `type` ('trade', 'status',
 * 'system', 'order', 'clear') that TypeScript narrows, with prices and sizes in currency and
 * instrument units beside the raw integers. It allocates one object per call: for logging,
 * tests and strategies that keep events; the hot path reads the reused EventRecord's getters.
 */
import * as abi from './abi.js';

/** The kind of an event, named: EventRecord.type, and the discriminant of MarketEvent. */
export type EventType = 'trade' | 'status' | 'system' | 'order' | 'clear' | 'unknown';

/** The side an event names: 'buy' for B (a bid, or a buyer), 'sell' for S, undefined when none. */
export type EventSide = 'buy' | 'sell' | undefined;

/** An order event's action: A add, X cancel (part of the size), D delete, U replace. */
export type OrderAction = 'add' | 'cancel' | 'delete' | 'replace' | 'unknown';

/** The ring's record kinds (ASCII letters in the ABI) by name. */
export const eventTypeOf = (kind: number): EventType => {
  switch (kind) {
    case abi.EVENT_KIND_TRADE:
      return 'trade';
    case abi.EVENT_KIND_STATUS:
      return 'status';
    case abi.EVENT_KIND_SYSTEM:
      return 'system';
    case abi.EVENT_KIND_ORDER:
      return 'order';
    case abi.EVENT_KIND_CLEAR:
      return 'clear';
    default:
      return 'unknown';
  }
};

const KIND_BY_TYPE: Readonly<Record<Exclude<EventType, 'unknown'>, number>> = Object.freeze({
  trade: abi.EVENT_KIND_TRADE,
  status: abi.EVENT_KIND_STATUS,
  system: abi.EVENT_KIND_SYSTEM,
  order: abi.EVENT_KIND_ORDER,
  clear: abi.EVENT_KIND_CLEAR,
});

/** A kind filter's entry (a name, or the ABI's letter code) as the letter code; undefined for an unknown name. */
export const eventKindOf = (k: Exclude<EventType, 'unknown'> | number): number | undefined => (typeof k === 'number' ? k : KIND_BY_TYPE[k]);

/** The side byte ('B', 'S' or 0) named. */
export const eventSideOf = (side: number): EventSide => (side === 0x42 ? 'buy' : side === 0x53 ? 'sell' : undefined);

const ORDER_ACTIONS: Readonly<Record<number, OrderAction>> = Object.freeze({ 65: 'add', 88: 'cancel', 68: 'delete', 85: 'replace' }); // A X D U

/** The fields every event has. */
export interface EventCommon {
  /** The ring's sequence number of this record (1-based, counts every record of the generation). */
  readonly seq: number;
  /** The instrument's slot, undefined for an event of no instrument (a system event). */
  readonly instrumentIndex: number | undefined;
  /** The 0-based index of the input message that produced it. */
  readonly msgIndex: number;
  readonly exchangeTsNs: number;
  readonly publishTsNs: number;
  /** The venue's action letter, as it sent it (a trade's E C P Q, a trading state's H P Q T, ...). */
  readonly action: string;
  /** The last record of its input message. */
  readonly last: boolean;
  /** Input was lost and not recovered before it: books may be wrong. */
  readonly badBook: boolean;
}

export interface TradeEvent extends EventCommon {
  readonly type: 'trade';
  /** In currency units; undefined when the venue gave no price. */
  readonly px: number | undefined;
  /** In the instrument's units. */
  readonly qty: number;
  /** Raw: 1e-9 of the currency unit (MDFAN_EVENT_PRICE_SCALE); undefined when none. */
  readonly price: number | undefined;
  /** Raw: 10^-sizeDecimals of the instrument's unit. */
  readonly size: number;
  /** The side the venue names: for ITCH the resting order's, for Binance and DBN the aggressor's. */
  readonly side: EventSide;
  /** False for a trade the venue marks non-printable (not in volume or last-sale figures). */
  readonly printable: boolean;
  /** The venue's trade id or matched order reference, 0 if none. */
  readonly ref: number;
}

export interface StatusEvent extends EventCommon {
  readonly type: 'status';
}

export interface SystemEvent extends EventCommon {
  readonly type: 'system';
}

export interface OrderEvent extends EventCommon {
  readonly type: 'order';
  readonly orderAction: OrderAction;
  readonly side: EventSide;
  readonly px: number | undefined;
  readonly qty: number;
  readonly price: number | undefined;
  readonly size: number;
  readonly orderRef: number;
}

/** The first record of a ring a takeover started: drop what earlier events built. */
export interface ClearEvent extends EventCommon {
  readonly type: 'clear';
  readonly generation: number;
}

/** A kind this reader does not know (a newer writer's): its letter. */
export interface UnknownEvent extends EventCommon {
  readonly type: 'unknown';
  readonly kind: string;
}

export type MarketEvent = TradeEvent | StatusEvent | SystemEvent | OrderEvent | ClearEvent | UnknownEvent;

/** What toMarketEvent reads: an EventRecord's getters. */
export interface RecordView {
  readonly seq: number;
  readonly kind: number;
  readonly action: number;
  readonly side: number;
  readonly flags: number;
  readonly instrumentIndex: number;
  readonly msgIndex: number;
  readonly exchangeTsNs: number;
  readonly publishTsNs: number;
  readonly hasPrice: boolean;
  readonly price: number;
  readonly orderRef: number;
  readonly size: number;
  readonly sizeScale: number;
}

const letter = (c: number): string => (c === 0 ? '' : String.fromCharCode(c));

/** The record as a new plain object (see the top of this file). */
export function toMarketEvent(r: RecordView): MarketEvent {
  const common: EventCommon = {
    seq: r.seq,
    instrumentIndex: r.instrumentIndex === abi.EVENT_NO_INSTRUMENT ? undefined : r.instrumentIndex,
    msgIndex: r.msgIndex,
    exchangeTsNs: r.exchangeTsNs,
    publishTsNs: r.publishTsNs,
    action: letter(r.action),
    last: (r.flags & abi.EVENT_FLAG_LAST) !== 0,
    badBook: (r.flags & abi.EVENT_FLAG_BAD_BOOK) !== 0,
  };
  const price = r.hasPrice ? r.price : undefined;
  const px = price === undefined ? undefined : price / abi.EVENT_PRICE_SCALE;
  const qty = r.size / r.sizeScale;
  const type = eventTypeOf(r.kind);
  switch (type) {
    case 'trade':
      return { ...common, type, px, qty, price, size: r.size, side: eventSideOf(r.side), printable: (r.flags & abi.EVENT_FLAG_NOT_PRINTABLE) === 0, ref: r.orderRef };
    case 'order':
      return { ...common, type, orderAction: ORDER_ACTIONS[r.action] ?? 'unknown', side: eventSideOf(r.side), px, qty, price, size: r.size, orderRef: r.orderRef };
    case 'clear':
      return { ...common, type, generation: r.orderRef };
    case 'unknown':
      return { ...common, type, kind: letter(r.kind) };
    default:
      return { ...common, type };
  }
}
