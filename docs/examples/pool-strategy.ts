// A strategy for the pool:
//   mdfan strategies --segment SEGMENT --workers 2 --strategy pool-strategy.js
// Each worker thread loads this module and is handed every change of a best bid or ask (onTop)
// and every trade (onTrade). It keeps each symbol's last quote and spread in currency units, says
// when a spread changes, and hands its figures back at the end: the pool prints them as the
// worker's "strategy summary" (and puts them in its --json report).
import type { EventRecord, Strategy, StrategyContext, TopSnapshot } from 'mdfan';

interface Quote {
  bid: number | null;
  ask: number | null;
  spread: number | null;
}
const quotes: Record<string, Quote> = {};
let trades = 0;
let lastTrade: { symbol: string; px: number; qty: number } | null = null;

const strategy: Strategy = {
  onTop(top: TopSnapshot, slot: number, ctx: StrategyContext): void {
    // top is reused for the next change: read what you need now.
    const symbol = ctx.symbolOf(slot);
    const bid = top.bidQty > 0 ? top.bidPx : null;
    const ask = top.askQty > 0 ? top.askPx : null;
    // A difference of decimals, rounded to the instrument's tick: 585.5 - 585.35 is 0.15.
    const scale = ctx.priceScaleOf(slot);
    const spread = bid !== null && ask !== null ? Math.round((ask - bid) * scale) / scale : null;
    const was = quotes[symbol];
    quotes[symbol] = { bid, ask, spread };
    if (was === undefined || was.spread !== spread) console.log(`worker ${ctx.workerIndex}: ${symbol} bid ${bid ?? 'none'} ask ${ask ?? 'none'} spread ${spread ?? 'none'}`);
  },
  onTrade(e: EventRecord, ctx: StrategyContext): void {
    trades++;
    lastTrade = { symbol: ctx.symbolOf(e.instrumentIndex), px: e.px, qty: e.qty };
  },
  onClose(): Record<string, unknown> {
    return { quotes, trades, lastTrade };
  },
};
export default strategy;
