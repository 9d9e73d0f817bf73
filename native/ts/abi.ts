/**
 * ABI v1 constants for TypeScript. native/include/mdfan_abi.h is the source of truth: these
 * values are checked against the compiled header at load (addon.ts) and by test/abi.test.ts.
 * Plain numeric consts so the JIT folds them into the read path.
 */

export const MAGIC_LO = 0x4146444d; // "MDFA"
export const MAGIC_HI = 0x4d48534e; // "NSHM"
/** The magic as one 64-bit value: stored and loaded with a single atomic access. */
export const MAGIC_U64 = 0x4d48534e4146444dn;
export const ABI_MAJOR = 1;
export const ABI_MINOR = 0;

export const LINE_BYTES = 128;
export const HEADER_BYTES = 1024;
export const DIR_ENTRY_BYTES = 64;
export const SLOT_HEADER_BYTES = 64;
export const LEVEL_BYTES = 12;
export const MAX_LEVELS = 50;
export const MAX_INSTRUMENTS = 1_000_000;
export const SYMBOL_BYTES = 16;
export const SOCKET_PATH_BYTES = 108;

export const STATE_UNINITIALIZED = 0;
export const STATE_INITIALIZING = 1;
export const STATE_READY = 2;
export const STATE_BROKEN = 3;
export const STATE_CLOSED = 4;
export const STATE_NAMES: Record<number, string> = {
  0: 'UNINITIALIZED',
  1: 'INITIALIZING',
  2: 'READY',
  3: 'BROKEN',
  4: 'CLOSED',
};

export const LAYOUT_PACKED = 1;
export const SLOT_STALE = 1;
export const DIR_ACTIVE = 1;

export const ERRNUM_FEED_TRUNCATED = 1;
export const ERRNUM_FEED_CORRUPT = 2;
export const ERRNUM_FEED_GAP = 3;

/** Byte offsets and sizes of mdfan_header_t. */
export const HDR = {
  magic: { offset: 0, size: 8 },
  abi_major: { offset: 8, size: 2 },
  abi_minor: { offset: 10, size: 2 },
  header_bytes: { offset: 12, size: 4 },
  total_bytes: { offset: 16, size: 8 },
  max_instruments: { offset: 24, size: 4 },
  levels: { offset: 28, size: 4 },
  slot_stride_bytes: { offset: 32, size: 4 },
  dir_entry_bytes: { offset: 36, size: 4 },
  directory_offset: { offset: 40, size: 8 },
  slots_offset: { offset: 48, size: 8 },
  layout_flags: { offset: 56, size: 4 },
  mode: { offset: 60, size: 4 },
  created_realtime_ns: { offset: 64, size: 8 },
  line0_reserved: { offset: 72, size: 56 },
  state: { offset: 128, size: 4 },
  generation: { offset: 132, size: 4 },
  writer_pid: { offset: 136, size: 4 },
  instrument_count: { offset: 140, size: 4 },
  writer_start_realtime_ns: { offset: 144, size: 8 },
  writer_start_ticks: { offset: 152, size: 8 },
  last_error_code: { offset: 160, size: 4 },
  flags: { offset: 164, size: 4 },
  line1_reserved: { offset: 168, size: 88 },
  heartbeat_ns: { offset: 256, size: 8 },
  line2_reserved: { offset: 264, size: 120 },
  notify_seq: { offset: 384, size: 4 },
  line3_reserved: { offset: 388, size: 124 },
  messages: { offset: 512, size: 8 },
  publishes: { offset: 520, size: 8 },
  input_bytes: { offset: 528, size: 8 },
  line4_reserved: { offset: 536, size: 104 },
  unknown_message_types: { offset: 640, size: 8 },
  unknown_order_refs: { offset: 648, size: 8 },
  feed_gaps: { offset: 656, size: 8 },
  feed_duplicates: { offset: 664, size: 8 },
  reader_attaches: { offset: 672, size: 8 },
  reader_detaches: { offset: 680, size: 8 },
  version_mismatches: { offset: 688, size: 8 },
  takeovers: { offset: 696, size: 8 },
  stale_marks: { offset: 704, size: 8 },
  reveals: { offset: 712, size: 8 },
  line5_reserved: { offset: 720, size: 48 },
  control_socket_path: { offset: 768, size: 108 },
  tail_reserved: { offset: 876, size: 148 },
} as const;

/** Byte offsets and sizes of mdfan_dir_entry_t. */
export const DIR = {
  symbol: { offset: 0, size: 16 },
  feed_id: { offset: 16, size: 4 },
  slot_index: { offset: 20, size: 4 },
  price_scale: { offset: 24, size: 4 },
  flags: { offset: 28, size: 4 },
  reserved: { offset: 32, size: 32 },
} as const;

/** Byte offsets and sizes of mdfan_level_t. */
export const LEVEL = {
  price: { offset: 0, size: 4 },
  size: { offset: 4, size: 4 },
  orders: { offset: 8, size: 4 },
} as const;

/** Byte offsets and sizes of mdfan_slot_header_t; the levels follow at SLOT_HEADER_BYTES. */
export const SLOT = {
  seq: { offset: 0, size: 4 },
  flags: { offset: 4, size: 4 },
  msg_index: { offset: 8, size: 8 },
  exchange_ts_ns: { offset: 16, size: 8 },
  publish_ts_ns: { offset: 24, size: 8 },
  bid_count: { offset: 32, size: 4 },
  ask_count: { offset: 36, size: 4 },
  update_count: { offset: 40, size: 8 },
  instrument_index: { offset: 48, size: 4 },
  reserved: { offset: 52, size: 12 },
} as const;

/** 32-bit word indexes of the hot fields, for Uint32Array access (byte offset / 4). */
export const W = {
  hdrState: HDR.state.offset >>> 2,
  hdrGeneration: HDR.generation.offset >>> 2,
  hdrInstrumentCount: HDR.instrument_count.offset >>> 2,
  hdrHeartbeatLo: HDR.heartbeat_ns.offset >>> 2,
  hdrNotifySeq: HDR.notify_seq.offset >>> 2,
  hdrMessagesLo: HDR.messages.offset >>> 2,
  hdrPublishesLo: HDR.publishes.offset >>> 2,
  slotSeq: SLOT.seq.offset >>> 2,
  slotFlags: SLOT.flags.offset >>> 2,
  slotMsgIndexLo: SLOT.msg_index.offset >>> 2,
  slotExchangeTsLo: SLOT.exchange_ts_ns.offset >>> 2,
  slotPublishTsLo: SLOT.publish_ts_ns.offset >>> 2,
  slotBidCount: SLOT.bid_count.offset >>> 2,
  slotAskCount: SLOT.ask_count.offset >>> 2,
  slotUpdateCountLo: SLOT.update_count.offset >>> 2,
  slotInstrumentIndex: SLOT.instrument_index.offset >>> 2,
  slotLevels: SLOT_HEADER_BYTES >>> 2,
} as const;

export interface Layout {
  maxInstruments: number;
  levels: number;
  slotStride: number;
  directoryOffset: number;
  slotsOffset: number;
  totalBytes: number;
  packed: boolean;
}

const roundUp = (x: number, a: number): number => Math.ceil(x / a) * a;

/** The C macros MDFAN_SLOT_STRIDE / MDFAN_SLOTS_OFFSET / MDFAN_TOTAL_BYTES, in TypeScript. */
export function computeLayout(maxInstruments: number, levels: number, packed = false): Layout {
  const payload = SLOT_HEADER_BYTES + 2 * levels * LEVEL_BYTES;
  // Packed (benchmark only): slots back to back on 4-byte boundaries, so neighbours share lines.
  const slotStride = packed ? payload : roundUp(payload, LINE_BYTES);
  const directoryOffset = HEADER_BYTES;
  const slotsOffset = roundUp(HEADER_BYTES + maxInstruments * DIR_ENTRY_BYTES, LINE_BYTES);
  return {
    maxInstruments,
    levels,
    slotStride,
    directoryOffset,
    slotsOffset,
    totalBytes: slotsOffset + maxInstruments * slotStride,
    packed,
  };
}

/** Bytes of a slot a reader copies: header plus both sides (the stride's padding is skipped). */
export const slotPayloadBytes = (levels: number): number => SLOT_HEADER_BYTES + 2 * levels * LEVEL_BYTES;
export const asksOffset = (levels: number): number => SLOT_HEADER_BYTES + levels * LEVEL_BYTES;
