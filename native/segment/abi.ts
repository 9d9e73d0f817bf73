/**
 * The ABI for TypeScript. Every constant, offset and size comes from native/include/mdfan_abi.h
 * through abi.generated.ts (built from what the C compiler makes of the header); this file only
 * names the tables and derives word indexes and the layout arithmetic. Plain numeric consts, so
 * the JIT folds them into the read path.
 */

export * from './abi.generated.js';
import { STRUCTS, SIZEOF, REGISTRY_CAPACITY, LINE_BYTES, HEADER_BYTES, DIR_ENTRY_BYTES, SLOT_HEADER_BYTES, LEVEL_BYTES, STAGE_LEVEL_BYTES } from './abi.generated.js';

export const STATE_NAMES: Record<number, string> = {
  0: 'UNINITIALIZED',
  1: 'INITIALIZING',
  2: 'READY',
  3: 'BROKEN',
  4: 'CLOSED',
};

/** Byte offsets and sizes of mdfan_header_t. */
export const HDR = STRUCTS.header;
/** Byte offsets and sizes of mdfan_dir_entry_t. */
export const DIR = STRUCTS.dir_entry;
/** Byte offsets and sizes of mdfan_level_t. */
export const LEVEL = STRUCTS.level;
/** Byte offsets and sizes of mdfan_slot_header_t; the levels follow at SLOT_HEADER_BYTES. */
export const SLOT = STRUCTS.slot_header;
/** The reader registry's header and reader lines (a sealed memfd the writer hands readers over its control socket). */
export const REGISTRY = STRUCTS.registry_header;
export const READER_LINE = STRUCTS.reader_line;
/** The writer's commit stage (not in any segment: the TypeScript writer's hand-over to the addon). */
export const COMMIT_STAGE = STRUCTS.commit_stage;

/** MDFAN_COMMIT_STAGE_BYTES(levels): the stage's fields, then bids and asks of `levels` each. */
export const commitStageBytes = (levels: number): number => SIZEOF.commit_stage + 2 * levels * STAGE_LEVEL_BYTES;

/** 32-bit word indexes of the hot fields, for Uint32Array access (byte offset / 4). */
export const W = {
  hdrState: HDR.state.offset >>> 2,
  hdrGeneration: HDR.generation.offset >>> 2,
  hdrInstrumentCount: HDR.instrument_count.offset >>> 2,
  hdrFlags: HDR.flags.offset >>> 2,
  hdrCompanions: HDR.companions.offset >>> 2,
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
  /** Backed by 2 MiB pages (MDFAN_LAYOUT_HUGE_PAGES): same offsets, another mapping. */
  hugePages: boolean;
}

const roundUp = (x: number, a: number): number => Math.ceil(x / a) * a;

/** The C macros MDFAN_SLOT_STRIDE / MDFAN_SLOTS_OFFSET / MDFAN_TOTAL_BYTES, in TypeScript. */
export function computeLayout(maxInstruments: number, levels: number, packed = false, hugePages = false): Layout {
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
    hugePages,
  };
}

const TWO32 = 4294967296;

/** The u64 at words[lo], words[lo + 1] as a Number (exact below 2^53). */
export const u64At = (words: Uint32Array, lo: number): number => words[lo + 1]! * TWO32 + words[lo]!;
/** The i64 at words[lo], words[lo + 1] as a Number (exact for |x| below 2^53). */
export const i64At = (words: Uint32Array, lo: number): number => (words[lo + 1]! | 0) * TWO32 + words[lo]!;

/** Word offsets inside one level (mdfan_level_t) and its size in 32-bit words. */
export const LW = { price: LEVEL.price.offset >>> 2, size: LEVEL.size.offset >>> 2, orders: LEVEL.orders.offset >>> 2, words: LEVEL_BYTES >>> 2 } as const;

/**
 * Decodes `count` levels of the slot's format from `words` at word `at` into `dst` as
 * [price, size, orders] doubles; the rest of dst's `levels` are zeroed.
 */
export function decodeLevels(words: Uint32Array, at: number, count: number, levels: number, dst: Float64Array): void {
  let w = at;
  for (let i = 0; i < count; i++, w += LW.words) {
    dst[i * 3] = i64At(words, w + LW.price);
    dst[i * 3 + 1] = u64At(words, w + LW.size);
    dst[i * 3 + 2] = words[w + LW.orders]!;
  }
  dst.fill(0, count * 3, levels * 3);
}

/** Bytes of a slot a reader copies: header plus both sides (the stride's padding is skipped). */
export const slotPayloadBytes = (levels: number): number => SLOT_HEADER_BYTES + 2 * levels * LEVEL_BYTES;
export const asksOffset = (levels: number): number => SLOT_HEADER_BYTES + levels * LEVEL_BYTES;

/** Bytes of the reader registry: its two header lines, then one line per reader (MDFAN_REGISTRY_BYTES). */
export const registryBytes = (capacity: number = REGISTRY_CAPACITY): number => SIZEOF.registry_header + capacity * SIZEOF.reader_line;
