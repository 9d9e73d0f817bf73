/**
 * Subjects and keys. A symbol becomes one NATS token and one KV key: letters, digits and `-` stay,
 * every other byte is `=` and two hex digits (`BRK.B` -> `BRK=2EB`,
 * `binance-coinm:BTCUSD_PERP` -> `binance-coinm=3ABTCUSD=5FPERP`), since `.` separates subject
 * tokens, `*` and `>` are wildcards, and KV keys allow only `[-/_=.a-zA-Z0-9]` (no `:`). Exactly
 * one spelling per symbol: an escape of a letter, digit or `-` is refused.
 */
import { ErrorCode, MdfanError } from '../../native/segment/errors.js';
import { type MsgType, TOKEN_TYPES, TYPE_TOKENS } from './wire.js';

const PLAIN = /^[A-Za-z0-9-]$/;

export function escapeSymbol(symbol: string): string {
  let out = '';
  for (const ch of symbol) out += PLAIN.test(ch) ? ch : `=${(ch.charCodeAt(0) & 0xff).toString(16).toUpperCase().padStart(2, '0')}`;
  return out;
}

/** The symbol of an escaped token, or null if the token is not a valid escape. */
export function unescapeSymbol(token: string): string | null {
  let out = '';
  for (let i = 0; i < token.length; i++) {
    const ch = token[i]!;
    if (ch === '=') {
      const hex = token.slice(i + 1, i + 3);
      if (!/^[0-9A-F]{2}$/.test(hex)) return null;
      const c = String.fromCharCode(Number.parseInt(hex, 16));
      // One spelling per symbol: `=41` for `A` would be a second subject for the same instrument.
      if (PLAIN.test(c)) return null;
      out += c;
      i += 2;
    } else if (PLAIN.test(ch)) out += ch;
    else return null;
  }
  return out === '' ? null : out;
}

/** `--prefix`: one or more subject tokens, no wildcards. */
export function checkPrefix(prefix: string): string {
  if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(prefix))
    throw new MdfanError(ErrorCode.OPTIONS, `--prefix ${JSON.stringify(prefix)}: dot-separated tokens of letters, digits, _ and -`, { flag: '--prefix', found: prefix });
  return prefix;
}

export const subjectOf = (prefix: string, symbol: string, type: MsgType): string => `${prefix}.${escapeSymbol(symbol)}.${TYPE_TOKENS[type]}`;

/** The symbol and type a subject under `prefix` names, or null for a foreign subject. */
export function parseSubject(prefix: string, subject: string): { symbol: string; type: MsgType } | null {
  if (!subject.startsWith(`${prefix}.`)) return null;
  const rest = subject.slice(prefix.length + 1).split('.');
  if (rest.length !== 2) return null;
  const symbol = unescapeSymbol(rest[0]!);
  const type = TOKEN_TYPES[rest[1]!];
  return symbol === null || type === undefined ? null : { symbol, type };
}

/** The KV bucket of a prefix's books: `md` -> `md-books` (bucket names allow no dots). */
export const bucketOf = (prefix: string): string => `${prefix.replaceAll('.', '_')}-books`;
