/**
 * DBN (Databento Binary Encoding) record layouts, versions 1 to 3: every record type's fields in
 * declaration order, as databento/dbn declares its `repr(C)` structs (rust/dbn/src/record.rs and
 * compat.rs). Offsets and sizes are computed here by C's layout rules (each field at a multiple of
 * its alignment, the record a multiple of the largest), never written by hand, and checked against
 * the sizes DBN documents (RECORD_BYTES below) when this module loads. Everything that reads or
 * writes a DBN record takes its offsets from here: the feed's decoder, the recorder, the tests.
 */

/** A field's type: integers, a C char, a fixed C string of N bytes, N reserved bytes, N book levels. */
export type FieldType = 'u8' | 'i8' | 'u16' | 'i16' | 'u32' | 'i32' | 'u64' | 'i64' | 'char' | 'hd' | `cstr${number}` | `reserved${number}` | `levels${number}` | `clevels${number}`;

/** The structs, field by field ('hd': the 16-byte record header). */
const STRUCTS = {
  MboMsg: [['hd', 'hd'], ['order_id', 'u64'], ['price', 'i64'], ['size', 'u32'], ['flags', 'u8'], ['channel_id', 'u8'], ['action', 'char'], ['side', 'char'], ['ts_recv', 'u64'], ['ts_in_delta', 'i32'], ['sequence', 'u32']],
  TradeMsg: [['hd', 'hd'], ['price', 'i64'], ['size', 'u32'], ['action', 'char'], ['side', 'char'], ['flags', 'u8'], ['depth', 'u8'], ['ts_recv', 'u64'], ['ts_in_delta', 'i32'], ['sequence', 'u32']],
  Mbp1Msg: [['hd', 'hd'], ['price', 'i64'], ['size', 'u32'], ['action', 'char'], ['side', 'char'], ['flags', 'u8'], ['depth', 'u8'], ['ts_recv', 'u64'], ['ts_in_delta', 'i32'], ['sequence', 'u32'], ['levels', 'levels1']],
  Mbp10Msg: [['hd', 'hd'], ['price', 'i64'], ['size', 'u32'], ['action', 'char'], ['side', 'char'], ['flags', 'u8'], ['depth', 'u8'], ['ts_recv', 'u64'], ['ts_in_delta', 'i32'], ['sequence', 'u32'], ['levels', 'levels10']],
  BboMsg: [['hd', 'hd'], ['price', 'i64'], ['size', 'u32'], ['_reserved1', 'u8'], ['side', 'char'], ['flags', 'u8'], ['_reserved2', 'u8'], ['ts_recv', 'u64'], ['_reserved3', 'reserved4'], ['sequence', 'u32'], ['levels', 'levels1']],
  Cmbp1Msg: [['hd', 'hd'], ['price', 'i64'], ['size', 'u32'], ['action', 'char'], ['side', 'char'], ['flags', 'u8'], ['_reserved1', 'reserved1'], ['ts_recv', 'u64'], ['ts_in_delta', 'i32'], ['_reserved2', 'reserved4'], ['levels', 'clevels1']],
  CbboMsg: [['hd', 'hd'], ['price', 'i64'], ['size', 'u32'], ['_reserved1', 'u8'], ['side', 'char'], ['flags', 'u8'], ['_reserved2', 'u8'], ['ts_recv', 'u64'], ['_reserved3', 'reserved8'], ['levels', 'clevels1']],
  OhlcvMsg: [['hd', 'hd'], ['open', 'i64'], ['high', 'i64'], ['low', 'i64'], ['close', 'i64'], ['volume', 'u64']],
  StatusMsg: [['hd', 'hd'], ['ts_recv', 'u64'], ['action', 'u16'], ['reason', 'u16'], ['trading_event', 'u16'], ['is_trading', 'char'], ['is_quoting', 'char'], ['is_short_sell_restricted', 'char'], ['_reserved', 'reserved7']],
  InstrumentDefMsg: [['hd', 'hd'], ['ts_recv', 'u64'], ['min_price_increment', 'i64'], ['display_factor', 'i64'], ['expiration', 'u64'], ['activation', 'u64'], ['high_limit_price', 'i64'], ['low_limit_price', 'i64'], ['max_price_variation', 'i64'], ['unit_of_measure_qty', 'i64'], ['min_price_increment_amount', 'i64'], ['price_ratio', 'i64'], ['strike_price', 'i64'], ['raw_instrument_id', 'u64'], ['leg_price', 'i64'], ['leg_delta', 'i64'], ['inst_attrib_value', 'i32'], ['underlying_id', 'u32'], ['market_depth_implied', 'i32'], ['market_depth', 'i32'], ['market_segment_id', 'u32'], ['max_trade_vol', 'u32'], ['min_lot_size', 'i32'], ['min_lot_size_block', 'i32'], ['min_lot_size_round_lot', 'i32'], ['min_trade_vol', 'u32'], ['contract_multiplier', 'i32'], ['decay_quantity', 'i32'], ['original_contract_size', 'i32'], ['leg_instrument_id', 'u32'], ['leg_ratio_price_numerator', 'i32'], ['leg_ratio_price_denominator', 'i32'], ['leg_ratio_qty_numerator', 'i32'], ['leg_ratio_qty_denominator', 'i32'], ['leg_underlying_id', 'u32'], ['appl_id', 'i16'], ['maturity_year', 'u16'], ['decay_start_date', 'u16'], ['channel_id', 'u16'], ['leg_count', 'u16'], ['leg_index', 'u16'], ['currency', 'cstr4'], ['settl_currency', 'cstr4'], ['secsubtype', 'cstr6'], ['raw_symbol', 'cstr71'], ['group', 'cstr21'], ['exchange', 'cstr5'], ['asset', 'cstr11'], ['cfi', 'cstr7'], ['security_type', 'cstr7'], ['unit_of_measure', 'cstr31'], ['underlying', 'cstr21'], ['strike_price_currency', 'cstr4'], ['leg_raw_symbol', 'cstr71'], ['instrument_class', 'char'], ['match_algorithm', 'char'], ['main_fraction', 'u8'], ['price_display_format', 'u8'], ['sub_fraction', 'u8'], ['underlying_product', 'u8'], ['security_update_action', 'char'], ['maturity_month', 'u8'], ['maturity_day', 'u8'], ['maturity_week', 'u8'], ['user_defined_instrument', 'char'], ['contract_multiplier_unit', 'i8'], ['flow_schedule_type', 'i8'], ['tick_rule', 'u8'], ['leg_instrument_class', 'char'], ['leg_side', 'char'], ['_reserved', 'reserved17']],
  InstrumentDefMsgV1: [['hd', 'hd'], ['ts_recv', 'u64'], ['min_price_increment', 'i64'], ['display_factor', 'i64'], ['expiration', 'u64'], ['activation', 'u64'], ['high_limit_price', 'i64'], ['low_limit_price', 'i64'], ['max_price_variation', 'i64'], ['trading_reference_price', 'i64'], ['unit_of_measure_qty', 'i64'], ['min_price_increment_amount', 'i64'], ['price_ratio', 'i64'], ['inst_attrib_value', 'i32'], ['underlying_id', 'u32'], ['raw_instrument_id', 'u32'], ['market_depth_implied', 'i32'], ['market_depth', 'i32'], ['market_segment_id', 'u32'], ['max_trade_vol', 'u32'], ['min_lot_size', 'i32'], ['min_lot_size_block', 'i32'], ['min_lot_size_round_lot', 'i32'], ['min_trade_vol', 'u32'], ['_reserved2', 'reserved4'], ['contract_multiplier', 'i32'], ['decay_quantity', 'i32'], ['original_contract_size', 'i32'], ['_reserved3', 'reserved4'], ['trading_reference_date', 'u16'], ['appl_id', 'i16'], ['maturity_year', 'u16'], ['decay_start_date', 'u16'], ['channel_id', 'u16'], ['currency', 'cstr4'], ['settl_currency', 'cstr4'], ['secsubtype', 'cstr6'], ['raw_symbol', 'cstr22'], ['group', 'cstr21'], ['exchange', 'cstr5'], ['asset', 'cstr7'], ['cfi', 'cstr7'], ['security_type', 'cstr7'], ['unit_of_measure', 'cstr31'], ['underlying', 'cstr21'], ['strike_price_currency', 'cstr4'], ['instrument_class', 'char'], ['_reserved4', 'reserved2'], ['strike_price', 'i64'], ['_reserved5', 'reserved6'], ['match_algorithm', 'char'], ['md_security_trading_status', 'u8'], ['main_fraction', 'u8'], ['price_display_format', 'u8'], ['settl_price_type', 'u8'], ['sub_fraction', 'u8'], ['underlying_product', 'u8'], ['security_update_action', 'char'], ['maturity_month', 'u8'], ['maturity_day', 'u8'], ['maturity_week', 'u8'], ['user_defined_instrument', 'char'], ['contract_multiplier_unit', 'i8'], ['flow_schedule_type', 'i8'], ['tick_rule', 'u8'], ['_dummy', 'reserved3']],
  InstrumentDefMsgV2: [['hd', 'hd'], ['ts_recv', 'u64'], ['min_price_increment', 'i64'], ['display_factor', 'i64'], ['expiration', 'u64'], ['activation', 'u64'], ['high_limit_price', 'i64'], ['low_limit_price', 'i64'], ['max_price_variation', 'i64'], ['trading_reference_price', 'i64'], ['unit_of_measure_qty', 'i64'], ['min_price_increment_amount', 'i64'], ['price_ratio', 'i64'], ['strike_price', 'i64'], ['inst_attrib_value', 'i32'], ['underlying_id', 'u32'], ['raw_instrument_id', 'u32'], ['market_depth_implied', 'i32'], ['market_depth', 'i32'], ['market_segment_id', 'u32'], ['max_trade_vol', 'u32'], ['min_lot_size', 'i32'], ['min_lot_size_block', 'i32'], ['min_lot_size_round_lot', 'i32'], ['min_trade_vol', 'u32'], ['contract_multiplier', 'i32'], ['decay_quantity', 'i32'], ['original_contract_size', 'i32'], ['trading_reference_date', 'u16'], ['appl_id', 'i16'], ['maturity_year', 'u16'], ['decay_start_date', 'u16'], ['channel_id', 'u16'], ['currency', 'cstr4'], ['settl_currency', 'cstr4'], ['secsubtype', 'cstr6'], ['raw_symbol', 'cstr71'], ['group', 'cstr21'], ['exchange', 'cstr5'], ['asset', 'cstr7'], ['cfi', 'cstr7'], ['security_type', 'cstr7'], ['unit_of_measure', 'cstr31'], ['underlying', 'cstr21'], ['strike_price_currency', 'cstr4'], ['instrument_class', 'char'], ['match_algorithm', 'char'], ['md_security_trading_status', 'u8'], ['main_fraction', 'u8'], ['price_display_format', 'u8'], ['settl_price_type', 'u8'], ['sub_fraction', 'u8'], ['underlying_product', 'u8'], ['security_update_action', 'char'], ['maturity_month', 'u8'], ['maturity_day', 'u8'], ['maturity_week', 'u8'], ['user_defined_instrument', 'char'], ['contract_multiplier_unit', 'i8'], ['flow_schedule_type', 'i8'], ['tick_rule', 'u8'], ['_reserved', 'reserved10']],
  ImbalanceMsg: [['hd', 'hd'], ['ts_recv', 'u64'], ['ref_price', 'i64'], ['auction_time', 'u64'], ['cont_book_clr_price', 'i64'], ['auct_interest_clr_price', 'i64'], ['ssr_filling_price', 'i64'], ['ind_match_price', 'i64'], ['upper_collar', 'i64'], ['lower_collar', 'i64'], ['paired_qty', 'u32'], ['total_imbalance_qty', 'u32'], ['market_imbalance_qty', 'u32'], ['unpaired_qty', 'u32'], ['auction_type', 'char'], ['side', 'char'], ['auction_status', 'u8'], ['freeze_status', 'u8'], ['num_extensions', 'u8'], ['unpaired_side', 'char'], ['significant_imbalance', 'char'], ['_reserved', 'reserved1']],
  StatMsg: [['hd', 'hd'], ['ts_recv', 'u64'], ['ts_ref', 'u64'], ['price', 'i64'], ['quantity', 'i64'], ['sequence', 'u32'], ['ts_in_delta', 'i32'], ['stat_type', 'u16'], ['channel_id', 'u16'], ['update_action', 'u8'], ['stat_flags', 'u8'], ['_reserved', 'reserved18']],
  StatMsgV1: [['hd', 'hd'], ['ts_recv', 'u64'], ['ts_ref', 'u64'], ['price', 'i64'], ['quantity', 'i32'], ['sequence', 'u32'], ['ts_in_delta', 'i32'], ['stat_type', 'u16'], ['channel_id', 'u16'], ['update_action', 'u8'], ['stat_flags', 'u8'], ['_reserved', 'reserved6']],
  ErrorMsg: [['hd', 'hd'], ['err', 'cstr302'], ['code', 'u8'], ['is_last', 'u8']],
  ErrorMsgV1: [['hd', 'hd'], ['err', 'cstr64']],
  SymbolMappingMsg: [['hd', 'hd'], ['stype_in', 'u8'], ['stype_in_symbol', 'cstr71'], ['stype_out', 'u8'], ['stype_out_symbol', 'cstr71'], ['start_ts', 'u64'], ['end_ts', 'u64']],
  SymbolMappingMsgV1: [['hd', 'hd'], ['stype_in_symbol', 'cstr22'], ['stype_out_symbol', 'cstr22'], ['_dummy', 'reserved4'], ['start_ts', 'u64'], ['end_ts', 'u64']],
  SystemMsg: [['hd', 'hd'], ['msg', 'cstr303'], ['code', 'u8']],
  SystemMsgV1: [['hd', 'hd'], ['msg', 'cstr64']],
  BidAskPair: [['bid_px', 'i64'], ['ask_px', 'i64'], ['bid_sz', 'u32'], ['ask_sz', 'u32'], ['bid_ct', 'u32'], ['ask_ct', 'u32']],
  ConsolidatedBidAskPair: [['bid_px', 'i64'], ['ask_px', 'i64'], ['bid_sz', 'u32'], ['ask_sz', 'u32'], ['bid_pb', 'u16'], ['_reserved1', 'reserved2'], ['ask_pb', 'u16'], ['_reserved2', 'reserved2']],
} as const satisfies Record<string, ReadonlyArray<readonly [string, FieldType]>>;

export type StructName = keyof typeof STRUCTS;

/** The record header every record starts with: `length` counts the record in 4-byte words. */
export const HEADER = Object.freeze({ length: 0, rtype: 1, publisherId: 2, instrumentId: 4, tsEvent: 8, bytes: 16 });
/** Record lengths are in words of this many bytes. */
export const LENGTH_UNIT_BYTES = 4;

/** Record types (rtype, header byte 1). */
export const RTYPE = Object.freeze({
  MBP_0: 0x00,
  MBP_1: 0x01,
  MBP_10: 0x0a,
  OHLCV_DEPRECATED: 0x11,
  STATUS: 0x12,
  INSTRUMENT_DEF: 0x13,
  IMBALANCE: 0x14,
  ERROR: 0x15,
  SYMBOL_MAPPING: 0x16,
  SYSTEM: 0x17,
  STATISTICS: 0x18,
  OHLCV_1S: 0x20,
  OHLCV_1M: 0x21,
  OHLCV_1H: 0x22,
  OHLCV_1D: 0x23,
  OHLCV_EOD: 0x24,
  MBO: 0xa0,
  CMBP_1: 0xb1,
  CBBO_1S: 0xc0,
  CBBO_1M: 0xc1,
  TCBBO: 0xc2,
  BBO_1S: 0xc3,
  BBO_1M: 0xc4,
});

/** The struct of each record type in each version (1, 2, 3); the ones that changed name three. */
const STRUCT_OF: Readonly<Record<number, readonly [StructName, StructName, StructName]>> = (() => {
  const all = (s: StructName): readonly [StructName, StructName, StructName] => [s, s, s];
  const R = RTYPE;
  return {
    [R.MBP_0]: all('TradeMsg'),
    [R.MBP_1]: all('Mbp1Msg'),
    [R.MBP_10]: all('Mbp10Msg'),
    [R.OHLCV_DEPRECATED]: all('OhlcvMsg'),
    [R.OHLCV_1S]: all('OhlcvMsg'),
    [R.OHLCV_1M]: all('OhlcvMsg'),
    [R.OHLCV_1H]: all('OhlcvMsg'),
    [R.OHLCV_1D]: all('OhlcvMsg'),
    [R.OHLCV_EOD]: all('OhlcvMsg'),
    [R.STATUS]: all('StatusMsg'),
    [R.INSTRUMENT_DEF]: ['InstrumentDefMsgV1', 'InstrumentDefMsgV2', 'InstrumentDefMsg'],
    [R.IMBALANCE]: all('ImbalanceMsg'),
    [R.ERROR]: ['ErrorMsgV1', 'ErrorMsg', 'ErrorMsg'],
    [R.SYMBOL_MAPPING]: ['SymbolMappingMsgV1', 'SymbolMappingMsg', 'SymbolMappingMsg'],
    [R.SYSTEM]: ['SystemMsgV1', 'SystemMsg', 'SystemMsg'],
    [R.STATISTICS]: ['StatMsgV1', 'StatMsgV1', 'StatMsg'],
    [R.MBO]: all('MboMsg'),
    [R.CMBP_1]: all('Cmbp1Msg'),
    [R.TCBBO]: all('Cmbp1Msg'),
    [R.CBBO_1S]: all('CbboMsg'),
    [R.CBBO_1M]: all('CbboMsg'),
    [R.BBO_1S]: all('BboMsg'),
    [R.BBO_1M]: all('BboMsg'),
  };
})();

/** A field placed: its byte offset in the record (or level) and its size. */
export interface Field {
  readonly name: string;
  readonly type: FieldType;
  readonly offset: number;
  readonly bytes: number;
  /** Book levels: how many. */
  readonly count: number;
}

export interface Layout {
  readonly struct: StructName;
  readonly bytes: number;
  readonly fields: readonly Field[];
  /** A field by name (throws for a name the struct does not have: a typo is a bug, found at load). */
  at(name: string): number;
}

const SCALARS: Readonly<Record<string, number>> = { u8: 1, i8: 1, char: 1, u16: 2, i16: 2, u32: 4, i32: 4, u64: 8, i64: 8, hd: HEADER.bytes };

/** Size and alignment of a field type. */
function sizeAlign(type: FieldType): { bytes: number; align: number; count: number } {
  const scalar = SCALARS[type];
  if (scalar !== undefined) return { bytes: scalar, align: type === 'hd' ? 8 : scalar, count: 1 };
  const m = /^(cstr|reserved|levels|clevels)(\d+)$/.exec(type);
  if (!m) throw new Error(`DBN field type ${type} is not known`);
  const n = Number(m[2]);
  if (m[1] === 'levels' || m[1] === 'clevels') {
    const pair = layoutOfStruct(m[1] === 'levels' ? 'BidAskPair' : 'ConsolidatedBidAskPair');
    return { bytes: n * pair.bytes, align: 8, count: n };
  }
  return { bytes: n, align: 1, count: n };
}

const cache = new Map<StructName, Layout>();

/** The C layout of a struct: each field at the next multiple of its alignment, the size padded to the largest. */
export function layoutOfStruct(struct: StructName): Layout {
  const have = cache.get(struct);
  if (have) return have;
  const fields: Field[] = [];
  let at = 0;
  let maxAlign = 1;
  for (const [name, type] of STRUCTS[struct]) {
    const { bytes, align, count } = sizeAlign(type);
    at = Math.ceil(at / align) * align;
    fields.push(Object.freeze({ name, type, offset: at, bytes, count }));
    at += bytes;
    if (align > maxAlign) maxAlign = align;
  }
  const byName = new Map(fields.map((f) => [f.name, f.offset]));
  const layout: Layout = Object.freeze({
    struct,
    bytes: Math.ceil(at / maxAlign) * maxAlign,
    fields: Object.freeze(fields),
    at(name: string): number {
      const o = byName.get(name);
      if (o === undefined) throw new Error(`DBN ${struct} has no field ${name}`);
      return o;
    },
  });
  cache.set(struct, layout);
  return layout;
}

/** The layout of record type `rtype` in DBN `version` (1..3), or null for a type this decoder does not know. */
export function layoutOf(rtype: number, version: number): Layout | null {
  const s = STRUCT_OF[rtype];
  return s === undefined ? null : layoutOfStruct(s[Math.min(Math.max(version, 1), 3) - 1]!);
}

/** Sizes DBN documents for its records (bytes), checked against the computed layouts at load. */
const RECORD_BYTES: ReadonlyArray<readonly [StructName, number]> = [
  ['MboMsg', 56],
  ['TradeMsg', 48],
  ['Mbp1Msg', 80],
  ['Mbp10Msg', 368],
  ['BboMsg', 80],
  ['Cmbp1Msg', 80],
  ['CbboMsg', 80],
  ['OhlcvMsg', 56],
  ['StatusMsg', 40],
  ['InstrumentDefMsgV1', 360],
  ['InstrumentDefMsgV2', 400],
  ['InstrumentDefMsg', 520],
  ['ImbalanceMsg', 112],
  ['StatMsgV1', 64],
  ['StatMsg', 80],
  ['ErrorMsgV1', 80],
  ['ErrorMsg', 320],
  ['SymbolMappingMsgV1', 80],
  ['SymbolMappingMsg', 176],
  ['SystemMsgV1', 80],
  ['SystemMsg', 320],
  ['BidAskPair', 32],
  ['ConsolidatedBidAskPair', 32],
];
for (const [s, bytes] of RECORD_BYTES) {
  const got = layoutOfStruct(s).bytes;
  if (got !== bytes) throw new Error(`DBN layout of ${s} computes ${got} bytes, DBN says ${bytes}`);
}
