/** The ITCH 5.0 decoder: all 23 types, field by field; the real pre-open fixture. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIELDS, describe, kindBytes } from '../feed/itch/fields.js';
import { LENGTH, TYPE_CODES, T } from '../feed/itch/layout.js';
import { ItchMessage, decode } from '../feed/itch/message.js';
import { encode, type Values } from './helpers/itch-encode.js';
import { repoRoot } from './helpers/paths.js';

test('23 message types; each type\'s fields tile its fixed length exactly', () => {
  assert.is(TYPE_CODES.length, 23);
  assert.is(new Set(TYPE_CODES.map((t) => String.fromCharCode(t))).size, 23);
  assert.equal(TYPE_CODES.map((t) => String.fromCharCode(t)).sort().join(''), 'ABCDEFHIJKLNOPQRSUVWXYh'.split('').sort().join(''));
  for (const t of TYPE_CODES) {
    let at = 0;
    for (const [name, off, kind] of FIELDS[t]) {
      assert.is(off, at, `${String.fromCharCode(t)}.${name} at ${off}, expected ${at}`);
      at += kindBytes(kind);
    }
    assert.is(at, LENGTH[t], `type ${String.fromCharCode(t)}: fields end at ${at}, length ${LENGTH[t]}`);
  }
  // Lengths from the TotalView-ITCH 5.0 specification, typed in independently of layout.ts.
  const spec: Record<string, number> = { S: 12, R: 39, H: 25, Y: 20, L: 26, V: 35, W: 12, K: 28, J: 35, h: 21, A: 36, F: 40, E: 31, C: 36, X: 23, D: 19, U: 35, P: 44, Q: 40, B: 19, I: 50, N: 20, O: 48 };
  for (const [c, n] of Object.entries(spec)) assert.is(LENGTH[c.charCodeAt(0)], n, c);
});

test('every type round-trips: each field of a hand-built message decodes to its value', () => {
  const m = new ItchMessage();
  for (const t of TYPE_CODES) {
    const type = String.fromCharCode(t);
    const values: Values = {};
    FIELDS[t].forEach(([name, , kind], i) => {
      if (name === 'type') return;
      const big = 2 ** 40 + 12345 * (i + 1); // > 32 bits: exercises both halves
      values[name] =
        kind === 'c' ? String.fromCharCode(65 + i) : kind === 'u16' ? 1000 + i : kind === 'u32' ? 4_000_000_000 - i : kind === 'u48' ? 3 * 2 ** 40 + i : kind === 'u64' ? big : `Z${i}`.slice(0, kindBytes(kind));
    });
    const bytes = encode(type, values);
    const padded = Buffer.concat([Buffer.alloc(3, 0xee), bytes]); // decode at a non-zero offset
    assert.is(decode(m, padded, 3, bytes.length), t);
    const d = describe(m);
    for (const [k, v] of Object.entries(values)) assert.is(d[k], v, `${type}.${k}`);
    assert.is(d.type, type);
  }
});

test('hot-path fields of order messages (independent byte offsets)', () => {
  const m = new ItchMessage();
  const a = Buffer.alloc(36);
  a.write('A', 0);
  a.writeUInt16BE(7, 1);
  a.writeUInt16BE(2, 3);
  a.writeUInt16BE(0x1234, 5);
  a.writeUInt32BE(0x56789abc, 7);
  a.writeUInt32BE(0x100, 11); // ref high word
  a.writeUInt32BE(0x23, 15);
  a.write('S', 19);
  a.writeUInt32BE(300, 20);
  a.write('GOOG    ', 24);
  a.writeUInt32BE(5_802_300, 32);
  decode(m, a, 0, 36);
  assert.equal([m.type, m.locate, m.tracking, m.timestampNs, m.ref, m.side, m.shares, m.price, m.stock()], [T.ADD_ORDER, 7, 2, 0x1234 * 2 ** 32 + 0x56789abc, 0x100 * 2 ** 32 + 0x23, 0x53, 300, 5_802_300, 'GOOG']);
  const u = encode('U', { originalOrderReferenceNumber: 11, newOrderReferenceNumber: 12, shares: 50, price: 99 });
  decode(m, u, 0, u.length);
  assert.equal([m.ref, m.newRef, m.shares, m.price], [11, 12, 50, 99]);
  const c = encode('C', { orderReferenceNumber: 5, executedShares: 40, matchNumber: 77, printable: 'Y', executionPrice: 1234 });
  decode(m, c, 0, c.length);
  assert.equal([m.ref, m.shares, m.matchNumber, m.price], [5, 40, 77, 1234]);
});

test('the real pre-open fixture: 1000 messages, the right count per type (cross-checked on raw bytes)', () => {
  const bytes = readFileSync(join(repoRoot, 'scenarios', 'data', 'itch', 'nasdaq-preopen-1000.itch'));
  // Independent count: walk the raw length prefixes and read each type byte.
  const raw = new Map<string, number>();
  let n = 0;
  for (let p = 0; p < bytes.length; n++) {
    const len = bytes.readUInt16BE(p);
    const c = String.fromCharCode(bytes[p + 2]);
    raw.set(c, (raw.get(c) ?? 0) + 1);
    p += 2 + len;
  }
  assert.is(n, 1000);
  assert.is(raw.get('R'), 993);
  const m = new ItchMessage();
  const counts = new Map<string, number>();
  const symbols: string[] = [];
  let p = 0;
  for (let i = 0; i < 1000; i++) {
    const len = bytes.readUInt16BE(p);
    assert.is(len, LENGTH[bytes[p + 2]], `message ${i} length`);
    decode(m, bytes, p + 2, len);
    const d = describe(m);
    counts.set(d.type as string, (counts.get(d.type as string) ?? 0) + 1);
    if (d.type === 'R') {
      symbols.push(d.stock as string);
      assert.ok(/^[\x21-\x7e]{1,8}$/.test(d.stock as string), `symbol ${d.stock}`); // printable, e.g. ABR-A, ALL-A*
      assert.ok((d.roundLotSize as number) > 0);
    }
    p += 2 + len;
  }
  assert.equal(counts, raw);
  assert.equal([...counts.keys()].sort(), ['H', 'R', 'S', 'Y']);
  assert.is(new Set(symbols).size, 993, 'directory symbols are distinct');
});

test.run();
