/** Segment and event-ring images written byte by byte from the ABI tables, as a valid writer would leave them. */
import { writeFileSync } from 'node:fs';
import { abi } from '../../native/segment/index.js';
import { segName } from '../helpers/segments.js';
export interface RawOptions {
  maxInstruments?: number;
  levels?: number;
  state?: number;
  edit?: (b: Buffer) => void;
}

/** A whole segment image as a valid ABI 2.0 writer would leave it (READY, no instruments, no objects beside it named). */
export function rawImage(o: RawOptions = {}): Buffer {
  const L = abi.computeLayout(o.maxInstruments ?? 2, o.levels ?? 4);
  const b = Buffer.alloc(L.totalBytes);
  const H = abi.HDR;
  b.write('MDFANSHM', H.magic.offset, 'latin1');
  b.writeUInt16LE(abi.ABI_MAJOR, H.abi_major.offset);
  b.writeUInt16LE(abi.ABI_MINOR, H.abi_minor.offset);
  b.writeUInt32LE(abi.HEADER_BYTES, H.header_bytes.offset);
  b.writeBigUInt64LE(BigInt(L.totalBytes), H.total_bytes.offset);
  b.writeUInt32LE(L.maxInstruments, H.max_instruments.offset);
  b.writeUInt32LE(L.levels, H.levels.offset);
  b.writeUInt32LE(L.slotStride, H.slot_stride_bytes.offset);
  b.writeUInt32LE(abi.DIR_ENTRY_BYTES, H.dir_entry_bytes.offset);
  b.writeBigUInt64LE(BigInt(L.directoryOffset), H.directory_offset.offset);
  b.writeBigUInt64LE(BigInt(L.slotsOffset), H.slots_offset.offset);
  b.writeUInt32LE(0o600, H.mode.offset);
  b.writeUInt32LE(o.state ?? abi.STATE_READY, H.state.offset);
  b.writeUInt32LE(1, H.generation.offset);
  o.edit?.(b);
  return b;
}

/** A level as the slot holds it: [price (i64), size (u64), orders (u32)]. */
export type RawLevel = readonly [bigint, bigint, number];

/**
 * Writes directory entry `entry` (slot `entry`) and its book, committed once (seq 2), into an image
 * of rawImage's layout, byte by byte from the ABI tables: numbers a JavaScript number cannot hold.
 */
export function rawBook(
  b: Buffer,
  o: { entry: number; symbol: string; priceDecimals: number; sizeDecimals: number; msgIndex: bigint; bids: readonly RawLevel[]; asks: readonly RawLevel[] },
): void {
  const H = abi.HDR;
  const levels = b.readUInt32LE(H.levels.offset);
  const dir = Number(b.readBigUInt64LE(H.directory_offset.offset)) + o.entry * abi.DIR_ENTRY_BYTES;
  b.write(o.symbol, dir + abi.DIR.symbol.offset, 'latin1');
  b.writeUInt32LE(o.entry, dir + abi.DIR.slot_index.offset);
  b.writeUInt32LE(abi.DIR_ACTIVE, dir + abi.DIR.flags.offset);
  b.writeUInt8(o.priceDecimals, dir + abi.DIR.price_decimals.offset);
  b.writeUInt8(o.sizeDecimals, dir + abi.DIR.size_decimals.offset);
  b.writeUInt32LE(Math.max(b.readUInt32LE(H.instrument_count.offset), o.entry + 1), H.instrument_count.offset);
  const slot = Number(b.readBigUInt64LE(H.slots_offset.offset)) + o.entry * b.readUInt32LE(H.slot_stride_bytes.offset);
  const S = abi.SLOT;
  b.writeUInt32LE(2, slot + S.seq.offset);
  b.writeBigUInt64LE(o.msgIndex, slot + S.msg_index.offset);
  b.writeUInt32LE(o.bids.length, slot + S.bid_count.offset);
  b.writeUInt32LE(o.asks.length, slot + S.ask_count.offset);
  b.writeBigUInt64LE(1n, slot + S.update_count.offset);
  b.writeUInt32LE(o.entry, slot + S.instrument_index.offset);
  const put = (side: readonly RawLevel[], at: number) =>
    side.forEach(([price, size, orders], i) => {
      const l = at + i * abi.LEVEL_BYTES;
      b.writeBigInt64LE(price, l + abi.LEVEL.price.offset);
      b.writeBigUInt64LE(size, l + abi.LEVEL.size.offset);
      b.writeUInt32LE(orders, l + abi.LEVEL.orders.offset);
    });
  put(o.bids, slot + abi.SLOT_HEADER_BYTES);
  put(o.asks, slot + abi.SLOT_HEADER_BYTES + levels * abi.LEVEL_BYTES);
}

export function writeRaw(tag: string, bytes: Buffer): string {
  const name = segName(tag);
  writeFileSync(`/dev/shm/${name}`, bytes, { mode: 0o600 });
  return name;
}


/** A ring image as a writer of generation 1 leaves it, with `records` whole records (ring sequences 1..n). */
export function rawRing(o: { capacity?: number; records?: Array<(rec: Buffer) => void>; edit?: (b: Buffer) => void } = {}): Buffer {
  const capacity = o.capacity ?? 16;
  const H = abi.STRUCTS.events_header;
  const E = abi.STRUCTS.event;
  const b = Buffer.alloc(abi.EVENTS_HEADER_BYTES + capacity * abi.EVENT_BYTES);
  b.write('MDEV', H.magic.offset, 'latin1');
  b.writeUInt16LE(abi.ABI_MAJOR, H.abi_major.offset);
  b.writeUInt16LE(abi.ABI_MINOR, H.abi_minor.offset);
  b.writeUInt32LE(capacity, H.capacity.offset);
  b.writeUInt32LE(abi.EVENT_BYTES, H.record_bytes.offset);
  b.writeUInt32LE(1, H.generation.offset);
  b.writeUInt32LE(abi.EVENTS_HEADER_BYTES, H.header_bytes.offset);
  b.writeBigUInt64LE(BigInt(b.length), H.total_bytes.offset);
  (o.records ?? []).forEach((fill, i) => {
    const rec = b.subarray(abi.EVENTS_HEADER_BYTES + i * abi.EVENT_BYTES, abi.EVENTS_HEADER_BYTES + (i + 1) * abi.EVENT_BYTES);
    rec.writeUInt32LE(abi.EVENT_NO_INSTRUMENT, E.instrument_index.offset);
    rec.writeBigInt64LE(abi.EVENT_PRICE_NONE_U64, E.price.offset);
    fill(rec);
    rec.writeBigUInt64LE(BigInt(i + 1), E.seq.offset);
  });
  b.writeBigUInt64LE(BigInt(o.records?.length ?? 0), H.head.offset);
  o.edit?.(b);
  return b;
}

/** A READY data segment image with one instrument, RAW (4 price decimals, 0 size decimals, as ITCH, unless given), and `ring` beside it. */
export function writeRawWithRing(tag: string, ring: Buffer, o: { priceDecimals?: number; sizeDecimals?: number } = {}): string {
  const name = writeRaw(
    tag,
    rawImage({
      edit: (b) => {
        b.write('RAW', abi.HEADER_BYTES + abi.DIR.symbol.offset, 'latin1');
        b.writeUInt8(o.priceDecimals ?? 4, abi.HEADER_BYTES + abi.DIR.price_decimals.offset);
        b.writeUInt8(o.sizeDecimals ?? 0, abi.HEADER_BYTES + abi.DIR.size_decimals.offset);
        b.writeUInt32LE(1, abi.HDR.instrument_count.offset);
        b.writeUInt32LE(abi.COMPANION_EVENTS, abi.HDR.companions.offset); // the header names its ring
      },
    }),
  );
  writeFileSync(`/dev/shm/${name}.events`, ring, { mode: 0o600 });
  return name;
}

