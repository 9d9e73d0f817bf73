/**
 * What the NATS venue knows of each symbol, and its rules: a subject's sequence numbers (a jump is
 * a gap: counted, and for trades and trading actions lost for good; a book is whole, so the next
 * one heals it), and which book is newer (bridge session, then origin generation, then input
 * message: a later run, then a takeover, then the feed's order).
 */
import { NOT_PUBLISHED, type SourceCounters } from '../../sink.js';
import { type BookBody, type Head, MsgType } from '../../../lib/wire/wire.js';

export interface SymbolState {
  slot: number;
  /** Per type (index type-1): the bridge session and the last sequence number seen. */
  seqSession: Uint32Array;
  seq: Float64Array;
  /** The book published: its bridge session, origin generation and message. */
  session: number;
  generation: number;
  msgIndex: number;
  book: { bidCount: number; askCount: number; bids: Uint32Array; asks: Uint32Array };
  hasBook: boolean;
}

export const newSymbolState = (slot: number, levels: number): SymbolState => ({
  slot,
  seqSession: new Uint32Array(4),
  seq: new Float64Array(4),
  session: 0,
  generation: 0,
  msgIndex: -1,
  book: { bidCount: 0, askCount: 0, bids: new Uint32Array(levels * 3), asks: new Uint32Array(levels * 3) },
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
 * Takes `b` as the symbol's book if it is newer than the one held (`reload`: from the bucket, also
 * when equal, so a stale mark can go); returns false when it is older.
 */
export function takeBook(s: SymbolState, h: Head, b: BookBody, reload: boolean): boolean {
  const order = h.session - s.session || h.generation - s.generation || h.msgIndex - s.msgIndex;
  if (s.hasBook && !(order > 0 || (reload && order === 0))) return false;
  const book = s.book;
  book.bidCount = b.bids.count;
  book.askCount = b.asks.count;
  book.bids.fill(0).set(b.bids.levels);
  book.asks.fill(0).set(b.asks.levels);
  s.session = h.session;
  s.generation = h.generation;
  s.msgIndex = h.msgIndex;
  s.hasBook = true;
  return true;
}
