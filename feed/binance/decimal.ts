/**
 * Binance's numbers are decimal strings ("61804.7", "0.00150000"). They become exact integers at a
 * fixed number of decimals D (the instrument's scale): "61804.7" at 8 is 6180470000000. Never
 * through a float: the digits are accumulated as an integer, each step exact while below 2^53.
 *
 * Accepted: an optional '-' (only where the caller allows a sign: prices may be negative in
 * general, sizes never), one or more digits, and optionally '.' followed by one or more digits.
 * Refused: empty, '+', whitespace, exponents ("1e5"), "NaN", a bare point ("1.", ".5"): Binance
 * always writes digits on both sides of the point, so anything else is not a Binance number.
 * Leading zeros are accepted ("007"): they change nothing. Digits beyond D must be zeros
 * ("0.00000000" at 2 decimals is 0); a non-zero one would need rounding, which is refused
 * (MORE_DECIMALS), as is a result above Number.MAX_SAFE_INTEGER (TOO_LARGE).
 *
 * Hot path: parsing allocates nothing and throws nothing. An error returns NaN (prices may be
 * negative, so no number is free to be a sentinel) and leaves its reason in `decimalStatus.error`.
 */

/** Why a string is not a number at the scale. */
export const DecimalError = Object.freeze({
  NONE: 0,
  EMPTY: 1,
  SYNTAX: 2,
  NEGATIVE: 3,
  MORE_DECIMALS: 4,
  TOO_LARGE: 5,
} as const);
export type DecimalError = (typeof DecimalError)[keyof typeof DecimalError];

/** Each DecimalError said for people (and for malformed-message reasons). */
export const DECIMAL_ERROR_TEXT: readonly string[] = Object.freeze([
  'ok',
  'empty number',
  'not a decimal number (digits, one point with digits on both sides)',
  'negative where only sizes >= 0 are allowed',
  'more decimals than the scale holds',
  'too large',
]);

/** The reason of the last parse that returned NaN (reused: read it before the next parse). */
export const decimalStatus: { error: DecimalError } = { error: DecimalError.NONE };

const MAX = Number.MAX_SAFE_INTEGER;
const ZERO = 48;
const NINE = 57;
const POINT = 46;
const MINUS = 45;

const fail = (e: DecimalError): number => {
  decimalStatus.error = e;
  return Number.NaN;
};

/**
 * The decimal `text[start, end)` as an integer count of 10^-decimals, or NaN with
 * decimalStatus.error set. `signed`: a leading '-' is allowed.
 */
export function parseDecimalRange(text: string, start: number, end: number, decimals: number, signed: boolean): number {
  let i = start;
  if (i >= end) return fail(DecimalError.EMPTY);
  let negative = false;
  if (text.charCodeAt(i) === MINUS) {
    if (!signed) return fail(DecimalError.NEGATIVE);
    negative = true;
    i++;
  }
  let v = 0;
  const intStart = i;
  for (; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c < ZERO || c > NINE) break;
    v = v * 10 + (c - ZERO);
    // Exact until a step passes 2^53: rounding is monotone, so a true value above MAX stays above it.
    if (v > MAX) return fail(DecimalError.TOO_LARGE);
  }
  if (i === intStart) return fail(DecimalError.SYNTAX);
  let scaled = 0; // fraction digits taken into v
  if (i < end) {
    if (text.charCodeAt(i) !== POINT) return fail(DecimalError.SYNTAX);
    i++;
    const fracStart = i;
    for (; i < end; i++) {
      const c = text.charCodeAt(i);
      if (c < ZERO || c > NINE) return fail(DecimalError.SYNTAX);
      if (scaled < decimals) {
        v = v * 10 + (c - ZERO);
        scaled++;
        if (v > MAX) return fail(DecimalError.TOO_LARGE);
      } else if (c !== ZERO) {
        // Checked to the end first: a syntax error later in the string is reported as such.
        for (let j = i + 1; j < end; j++) {
          const d = text.charCodeAt(j);
          if (d < ZERO || d > NINE) return fail(DecimalError.SYNTAX);
        }
        return fail(DecimalError.MORE_DECIMALS);
      }
    }
    if (i === fracStart) return fail(DecimalError.SYNTAX);
  }
  for (; scaled < decimals; scaled++) {
    v *= 10;
    if (v > MAX) return fail(DecimalError.TOO_LARGE);
  }
  return negative && v !== 0 ? -v : v;
}

/** The decimal string `text` at `decimals` (see parseDecimalRange). */
export const parseDecimal = (text: string, decimals: number, signed = false): number =>
  parseDecimalRange(text, 0, text.length, decimals, signed);

/**
 * `value` (an integer count of 10^-decimals) as a decimal string with exactly `decimals` digits
 * after the point (none when decimals is 0): formatDecimal(6180470000000, 8) = "61804.70000000".
 * `trim`: trailing zeros of the fraction (and a bare point) dropped, "61804.7". Not a hot path.
 */
export function formatDecimal(value: number, decimals: number, trim = false): string {
  if (!Number.isSafeInteger(value)) throw new RangeError(`formatDecimal: ${value} is not a safe integer`);
  const digits = String(Math.abs(value)).padStart(decimals + 1, '0');
  const cut = digits.length - decimals;
  let frac = digits.slice(cut);
  if (trim) frac = frac.replace(/0+$/, '');
  return `${value < 0 ? '-' : ''}${digits.slice(0, cut)}${frac === '' ? '' : `.${frac}`}`;
}
