/** Self-checking event records: every field is a function of the ring sequence, so a reader can tell a torn or misplaced record. */
import { type EventFields, type EventRecord, abi } from '../../native/segment/index.js';

export function fillEvent(e: EventFields, r: number): void {
  e.kind = abi.EVENT_KIND_TRADE;
  e.action = 0x45; // 'E'
  e.side = r % 2 ? 0x42 : 0x53;
  e.flags = r & 3;
  e.instrumentIndex = r % 7;
  e.msgIndex = r * 3;
  e.exchangeTs = r * 5;
  e.price = (r % 2 ? -1 : 1) * r * 1000;
  e.orderRef = r + 2 ** 40;
  e.size = (Math.imul(r, 0x9e3779b1) >>> 0) * 4096 + (r % 4096); // both halves of the u64 move
}

/** '' if `rec` is record `seq` as fillEvent made it, else what differs. */
export function checkEvent(rec: EventRecord, seq: number): string {
  const want = { kind: abi.EVENT_KIND_TRADE, action: 0x45, side: seq % 2 ? 0x42 : 0x53, flags: seq & 3, instrumentIndex: seq % 7, msgIndex: seq * 3, exchangeTsNs: seq * 5, price: (seq % 2 ? -1 : 1) * seq * 1000, orderRef: seq + 2 ** 40, size: (Math.imul(seq, 0x9e3779b1) >>> 0) * 4096 + (seq % 4096), seq };
  for (const [k, v] of Object.entries(want)) {
    const got = (rec as unknown as Record<string, number>)[k];
    if (got !== v) return `record ${seq}: ${k} ${got}, expected ${v}`;
  }
  return '';
}
