/**
 * The venue's own book of one symbol in a venue-replay: seeded by the capture's snapshot line,
 * moved by every depth event the replay has reached (sent or dropped: a dropped frame is the
 * network's loss, the venue's book has it), and written out as a REST depth snapshot of the moment
 * it is asked for. Numbers are kept as exact integers (8 decimals: every Binance number) and
 * written back with the decimals the recording's own strings have ("61804.7", "35",
 * "61837.63000000"), so a snapshot reads like the venue's.
 *
 * Sequencing: the capture's snapshot arrived after some events (they were buffered by its
 * recorder), so the recent depth events are kept (HISTORY events) and those after the snapshot's
 * lastUpdateId are applied once it seeds the book; later, an event whose u is not above the book's
 * lastUpdateId is already in it and is skipped. A capture whose own stream broke (a U or pu that
 * does not follow) has a broken book until its next snapshot line, which seeds it again.
 */
import { formatDecimal, parseDecimal } from '../decimal.js';

/** The book's scale: Binance writes at most 8 decimals. */
const DECIMALS = 8;
/** Recent depth events kept to be applied after a snapshot line that comes after them. */
const HISTORY = 4096;

type Side = Map<number, number>;

/** Digits after the point in `text` ("61804.7": 1, "35": 0). */
const decimalsOf = (text: string): number => {
  const i = text.indexOf('.');
  return i < 0 ? 0 : text.length - i - 1;
};

export class ServerBook {
  private readonly bids: Side = new Map();
  private readonly asks: Side = new Map();
  lastUpdateId = -1;
  seeded = false;
  /** The capture's stream broke since the last seed: the book is wrong until the next snapshot line. */
  broken = false;
  /** Sequence breaks the capture itself has. */
  breaks = 0;
  /** The first event after a seed is checked against the snapshot, not against a previous event. */
  private justSeeded = false;
  /** A ring of the last HISTORY depth events: historyCount of them, the oldest at historyHead. */
  private readonly history: Array<Record<string, unknown>> = new Array(HISTORY);
  private historyHead = 0;
  private historyCount = 0;
  /** Depth events applied, and those skipped as already in the book. */
  applied = 0;
  skipped = 0;
  /** Levels the capture wrote with a number this book cannot hold (never in Binance data). */
  badNumbers = 0;
  private priceDecimals = DECIMALS;
  private sizeDecimals = DECIMALS;
  /** The recorded snapshot's keys, in order (`lastUpdateId`, [`E`, `T`, `symbol`, `pair`,] `bids`, `asks`). */
  private keys: string[] = ['lastUpdateId', 'bids', 'asks'];
  private extra: Record<string, unknown> = {};
  /** The last event's times, for a futures snapshot's E and T. */
  private E = 0;
  private T = 0;

  constructor(readonly symbol: string) {}

  /** A snapshot line of the capture: seeds the book if it is newer than what the book holds. */
  seed(snap: Record<string, unknown>): boolean {
    const L = snap.lastUpdateId;
    if (typeof L !== 'number' || (this.seeded && !this.broken && L <= this.lastUpdateId)) return false;
    const bids = snap.bids as unknown;
    const asks = snap.asks as unknown;
    if (!Array.isArray(bids) || !Array.isArray(asks)) return false;
    this.bids.clear();
    this.asks.clear();
    const first = (bids[0] ?? asks[0]) as unknown;
    if (Array.isArray(first) && typeof first[0] === 'string' && typeof first[1] === 'string') {
      this.priceDecimals = decimalsOf(first[0]);
      this.sizeDecimals = decimalsOf(first[1]);
    }
    this.setLevels(this.bids, bids);
    this.setLevels(this.asks, asks);
    this.keys = Object.keys(snap);
    this.extra = snap;
    if (typeof snap.E === 'number') this.E = snap.E;
    if (typeof snap.T === 'number') this.T = snap.T;
    this.lastUpdateId = L;
    this.seeded = true;
    this.broken = false;
    this.justSeeded = true;
    for (let k = 0; k < this.historyCount; k++) this.move(this.history[(this.historyHead + k) % HISTORY]!);
    return true;
  }

  /** A depth event's data (`U`, `u`, `b`, `a`, ...): applied unless the book already has it. */
  apply(data: Record<string, unknown>): void {
    this.history[(this.historyHead + this.historyCount) % HISTORY] = data;
    if (this.historyCount < HISTORY) this.historyCount++;
    else this.historyHead = (this.historyHead + 1) % HISTORY;
    if (this.seeded) this.move(data);
  }

  private move(data: Record<string, unknown>): void {
    const u = data.u;
    const U = data.U;
    if (typeof u !== 'number' || typeof U !== 'number') return;
    if (u <= this.lastUpdateId) {
      this.skipped++;
      return;
    }
    // The first event after a snapshot covers L+1 (spot) or L (futures); later ones follow on (pu, else U).
    const follows = this.justSeeded ? U <= this.lastUpdateId + 1 : typeof data.pu === 'number' ? data.pu === this.lastUpdateId : U === this.lastUpdateId + 1;
    if (!follows && !this.broken) {
      this.broken = true;
      this.breaks++;
    }
    this.justSeeded = false;
    if (Array.isArray(data.b)) this.setLevels(this.bids, data.b);
    if (Array.isArray(data.a)) this.setLevels(this.asks, data.a);
    if (typeof data.E === 'number') this.E = data.E;
    if (typeof data.T === 'number') this.T = data.T;
    this.lastUpdateId = u;
    this.applied++;
  }

  /** The REST body of the book now, `limit` levels a side, keys as the recorded snapshot had them. */
  snapshotBody(limit: number): string {
    const parts: string[] = [];
    for (const k of this.keys) {
      let v: string;
      if (k === 'lastUpdateId') v = String(this.lastUpdateId);
      else if (k === 'bids') v = this.levelsJson(this.bids, limit, true);
      else if (k === 'asks') v = this.levelsJson(this.asks, limit, false);
      else if (k === 'E') v = String(this.E);
      else if (k === 'T') v = String(this.T);
      else v = JSON.stringify(this.extra[k]);
      parts.push(`${JSON.stringify(k)}:${v}`);
    }
    return `{${parts.join(',')}}`;
  }

  /** Levels a side (for tests and the summary). */
  get depth(): { bids: number; asks: number } {
    return { bids: this.bids.size, asks: this.asks.size };
  }

  private setLevels(side: Side, levels: unknown[]): void {
    for (const lv of levels) {
      if (!Array.isArray(lv) || typeof lv[0] !== 'string' || typeof lv[1] !== 'string') {
        this.badNumbers++;
        continue;
      }
      const price = parseDecimal(lv[0], DECIMALS, true);
      const size = parseDecimal(lv[1], DECIMALS);
      if (Number.isNaN(price) || Number.isNaN(size)) {
        this.badNumbers++;
        continue;
      }
      if (size === 0) side.delete(price);
      else side.set(price, size);
    }
  }

  private levelsJson(side: Side, limit: number, descending: boolean): string {
    const prices = [...side.keys()].sort((a, b) => (descending ? b - a : a - b));
    const n = Math.min(limit, prices.length);
    const out: string[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const p = prices[i]!;
      out[i] = `["${this.format(p, this.priceDecimals)}","${this.format(side.get(p)!, this.sizeDecimals)}"]`;
    }
    return `[${out.join(',')}]`;
  }

  /** `v` (at 8 decimals) with `decimals` digits after the point, more only where they are not zeros. */
  private format(v: number, decimals: number): string {
    const full = formatDecimal(v, DECIMALS);
    const point = full.indexOf('.');
    let end = full.length;
    while (end > point + 1 + decimals && full.charCodeAt(end - 1) === 48) end--;
    if (end === point + 1) end = point; // no digits left after the point
    return full.slice(0, end);
  }
}
