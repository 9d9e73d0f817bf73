/**
 * The bridge: a reader of a segment (read-only, never on the writer's path) that publishes to NATS,
 * per instrument:
 *   PREFIX.SYM.top     every top-of-book change it sees (a seqlock reader sees the latest)
 *   PREFIX.SYM.book    the full book, at most every bookIntervalMs (conflated), and into the bucket
 *   PREFIX.SYM.trade   every trade of the event ring
 *   PREFIX.SYM.status  every trading action
 * Each record carries its provenance and its subject's sequence number (wire.ts). The bucket gets
 * the last book per instrument, at most one put in flight per key: a slow server gets the newest
 * book next, never a queue.
 *
 * It follows the origin writer's story (the one follow loop): when the writer dies every book is
 * sent again flagged STALE and ORIGIN_DEAD (into the bucket too), and every record sent while it
 * is dead carries both flags; a writer that beats again, or a new writer (a takeover: its
 * generation on every record from then on), gets every book sent again.
 */
import { type EventRecord, ErrorCode, type MdfanError, abi, isMdfanError } from '../../native/segment/index.js';
import { native } from '../../native/segment/binding.js';
import type { Instrument } from '../../native/segment/directory.js';
import type { TopSnapshot } from '../../native/segment/tops.js';
import type { BookSnapshot } from '../../native/segment/seqlock.js';
import { LogEvent, type Logger, rateLimit } from '../../lib/log.js';
import { isPrintableTrade } from '../../lib/event-line.js';
import { BookReader } from '../sdk/book-reader.js';
import type { FollowHandler } from '../sdk/update.js';
import { BRIDGE_DEFAULTS } from '../../lib/wire/defaults.js';
import type { KV, NatsConnection } from '../../lib/wire/nats.js';
import { escapeSymbol, subjectOf } from '../../lib/wire/subjects.js';
import { type Head, MsgType, type TradeBody, TradeFlag, WireFlag, WireWriter } from '../../lib/wire/wire.js';

export interface BridgeOptions {
  segment: string;
  nc: NatsConnection;
  kv: KV;
  prefix: string;
  bookIntervalMs: number;
  wait: 'spin' | 'block';
  log: Logger;
}

export interface BridgeStats {
  tops: number;
  books: number;
  trades: number;
  statuses: number;
  bucketPuts: number;
  bucketErrors: number;
  eventsLost: number;
  /** Records not sent: a number at or beyond 2^53, which the wire cannot carry exactly (their subject shows the gap). */
  outOfRange: number;
  /** The origin writer's story: deaths seen, silent writers that beat again, new writers (takeovers). */
  originDeaths: number;
  originBacks: number;
  newWriters: number;
}

const TYPES = 4;

export class Bridge {
  /** The run's id: its start in seconds since the epoch, so a later run's records are newer (wire.ts). */
  readonly session = Math.floor(Date.now() / 1000) >>> 0;
  readonly stats: BridgeStats = { tops: 0, books: 0, trades: 0, statuses: 0, bucketPuts: 0, bucketErrors: 0, eventsLost: 0, outOfRange: 0, originDeaths: 0, originBacks: 0, newWriters: 0 };
  private readonly w = new WireWriter();
  private readonly head: Head = {
    type: MsgType.TOP,
    flags: 0,
    generation: 0,
    session: this.session,
    priceDecimals: 0,
    sizeDecimals: 0,
    seq: 0,
    msgIndex: 0,
    exchangeTsNs: 0,
    publishTsNs: 0,
    bridgeTsNs: 0,
    symbol: '',
  };
  /**
   * Per subject: the last sequence number sent, by symbol then type (a new writer may place a
   * symbol in another slot: its subjects' numbers go on). `slotSeqs` caches each slot's entry.
   */
  private readonly seqBySymbol = new Map<string, Float64Array>();
  private slotSeqs: Array<Float64Array | undefined> = [];
  private slotSymbols: Array<string | undefined> = [];
  /** The origin writer is dead (reported, and no new writer or beat since): every record says so. */
  private originDead = false;
  private changed: Int32Array;
  private book: BookSnapshot;
  private readonly tradeBody: TradeBody = { price: 0, size: 0, action: 0, side: 0, flags: 0, orderRef: 0 };
  /** Subjects per slot and type, made once (a new writer may place symbols elsewhere: cleared then). */
  private subjects: Array<string | undefined> = [];
  /** The bucket: a put in flight per slot, and the newest book waiting behind it. */
  private readonly putting = new Set<number>();
  private readonly waiting = new Map<number, Uint8Array>();
  private nextBookMs = 0;
  private readonly stopping = new AbortController();
  /** While the connection is down nothing is sent (the client would buffer without bound): sequence numbers still advance, so receivers see the gap. */
  private connected = true;
  private republish = false;
  /** The slot*TYPES+type of the record fillHead last prepared (its subject's index). */
  private subjectIndex = 0;
  private readonly bucketErrorLog = rateLimit(1000);
  private readonly rangeLog = rateLimit(1000);

  private constructor(
    private readonly reader: BookReader,
    private readonly o: BridgeOptions,
  ) {
    this.changed = new Int32Array(reader.seg.layout.maxInstruments);
    this.book = reader.newSnapshot();
  }

  /** Attaches to the segment (waiting for it) and returns a bridge ready to run. */
  static async start(o: BridgeOptions, attachTimeoutMs: number): Promise<Bridge> {
    const reader = await BookReader.attach(o.segment, { wait: o.wait === 'spin' ? 'spin' : 'block', timeoutMs: attachTimeoutMs });
    const b = new Bridge(reader, o);
    o.log.info({ event: LogEvent.BRIDGE_READY, segment: o.segment, prefix: o.prefix, session: b.session, generation: reader.seg.generation }, 'bridging');
    return b;
  }

  stop(): void {
    this.stopping.abort();
  }

  /** The connection's state (from the client's status events): back online, every book goes out again. */
  setConnected(up: boolean): void {
    if (up && !this.connected) this.republish = true;
    this.connected = up;
  }

  /**
   * Publishes until stop() or the writer closes the segment (the one follow loop: tops and the
   * ring's trades and trading actions as they come, books conflated at each turn); resolves when
   * the last records are flushed.
   */
  async run(): Promise<void> {
    const turn = (): void => {
      if (this.republish) {
        this.republish = false;
        this.publishAllBooks();
      }
      if (performance.now() >= this.nextBookMs) {
        this.nextBookMs = performance.now() + this.o.bookIntervalMs;
        this.publishBooks(this.reader.changed(this.changed));
      }
    };
    const handler: FollowHandler = {
      onTop: (top, inst) => {
        this.publishTop(top, inst);
        turn();
      },
      onEvent: this.publishEvent,
      onEventsLost: (lost) => {
        this.stats.eventsLost += lost;
      },
      onWriterDead: (err) => this.onOriginDead(err),
      onWriterBack: (pid) => this.onOriginBack(pid),
      onNewWriter: (generation) => this.onNewWriter(generation),
      onTurn: turn,
    };
    try {
      await this.reader.follow(handler, { tops: true, events: { kinds: [abi.EVENT_KIND_TRADE, abi.EVENT_KIND_STATUS], optional: true }, signal: this.stopping.signal });
      // The last state: every book the writer left.
      this.publishBooks(this.reader.changed(this.changed));
      await this.o.nc.flush();
      await this.drainBucket();
    } finally {
      this.reader.close();
    }
  }

  /**
   * The origin writer died: receivers must not take its silence for a quiet market. Every book is
   * sent again (and put in the bucket) flagged STALE and ORIGIN_DEAD, as is every record until a
   * new writer or a beat.
   */
  private onOriginDead(err: MdfanError): void {
    this.originDead = true;
    this.stats.originDeaths++;
    this.o.log.warn({ event: LogEvent.BRIDGE_ORIGIN_DEAD, segment: this.o.segment, code: err.code, pid: err.details.pid, generation: this.reader.currentGeneration }, `the origin writer died: every book sent again, stale: ${err.message}`);
    this.publishAllBooks();
  }

  /** A writer reported dead beats again (it had stopped): every book sent again, no longer stale. */
  private onOriginBack(pid: number): void {
    this.originDead = false;
    this.stats.originBacks++;
    this.o.log.info({ event: LogEvent.BRIDGE_ORIGIN_BACK, segment: this.o.segment, pid }, 'the origin writer beats again: every book sent again');
    this.publishAllBooks();
  }

  /**
   * A new writer (the loop re-opened its ring): its layout, its directory, its generation on every
   * record, and every book it holds sent again (receivers order books by generation first).
   */
  private onNewWriter(generation: number): void {
    this.originDead = false;
    this.stats.newWriters++;
    const max = this.reader.seg.layout.maxInstruments;
    if (this.changed.length !== max) this.changed = new Int32Array(max);
    if (this.book.levels !== this.reader.levels) this.book = this.reader.newSnapshot();
    this.subjects = [];
    this.slotSeqs = [];
    this.slotSymbols = [];
    // The reader's change scan starts over with the new writer: its next look hands every book it holds.
    this.o.log.info({ event: LogEvent.BRIDGE_NEW_ORIGIN, segment: this.o.segment, generation }, `a new origin writer (generation ${generation}): every book sent again`);
  }

  /** The sequence numbers of `inst`'s subjects (made on first sight of its symbol). */
  private seqsOf(inst: Instrument): Float64Array {
    const slot = inst.slotIndex;
    const cached = this.slotSeqs[slot];
    if (cached !== undefined && this.slotSymbols[slot] === inst.symbol) return cached;
    let seqs = this.seqBySymbol.get(inst.symbol);
    if (seqs === undefined) {
      seqs = new Float64Array(TYPES);
      this.seqBySymbol.set(inst.symbol, seqs);
    }
    this.slotSeqs[slot] = seqs;
    this.slotSymbols[slot] = inst.symbol;
    for (let t = 0; t < TYPES; t++) this.subjects[slot * TYPES + t] = undefined; // this slot's subjects name another symbol now
    return seqs;
  }

  /** Fills the head for a record of `type` about `slot`; returns its instrument, or undefined if the slot has none. */
  private fillHead(type: MsgType, inst: Instrument | undefined, msgIndex: number, exchangeTsNs: number, publishTsNs: number, stale: boolean): Instrument | undefined {
    if (inst === undefined) return undefined;
    const h = this.head;
    const seqs = this.seqsOf(inst);
    this.subjectIndex = inst.slotIndex * TYPES + type - 1;
    h.type = type;
    h.flags = this.originDead ? WireFlag.STALE | WireFlag.ORIGIN_DEAD : stale ? WireFlag.STALE : 0;
    h.generation = this.reader.currentGeneration; // a takeover's generation, not the attach's
    h.priceDecimals = inst.priceDecimals;
    h.sizeDecimals = inst.sizeDecimals;
    h.seq = ++seqs[type - 1]!;
    h.msgIndex = msgIndex;
    h.exchangeTsNs = exchangeTsNs;
    h.publishTsNs = publishTsNs;
    h.bridgeTsNs = native.monotonicNs();
    h.symbol = inst.symbol;
    return inst;
  }

  /**
   * Sends the record in the buffer (its head written here); null while disconnected. The client
   * keeps the bytes it is given until its next flush, so each record is a copy: the one
   * allocation per record this path makes.
   */
  private send(type: MsgType, symbol: string, length: number): Uint8Array | null {
    if (!this.connected) return null;
    this.w.head(this.head);
    const record = this.w.buf.slice(0, length);
    let subject = this.subjects[this.subjectIndex];
    if (subject === undefined) {
      subject = subjectOf(this.o.prefix, symbol, type);
      this.subjects[this.subjectIndex] = subject;
    }
    this.o.nc.publish(subject, record);
    return record;
  }

  /**
   * A record the wire cannot carry exactly (MDFAN_ERR_WIRE_RANGE: a number at or beyond 2^53) is
   * not sent rather than sent wrong: counted and logged; its sequence number is spent, so
   * receivers see the gap. Any other error is the bridge's own bug and goes on.
   */
  private notSent(e: unknown, symbol: string): void {
    if (!isMdfanError(e, ErrorCode.WIRE_RANGE)) throw e;
    this.stats.outOfRange++;
    if (this.rangeLog()) this.o.log.warn({ symbol, err: (e as Error).message, outOfRange: this.stats.outOfRange }, `a ${symbol} record not sent: ${(e as Error).message}`);
  }

  private publishTop(t: TopSnapshot, instrument: Instrument): void {
    const inst = this.fillHead(MsgType.TOP, instrument, t.msgIndex, t.exchangeTsNs, t.publishTsNs, t.stale);
    if (inst === undefined) return;
    try {
      if (this.send(MsgType.TOP, inst.symbol, this.w.top({ count: t.bidCount, levels: t.bids }, { count: t.askCount, levels: t.asks }))) this.stats.tops++;
    } catch (e) {
      this.notSent(e, inst.symbol);
    }
  }

  /** The books of the first n slots of `changed`. */
  private publishBooks(n: number): void {
    for (let k = 0; k < n; k++) this.publishBook(this.changed[k]!);
  }

  /** Every instrument's book (after a reconnect: receivers and the bucket may have missed any). */
  private publishAllBooks(): void {
    for (const inst of this.reader.instruments) this.publishBook(inst.slotIndex);
  }

  private publishBook(slot: number): void {
    const b = this.book;
    if (!this.readBook(slot) || b.seq === 0) return;
    const inst = this.fillHead(MsgType.BOOK, this.reader.instrumentOf(slot), b.msgIndex, b.exchangeTsNs, b.publishTsNs, b.stale);
    if (inst === undefined) return;
    let record: Uint8Array | null;
    try {
      const len = this.w.book({
        levels: this.reader.levels,
        feedId: inst.feedId,
        maxInstruments: this.reader.seg.layout.maxInstruments,
        bids: { count: b.bidCount, levels: b.bids },
        asks: { count: b.askCount, levels: b.asks },
      });
      record = this.send(MsgType.BOOK, inst.symbol, len);
    } catch (e) {
      this.notSent(e, inst.symbol);
      return;
    }
    if (record === null) return;
    this.stats.books++;
    this.put(slot, inst.symbol, record);
  }

  /** A read that finds the slot left mid-commit (a stopped writer) is skipped: the next change brings it. */
  private readBook(slot: number): boolean {
    try {
      this.reader.read(slot, this.book);
      return true;
    } catch (e) {
      if (isMdfanError(e, 'MDFAN_ERR_STALE')) return false;
      throw e;
    }
  }

  /** One trade or trading action to its subject (made once: no function per event). */
  private readonly publishEvent = (rec: EventRecord, instrument: Instrument | undefined): void => {
    if (rec.kind === abi.EVENT_KIND_STATUS) {
      const inst = this.fillHead(MsgType.STATUS, instrument, rec.msgIndex, rec.exchangeTsNs, rec.publishTsNs, false);
      if (inst !== undefined && this.send(MsgType.STATUS, inst.symbol, this.w.status(rec.action))) this.stats.statuses++;
    } else if (isPrintableTrade(rec)) {
      const inst = this.fillHead(MsgType.TRADE, instrument, rec.msgIndex, rec.exchangeTsNs, rec.publishTsNs, false);
      if (inst === undefined) return;
      const t = this.tradeBody;
      t.price = rec.hasPrice ? rec.price : Number.NaN;
      t.size = rec.size;
      t.action = rec.action;
      t.side = rec.side;
      t.flags = rec.flags & TradeFlag.NOT_PRINTABLE;
      t.orderRef = rec.orderRef;
      try {
        if (this.send(MsgType.TRADE, inst.symbol, this.w.trade(t))) this.stats.trades++;
      } catch (e) {
        this.notSent(e, inst.symbol);
      }
    }
  };

  /** The bucket: one put in flight per key; a newer book waits behind it and replaces an older waiting one. */
  private put(slot: number, symbol: string, record: Uint8Array): void {
    if (this.putting.has(slot)) {
      this.waiting.set(slot, record);
      return;
    }
    this.putting.add(slot);
    this.o.kv.put(escapeSymbol(symbol), record).then(
      () => {
        this.stats.bucketPuts++;
        this.afterPut(slot, symbol);
      },
      (e: Error) => {
        this.stats.bucketErrors++;
        if (this.bucketErrorLog()) this.o.log.warn({ symbol, err: e.message, errors: this.stats.bucketErrors }, `bucket put failed (retried with the next book): ${e.message}`);
        if (!this.waiting.has(slot)) this.waiting.set(slot, record);
        setTimeout(() => this.afterPut(slot, symbol), BRIDGE_DEFAULTS.reconnectWaitMs);
      },
    );
  }

  private afterPut(slot: number, symbol: string): void {
    this.putting.delete(slot);
    const next = this.waiting.get(slot);
    if (next) {
      this.waiting.delete(slot);
      this.put(slot, symbol, next);
    }
  }

  /** Waits until every book has reached the bucket (at the end), or `timeoutMs` (a server gone for good). */
  private async drainBucket(timeoutMs = 10_000): Promise<void> {
    const end = performance.now() + timeoutMs;
    while ((this.putting.size > 0 || this.waiting.size > 0) && performance.now() < end) await new Promise((r) => setTimeout(r, 5));
  }
}
