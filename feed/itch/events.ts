/**
 * The events of an ITCH message, for the event ring: trades (E C P Q), trading actions (H),
 * system events (S) and order events (A F X D U). Filled before the message is applied to the
 * books, while an executed, cancelled or deleted order is still there to give its price and side.
 * Prices here are in the feed's units (x10000); the venue converts them to the ring's scale.
 */
import { abi, type EventFields } from '../../native/segment/index.js';
import type { ItchBooks } from './books.js';
import { OFF, T } from './layout.js';
import type { ItchMessage } from './message.js';

const BUY = 0x42; // 'B'
const SELL = 0x53; // 'S'
const NOT_PRINTABLE = 0x4e; // 'N': an execution ITCH says is not to be printed
/** Order-event actions (mdfan_event_t.action for MDFAN_EVENT_KIND_ORDER). */
export const ORDER_ACTION = Object.freeze({ ADD: 0x41, CANCEL: 0x58, DELETE: 0x44, REPLACE: 0x55, REPLACED_BY: 0x4e }); // A X D U N

/**
 * Fills `e` with the event of `m` (and, for a replace, `second` with the new order) and returns
 * how many records the message makes: 0, 1, or 2 (a replace: the order that leaves, then the one
 * that takes its place). Instrument and flags are the venue's to set.
 */
export function itchEvent(m: ItchMessage, books: ItchBooks, e: EventFields, second: EventFields): number {
  const b = m.buf;
  const o = m.offset;
  e.orderRef = 0;
  e.side = 0;
  e.flags = 0;
  e.price = Number.NaN;
  e.size = 0;
  switch (m.type) {
    case T.ORDER_EXECUTED: // a displayed order executed at its own price
    case T.ORDER_EXECUTED_WITH_PRICE: {
      const row = books.orders.row(m.ref);
      e.kind = abi.EVENT_KIND_TRADE;
      e.action = m.type;
      e.orderRef = m.ref;
      e.size = m.shares;
      if (row >= 0) e.side = books.orders.sideOf(row) === 1 ? SELL : BUY; // the resting order's side
      if (m.type === T.ORDER_EXECUTED_WITH_PRICE) {
        e.price = m.price;
        if (b[o + OFF.printable] === NOT_PRINTABLE) e.flags = abi.EVENT_FLAG_NOT_PRINTABLE; // 'Y' printable, 'N' not
      } else if (row >= 0) e.price = books.orders.priceOf(row);
      return 1;
    }
    case T.TRADE: // a non-displayed order executed
      e.kind = abi.EVENT_KIND_TRADE;
      e.action = m.type;
      e.orderRef = m.ref;
      e.side = m.side;
      e.price = m.price;
      e.size = m.shares;
      return 1;
    case T.CROSS_TRADE:
      e.kind = abi.EVENT_KIND_TRADE;
      e.action = m.type;
      e.price = m.price;
      e.size = m.shares;
      e.side = b[o + 39]!; // a cross has no side: its type goes there (O opening, C closing, H halt or IPO, I intraday)
      return 1;
    case T.TRADING_ACTION:
      e.kind = abi.EVENT_KIND_STATUS;
      e.action = b[o + OFF.tradingState]; // H halted, P paused, Q quotation only, T trading
      return 1;
    case T.SYSTEM_EVENT:
      e.kind = abi.EVENT_KIND_SYSTEM;
      e.action = b[o + OFF.eventCode]; // O S Q M E C
      return 1;
    case T.ADD_ORDER:
    case T.ADD_ORDER_MPID:
      e.kind = abi.EVENT_KIND_ORDER;
      e.action = ORDER_ACTION.ADD;
      e.orderRef = m.ref;
      e.side = m.side;
      e.price = m.price;
      e.size = m.shares;
      return 1;
    case T.ORDER_CANCEL:
    case T.ORDER_DELETE: {
      const row = books.orders.row(m.ref);
      e.kind = abi.EVENT_KIND_ORDER;
      e.action = m.type === T.ORDER_CANCEL ? ORDER_ACTION.CANCEL : ORDER_ACTION.DELETE;
      e.orderRef = m.ref;
      if (row >= 0) {
        e.side = books.orders.sideOf(row) === 1 ? SELL : BUY;
        e.price = books.orders.priceOf(row);
        e.size = m.type === T.ORDER_CANCEL ? m.shares : books.orders.sharesOf(row);
      } else e.size = m.type === T.ORDER_CANCEL ? m.shares : 0;
      return 1;
    }
    case T.ORDER_REPLACE: {
      const row = books.orders.row(m.ref);
      const side = row >= 0 ? (books.orders.sideOf(row) === 1 ? SELL : BUY) : 0;
      e.kind = abi.EVENT_KIND_ORDER;
      e.action = ORDER_ACTION.REPLACE;
      e.orderRef = m.ref;
      e.side = side;
      e.price = row >= 0 ? books.orders.priceOf(row) : Number.NaN;
      e.size = row >= 0 ? books.orders.sharesOf(row) : 0;
      second.kind = abi.EVENT_KIND_ORDER;
      second.action = ORDER_ACTION.REPLACED_BY;
      second.orderRef = m.newRef;
      second.side = side;
      second.price = m.price;
      second.size = m.shares;
      second.flags = 0;
      return 2;
    }
    default:
      return 0;
  }
}
