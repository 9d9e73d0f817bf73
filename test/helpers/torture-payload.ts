/**
 * A self-checking slot payload for seqlock torture: every field of commit k is a function of k,
 * so a copy that mixes two commits (a torn read) cannot pass check().
 */
import type { BookSnapshot, LevelSource } from '../../native/segment/index.js';

export const TORTURE_LEVELS = 10;

export const bidWord = (k: number, w: number): number => (Math.imul(k, 2654435761) + w) >>> 0;
export const askWord = (k: number, w: number): number => (Math.imul(k, 40503) + w * 7 + 1) >>> 0;

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

/** null if every payload field is from the same commit k = msgIndex (any writer generation). */
export function checkPayload(s: BookSnapshot): string | null {
  const k = s.msgIndex;
  if (s.exchangeTsNs !== 3 * k) return `exchange_ts ${s.exchangeTsNs} != 3*${k}`;
  if (s.bidCount !== TORTURE_LEVELS || s.askCount !== TORTURE_LEVELS) return `counts ${s.bidCount}/${s.askCount}`;
  for (let l = 0; l < TORTURE_LEVELS; l++) {
    if (s.bidPrice(l) !== bidWord(k, l * 3) || s.bidSize(l) !== bidWord(k, l * 3 + 1) || s.bidOrders(l) !== bidWord(k, l * 3 + 2))
      return `bid level ${l} not from commit ${k}`;
    if (s.askPrice(l) !== askWord(k, l * 3) || s.askSize(l) !== askWord(k, l * 3 + 1) || s.askOrders(l) !== askWord(k, l * 3 + 2))
      return `ask level ${l} not from commit ${k}`;
  }
  return null;
}
