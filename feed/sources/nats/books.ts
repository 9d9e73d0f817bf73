/**
 * What the NATS venue knows of each symbol, and its rules: a subject's sequence numbers (a jump is
 * a gap: counted, and for trades and trading actions lost for good; a book is whole, so the next
 * one heals it), which book is newer (bridge session, then origin generation, then input
 * message: a later run, then a takeover, then the feed's order), and what a record must look like
 * before it may touch the segment (a session not in the future, a book of the mirror's shape).
 */
import * as abi from '../../../native/segment/abi.js';
import { NOT_PUBLISHED, type SourceCounters } from '../../sink.js';
import { type BookBody, type Head, MsgType, type Side, WireFlag } from '../../../lib/wire/wire.js';

export interface SymbolState {
  slot: number;
  /** The slot's decimals, from the record that made it: a record in others is refused. */
  priceDecimals: number;
  sizeDecimals: number;
  /** Per type (index type-1): the bridge session and the last sequence number seen. */
  seqSession: Uint32Array;
  seq: Float64Array;
  /** The book published: its bridge session, origin generation and message. */
  session: number;
  generation: number;
  msgIndex: number;
  /** The book held came flagged STALE: a record of the same book without it clears the mark. */
  stale: boolean;
  book: { bidCount: number; askCount: number; bids: Float64Array; asks: Float64Array };
  hasBook: boolean;
}

export const newSymbolState = (slot: number, levels: number, priceDecimals = 0, sizeDecimals = 0): SymbolState => ({
  slot,
  priceDecimals,
  sizeDecimals,
  seqSession: new Uint32Array(4),
  seq: new Float64Array(4),
  session: 0,
  generation: 0,
  msgIndex: -1,
  stale: false,
  book: { bidCount: 0, askCount: 0, bids: new Float64Array(levels * 3), asks: new Float64Array(levels * 3) },
  hasBook: false,
});

/** A symbol refused a slot (not among --symbols, or the directory full): remembered, not asked again. */
export const REFUSED: SymbolState = newSymbolState(NOT_PUBLISHED, 0);

/** Checks a record's sequence number; returns the records lost before it (0: none). */
export function checkSeq(s: SymbolState, h: Head, c: SourceCounters): number {
  const k = h.type - 1;
  const last = s.seq[k]!;
  let lost = 0;
  if (s.seqSession[k] === h.session && h.seq !== last + 1 && h.seq > last) {
    lost = h.seq - last - 1;
    c.gaps++;
    if (h.type === MsgType.TRADE || h.type === MsgType.STATUS) c.unrecovered += lost;
  }
  if (s.seqSession[k] !== h.session || h.seq > last) {
    s.seqSession[k] = h.session;
    s.seq[k] = h.seq;
  }
  return lost;
}

/**
 * Takes `b` as the symbol's book if it is newer than the one held, or the same book with its stale
 * mark changed (the origin's writer died, or beats again), or from the bucket (`reload`) when
 * equal, so a stale mark can go; returns false when it is older.
 */
export function takeBook(s: SymbolState, h: Head, b: BookBody, reload: boolean): boolean {
  const order = h.session - s.session || h.generation - s.generation || h.msgIndex - s.msgIndex;
  const stale = (h.flags & WireFlag.STALE) !== 0;
  if (s.hasBook && !(order > 0 || (order === 0 && (reload || stale !== s.stale)))) return false;
  const book = s.book;
  book.bidCount = b.bids.count;
  book.askCount = b.asks.count;
  book.bids.fill(0).set(b.bids.levels);
  book.asks.fill(0).set(b.asks.levels);
  s.session = h.session;
  s.generation = h.generation;
  s.msgIndex = h.msgIndex;
  s.stale = stale;
  s.hasBook = true;
  return true;
}

/**
 * A session (a bridge run's start, s since the epoch) later than our clock plus `skewS` is forged:
 * taken, it would make every real book look older for good. Returns the seconds it is ahead, or 0.
 */
export function futureSession(h: Head, nowMs: number, skewS: number): number {
  const ahead = h.session - Math.floor(nowMs / 1000);
  return ahead > skewS ? ahead : 0;
}

/** A side's levels: each with a size and a price, prices strictly worse after the best. */
function sideShape(s: Side, descending: boolean): string | null {
  const lv = s.levels;
  for (let i = 0; i < s.count; i++) {
    const price = lv[i * 3]!;
    if (lv[i * 3 + 1] === 0 || price === 0) return `level ${i} has price ${price} and size ${lv[i * 3 + 1]}`;
    if (i > 0 && (descending ? price >= lv[i * 3 - 3]! : price <= lv[i * 3 - 3]!)) return `level ${i}'s price ${price} is not worse than level ${i - 1}'s`;
  }
  return null;
}

/**
 * What is wrong with a book for a segment of `levels` levels (its depth, its instrument count, its
 * levels' sizes and order), or null when it fits. The segment's own layout never comes from here.
 */
export function bookShape(b: BookBody, levels: number): string | null {
  if (b.levels !== levels) return `a ${b.levels}-level book for a ${levels}-level segment (mirror with --levels ${b.levels} to take it)`;
  if (b.maxInstruments < 1 || b.maxInstruments > abi.MAX_INSTRUMENTS) return `a book from a segment of ${b.maxInstruments} instruments (1..${abi.MAX_INSTRUMENTS})`;
  const bids = sideShape(b.bids, true);
  if (bids !== null) return `bids: ${bids}`;
  const asks = sideShape(b.asks, false);
  return asks === null ? null : `asks: ${asks}`;
}
