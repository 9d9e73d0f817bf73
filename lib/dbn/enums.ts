/** DBN's constants (databento/dbn rust/dbn/src/enums.rs, flags.rs, lib.rs): one place, as DBN numbers them. */

/** Record flags (the `flags` byte of MBO and MBP records). A reader ignores bits it does not know. */
export const FLAG = Object.freeze({
  /** The last record of an event for its instrument: the book may be looked at after it. */
  LAST: 0x80,
  TOB: 0x40,
  /** Part of a snapshot (a replay from the start of a book), not an incremental change. */
  SNAPSHOT: 0x20,
  MBP: 0x10,
  BAD_TS_RECV: 0x08,
  /** The venue says the book may be wrong (an unrecoverable gap upstream). */
  MAYBE_BAD_BOOK: 0x04,
  PUBLISHER_SPECIFIC: 0x02,
});

/** No price: i64::MAX. As the two 32-bit words it is stored in (little-endian). */
export const UNDEF_PRICE = Object.freeze({ lo: 0xffffffff, hi: 0x7fffffff, text: '9223372036854775807' });
/** No time: u64::MAX (as a metadata `end`, "unbounded"). */
export const UNDEF_TIMESTAMP = 0xffffffffffffffffn;

/** Metadata `schema` (u16); 0xFFFF: several record types. */
export const SCHEMA = Object.freeze({
  MBO: 0,
  MBP_1: 1,
  MBP_10: 2,
  TBBO: 3,
  TRADES: 4,
  OHLCV_1S: 5,
  OHLCV_1M: 6,
  OHLCV_1H: 7,
  OHLCV_1D: 8,
  DEFINITION: 9,
  STATISTICS: 10,
  STATUS: 11,
  IMBALANCE: 12,
  OHLCV_EOD: 13,
  CMBP_1: 14,
  CBBO_1S: 15,
  CBBO_1M: 16,
  TCBBO: 17,
  BBO_1S: 18,
  BBO_1M: 19,
  /** The highest schema number DBN defines. */
  LAST: 19,
  MIXED: 0xffff,
});

/** Metadata `stype_in` / `stype_out` (u8); 0xFF: several (stype_in only). */
export const STYPE = Object.freeze({ INSTRUMENT_ID: 0, RAW_SYMBOL: 1, CONTINUOUS: 3, PARENT: 4, /** the highest DBN defines (figi_ticker) */ LAST: 12, MIXED: 0xff });

/** The `action` of MBO and MBP records (ASCII). */
export const ACTION = Object.freeze({ ADD: 0x41, CANCEL: 0x43, MODIFY: 0x4d, CLEAR: 0x52, TRADE: 0x54, FILL: 0x46, NONE: 0x4e });
/** The `side` of MBO and MBP records (ASCII): A ask (sell), B bid (buy), N none. */
export const SIDE = Object.freeze({ ASK: 0x41, BID: 0x42, NONE: 0x4e });

/** The oldest and newest DBN versions this code reads; it writes the newest. */
export const DBN_VERSIONS = Object.freeze({ oldest: 1, newest: 3 });
