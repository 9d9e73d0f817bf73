/**
 * Nasdaq TotalView-ITCH 5.0: every message type, its fixed length, and its field offsets.
 * All messages start with: type (1) @0, stock locate (u16) @1, tracking number (u16) @3,
 * timestamp (u48, ns since midnight) @5. Integers are big-endian; prices are u32 with 4 implied
 * decimals (Price(4)) except MWCB levels, u64 with 8 (Price(8)).
 */

export const T = {
  SYSTEM_EVENT: 0x53, // S
  STOCK_DIRECTORY: 0x52, // R
  TRADING_ACTION: 0x48, // H
  REG_SHO: 0x59, // Y
  MARKET_PARTICIPANT_POSITION: 0x4c, // L
  MWCB_DECLINE_LEVEL: 0x56, // V
  MWCB_STATUS: 0x57, // W
  IPO_QUOTING_PERIOD: 0x4b, // K
  LULD_AUCTION_COLLAR: 0x4a, // J
  OPERATIONAL_HALT: 0x68, // h
  ADD_ORDER: 0x41, // A
  ADD_ORDER_MPID: 0x46, // F
  ORDER_EXECUTED: 0x45, // E
  ORDER_EXECUTED_WITH_PRICE: 0x43, // C
  ORDER_CANCEL: 0x58, // X
  ORDER_DELETE: 0x44, // D
  ORDER_REPLACE: 0x55, // U
  TRADE: 0x50, // P
  CROSS_TRADE: 0x51, // Q
  BROKEN_TRADE: 0x42, // B
  NOII: 0x49, // I
  RPII: 0x4e, // N
  DIRECT_LISTING_PRICE_DISCOVERY: 0x4f, // O
} as const;

/** Fixed length of each type, indexed by the type byte (0: unknown type). */
export const LENGTH = new Uint8Array(256);
const lengths: Array<[number, number]> = [
  [T.SYSTEM_EVENT, 12],
  [T.STOCK_DIRECTORY, 39],
  [T.TRADING_ACTION, 25],
  [T.REG_SHO, 20],
  [T.MARKET_PARTICIPANT_POSITION, 26],
  [T.MWCB_DECLINE_LEVEL, 35],
  [T.MWCB_STATUS, 12],
  [T.IPO_QUOTING_PERIOD, 28],
  [T.LULD_AUCTION_COLLAR, 35],
  [T.OPERATIONAL_HALT, 21],
  [T.ADD_ORDER, 36],
  [T.ADD_ORDER_MPID, 40],
  [T.ORDER_EXECUTED, 31],
  [T.ORDER_EXECUTED_WITH_PRICE, 36],
  [T.ORDER_CANCEL, 23],
  [T.ORDER_DELETE, 19],
  [T.ORDER_REPLACE, 35],
  [T.TRADE, 44],
  [T.CROSS_TRADE, 40],
  [T.BROKEN_TRADE, 19],
  [T.NOII, 50],
  [T.RPII, 20],
  [T.DIRECT_LISTING_PRICE_DISCOVERY, 48],
];
for (const [t, n] of lengths) LENGTH[t] = n;
export const TYPE_CODES = lengths.map(([t]) => t);

export const typeName = (t: number): string => String.fromCharCode(t);

/** Field offsets (bytes from the start of the message) used by the decoder. */
export const OFF = {
  locate: 1,
  tracking: 3,
  timestamp: 5,
  // S
  eventCode: 11,
  // R, H, Y, h, K, J, N, O: stock @11 (8 bytes, space padded)
  stock: 11,
  // R
  marketCategory: 19,
  financialStatus: 20,
  roundLotSize: 21,
  // H
  tradingState: 19,
  haltReason: 21,
  // A, F, E, C, X, D, P: order reference @11
  ref: 11,
  side: 19, // A F P
  addShares: 20, // A F P
  addStock: 24, // A F P
  addPrice: 32, // A F P
  attribution: 36, // F
  execShares: 19, // E C; X: cancelled shares
  matchNumber: 23, // E C
  printable: 31, // C
  execPrice: 32, // C
  tradeMatch: 36, // P
  // U
  newRef: 19,
  replaceShares: 27,
  replacePrice: 31,
} as const;
