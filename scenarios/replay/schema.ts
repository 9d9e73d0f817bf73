/**
 * The scenario file format: its TypeScript shape and its validation against
 * scenarios/schema/scenario.schema.json (Ajv, every error at once). Messages name the JSON path
 * of the offending value: `/readers/0/wait must be one of "spin", "yield", "block"`.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import AjvModule, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import type { WaitStrategy } from '../../workers/index.js';

export interface FeedSpec {
  source: string;
  speed: 'max' | number;
  maxGapS?: number;
  levels?: number;
  symbols?: string[];
}
export interface ReaderGroupSpec {
  name?: string;
  count: number;
  wait: WaitStrategy;
  symbols?: string[];
  /** Follow the top-of-book lines (`mdfan read --top`) instead of whole books. */
  top?: boolean;
}
export interface PoolSpec {
  workers: number;
  strategy: string;
  wait?: WaitStrategy;
  hangMs?: number;
}
export interface StallSpec {
  reader: number;
  atS: number;
  forS: number;
}
export type FaultSpec =
  | { kind: 'kill-writer'; atS: number; restartAfterS?: number }
  | { kind: 'second-writer'; atS: number }
  | { kind: 'version-mismatch'; atS?: number; probes?: number; major?: number };

export interface Scenario {
  name: string;
  description?: string;
  feed: FeedSpec;
  readers?: ReaderGroupSpec[];
  pool?: PoolSpec;
  stalls?: StallSpec[];
  faults?: FaultSpec[];
  sweep?: { readers: number[]; group?: number };
  durationS?: number;
  report?: { percentiles?: number[]; perReader?: boolean; histograms?: boolean };
  expect?: { messages?: number; readersObserve?: boolean; maxDetectionMs?: number };
}

/** The schema file (shipped in the package, beside the scenarios). */
export const schemaPath = fileURLToPath(new URL('../../../scenarios/schema/scenario.schema.json', import.meta.url));

type AjvCtor = new (opts: Record<string, unknown>) => { compile(schema: unknown): ValidateFunction };
const Ajv = ((AjvModule as unknown as { default?: AjvCtor }).default ?? AjvModule) as unknown as AjvCtor;

let compiled: ValidateFunction | null = null;
function validator(): ValidateFunction {
  if (!compiled) {
    const ajv = new Ajv({ allErrors: true, strict: false });
    compiled = ajv.compile(JSON.parse(readFileSync(schemaPath, 'utf8')));
  }
  return compiled;
}

const quoteList = (xs: unknown[]): string => xs.map((x) => JSON.stringify(x)).join(', ');

/** Friendlier words for the few places where Ajv's own would be vague. */
function describe(e: ErrorObject): string {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'enum':
      return `must be one of ${quoteList(p.allowedValues as unknown[])}`;
    case 'const':
      return `must be ${JSON.stringify(p.allowedValue)}`;
    case 'additionalProperties':
      return `has an unknown key ${JSON.stringify(p.additionalProperty)}`;
    case 'required':
      return `is missing the required key ${JSON.stringify(p.missingProperty)}`;
    case 'oneOf':
      if (e.instancePath.endsWith('/feed/speed')) return 'must be "max" or a number > 0 (times the recorded pace)';
      return 'must match exactly one of the allowed forms';
    case 'pattern':
      if (e.instancePath.endsWith('/feed/source')) return 'must be "itch:FILE" or "lobster:MESSAGES.csv,ORDERBOOK.csv"';
      return `must match ${p.pattern}`;
    default:
      return e.message ?? e.keyword;
  }
}

/**
 * Every schema error as `PATH message` ('/' is the whole file), deduplicated, without the noise
 * of combinators: an `if`'s failure, and the branch errors under a `oneOf` that is itself reported.
 */
export function schemaErrors(doc: unknown): string[] {
  const v = validator();
  if (v(doc)) return [];
  const errors = v.errors ?? [];
  const oneOfPaths = errors.filter((e) => e.keyword === 'oneOf').map((e) => e.schemaPath);
  const out: string[] = [];
  for (const e of errors) {
    if (e.keyword === 'if') continue;
    if (e.keyword !== 'oneOf' && oneOfPaths.some((s) => e.schemaPath.startsWith(s + '/'))) continue;
    const line = `${e.instancePath || '/'} ${describe(e)}`;
    if (!out.includes(line)) out.push(line);
  }
  return out;
}
