/**
 * Option parsing shared by the commands: node's util.parseArgs (strict), with errors turned into
 * MDFAN_ERR_OPTIONS and numeric options validated once with a message naming the option.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { native } from '../../native/segment/binding.js';
import { ErrorCode, MdfanError } from '../../native/segment/errors.js';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

/** Parsed flags: strings for string options, booleans for boolean ones, undefined if absent. */
export type Flags = Record<string, string | boolean | undefined>;

/** `positionals`: the command takes operands (e.g. `mdfan rm NAME`). */
export function parse(argv: string[], options: OptionSpec, usage: string, positionals = false): { values: Flags; positionals: string[] } {
  try {
    const r = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: positionals });
    return { values: r.values as Flags, positionals: r.positionals };
  } catch (e) {
    throw new MdfanError(ErrorCode.OPTIONS, `${(e as Error).message}\n${usage}`);
  }
}

/** Requires a string option. */
export function required(value: string | boolean | undefined, flag: string, usage: string): string {
  if (typeof value !== 'string' || value === '') throw new MdfanError(ErrorCode.OPTIONS, `${flag} is required\n${usage}`);
  return value;
}

/** An integer option within [min, max]: `--levels must be an integer 1..50`. */
export function intOption(value: unknown, flag: string, min: number, max: number, dflt: number): number {
  if (value === undefined) return dflt;
  const n = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max)
    throw new MdfanError(ErrorCode.OPTIONS, `${flag} must be an integer ${min}..${max} (got ${JSON.stringify(value)})`, { flag });
  return n;
}

/** A positive number option (e.g. seconds). */
export function numOption(value: unknown, flag: string, min: number, max: number, dflt: number): number {
  if (value === undefined) return dflt;
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  if (!Number.isFinite(n) || n < min || n > max)
    throw new MdfanError(ErrorCode.OPTIONS, `${flag} must be a number ${min}..${max} (got ${JSON.stringify(value)})`, { flag });
  return n;
}

/** An optional string option. */
export function optString(value: string | boolean | undefined, flag: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') throw new MdfanError(ErrorCode.OPTIONS, `${flag} needs a value`);
  return value;
}

/** A CPU this process may run on (its affinity mask), e.g. `--cpu 1`: named in the error otherwise. */
export function cpuOption(value: unknown, flag: string): number {
  const allowed = native.getAffinity();
  const cpu = intOption(value, flag, 0, Math.max(...allowed, 0), 0);
  if (!allowed.includes(cpu))
    throw new MdfanError(ErrorCode.OPTIONS, `${flag} ${cpu}: this process may run on CPUs ${allowed.join(',')} only`, { flag, found: cpu, allowed: allowed.join(',') });
  return cpu;
}

/** Parses HOST:PORT (IPv4 host or name, port 1..65535). */
export function parseHostPort(text: string, flag: string): { host: string; port: number } {
  const i = text.lastIndexOf(':');
  const host = i > 0 ? text.slice(0, i) : '';
  const port = Number(text.slice(i + 1));
  if (!host || !Number.isInteger(port) || port < 1 || port > 65535)
    throw new MdfanError(ErrorCode.OPTIONS, `${flag} must be HOST:PORT with a port 1..65535 (got ${JSON.stringify(text)})`);
  return { host, port };
}
