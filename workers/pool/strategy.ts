/**
 * A strategy is a module the user names, exporting (as default or as `strategy`) an object or
 * class instance with these methods. The snapshot passed to onBook is reused: copy what you keep.
 */
import { pathToFileURL, fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { ErrorCode, MdfanError } from '../../native/segment/errors.js';
import { isTypeScriptPath, typeScriptRefusal } from './typescript-strategy.js';
import type { EventRecord } from '../../native/segment/events.js';
import type { BookSnapshot } from '../../native/segment/seqlock.js';
import type { TopSnapshot } from '../../native/segment/tops.js';

export interface StrategyContext {
  /** This worker's index in the pool, 0..N-1. */
  readonly workerIndex: number;
  readonly segment: string;
  /** Symbol of a slot (as the directory announced it). */
  symbolOf(slot: number): string;
  /** Price units per 1.0 for a slot (ITCH: 10000). */
  priceScaleOf(slot: number): number;
}

/**
 * Implement onBook (every change of a whole book) or onTop (every change of a best bid or ask,
 * read from the one-line top of book: the lowest latency). A strategy with onTop follows the top
 * lines only, and its onBook is not called.
 */
export interface Strategy {
  /** A book changed; `snapshot.instrumentIndex` is its slot (ctx.symbolOf gives the symbol). */
  onBook?(snapshot: BookSnapshot, ctx: StrategyContext): void;
  /** The top of book of `slot` changed (best bid or ask: price, size or order count); `top` is reused. */
  onTop?(top: TopSnapshot, slot: number, ctx: StrategyContext): void;
  /**
   * A trade (an event of kind MDFAN_EVENT_KIND_TRADE: ITCH E C P Q). Implementing it (or onEvent)
   * makes the worker follow the segment's event ring; `event` is reused: copy what you keep.
   */
  onTrade?(event: EventRecord, ctx: StrategyContext): void;
  /** Every event of the ring (trades too), in order. */
  onEvent?(event: EventRecord, ctx: StrategyContext): void;
  /** The worker fell more than the ring's capacity behind: `lost` events were lost, exactly. */
  onEventsLost?(lost: number, ctx: StrategyContext): void;
  /** The writer died or the book is flagged stale. */
  onStale?(reason: string, ctx: StrategyContext): void;
  /** The run ends; the returned object is reported as this worker's strategy summary. */
  onClose?(ctx: StrategyContext): Record<string, unknown> | undefined;
}

/** Built-in strategies by name (`--strategy imbalance`), else a path to a module. */
const BUILT_IN: Record<string, string> = {
  imbalance: '../strategies/imbalance.js',
  'spread-monitor': '../strategies/spread-monitor.js',
  microprice: '../strategies/microprice.js',
};

export function resolveStrategy(spec: string): string {
  const builtIn = BUILT_IN[spec];
  if (builtIn) return new URL(builtIn, import.meta.url).href;
  const path = isAbsolute(spec) ? spec : resolve(process.cwd(), spec);
  if (!existsSync(path))
    throw new MdfanError(ErrorCode.OPTIONS, `--strategy: no such module ${path} (built-in: ${Object.keys(BUILT_IN).join(', ')})`, { path });
  return pathToFileURL(path).href;
}

export async function loadStrategy(url: string): Promise<Strategy> {
  const mod = (await import(url).catch((e: unknown) => {
    // A pool started from the API, not the command, meets a Node without type stripping here.
    const path = fileURLToPath(url);
    throw (e as { code?: unknown }).code === 'ERR_UNKNOWN_FILE_EXTENSION' && isTypeScriptPath(path) ? typeScriptRefusal(path) : e;
  })) as { default?: unknown; strategy?: unknown };
  let s = (mod.strategy ?? mod.default) as Strategy | (new () => Strategy) | undefined;
  if (typeof s === 'function') s = new (s as new () => Strategy)();
  if (!s || (typeof (s as Strategy).onBook !== 'function' && typeof (s as Strategy).onTop !== 'function'))
    throw new MdfanError(ErrorCode.OPTIONS, `strategy ${fileURLToPath(url)} exports neither onBook(snapshot, ctx) nor onTop(top, slot, ctx)`);
  return s as Strategy;
}
