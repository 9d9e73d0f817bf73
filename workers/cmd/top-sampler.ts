/**
 * What `mdfan top` shows, sampled: the segment's header, counters and readers as `mdfan stat`
 * reads them (statWithReaders), and from the one follow loop's core, drained at each sample: each
 * instrument's best bid and ask (level 0 of its last book), trades per second, the last trade and
 * the last trading action (the event ring), and the writer's story (a new writer starts the rates
 * again). Updates per second come from the slots' update counters. Rates are differences between
 * two samples. A reader like any other: read-only, never on the writer's path.
 */
import { type StatReport, statWithReaders } from '../../native/segment/stat.js';
import { type EventRecord, abi, isMdfanError } from '../../native/segment/index.js';
import type { ReaderInfo } from '../../native/segment/control.js';
import type { BookSnapshot } from '../../native/segment/seqlock.js';
import { isPrintableTrade } from '../../lib/event-line.js';
import { BookReader } from '../sdk/book-reader.js';
import { Follower } from '../sdk/follower.js';

export interface TopRow {
  slot: number;
  symbol: string;
  /** Currency units per feed price unit: price / priceScale. */
  priceScale: number;
  /** Likewise for sizes (1 for whole shares; 10^8 for a Binance instrument). */
  sizeScale: number;
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

/** Level 0 of a book as last seen. */
interface Best {
  bidPrice: number;
  bidSize: number;
  askPrice: number;
  askSize: number;
  stale: boolean;
}

export class TopSampler {
  private follower: Follower | null = null;
  /** The generation whose close the follower reported: a later one is followed anew. */
  private closedGeneration = -1;
  private lastMs = 0;
  private lastMessages = 0;
  private lastUpdates: number[] = [];
  private best: Array<Best | undefined> = [];
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
      if (this.follower === null || stat.generation !== this.closedGeneration) await this.drain(stat.generation);
    } catch (e) {
      if (!isMdfanError(e)) throw e;
      this.reset();
      return this.waitingFrame(`${e.code}: ${e.message.replace(`${e.code}: `, '')}`);
    }
    const dtS = this.primed ? Math.max(1e-3, (nowMs - this.lastMs) / 1000) : 0;
    const rows: TopRow[] = stat.instruments.map((inst) => {
      const updates = inst.updates ?? this.lastUpdates[inst.slot] ?? 0;
      const best = this.best[inst.slot];
      const row: TopRow = {
        slot: inst.slot,
        symbol: inst.symbol,
        priceScale: inst.price_scale,
        sizeScale: 10 ** inst.size_decimals,
        bidPrice: best?.bidPrice ?? 0,
        bidSize: best?.bidSize ?? 0,
        askPrice: best?.askPrice ?? 0,
        askSize: best?.askSize ?? 0,
        stale: inst.stale || (best?.stale ?? false),
        updatesPerS: dtS > 0 ? Math.max(0, updates - (this.lastUpdates[inst.slot] ?? updates)) / dtS : 0,
        tradesPerS: this.follower?.followsEvents !== true ? null : dtS > 0 ? (this.trades[inst.slot] ?? 0) / dtS : 0,
        lastTrade: this.lastTrades[inst.slot] ?? null,
        status: this.status[inst.slot] ?? '',
      };
      this.lastUpdates[inst.slot] = updates;
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

  /** Everything the follow loop has for us since the last sample: books, trades and actions, the writer's story. */
  private async drain(generation: number): Promise<void> {
    if (this.follower?.done) this.reset(); // a writer after the one that closed
    if (this.follower === null) {
      const reader = await BookReader.attach(this.segment, { timeoutMs: 0, anyState: true, staleAfterMs: 20, announce: false });
      this.follower = new Follower(reader, { events: { kinds: [abi.EVENT_KIND_TRADE, abi.EVENT_KIND_STATUS], optional: true } });
    }
    const f = this.follower;
    f.checkStory();
    for (let u = f.next(); u !== null; u = f.next()) {
      if (u.kind === 'book') this.keep(u.book);
      else if (u.kind === 'stale') this.best[u.instrument.slotIndex] = { bidPrice: 0, bidSize: 0, askPrice: 0, askSize: 0, stale: true };
      else if (u.kind === 'event') this.count(u.event);
      else if (u.kind === 'events-lost') this.eventsLost += u.lost;
      else if (u.kind === 'new-writer') this.restartRates();
      else if (u.kind === 'closed') {
        this.closedGeneration = generation;
        break;
      }
    }
  }

  private keep(b: BookSnapshot): void {
    this.best[b.instrumentIndex] = {
      bidPrice: b.bidCount > 0 ? b.bidPrice(0) : 0,
      bidSize: b.bidCount > 0 ? b.bidSize(0) : 0,
      askPrice: b.askCount > 0 ? b.askPrice(0) : 0,
      askSize: b.askCount > 0 ? b.askSize(0) : 0,
      stale: b.stale,
    };
  }

  private restartRates(): void {
    this.primed = false;
    this.lastUpdates = [];
    this.best = [];
    this.trades = [];
    this.lastTrades = [];
    this.status = [];
  }

  private reset(): void {
    if (this.follower !== null) {
      this.follower.close();
      this.follower.reader.close();
    }
    this.follower = null;
    this.closedGeneration = -1;
    this.restartRates();
  }

  /** One trade or trading action: counts per slot, the last of each. */
  private count(rec: EventRecord): void {
    const slot = rec.instrumentIndex;
    if (rec.kind === abi.EVENT_KIND_STATUS) this.status[slot] = String.fromCharCode(rec.action);
    else if (isPrintableTrade(rec)) {
      this.trades[slot] = (this.trades[slot] ?? 0) + 1;
      if (rec.hasPrice) this.lastTrades[slot] = { price: rec.price / abi.EVENT_PRICE_SCALE, shares: rec.size };
    }
  }

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
