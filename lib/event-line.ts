/**
 * The one text form of an event, for `mdfan read --record-events` (a contract: the event oracle
 * of the recorded GOOG day is in this format). One line per event, in ring order:
 *   trade            msgIndex,SYMBOL,T,price,shares,KIND     KIND: E C P Q (C only when printable)
 *   trading action   msgIndex,SYMBOL,H,STATE                 STATE: H P Q T (ITCH); DBN: its status
 *                                                           action as a number (7 trading, 8 halt, ...)
 *   system event     msgIndex,,S,CODE                        CODE: ITCH's event code (O S Q M E C)
 *   order event      msgIndex,SYMBOL,O,ACTION,SIDE,price,shares,ref   ACTION: A X D U N (N: the
 *                    order that replaced the U just before it)
 *   new generation   0,,R,G                                  the first record after a takeover: drop
 *                                                           what earlier events built
 *   lost             LAPPED,N                                N events lost where the line stands
 * Prices in the feed's units (ITCH x10000), empty when the event has none.
 */
import { abi, type EventRecord } from '../native/segment/index.js';

/** --kinds names, and the record kind each selects. */
export const EVENT_KIND_NAMES: Readonly<Record<string, number>> = Object.freeze({
  trade: abi.EVENT_KIND_TRADE,
  status: abi.EVENT_KIND_STATUS,
  order: abi.EVENT_KIND_ORDER,
  system: abi.EVENT_KIND_SYSTEM,
});

const letter = (c: number): string => (c === 0 ? '' : String.fromCharCode(c));
/** A venue's letter as itself; a numeric code (DBN's status actions) as its number. */
const code = (c: number): string => (c > 0x20 && c < 0x7f ? String.fromCharCode(c) : String(c));

/** The record's price in the feed's units (priceScale: the instrument's, from the directory); '' if none. */
function feedPrice(rec: EventRecord, priceScale: number): string {
  if (!rec.hasPrice) return '';
  return String(Math.round((rec.price * priceScale) / abi.EVENT_PRICE_SCALE));
}

/** A trade to show and count: every trade event but a C execution marked non-printable. */
export const isPrintableTrade = (rec: EventRecord): boolean => rec.kind === abi.EVENT_KIND_TRADE && (rec.flags & abi.EVENT_FLAG_NOT_PRINTABLE) === 0;

/** The line of one event, or null for one the format leaves out (a non-printable C execution). */
export function formatEventLine(rec: EventRecord, symbol: string, priceScale: number): string | null {
  const head = `${rec.msgIndex},${symbol}`;
  switch (rec.kind) {
    case abi.EVENT_KIND_TRADE:
      if (!isPrintableTrade(rec)) return null;
      return `${head},T,${feedPrice(rec, priceScale)},${rec.size},${letter(rec.action)}`;
    case abi.EVENT_KIND_STATUS:
      return `${head},H,${code(rec.action)}`;
    case abi.EVENT_KIND_SYSTEM:
      return `${rec.msgIndex},,S,${letter(rec.action)}`;
    case abi.EVENT_KIND_ORDER:
      return `${head},O,${letter(rec.action)},${letter(rec.side)},${feedPrice(rec, priceScale)},${rec.size},${rec.orderRef}`;
    default:
      return `${head},${letter(rec.kind)},${letter(rec.action)}`;
  }
}

export const lappedLine = (lost: number): string => `LAPPED,${lost}`;
