/**
 * The instrument directory: entry i describes slot i. Entries are written once per generation,
 * before the writer publishes instrument_count (a seq_cst store, so a release); readers load the
 * count (seq_cst, so an acquire) and then read entries below it with plain loads.
 */
import * as abi from './abi.js';
import { ErrorCode, MdfanError } from './errors.js';
import type { Mapping } from './mapping.js';
import { SEGMENT_DEFAULTS } from './defaults.js';

/**
 * An instrument's numbers as its venue gives them: prices and sizes are integers in units of
 * 10^-priceDecimals and 10^-sizeDecimals (declared in the directory), and the exchange times it
 * passes are integers in units of tsUnitNs nanoseconds (1: ns; 1e6: Binance's ms; the writer's
 * own concern, not in the segment: every time in the segment is in ns).
 */
export interface InstrumentSpec {
  readonly priceDecimals: number;
  readonly sizeDecimals: number;
  readonly tsUnitNs: number;
  /**
   * Added to every exchange time (ns) after the unit: the venue's time origin, so that an epoch time
   * in ns (above 2^53) crosses as a small exact offset (DBN: a UTC midnight, a multiple of 2^16,
   * exact in a double). Default 0.
   */
  readonly tsBaseNs?: number;
}

/** ITCH and LOBSTER: prices x 10^4, whole shares, timestamps in ns. */
export const ITCH_SPEC: InstrumentSpec = Object.freeze({ priceDecimals: 4, sizeDecimals: 0, tsUnitNs: 1 });

export interface Instrument {
  index: number;
  symbol: string;
  feedId: number;
  slotIndex: number;
  /** Prices are integers in units of 10^-priceDecimals; priceScale = 10^priceDecimals. */
  priceDecimals: number;
  priceScale: number;
  /** Sizes likewise. */
  sizeDecimals: number;
  sizeScale: number;
  flags: number;
}

const SYMBOL_RE = new RegExp(`^[\\x21-\\x7e]{1,${abi.SYMBOL_BYTES}}$`);

/** Whether `symbol` may name an instrument: 1..SYMBOL_BYTES printable ASCII characters, no spaces. */
export const isValidSymbol = (symbol: string): boolean => SYMBOL_RE.test(symbol);

/** Checks a spec's numbers; throws MDFAN_ERR_OPTIONS naming the field. */
export function checkSpec(spec: InstrumentSpec, symbol: string): void {
  for (const field of ['priceDecimals', 'sizeDecimals'] as const) {
    const v = spec[field];
    if (!Number.isInteger(v) || v < 0 || v > abi.MAX_DECIMALS)
      throw new MdfanError(ErrorCode.OPTIONS, `${symbol}: ${field} must be an integer 0..${abi.MAX_DECIMALS} (got ${v})`, { symbol, field, found: v });
  }
  if (!Number.isInteger(spec.tsUnitNs) || spec.tsUnitNs < 1 || spec.tsUnitNs > 1e9)
    throw new MdfanError(ErrorCode.OPTIONS, `${symbol}: tsUnitNs must be an integer 1..1e9 (got ${spec.tsUnitNs})`, { symbol, found: spec.tsUnitNs });
  const base = spec.tsBaseNs ?? 0;
  if (!Number.isInteger(base) || base < 0 || base >= 2 ** 64)
    throw new MdfanError(ErrorCode.OPTIONS, `${symbol}: tsBaseNs must be an integer 0..2^64 (got ${base})`, { symbol, found: base });
}

export function writeDirEntry(m: Mapping, layout: abi.Layout, index: number, symbol: string, feedId: number, spec: InstrumentSpec): void {
  if (!isValidSymbol(symbol))
    throw new MdfanError(ErrorCode.OPTIONS, `symbol must be 1..${abi.SYMBOL_BYTES} printable ASCII characters without spaces (got ${JSON.stringify(symbol)})`, { symbol });
  if (!Number.isInteger(feedId) || feedId < 0 || feedId > 0xffffffff) throw new MdfanError(ErrorCode.OPTIONS, 'feedId must be a uint32', { feedId });
  checkSpec(spec, symbol);
  const off = layout.directoryOffset + index * abi.DIR_ENTRY_BYTES;
  m.u8.fill(0, off, off + abi.DIR_ENTRY_BYTES);
  for (let i = 0; i < symbol.length; i++) m.u8[off + abi.DIR.symbol.offset + i] = symbol.charCodeAt(i);
  m.dv.setUint32(off + abi.DIR.feed_id.offset, feedId, true);
  m.dv.setUint32(off + abi.DIR.slot_index.offset, index, true);
  m.dv.setUint8(off + abi.DIR.price_decimals.offset, spec.priceDecimals);
  m.dv.setUint8(off + abi.DIR.size_decimals.offset, spec.sizeDecimals);
  m.dv.setUint32(off + abi.DIR.flags.offset, abi.DIR_ACTIVE, true);
}

/**
 * Reads directory entries below instrument_count; slot indexes are range-checked. Bracketed by
 * generation and state like a seqlock: a takeover (state leaves READY, the count drops to 0, the
 * generation moves, entries are rewritten) during the read makes it start again.
 */
export function readDirectory(m: Mapping, layout: abi.Layout, waitMs: number = SEGMENT_DEFAULTS.directoryWaitMs): Instrument[] {
  const deadline = performance.now() + waitMs;
  for (;;) {
    const g1 = Atomics.load(m.u32, abi.W.hdrGeneration);
    const s1 = Atomics.load(m.u32, abi.W.hdrState);
    const out = readEntries(m, layout);
    const g2 = Atomics.load(m.u32, abi.W.hdrGeneration);
    const s2 = Atomics.load(m.u32, abi.W.hdrState);
    if (g1 === g2 && s1 === s2 && s1 !== abi.STATE_INITIALIZING) return out;
    // A takeover is rewriting it: a cold path, so wait in 1 ms steps (a takeover takes ms).
    if (performance.now() > deadline)
      throw new MdfanError(ErrorCode.NOT_READY, `segment ${m.name}: the directory kept changing for ${waitMs} ms (a writer is taking over)`, { segment: m.name });
    Atomics.wait(pause, 0, 0, 1);
  }
}

const pause = new Int32Array(new SharedArrayBuffer(4));

function readEntries(m: Mapping, layout: abi.Layout): Instrument[] {
  const count = Math.min(Atomics.load(m.u32, abi.W.hdrInstrumentCount), layout.maxInstruments);
  const out: Instrument[] = [];
  for (let i = 0; i < count; i++) {
    const off = layout.directoryOffset + i * abi.DIR_ENTRY_BYTES;
    const sym = m.u8.subarray(off, off + abi.SYMBOL_BYTES);
    const nul = sym.indexOf(0);
    const slotIndex = m.dv.getUint32(off + abi.DIR.slot_index.offset, true);
    if (slotIndex >= layout.maxInstruments)
      throw new MdfanError(ErrorCode.LAYOUT, `segment ${m.name}: directory entry ${i} names slot ${slotIndex}, outside 0..${layout.maxInstruments - 1}`, {
        entry: i,
        found: slotIndex,
      });
    const priceDecimals = m.dv.getUint8(off + abi.DIR.price_decimals.offset);
    const sizeDecimals = m.dv.getUint8(off + abi.DIR.size_decimals.offset);
    if (priceDecimals > abi.MAX_DECIMALS || sizeDecimals > abi.MAX_DECIMALS)
      throw new MdfanError(ErrorCode.LAYOUT, `segment ${m.name}: directory entry ${i} claims ${Math.max(priceDecimals, sizeDecimals)} decimals, above ${abi.MAX_DECIMALS}`, {
        entry: i,
        found: Math.max(priceDecimals, sizeDecimals),
      });
    out.push({
      index: i,
      symbol: Buffer.from(sym.subarray(0, nul < 0 ? abi.SYMBOL_BYTES : nul)).toString('latin1'),
      feedId: m.dv.getUint32(off + abi.DIR.feed_id.offset, true),
      slotIndex,
      priceDecimals,
      priceScale: 10 ** priceDecimals,
      sizeDecimals,
      sizeScale: 10 ** sizeDecimals,
      flags: m.dv.getUint32(off + abi.DIR.flags.offset, true),
    });
  }
  return out;
}

/** A spec of `priceDecimals` (and sizeDecimals), times in ns: for writers that are not a venue (tests, benchmarks, tools). */
export const specOf = (priceDecimals: number, sizeDecimals = 0, tsUnitNs = 1): InstrumentSpec => Object.freeze({ priceDecimals, sizeDecimals, tsUnitNs });
