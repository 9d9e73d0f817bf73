/**
 * Byte-level damage to text inputs (JSON payloads, capture lines): characters swapped for the ones
 * a parser trips on, ranges dropped or repeated, a cut. Every draw from the caller's generator.
 */

/** Characters that change what a JSON or capture parser sees: structure, digits, signs, blanks, NUL, non-ASCII. */
const NASTY = '{}[],:"\\0123456789.-+eE \t\r\n\u0000\u00e9\u00ff';

const pick = <T>(a: ArrayLike<T>, rand: () => number): T => a[Math.floor(rand() * a.length)]!;

/** `s` with 1–4 characters replaced, a range dropped or repeated, or cut short. */
export function damageText(s: string, rand: () => number): string {
  if (s.length === 0) return pick(NASTY, rand);
  const at = Math.floor(rand() * s.length);
  const kind = rand();
  if (kind < 0.5) {
    const chars = s.split('');
    for (let k = 0, n = 1 + Math.floor(rand() * 4); k < n; k++) chars[Math.floor(rand() * chars.length)] = rand() < 0.8 ? pick(NASTY, rand) : String.fromCharCode(Math.floor(rand() * 256));
    return chars.join('');
  }
  if (kind < 0.65) return s.slice(0, at) + s.slice(at + 1 + Math.floor(rand() * 20)); // a range dropped
  if (kind < 0.8) return s.slice(0, at) + s.slice(at, at + 1 + Math.floor(rand() * 40)).repeat(2) + s.slice(at + 1 + Math.floor(rand() * 40)); // repeated
  return s.slice(0, at); // cut
}
