/**
 * A self-checking slot payload for seqlock torture: every field of commit k is a function of k,
 * so a copy that mixes two commits (a torn read) cannot pass check().
 */
import type { BookSnapshot, LevelSource, TopSnapshot } from '../../native/segment/index.js';

export const TORTURE_LEVELS = 10;

/** Prices and sizes above 2^32 (both halves of the slot's 64-bit fields move); order counts are u32. */
const WIDE = 2097152; // 2^21: a u32 times this stays below 2^53
const wide = (v: number, w: number): number => (w % 3 === 2 ? v : v * WIDE);
export const bidWord = (k: number, w: number): number => wide((Math.imul(k, 2654435761) + w) >>> 0, w);
export const askWord = (k: number, w: number): number => wide((Math.imul(k, 40503) + w * 7 + 1) >>> 0, w);

export function fill(src: LevelSource, k: number): void {
  for (let w = 0; w < TORTURE_LEVELS * 3; w++) {
    src.bids[w] = bidWord(k, w);
    src.asks[w] = askWord(k, w);
  }
}

/** null if the snapshot is exactly commit k = msgIndex of one writer that started the slot, else what is wrong. */
export function check(s: BookSnapshot): string | null {
  const k = s.msgIndex;
  if (s.seq & 1) return `odd seq ${s.seq}`;
  if (s.updateCount !== k) return `update_count ${s.updateCount} != msgIndex ${k}`;
  if (s.seq !== (2 * k) % 4294967296) return `seq ${s.seq} != 2*msgIndex ${2 * k}`;
  return checkPayload(s);
}

/**
 * The levels of commit k as fill() writes them, kept for the last k asked: readers mostly see the
 * same commit several times in a row, so checking a copy is comparing 60 numbers, not computing them.
 */
const expected = { k: -1, bids: new Float64Array(TORTURE_LEVELS * 3), asks: new Float64Array(TORTURE_LEVELS * 3), bidCount: TORTURE_LEVELS, askCount: TORTURE_LEVELS };

/** null if every payload field is from the same commit k = msgIndex (any writer generation). */
export function checkPayload(s: BookSnapshot): string | null {
  const k = s.msgIndex;
  if (s.exchangeTsNs !== 3 * k) return `exchange_ts ${s.exchangeTsNs} != 3*${k}`;
  if (s.bidCount !== TORTURE_LEVELS || s.askCount !== TORTURE_LEVELS) return `counts ${s.bidCount}/${s.askCount}`;
  if (expected.k !== k) {
    fill(expected, k);
    expected.k = k;
  }
  const bids = s.bids;
  const asks = s.asks;
  const eb = expected.bids;
  const ea = expected.asks;
  for (let w = 0; w < TORTURE_LEVELS * 3; w++) {
    if (bids[w] !== eb[w]) return `bid level ${Math.floor(w / 3)} not from commit ${k}`;
    if (asks[w] !== ea[w]) return `ask level ${Math.floor(w / 3)} not from commit ${k}`;
  }
  return null;
}

/**
 * null if the top line is exactly level 0 of commit k = msgIndex (any writer generation): the same
 * commit's level 0 and counts, never a mix of two commits.
 */
export function checkTopPayload(t: TopSnapshot): string | null {
  const k = t.msgIndex;
  if (t.seq & 1) return `odd top seq ${t.seq}`;
  if (t.exchangeTsNs !== 3 * k) return `top exchange_ts ${t.exchangeTsNs} != 3*${k}`;
  if (t.bidCount !== TORTURE_LEVELS || t.askCount !== TORTURE_LEVELS) return `top counts ${t.bidCount}/${t.askCount}`;
  if (t.bidPrice !== bidWord(k, 0) || t.bidSize !== bidWord(k, 1)) return `top bid not level 0 of commit ${k}`;
  if (t.askPrice !== askWord(k, 0) || t.askSize !== askWord(k, 1)) return `top ask not level 0 of commit ${k}`;
  return null;
}

/** checkTopPayload, and for the one writer that started the slot: commit k is the line's k-th (every commit changes the top). */
export function checkTop(t: TopSnapshot): string | null {
  if (t.seq !== 0 && t.updateCount !== t.msgIndex % 2147483648) return `top commits ${t.updateCount} != msgIndex ${t.msgIndex}`;
  return checkTopPayload(t);
}
