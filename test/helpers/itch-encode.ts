/** Builds ITCH 5.0 messages byte by byte for tests (big-endian, fixed lengths). */
import { FIELDS, kindBytes } from '../../feed/itch/fields.js';
import { LENGTH } from '../../feed/itch/layout.js';

export type Values = Record<string, string | number>;

export function encode(type: string, values: Values): Buffer {
  const t = type.charCodeAt(0);
  const spec = FIELDS[t];
  if (!spec) throw new Error(`no spec for ${type}`);
  const b = Buffer.alloc(LENGTH[t]);
  for (const [name, at, kind] of spec) {
    const v = name === 'type' ? type : values[name] ?? (kind.startsWith('a') || kind === 'c' ? ' ' : 0);
    if (kind === 'c') b.write(String(v).padEnd(1).slice(0, 1), at, 'latin1');
    else if (kind === 'u16') b.writeUInt16BE(Number(v), at);
    else if (kind === 'u32') b.writeUInt32BE(Number(v), at);
    else if (kind === 'u48') {
      b.writeUInt16BE(Math.floor(Number(v) / 4294967296), at);
      b.writeUInt32BE(Number(v) % 4294967296, at + 2);
    } else if (kind === 'u64') {
      b.writeUInt32BE(Math.floor(Number(v) / 4294967296), at);
      b.writeUInt32BE(Number(v) % 4294967296, at + 4);
    } else b.write(String(v).padEnd(kindBytes(kind)), at, kindBytes(kind), 'latin1');
  }
  return b;
}

/** Order-flow shorthands (stock locate 1 unless given). */
export const add = (ref: number, side: 'B' | 'S', shares: number, price: number, locate = 1, ts = 1): Buffer =>
  encode('A', { stockLocate: locate, timestamp: ts, orderReferenceNumber: ref, buySellIndicator: side, shares, stock: 'TEST', price });
export const exec = (ref: number, shares: number): Buffer => encode('E', { stockLocate: 1, orderReferenceNumber: ref, executedShares: shares, matchNumber: 7 });
export const cancel = (ref: number, shares: number): Buffer => encode('X', { stockLocate: 1, orderReferenceNumber: ref, cancelledShares: shares });
export const del = (ref: number): Buffer => encode('D', { stockLocate: 1, orderReferenceNumber: ref });
export const replace = (ref: number, newRef: number, shares: number, price: number): Buffer =>
  encode('U', { stockLocate: 1, originalOrderReferenceNumber: ref, newOrderReferenceNumber: newRef, shares, price });
export const directory = (locate: number, stock: string): Buffer => encode('R', { stockLocate: locate, stock, marketCategory: 'Q', roundLotSize: 100 });
