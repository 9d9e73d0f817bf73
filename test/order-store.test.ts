/**
 * The feed's order table (open addressing, backward-shift deletion) against a Map, through a
 * long random day of adds and removes with references up to 2^53, clustered references (a
 * generated market's ref * N + k) and growth from a tiny table: every lookup agrees.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { OrderStore } from '../feed/book/orders.js';
import { seededRandom } from '../lib/random.js';

test('every lookup agrees with a Map through 300,000 random adds and removes, growth included', () => {
  const rnd = seededRandom(20261130);
  const store = new OrderStore(4);
  const ref = new Map<number, number>();
  const live: number[] = [];
  const pick = (): number => {
    const r = rnd();
    if (r < 0.3) return Math.floor(rnd() * 2 ** 53); // anywhere up to 2^53
    if (r < 0.6) return Math.floor(rnd() * 5000) * 10000 + Math.floor(rnd() * 8); // clustered: ref * N + k
    return Math.floor(rnd() * 2 ** 32) + 1;
  };
  for (let op = 0; op < 300_000; op++) {
    if (live.length > 0 && rnd() < 0.45) {
      const at = Math.floor(rnd() * live.length);
      const k = live[at]!;
      live[at] = live[live.length - 1]!;
      live.pop();
      store.remove(k, store.row(k));
      ref.delete(k);
    } else {
      const k = pick();
      if (ref.has(k)) continue;
      const row = store.add(k, op & 0xffff, op & 1, op, op + 1);
      ref.set(k, row);
      live.push(k);
    }
    if (op % 997 === 0) {
      assert.is(store.size, ref.size);
      for (let j = 0; j < 20 && live.length > 0; j++) {
        const k = live[Math.floor(rnd() * live.length)]!;
        assert.is(store.row(k), ref.get(k), `ref ${k}`);
      }
      assert.is(store.row(pick() + 0.5), -1, 'an absent reference');
    }
  }
  for (const [k, row] of ref) assert.is(store.row(k), row);
  for (const k of live.splice(0)) store.remove(k, store.row(k));
  assert.is(store.size, 0);
  for (const k of ref.keys()) assert.is(store.row(k), -1, 'all gone');
});

test.run();
