/**
 * The spread monitor (workers/strategies/spread-monitor.ts), unchanged, plus what a test can wait
 * for on the pool's stdout:
 *   "probe attached"     a worker has attached (the pool loads the strategy after attaching)
 *   "probe stale W"      worker W's onStale was called (e.g. it saw the writer die)
 */
import { SpreadMonitor } from '../../workers/strategies/spread-monitor.js';
import type { StrategyContext } from '../../workers/pool/strategy.js';

const say = (s: string): void => void process.stdout.write(`${s}\n`);

export default class ProbedSpreadMonitor extends SpreadMonitor {
  constructor() {
    super();
    say('probe attached');
  }

  override onStale(reason: string, ctx?: StrategyContext): void {
    super.onStale(reason);
    say(`probe stale ${ctx?.workerIndex}`);
  }
}
