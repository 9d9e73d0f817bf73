/**
 * `mdfan top`'s screen, from a sampled frame: two header lines (segment, state, writer, counters,
 * readers), the instruments table (best bid and ask, spread, updates/s, trades/s, last trade,
 * trading state), most active first, cut to the terminal's height, and a footer. Plain text lines
 * no wider than the terminal; the command adds the escapes that redraw them in place.
 */
import { formatTable } from '../../lib/cli/table.js';
import type { TopFrame, TopRow } from './top-sampler.js';

const HEAD = ['SYMBOL', 'BID SIZE', 'BID', 'ASK', 'ASK SIZE', 'SPREAD', 'UPD/S', 'TRD/S', 'LAST TRADE', 'STATE'];
/** Right-aligned (numeric) columns of HEAD. */
const NUMERIC = new Set([1, 2, 3, 4, 5, 6, 7]);
/** Lines around the table: two header lines, a blank, the column names; the footer. */
const CHROME_LINES = 5;

const int = (n: number): string => Math.round(n).toLocaleString('en-US');
const rate = (n: number): string => (n >= 100 ? int(n) : n.toFixed(1));
const STATE_NAMES: Readonly<Record<string, string>> = { H: 'halted', T: 'trading', P: 'paused', Q: 'quoting' };

function cells(r: TopRow): string[] {
  const decimals = Math.max(0, Math.round(Math.log10(r.priceScale)));
  const px = (p: number): string => (p / r.priceScale).toFixed(decimals);
  // Whole shares as integers; fractional sizes (a crypto venue's) at their decimals, trailing zeros dropped.
  const sz = (s: number): string => (r.sizeScale === 1 ? int(s) : String(s / r.sizeScale));
  const both = r.bidSize > 0 && r.askSize > 0;
  return [
    r.stale ? `${r.symbol}*` : r.symbol,
    r.bidSize > 0 ? sz(r.bidSize) : '–',
    r.bidSize > 0 ? px(r.bidPrice) : '–',
    r.askSize > 0 ? px(r.askPrice) : '–',
    r.askSize > 0 ? sz(r.askSize) : '–',
    both ? px(r.askPrice - r.bidPrice) : '–',
    rate(r.updatesPerS),
    r.tradesPerS === null ? '–' : rate(r.tradesPerS),
    r.lastTrade ? `${sz(r.lastTrade.shares)} @ ${r.lastTrade.price.toFixed(decimals)}` : '–',
    STATE_NAMES[r.status] ?? r.status,
  ];
}

/** Most updates per second first, then by symbol: the busy books stay on screen. */
const byActivity = (a: TopRow, b: TopRow): number => b.updatesPerS - a.updatesPerS || (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0);

export function renderTop(f: TopFrame, width: number, height: number, intervalMs: number): string[] {
  const clip = (l: string): string => (l.length > width ? l.slice(0, width) : l);
  const footer = `q or Ctrl-C quits · every ${intervalMs} ms · * stale book`;
  if (f.waiting !== null) return [`mdfan top  ${f.segment}`, '', `waiting for the segment: ${f.waiting}`, '', footer].map(clip);
  const writer = f.writerPid ? `writer pid ${f.writerPid} ${f.writerAlive ? 'alive' : 'DEAD'}` : 'no writer';
  const beat = f.heartbeatAgeMs === null ? '' : `  heartbeat ${int(f.heartbeatAgeMs)} ms ago`;
  const readers =
    f.readers === null ? 'readers unknown (no control plane)' : `readers ${f.readers.length}${f.readers.length ? `: ${f.readers.map((r) => `${r.pid} ${r.wait || '?'}`).join(', ')}` : ''}`;
  const shown = Math.max(0, height - CHROME_LINES);
  const rows = [...f.rows].sort(byActivity).slice(0, shown);
  const table = formatTable(HEAD, rows.map(cells), NUMERIC);
  return [
    `mdfan top  ${f.segment}  ${f.state}  generation ${f.generation}  ${writer}${beat}`,
    `messages ${int(f.messages)} (${rate(f.messagesPerS)}/s)  instruments ${f.instruments}  events lost ${int(f.eventsLost)}  ${readers}`,
    '',
    ...table,
    `${footer} · ${rows.length} of ${f.rows.length} instruments, most active first`,
  ].map(clip);
}
