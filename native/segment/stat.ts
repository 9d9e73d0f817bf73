/**
 * What `mdfan stat` reports about a segment, gathered without disturbing anyone: a read-only
 * mapping, seqlock reads of each slot, and a lock query that never takes the lock.
 */
import * as abi from './abi.js';
import { isMdfanError } from './errors.js';
import { readCounters, type CounterName } from './header.js';
import { SegmentReader } from './reader.js';
import { listReaders, type ReaderInfo } from './control.js';
import { SEGMENT_DEFAULTS } from './defaults.js';

export interface InstrumentStat {
  index: number;
  symbol: string;
  feed_id: number;
  slot: number;
  /** 10^price_decimals: price / price_scale is currency units. */
  price_scale: number;
  price_decimals: number;
  size_decimals: number;
  /** Commits to this instrument's slot in this generation (null if the slot stayed mid-update). */
  updates: number | null;
  seq: number | null;
  msg_index: number | null;
  stale: boolean;
}

export interface StatReport {
  segment: string;
  path: string;
  state: string;
  generation: number;
  writer_pid: number;
  writer_alive: boolean;
  writer_lock_held: boolean;
  heartbeat_age_ms: number | null;
  writer_started: string | null;
  abi: string;
  header_bytes: number;
  total_bytes: number;
  mode: string;
  created: string | null;
  layout: { max_instruments: number; levels: number; slot_stride_bytes: number; directory_offset: number; slots_offset: number; packed: boolean; huge_pages: boolean };
  instrument_count: number;
  publishes: number;
  messages: number;
  counters: Record<CounterName, number>;
  control_socket: string | null;
  /** Readers attached through the control plane (null: no control plane answered). */
  readers: ReaderInfo[] | null;
  instruments: InstrumentStat[];
}

const iso = (ns: number): string | null => (ns > 0 ? new Date(ns / 1e6).toISOString() : null);

/** `writerUid`: the segment's writer runs as this user (a reader's OpenOptions.writerUid); default only this user's or root's. */
export function statSegment(name: string, heartbeatTimeoutMs: number = SEGMENT_DEFAULTS.heartbeatTimeoutMs, writerUid?: number): StatReport {
  const r = SegmentReader.openSync(name, { anyState: true, staleAfterMs: 20, writerUid });
  try {
    const h = r.header();
    const ws = r.writerStatus();
    const counters = readCounters(r.map);
    const snap = r.newSnapshot();
    const instruments: InstrumentStat[] = r.instruments().map((inst) => {
      try {
        r.read(inst.slotIndex, snap);
        return {
          index: inst.index,
          symbol: inst.symbol,
          feed_id: inst.feedId,
          slot: inst.slotIndex,
          price_scale: inst.priceScale,
          price_decimals: inst.priceDecimals,
          size_decimals: inst.sizeDecimals,
          updates: snap.updateCount,
          seq: snap.seq,
          msg_index: snap.msgIndex,
          stale: snap.stale,
        };
      } catch (e) {
        if (!isMdfanError(e, 'MDFAN_ERR_STALE')) throw e;
        return { index: inst.index, symbol: inst.symbol, feed_id: inst.feedId, slot: inst.slotIndex, price_scale: inst.priceScale, price_decimals: inst.priceDecimals, size_decimals: inst.sizeDecimals, updates: null, seq: null, msg_index: null, stale: true };
      }
    });
    const closed = h.state === abi.STATE_CLOSED;
    return {
      segment: name,
      path: `/dev/shm/${name}`,
      state: h.stateName,
      generation: h.generation,
      writer_pid: h.writerPid,
      writer_alive: !closed && ws.lockHeld && ws.heartbeatAgeMs <= heartbeatTimeoutMs,
      writer_lock_held: ws.lockHeld,
      heartbeat_age_ms: Number.isFinite(ws.heartbeatAgeMs) ? Math.round(ws.heartbeatAgeMs * 1000) / 1000 : null,
      writer_started: iso(h.writerStartRealtimeNs),
      abi: `${h.abiMajor}.${h.abiMinor}`,
      header_bytes: h.headerBytes,
      total_bytes: h.totalBytes,
      mode: `0${h.mode.toString(8)}`,
      created: iso(h.createdRealtimeNs),
      layout: {
        max_instruments: h.layout.maxInstruments,
        levels: h.layout.levels,
        slot_stride_bytes: h.layout.slotStride,
        directory_offset: h.layout.directoryOffset,
        slots_offset: h.layout.slotsOffset,
        packed: h.layout.packed,
        huge_pages: h.layout.hugePages,
      },
      instrument_count: h.instrumentCount,
      publishes: counters.publishes,
      messages: counters.messages,
      counters,
      control_socket: h.controlSocketPath || null,
      readers: null,
      instruments,
    };
  } finally {
    r.close();
  }
}

/** statSegment plus the readers the control plane knows (asked over its socket). */
export async function statWithReaders(name: string, writerUid?: number): Promise<StatReport> {
  const timeoutMs = SEGMENT_DEFAULTS.heartbeatTimeoutMs;
  const path = statSegment(name, timeoutMs, writerUid).control_socket;
  if (!path) return statSegment(name, timeoutMs, writerUid);
  // The list first, the segment after: the writer changes a reader's entry and its counter in
  // one tick, so counters read after the list already include every reader listed.
  const readers = await listReaders(path);
  const r = statSegment(name, timeoutMs, writerUid);
  r.readers = readers;
  return r;
}
