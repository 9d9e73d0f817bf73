/** Order books from hand-built ITCH messages: every order type, replace, partial executions, top-N rules. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ItchReplay } from '../feed/itch/engine.js';
import { formatBookLine } from '../lib/book-line.js';
import { add, cancel, del, directory, encode, exec, replace } from './helpers/itch-encode.js';

/** Runs messages through a replay; returns the dump lines of every top-N change. */
function run(levels: number, msgs: Buffer[]) {
  const lines: string[] = [];
  const r = new ItchReplay(levels, { onTopChange: (i, book, top) => lines.push(formatBookLine(i, book.symbol, top, levels)) });
  const dir = directory(1, 'TEST'); // locate 1 is TEST in every case (index -1: not part of the flow)
  r.process(dir, 0, dir.length, -1);
  for (const [i, m] of msgs.entries()) r.process(m, 0, m.length, i);
  const state = (): string => {
    r.top.fill(r.books.book(1));
    return formatBookLine(-1, r.books.book(1).symbol, r.top, levels);
  };
  return { r, lines, state };
}
const E = '9999999999,0';
const B = '-9999999999,0';

test('add (A and F), aggregation by price, order counts', () => {
  const f = encode('F', { stockLocate: 1, orderReferenceNumber: 4, buySellIndicator: 'B', shares: 5, stock: 'TEST', price: 100, attribution: 'MPID' });
  const { r, lines, state } = run(2, [encode('S', { eventCode: 'O' }), add(1, 'B', 10, 100), add(2, 'B', 20, 99), add(3, 'S', 30, 101), f]);
  assert.is(state(), `-1,TEST,101,30,100,15,${E},99,20`);
  assert.equal(lines, ['1,TEST,9999999999,0,100,10,9999999999,0,-9999999999,0', `2,TEST,${E},100,10,${E},99,20`, `3,TEST,101,30,100,10,${E},99,20`, `4,TEST,101,30,100,15,${E},99,20`]);
  const bids = new Float64Array(6);
  r.books.book(1).bids.fillTop(bids, 2);
  assert.equal([...bids], [100, 15, 2, 99, 20, 1]);
});

test('execute (E, C) partial and full, cancel (X) partial, delete (D)', () => {
  const c = encode('C', { stockLocate: 1, orderReferenceNumber: 2, executedShares: 5, matchNumber: 1, printable: 'Y', executionPrice: 555 });
  const { r, state } = run(2, [add(1, 'B', 10, 100), add(2, 'B', 20, 100), exec(1, 4), c, cancel(2, 5), exec(1, 6), del(2)]);
  assert.is(state(), `-1,TEST,${E},${B},${E},${B}`); // 10-4-6 = 0, 20-5-5 = 10 then deleted
  assert.is(r.books.orders.size, 0);
  const s2 = run(2, [add(1, 'B', 10, 100), add(2, 'B', 20, 100), exec(1, 4), c]);
  assert.is(s2.state(), `-1,TEST,${E},100,21,${E},${B}`); // C at another price still executes the resting order
  const s3 = run(2, [add(1, 'S', 10, 100), cancel(1, 3)]);
  assert.is(s3.state(), `-1,TEST,100,7,${B},${E},${B}`);
});

test('replace (U): the old order leaves, the new reference rests at the new price and size, same side', () => {
  const { r, state } = run(3, [add(1, 'S', 10, 105), add(2, 'S', 10, 106), replace(1, 9, 25, 104), exec(9, 5)]);
  assert.is(state(), `-1,TEST,104,20,${B},106,10,${B},${E},${B}`);
  assert.is(r.books.orders.row(1), -1);
  assert.ok(r.books.orders.row(9) >= 0);
  assert.is(r.books.orders.sideOf(r.books.orders.row(9)), 1);
});

test('P, Q, B and the other non-order types leave the book alone', () => {
  const msgs = [
    add(1, 'B', 10, 100),
    encode('P', { stockLocate: 1, orderReferenceNumber: 0, buySellIndicator: 'B', shares: 100, stock: 'TEST', price: 100, matchNumber: 3 }),
    encode('Q', { stockLocate: 1, shares: 500, stock: 'TEST', crossPrice: 100, matchNumber: 4, crossType: 'O' }),
    encode('B', { stockLocate: 1, matchNumber: 3 }),
    encode('H', { stockLocate: 1, stock: 'TEST', tradingState: 'T' }),
    encode('I', { stockLocate: 1, stock: 'TEST' }),
  ];
  const { lines, state } = run(1, msgs);
  assert.is(lines.length, 1);
  assert.is(state(), `-1,TEST,${E},100,10`);
});

test('unknown references and unknown types are counted, not fatal', () => {
  const unknownType = Buffer.from([0x7a, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]); // 'z'
  const { r, state } = run(1, [add(1, 'B', 10, 100), exec(77, 1), cancel(78, 1), del(79), replace(80, 81, 1, 1), unknownType]);
  assert.is(r.books.counters.unknownOrderRefs, 4);
  assert.is(r.unknownTypes, 1);
  assert.is(state(), `-1,TEST,${E},100,10`);
});

test('a known type with the wrong length (possible on the live path) is counted and never decoded', () => {
  const shortAdd = add(1, 'B', 10, 100).subarray(0, 20);
  const { r, state } = run(1, [shortAdd, add(2, 'B', 5, 99)]);
  assert.is(r.badLengths, 1);
  assert.is(r.books.orders.size, 1);
  assert.is(state(), `-1,TEST,${E},99,5`);
});

test('top-N changes: reported only when the top N changes by value', () => {
  const { lines } = run(1, [
    add(1, 'B', 10, 100), // 0: new best: reported
    add(2, 'B', 10, 90), //  1: below the top 1: not reported
    exec(2, 5), //           2: below: not reported
    replace(1, 3, 10, 100), // 3: same price and size: the top is unchanged by value
    del(3), //               4: best leaves, 90 x 5 comes into view: reported
  ]);
  assert.equal(lines, [`0,TEST,${E},100,10`, `4,TEST,${E},90,5`]);
});

test('instruments are keyed by stock locate and named by the directory', () => {
  const { r } = run(1, [directory(5, 'AAPL'), add(1, 'B', 10, 100, 5), add(2, 'S', 10, 200, 6)]);
  assert.is(r.books.book(5).symbol, 'AAPL');
  assert.is(r.books.book(6).symbol, 'LOCATE6');
  assert.is(r.books.book(5).bids.n, 1);
  assert.is(r.books.book(6).asks.n, 1);
});

test.run();
