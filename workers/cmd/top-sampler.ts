/**
 * What `mdfan top` shows, sampled: the segment's header, counters and readers as `mdfan stat`
 * reads them (statWithReaders), each instrument's best bid and ask (level 0 of its book, read
 * through the seqlock from a read-only mapping kept open), updates per second from the slots'
 * update counters, and trades per second, the last trade and the last trading action from the
 * event ring. Rates are differences between two samples; a new writer generation starts them again.
 * A reader like any other: read-only, never on the writer's path.
 */
import { type StatReport, statWithReaders } from '../../native/segment/stat.js';
import { EventBatch, type EventRecord, ErrorCode, SegmentReader, abi, isMdfanError } from '../../native/segment/index.js';
import type { ReaderInfo } from '../../native/segment/control.js';
import { EventReader } from '../sdk/event-reader.js';
import { isPrintableTrade } from '../../lib/event-line.js';

export interface TopRow {
  slot: number;
  symbol: string;
  /** Currency units per feed price unit: price / priceScale. */
  priceScale: number;
  /** Level 0 in the feed's integers; size 0: that side is empty. */
  bidPrice: number;
  bidSize: number;
  askPrice: number;
  askSize: number;
  /** The book is marked STALE (the feed lost messages for it), or could not be read consistently. */
  stale: boolean;
  updatesPerS: number;
  /** null: no event ring to count from. */
  tradesPerS: number | null;
  /** Price in currency units. */
  lastTrade: { price: number; shares: number } | null;
  /** The last trading action's letter (H halted, T trading, P paused, Q quotation only), '' if none seen. */
  status: string;
}

export interface TopFrame {
  segment: string;
  /** Set while there is nothing to show: what is awaited (the code and message). */
  waiting: string | null;
  state: string;
  generation: number;
  writerPid: number;
  writerAlive: boolean;
  heartbeatAgeMs: number | null;
  messages: number;
  messagesPerS: number;
  instruments: number;
  readers: ReaderInfo[] | null;
  /** Events this view lost to lapping since it started (it reads the ring like any reader). */
  eventsLost: number;
  rows: TopRow[];
}

export class TopSampler {
  private seg: SegmentReader | null = null;
  private events: EventReader | null = null;
  private readonly batch = new EventBatch(1024);
  private generation = -1;
  private lastMs = 0;
  private lastMessages = 0;
  private lastUpdates: number[] = [];
  private trades: number[] = [];
  private lastTrades: Array<{ price: number; shares: number } | null> = [];
  private status: string[] = [];
  private eventsLost = 0;
  /** The first sample after a (re)start has no rates yet, only levels and last trades. */
  private primed = false;

  constructor(readonly segment: string) {}

  async sample(nowMs: number = performance.now()): Promise<TopFrame> {
    let stat: StatReport;
    try {
      stat = await statWithReaders(this.segment);
    } catch (e) {
      if (!isMdfanError(e)) throw e;
      this.reset();
      return this.waitingFrame(`${e.code}: ${e.message.replace(`${e.code}: `, '')}`);
    }
    if (stat.generation !== this.generation || this.seg === null || this.seg.replaced) this.restart(stat.generation);
    this.drainEvents();
    const dtS = this.primed ? Math.max(1e-3, (nowMs - this.lastMs) / 1000) : 0;
    const snap = this.seg!.newSnapshot();
    const rows: TopRow[] = stat.instruments.map((inst) => {
      const updates = inst.updates ?? this.lastUpdates[inst.slot] ?? 0;
      const row: TopRow = {
        slot: inst.slot,
        symbol: inst.symbol,
        priceScale: inst.price_scale,
        bidPrice: 0,
        bidSize: 0,
        askPrice: 0,
        askSize: 0,
        stale: inst.stale,
        updatesPerS: dtS > 0 ? Math.max(0, updates - (this.lastUpdates[inst.slot] ?? updates)) / dtS : 0,
        tradesPerS: this.events === null ? null : dtS > 0 ? (this.trades[inst.slot] ?? 0) / dtS : 0,
        lastTrade: this.lastTrades[inst.slot] ?? null,
        status: this.status[inst.slot] ?? '',
      };
      this.lastUpdates[inst.slot] = updates;
      try {
        this.seg!.read(inst.slot, snap);
        row.stale ||= snap.stale;
        if (snap.bidCount > 0) [row.bidPrice, row.bidSize] = [snap.bidPrice(0), snap.bidSize(0)];
        if (snap.askCount > 0) [row.askPrice, row.askSize] = [snap.askPrice(0), snap.askSize(0)];
      } catch (e) {
        if (!isMdfanError(e, ErrorCode.STALE)) throw e;
        row.stale = true; // left mid-commit: shown as stale this round
      }
      return row;
    });
    this.trades.fill(0);
    const messagesPerS = dtS > 0 ? Math.max(0, stat.messages - this.lastMessages) / dtS : 0;
    this.lastMessages = stat.messages;
    this.lastMs = nowMs;
    this.primed = true;
    return {
      segment: this.segment,
      waiting: null,
      state: stat.state,
      generation: stat.generation,
      writerPid: stat.writer_pid,
      writerAlive: stat.writer_alive,
      heartbeatAgeMs: stat.heartbeat_age_ms,
      messages: stat.messages,
      messagesPerS,
      instruments: stat.instrument_count,
      readers: stat.readers,
      eventsLost: this.eventsLost,
      rows,
    };
  }

  /** A new writer generation (or the first sample): open its segment and ring, rates from zero. */
  private restart(generation: number): void {
    this.reset();
    this.generation = generation;
    this.seg = SegmentReader.openSync(this.segment, { anyState: true, staleAfterMs: 20 });
    try {
      this.events = EventReader.open(this.segment, { from: 'oldest', kinds: [abi.EVENT_KIND_TRADE, abi.EVENT_KIND_STATUS] });
    } catch (e) {
      if (!isMdfanError(e)) throw e;
      this.events = null; // a writer without an event ring: no trades to show
    }
  }

  private reset(): void {
    this.seg?.close();
    this.events?.close();
    this.seg = null;
    this.events = null;
    this.generation = -1;
    this.primed = false;
    this.lastUpdates = [];
    this.trades = [];
    this.lastTrades = [];
    this.status = [];
  }

  /** Every trade and trading action since the last sample: counts per slot, the last of each. */
  private drainEvents(): void {
    if (this.events !== null) this.eventsLost += this.events.drainInstrumentEvents(this.batch, this.countEvent);
  }

  private readonly countEvent = (rec: EventRecord): void => {
    const slot = rec.instrumentIndex;
    if (rec.kind === abi.EVENT_KIND_STATUS) this.status[slot] = String.fromCharCode(rec.action);
    else if (isPrintableTrade(rec)) {
      this.trades[slot] = (this.trades[slot] ?? 0) + 1;
      if (rec.hasPrice) this.lastTrades[slot] = { price: rec.price / abi.EVENT_PRICE_SCALE, shares: rec.shares };
    }
  };

  private waitingFrame(why: string): TopFrame {
    return {
      segment: this.segment,
      waiting: why,
      state: '–',
      generation: 0,
      writerPid: 0,
      writerAlive: false,
      heartbeatAgeMs: null,
      messages: 0,
      messagesPerS: 0,
      instruments: 0,
      readers: null,
      eventsLost: this.eventsLost,
      rows: [],
    };
  }

  close(): void {
    this.reset();
  }
}
