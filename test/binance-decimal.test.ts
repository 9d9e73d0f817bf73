/**
 * Binance's decimal strings to exact integers at a scale, and back: every accepted form, every
 * refusal with its reason, the 2^53 edge, and random strings against a BigInt reference.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DecimalError, decimalStatus, formatDecimal, parseDecimal, parseDecimalRange } from '../feed/binance/decimal.js';
import { seededRandom } from '../lib/random.js';

const refuses = (text: string, decimals: number, error: DecimalError, signed = true): void => {
  decimalStatus.error = DecimalError.NONE;
  const v = parseDecimal(text, decimals, signed);
  assert.ok(Number.isNaN(v), `${JSON.stringify(text)} at ${decimals}: refused, got ${v}`);
  assert.is(decimalStatus.error, error, `${JSON.stringify(text)} at ${decimals}: the reason`);
};

test('exact integers at the scale, whatever the digits on either side', () => {
  assert.is(parseDecimal('61804.7', 8), 6180470000000);
  assert.is(parseDecimal('61837.63000000', 8), 6183763000000);
  assert.is(parseDecimal('0.00014000', 8), 14000);
  assert.is(parseDecimal('554.63987', 8), 55463987000);
  assert.is(parseDecimal('1645', 0), 1645);
  assert.is(parseDecimal('1645', 8), 164500000000);
  assert.is(parseDecimal('0.00000000', 2), 0, 'zeros beyond the scale are fine');
  assert.is(parseDecimal('12.3400', 2), 1234);
  assert.is(parseDecimal('007.5', 1), 75, 'leading zeros change nothing');
  assert.is(parseDecimal('-3.25', 2, true), -325);
  assert.ok(Object.is(parseDecimal('-0.0', 1, true), 0), 'minus zero is zero');
  assert.is(parseDecimalRange('["61804.7","35"]', 2, 9, 1, true), 618047, 'a range of a larger string');
});

test('refusals: syntax, sign, more decimals than the scale, too large', () => {
  for (const t of ['1e5', 'NaN', ' 1', '1 ', '1.', '.5', '+1', '1.2.3', '0x10', '1,5', '--1', '-', 'Infinity', '١'])
    refuses(t, 8, DecimalError.SYNTAX);
  refuses('', 8, DecimalError.EMPTY);
  refuses('-1', 8, DecimalError.NEGATIVE, false);
  refuses('61804.75', 1, DecimalError.MORE_DECIMALS);
  refuses('0.000000001', 8, DecimalError.MORE_DECIMALS);
  refuses('0.0000000010', 8, DecimalError.MORE_DECIMALS);
  refuses('0.000000001x', 8, DecimalError.SYNTAX);
  // 2^53 - 1 = 9007199254740991 is the largest; one more is refused, at any scale.
  assert.is(parseDecimal('9007199254740991', 0), Number.MAX_SAFE_INTEGER);
  assert.is(parseDecimal('90071992.54740991', 8), Number.MAX_SAFE_INTEGER);
  assert.is(parseDecimal('-90071992.54740991', 8, true), -Number.MAX_SAFE_INTEGER);
  refuses('9007199254740992', 0, DecimalError.TOO_LARGE);
  refuses('90071992.54740992', 8, DecimalError.TOO_LARGE);
  refuses('90071993', 8, DecimalError.TOO_LARGE);
  refuses('99999999999999999999999', 0, DecimalError.TOO_LARGE);
});

test('formatting back: exactly `decimals` digits, or trimmed', () => {
  assert.is(formatDecimal(6180470000000, 8), '61804.70000000');
  assert.is(formatDecimal(6180470000000, 8, true), '61804.7');
  assert.is(formatDecimal(14000, 8), '0.00014000');
  assert.is(formatDecimal(-325, 2), '-3.25');
  assert.is(formatDecimal(5, 0), '5');
  assert.is(formatDecimal(100, 2, true), '1');
  assert.is(formatDecimal(0, 3), '0.000');
  assert.throws(() => formatDecimal(0.5, 2));
});

test('random decimal strings agree with a BigInt reference (value, or the reason it is refused)', () => {
  const rnd = seededRandom(24);
  const digits = (n: number): string => Array.from({ length: n }, () => String(Math.floor(rnd() * 10))).join('');
  for (let n = 0; n < 20000; n++) {
    const decimals = Math.floor(rnd() * 10);
    const neg = rnd() < 0.2 ? '-' : '';
    const ip = digits(1 + Math.floor(rnd() * 18));
    const fp = rnd() < 0.3 ? '' : digits(1 + Math.floor(rnd() * 12));
    const text = `${neg}${ip}${fp ? `.${fp}` : ''}`;
    // Reference: the fraction beyond `decimals` must be zeros; the value is ip.fp * 10^decimals.
    const extra = fp.slice(decimals);
    const kept = fp.slice(0, decimals).padEnd(decimals, '0');
    const big = BigInt(ip + kept) * (neg ? -1n : 1n);
    const v = parseDecimal(text, decimals, true);
    // Digits are taken left to right: a value past 2^53 is seen before a digit beyond the scale.
    if (big > BigInt(Number.MAX_SAFE_INTEGER) || -big > BigInt(Number.MAX_SAFE_INTEGER)) {
      assert.ok(Number.isNaN(v), text);
      assert.is(decimalStatus.error, DecimalError.TOO_LARGE, text);
    } else if (/[1-9]/.test(extra)) {
      assert.ok(Number.isNaN(v), text);
      assert.is(decimalStatus.error, DecimalError.MORE_DECIMALS, text);
    } else {
      assert.is(BigInt(v), big, `${text} at ${decimals}`);
      assert.is(parseDecimal(formatDecimal(v, decimals), decimals, true), v, 'format then parse is the identity');
    }
  }
});

test.run();
