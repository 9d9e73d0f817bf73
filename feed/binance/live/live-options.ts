/** The live Binance flags shared by `mdfan feed` and `mdfan capture`: --symbols and the URLs. */
import { ErrorCode, MdfanError } from '../../../native/segment/errors.js';

/** `A,B` as the venue spells symbols (upper case); at least one, no repeats. */
export function parseSymbols(text: string): string[] {
  const list = text.split(',').map((s) => s.trim().toUpperCase());
  const bad = list.find((s) => !/^[A-Z0-9_]{1,32}$/.test(s));
  if (bad !== undefined) throw new MdfanError(ErrorCode.OPTIONS, `--symbols must be a comma-separated list of venue symbols such as BTCUSDT,ETHUSDT (got ${JSON.stringify(text)})`, { flag: '--symbols', found: text });
  return [...new Set(list)];
}

export function checkUrl(text: string, flag: string, protocols: readonly string[]): void {
  let ok = false;
  try {
    ok = protocols.includes(new URL(text).protocol);
  } catch {
    ok = false;
  }
  if (!ok) throw new MdfanError(ErrorCode.OPTIONS, `${flag} must be a ${protocols.join(' or ')} URL (got ${JSON.stringify(text)})`, { flag, found: text });
}
