/**
 * Every field of every ITCH 5.0 message type, by name, for cold paths (tools, tests, logs):
 * `describe(msg)` returns a plain object. The hot path (message.ts) decodes only what the books
 * need. Each type's fields tile its fixed length exactly (checked by the tests).
 */
import type { ItchMessage } from './message.js';
import { T, typeName } from './layout.js';

type Kind = 'c' | 'u16' | 'u32' | 'u48' | 'u64' | `a${number}`;
export type FieldSpec = [name: string, offset: number, kind: Kind];

const HEAD: FieldSpec[] = [
  ['type', 0, 'c'],
  ['stockLocate', 1, 'u16'],
  ['trackingNumber', 3, 'u16'],
  ['timestamp', 5, 'u48'],
];
const f = (...rest: FieldSpec[]): FieldSpec[] => [...HEAD, ...rest];

export const FIELDS: Record<number, FieldSpec[]> = {
  [T.SYSTEM_EVENT]: f(['eventCode', 11, 'c']),
  [T.STOCK_DIRECTORY]: f(
    ['stock', 11, 'a8'],
    ['marketCategory', 19, 'c'],
    ['financialStatusIndicator', 20, 'c'],
    ['roundLotSize', 21, 'u32'],
    ['roundLotsOnly', 25, 'c'],
    ['issueClassification', 26, 'c'],
    ['issueSubType', 27, 'a2'],
    ['authenticity', 29, 'c'],
    ['shortSaleThresholdIndicator', 30, 'c'],
    ['ipoFlag', 31, 'c'],
    ['luldReferencePriceTier', 32, 'c'],
    ['etpFlag', 33, 'c'],
    ['etpLeverageFactor', 34, 'u32'],
    ['inverseIndicator', 38, 'c'],
  ),
  [T.TRADING_ACTION]: f(['stock', 11, 'a8'], ['tradingState', 19, 'c'], ['reserved', 20, 'c'], ['reason', 21, 'a4']),
  [T.REG_SHO]: f(['stock', 11, 'a8'], ['regSHOAction', 19, 'c']),
  [T.MARKET_PARTICIPANT_POSITION]: f(['mpid', 11, 'a4'], ['stock', 15, 'a8'], ['primaryMarketMaker', 23, 'c'], ['marketMakerMode', 24, 'c'], ['marketParticipantState', 25, 'c']),
  [T.MWCB_DECLINE_LEVEL]: f(['level1', 11, 'u64'], ['level2', 19, 'u64'], ['level3', 27, 'u64']),
  [T.MWCB_STATUS]: f(['breachedLevel', 11, 'c']),
  [T.IPO_QUOTING_PERIOD]: f(['stock', 11, 'a8'], ['ipoQuotationReleaseTime', 19, 'u32'], ['ipoQuotationReleaseQualifier', 23, 'c'], ['ipoPrice', 24, 'u32']),
  [T.LULD_AUCTION_COLLAR]: f(['stock', 11, 'a8'], ['auctionCollarReferencePrice', 19, 'u32'], ['upperAuctionCollarPrice', 23, 'u32'], ['lowerAuctionCollarPrice', 27, 'u32'], ['auctionCollarExtension', 31, 'u32']),
  [T.OPERATIONAL_HALT]: f(['stock', 11, 'a8'], ['marketCode', 19, 'c'], ['operationalHaltAction', 20, 'c']),
  [T.ADD_ORDER]: f(['orderReferenceNumber', 11, 'u64'], ['buySellIndicator', 19, 'c'], ['shares', 20, 'u32'], ['stock', 24, 'a8'], ['price', 32, 'u32']),
  [T.ADD_ORDER_MPID]: f(['orderReferenceNumber', 11, 'u64'], ['buySellIndicator', 19, 'c'], ['shares', 20, 'u32'], ['stock', 24, 'a8'], ['price', 32, 'u32'], ['attribution', 36, 'a4']),
  [T.ORDER_EXECUTED]: f(['orderReferenceNumber', 11, 'u64'], ['executedShares', 19, 'u32'], ['matchNumber', 23, 'u64']),
  [T.ORDER_EXECUTED_WITH_PRICE]: f(['orderReferenceNumber', 11, 'u64'], ['executedShares', 19, 'u32'], ['matchNumber', 23, 'u64'], ['printable', 31, 'c'], ['executionPrice', 32, 'u32']),
  [T.ORDER_CANCEL]: f(['orderReferenceNumber', 11, 'u64'], ['cancelledShares', 19, 'u32']),
  [T.ORDER_DELETE]: f(['orderReferenceNumber', 11, 'u64']),
  [T.ORDER_REPLACE]: f(['originalOrderReferenceNumber', 11, 'u64'], ['newOrderReferenceNumber', 19, 'u64'], ['shares', 27, 'u32'], ['price', 31, 'u32']),
  [T.TRADE]: f(['orderReferenceNumber', 11, 'u64'], ['buySellIndicator', 19, 'c'], ['shares', 20, 'u32'], ['stock', 24, 'a8'], ['price', 32, 'u32'], ['matchNumber', 36, 'u64']),
  [T.CROSS_TRADE]: f(['shares', 11, 'u64'], ['stock', 19, 'a8'], ['crossPrice', 27, 'u32'], ['matchNumber', 31, 'u64'], ['crossType', 39, 'c']),
  [T.BROKEN_TRADE]: f(['matchNumber', 11, 'u64']),
  [T.NOII]: f(
    ['pairedShares', 11, 'u64'],
    ['imbalanceShares', 19, 'u64'],
    ['imbalanceDirection', 27, 'c'],
    ['stock', 28, 'a8'],
    ['farPrice', 36, 'u32'],
    ['nearPrice', 40, 'u32'],
    ['currentReferencePrice', 44, 'u32'],
    ['crossType', 48, 'c'],
    ['priceVariationIndicator', 49, 'c'],
  ),
  [T.RPII]: f(['stock', 11, 'a8'], ['interestFlag', 19, 'c']),
  [T.DIRECT_LISTING_PRICE_DISCOVERY]: f(
    ['stock', 11, 'a8'],
    ['openEligibilityStatus', 19, 'c'],
    ['minimumAllowablePrice', 20, 'u32'],
    ['maximumAllowablePrice', 24, 'u32'],
    ['nearExecutionPrice', 28, 'u32'],
    ['nearExecutionTime', 32, 'u64'],
    ['lowerPriceRangeCollar', 40, 'u32'],
    ['upperPriceRangeCollar', 44, 'u32'],
  ),
};

export const kindBytes = (k: Kind): number => (k === 'c' ? 1 : k === 'u16' ? 2 : k === 'u32' ? 4 : k === 'u48' ? 6 : k === 'u64' ? 8 : Number(k.slice(1)));

/** All fields of the decoded message `m` by name (strings for alpha fields, numbers otherwise). */
export function describe(m: ItchMessage): Record<string, string | number> {
  const spec = FIELDS[m.type];
  if (!spec) return { type: typeName(m.type), unknown: 1 };
  const out: Record<string, string | number> = {};
  for (const [name, at, kind] of spec) {
    if (kind === 'c') out[name] = String.fromCharCode(m.u8(at));
    else if (kind === 'u16') out[name] = m.u16(at);
    else if (kind === 'u32') out[name] = m.u32(at);
    else if (kind === 'u48') out[name] = m.u16(at) * 4294967296 + m.u32(at + 2);
    else if (kind === 'u64') out[name] = m.u64(at);
    else out[name] = m.text(at, kindBytes(kind));
  }
  return out;
}
