/**
 * The mirror: on another host, the single writer of a local segment fed from NATS, so strategies
 * there use the same SDK and commands. It subscribes to the bridge's subjects (callback
 * subscriptions: no async iterator buffering without bound), loads every book from the bucket
 * before it opens its segment, then applies records as they come:
 *   book    a full book: published to the local slot unless older than the one it has
 *   trade   appended to the local event ring (with the origin's message index and times)
 *   status  appended likewise
 *   top     counted only: the books carry the same levels, exact at their message
 * Each subject's sequence numbers are checked: a jump is a gap (feed_gaps, and feed_unrecovered
 * for trades and actions that cannot come back; a book is whole, so the next one heals it). When
 * the connection drops every book is marked STALE (stale_marks); on reconnect the bucket is read
 * again and the marks cleared (feed_recovered). A record that is short, of another version, on a
 * foreign subject or naming another symbol than its subject is counted (malformed_messages) and
 * logged at most once a second, never thrown.
 */
import { ErrorCode, MdfanError, SegmentWriter, abi, newEventFields } from '../../native/segment/index.js';
import type { Msg, Subscription } from '@nats-io/transport-node';
import { LogEvent, type Logger, rateLimit } from '../../lib/log.js';
import { BRIDGE_DEFAULTS } from './defaults.js';
import type { KV, NatsConnection } from './nats.js';
import { escapeSymbol, parseSubject } from './subjects.js';
import { type BookBody, type Decoded, type Head, MsgType, WireError, WireFlag, decode } from './wire.js';

export interface MirrorOptions {
  nc: NatsConnection;
  kv: KV;
  /** The bucket's name, for messages. */
  bucket: string;
  prefix: string;
  segment: string;
  /** Only these symbols (null: every symbol the bridge sends). */
  symbols: ReadonlySet<string> | null;
  ringEvents: number;
  log: Logger;
}

export interface MirrorStats {
  records: number;
  books: number;
  tops: number;
  trades: number;
  statuses: number;
  malformed: number;
  gaps: number;
  lost: number;
  staleMarks: number;
  recovered: number;
  reloads: number;
  queueDropped: number;
}

/** What the mirror knows of one symbol. */
interface SymbolState {
  slot: number;
  /** Per type (index type-1): the bridge session and the last sequence number seen. */
  seqSession: Uint32Array;
  seq: Float64Array;
  /** The book published (its bridge session, origin generation and message), kept to mark it stale and back. */
  session: number;
  generation: number;
  msgIndex: number;
  exchangeTsNs: number;
  book: { bidCount: number; askCount: number; bids: Uint32Array; asks: Uint32Array };
  hasBook: boolean;
  stale: boolean;
}

export class Mirror {
  readonly stats: MirrorStats = { records: 0, books: 0, tops: 0, trades: 0, statuses: 0, malformed: 0, gaps: 0, lost: 0, staleMarks: 0, recovered: 0, reloads: 0, queueDropped: 0 };
  private writer: SegmentWriter | null = null;
  private readonly symbols = new Map<string, SymbolState>();
  /** Records that came before the segment existed, applied after the bucket. */
  private queue: Array<{ subject: string; data: Uint8Array }> | null = [];
  private readonly subs: Subscription[] = [];
  private readonly event = newEventFields();
  private readonly malformedLog = rateLimit(1000);
  private readonly gapLog = rateLimit(1000);
  private levels = 0;

  private constructor(private readonly o: MirrorOptions) {}

  /**
   * Subscribes, loads the bucket, opens the local segment (layout from the first book, in the
   * bucket or on the wire), publishes every book loaded, then the records that came meanwhile.
   */
  static async start(o: MirrorOptions): Promise<Mirror> {
    const m = new Mirror(o);
    const subjects = o.symbols === null ? [`${o.prefix}.*.*`] : [...o.symbols].map((s) => `${o.prefix}.${escapeSymbol(s)}.*`);
    for (const subject of subjects) m.subs.push(o.nc.subscribe(subject, { callback: (err, msg) => (err ? undefined : m.onMsg(msg)) }));
    await o.nc.flush(); // the server has the subscriptions: nothing sent from now on is missed
    o.log.info({ event: LogEvent.MIRROR_SUBSCRIBED, subjects }, `subscribed to ${subjects.join(', ')}`);
    let loaded = await m.loadBucket();
    const end = performance.now() + BRIDGE_DEFAULTS.mirrorLayoutTimeoutMs;
    let layout = m.layoutOf(loaded);
    // An empty bucket: the first book on the wire gives the layout (looked for every 10 ms); the
    // bucket is read again now and then, for a bridge that only puts.
    for (let polls = 1; layout === null; polls++) {
      if (performance.now() > end)
        throw new MdfanError(ErrorCode.NOT_READY, `no book for the mirror's layout in bucket ${o.bucket} or on ${o.prefix}.> within ${BRIDGE_DEFAULTS.mirrorLayoutTimeoutMs} ms`, { prefix: o.prefix });
      await new Promise((r) => setTimeout(r, 10));
      if (polls % 100 === 0) loaded = await m.loadBucket();
      layout = m.layoutOf(loaded);
    }
    m.levels = layout.levels;
    const w = SegmentWriter.open({ name: o.segment, levels: layout.levels, maxInstruments: layout.maxInstruments, ringEvents: o.ringEvents });
    m.writer = w;
    for (const d of loaded) if ('book' in d) m.applyBook(d.head, d.book, true);
    w.wakeIfSleepers();
    await w.startControl();
    w.startIdleHeartbeat();
    const queued = m.queue ?? [];
    m.queue = null;
    for (const q of queued) m.handle(q.subject, q.data);
    w.wakeIfSleepers();
    o.log.info({ event: LogEvent.MIRROR_READY, segment: o.segment, books: loaded.length, queued: queued.length, generation: w.generation }, `mirroring into ${o.segment}`);
    return m;
  }

  get segment(): SegmentWriter | null {
    return this.writer;
  }

  /** The layout of the first book decoded (from the bucket, or queued from the wire), or null. */
  private layoutOf(loaded: Decoded[]): { levels: number; maxInstruments: number } | null {
    for (const d of loaded) if ('book' in d) return { levels: d.book.levels, maxInstruments: d.book.maxInstruments };
    for (const q of this.queue ?? []) {
      try {
        const d = decode(q.data);
        if ('book' in d) return { levels: d.book.levels, maxInstruments: d.book.maxInstruments };
      } catch {
        /* counted when the queue is applied */
      }
    }
    return null;
  }

  /** Every book in the bucket (of the symbols mirrored), decoded; bad entries counted and skipped. */
  private async loadBucket(): Promise<Decoded[]> {
    const out: Decoded[] = [];
    if ((await this.o.kv.status()).values === 0) return out; // listing an empty bucket waits for a timeout
    const keys: string[] = [];
    for await (const k of await this.o.kv.keys()) keys.push(k);
    const entries = await Promise.all(keys.map((k) => this.o.kv.get(k)));
    for (const e of entries) {
      if (e === null || e.operation !== 'PUT') continue;
      try {
        const d = decode(e.value);
        if (this.o.symbols !== null && !this.o.symbols.has(d.head.symbol)) continue;
        if (escapeSymbol(d.head.symbol) !== e.key) throw new WireError('symbol', `bucket key ${e.key} holds ${d.head.symbol}`);
        out.push(d);
      } catch (err) {
        if (!(err instanceof WireError)) throw err;
        this.malformed(`${this.o.bucket}/${e.key}`, err);
      }
    }
    return out;
  }

  private onMsg(msg: Msg): void {
    if (this.queue !== null) {
      if (this.queue.length < BRIDGE_DEFAULTS.mirrorQueueLimit) this.queue.push({ subject: msg.subject, data: msg.data });
      else this.stats.queueDropped++;
      return;
    }
    this.handle(msg.subject, msg.data);
    this.writer!.wakeIfSleepers();
  }

  private handle(subject: string, data: Uint8Array): void {
    const w = this.writer!;
    this.stats.records++;
    w.messages++;
    w.inputBytes += data.length;
    const parsed = parseSubject(this.o.prefix, subject);
    if (parsed === null) {
      this.malformed(subject, new WireError('symbol', 'a subject the bridge does not send'));
      return;
    }
    let d: Decoded;
    try {
      d = decode(data);
      if (d.head.symbol !== parsed.symbol) throw new WireError('symbol', `the record names ${d.head.symbol}`);
      if (d.head.type !== parsed.type) throw new WireError('type', `a record of type ${d.head.type} on a ${subject.slice(subject.lastIndexOf('.') + 1)} subject`);
    } catch (e) {
      if (!(e instanceof WireError)) throw e;
      this.malformed(subject, e);
      return;
    }
    const sym = this.symbolState(d.head);
    if (sym === null) return;
    this.checkSeq(subject, sym, d.head);
    if ('book' in d) this.applyBook(d.head, d.book, false);
    else if ('trade' in d) {
      const e = this.eventOf(d.head, sym.slot, abi.EVENT_KIND_TRADE, d.trade.action);
      e.side = d.trade.side;
      e.aux = d.trade.aux;
      e.price = d.trade.price;
      e.shares = d.trade.shares;
      e.orderRef = d.trade.orderRef;
      w.appendEvent(e);
      this.stats.trades++;
    } else if ('status' in d) {
      w.appendEvent(this.eventOf(d.head, sym.slot, abi.EVENT_KIND_STATUS, d.status.action));
      this.stats.statuses++;
    } else this.stats.tops++;
  }

  private eventOf(h: Head, slot: number, kind: number, action: number): ReturnType<typeof newEventFields> {
    const e = this.event;
    e.kind = kind;
    e.action = action;
    e.side = 0;
    e.flags = 0;
    e.instrumentIndex = slot;
    e.msgIndex = h.msgIndex;
    e.exchangeTsNs = h.exchangeTsNs;
    e.price = Number.NaN;
    e.orderRef = 0;
    e.shares = 0;
    e.aux = 0;
    return e;
  }

  /** The symbol's state, its slot announced on first sight; null when the directory is full. */
  private symbolState(h: Head, feedId = 0): SymbolState | null {
    let s = this.symbols.get(h.symbol);
    if (s !== undefined) return s;
    const w = this.writer!;
    let slot: number;
    try {
      slot = w.addInstrument(h.symbol, feedId, h.priceScale || 1);
    } catch (e) {
      if (!(e instanceof MdfanError)) throw e;
      if (e.code === ErrorCode.FULL) w.addCounter('instruments_refused');
      else this.malformed(h.symbol, new WireError('symbol', `not a symbol a segment can list: ${e.message}`)); // e.g. a space inside
      return null;
    }
    s = {
      slot,
      seqSession: new Uint32Array(4),
      seq: new Float64Array(4),
      session: 0,
      generation: 0,
      msgIndex: -1,
      exchangeTsNs: 0,
      book: { bidCount: 0, askCount: 0, bids: new Uint32Array(this.levels * 3), asks: new Uint32Array(this.levels * 3) },
      hasBook: false,
      stale: false,
    };
    this.symbols.set(h.symbol, s);
    return s;
  }

  /** A subject's sequence: a jump within one bridge session is a gap; a new session starts again. */
  private checkSeq(subject: string, s: SymbolState, h: Head): void {
    const k = h.type - 1;
    const last = s.seq[k]!;
    if (s.seqSession[k] === h.session && h.seq !== last + 1 && h.seq > last) {
      const lost = h.seq - last - 1;
      this.stats.gaps++;
      this.stats.lost += lost;
      this.writer!.addCounter('feed_gaps');
      if (h.type === MsgType.TRADE || h.type === MsgType.STATUS) this.writer!.addCounter('feed_unrecovered', lost);
      if (this.gapLog()) this.o.log.warn({ event: LogEvent.WIRE_GAP, subject, expected: last + 1, found: h.seq, lost, gaps: this.stats.gaps }, `${subject}: ${lost} records lost`);
    }
    if (s.seqSession[k] !== h.session || h.seq > last) {
      s.seqSession[k] = h.session;
      s.seq[k] = h.seq;
    }
  }

  /**
   * Publishes a book unless the mirror has a newer one: ordered by bridge session (a later run),
   * then origin generation (a takeover), then input message. `reload`: from the bucket, also
   * republished when equal, to clear a stale mark.
   */
  private applyBook(h: Head, b: BookBody, reload: boolean): void {
    const w = this.writer!;
    if (b.levels !== this.levels) {
      this.malformed(h.symbol, new WireError('levels', `a ${b.levels}-level book for a ${this.levels}-level mirror`));
      return;
    }
    const s = this.symbolState(h, b.feedId);
    if (s === null) return;
    const order = h.session - s.session || h.generation - s.generation || h.msgIndex - s.msgIndex;
    const newer = order > 0 || (reload && order === 0);
    if (s.hasBook && !newer) return;
    const book = s.book;
    book.bidCount = b.bids.count;
    book.askCount = b.asks.count;
    book.bids.fill(0).set(b.bids.levels);
    book.asks.fill(0).set(b.asks.levels);
    s.session = h.session;
    s.generation = h.generation;
    s.msgIndex = h.msgIndex;
    s.exchangeTsNs = h.exchangeTsNs;
    s.hasBook = true;
    if (s.stale) {
      s.stale = false;
      this.stats.recovered++;
      w.addCounter('feed_recovered');
    }
    w.publish(s.slot, book, h.msgIndex, h.exchangeTsNs, h.flags & WireFlag.STALE ? abi.SLOT_STALE : 0);
    this.stats.books++;
  }

  /** The connection dropped: every book is marked STALE until the bucket is read again. */
  markAllStale(): void {
    const w = this.writer;
    if (w === null) return;
    let n = 0;
    for (const s of this.symbols.values()) {
      if (!s.hasBook || s.stale) continue;
      s.stale = true;
      w.publish(s.slot, s.book, s.msgIndex, s.exchangeTsNs, abi.SLOT_STALE);
      n++;
    }
    w.addCounter('stale_marks', n);
    this.stats.staleMarks += n;
    w.wakeIfSleepers();
    this.o.log.warn({ event: LogEvent.MIRROR_STALE, books: n }, `${n} books marked stale until the bucket is read again`);
  }

  /** Back online: every book from the bucket; what is still marked after it is current, and cleared. */
  async reload(): Promise<void> {
    const w = this.writer;
    if (w === null) return;
    const loaded = await this.loadBucket();
    for (const d of loaded) if ('book' in d) this.applyBook(d.head, d.book, true);
    let cleared = 0;
    for (const s of this.symbols.values()) {
      if (!s.stale) continue;
      s.stale = false; // the bucket had nothing newer: the book the mirror holds is the last one sent
      w.publish(s.slot, s.book, s.msgIndex, s.exchangeTsNs, 0);
      cleared++;
    }
    if (cleared > 0) w.addCounter('feed_recovered', cleared);
    this.stats.recovered += cleared;
    this.stats.reloads++;
    w.wakeIfSleepers();
    this.o.log.info({ event: LogEvent.MIRROR_RELOADED, books: loaded.length, cleared }, `reloaded ${loaded.length} books from the bucket`);
  }

  private malformed(where: string, e: WireError): void {
    this.stats.malformed++;
    this.writer?.addCounter('malformed_messages');
    if (this.malformedLog()) this.o.log.warn({ event: LogEvent.WIRE_MALFORMED, subject: where, reason: e.reason, count: this.stats.malformed }, `${where}: ${e.message}`);
  }

  close(): void {
    for (const s of this.subs) s.unsubscribe();
    this.writer?.close();
  }
}
