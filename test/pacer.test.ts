/** Replay pacing: as recorded, N times faster, idle stretches capped; no wait at max speed. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Pacer, parseSpeed } from '../feed/pacing/pacer.js';

test('--speed parsing', () => {
  assert.is(parseSpeed(undefined), 'max');
  assert.is(parseSpeed('max'), 'max');
  assert.is(parseSpeed('100'), 100);
  assert.is(parseSpeed('0.5'), 0.5);
  for (const bad of ['0', '-1', 'fast', '']) assert.throws(() => parseSpeed(bad), /--speed must be max or a number > 0/);
});

/** A fake wall clock the test moves by hand. */
const clock = () => {
  const c = { t: 1000, now: () => c.t };
  return c;
};

test('max speed never waits; paced speeds wait in proportion; backwards time never waits', () => {
  const max = new Pacer('max');
  assert.is(max.delayNs(0), 0);
  assert.is(max.delayNs(1e12), 0);
  const c = clock();
  const p = new Pacer(10, Infinity, c.now);
  assert.is(p.delayNs(5e9), 0); // the first message sets the origin
  assert.is(p.delayNs(5e9 + 1e9), 100e6); // 1 s of exchange time at 10x: 100 ms of wall time
  c.t += 40e6;
  assert.is(p.delayNs(5e9 + 1e9), 60e6);
  c.t += 60e6;
  assert.is(p.delayNs(5e9 + 1e9), 0);
  assert.is(p.delayNs(1e9), 0); // earlier than the origin
});

test('--max-gap caps an idle stretch of exchange time, and only that', () => {
  const c = clock();
  const p = new Pacer(1, 1e9, c.now);
  p.delayNs(0);
  assert.is(p.delayNs(3600e9), 1e9); // an hour of silence counts as 1 s
  c.t += 1e9;
  assert.is(p.delayNs(3600e9 + 0.25e9), 0.25e9); // after it, pacing is as recorded again
  const q = new Pacer(1, 1e9, clock().now);
  q.delayNs(0);
  assert.is(q.delayNs(0.5e9), 0.5e9); // shorter than the cap: as recorded
});

test.run();
