/**
 * The NATS venue: the records a bridge (`mdfan bridge`) publishes on another host, fed to the one
 * publisher like any feed, so that a mirror's segment is written by the same code as every other.
 * It subscribes to the bridge's subjects (callback subscriptions: nothing buffered without bound),
 * reads every book from the bucket before anything else, then applies records as they come:
 *   book    a full book, published unless older than the one held (books.ts)
 *   trade   an event of the ring (with the origin's message index and times)
 *   status  likewise
 *   top     counted only: the books carry the same levels, exact at their message
 * A dropped connection is a gap (every book stale, through the publisher); on reconnect the bucket
 * is read again and the gap recovered. A record that is short, of another version, on a foreign
 * subject, naming another symbol than its subject, of another depth, or naming a symbol no segment
 * can list is counted (malformed_messages) and logged at most once a second, never thrown.
 */
import type { Msg, Subscription } from '@nats-io/transport-node';
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCode, MdfanError } from '../../../native/segment/errors.js';
import { type EventFields, newEventFields } from '../../../native/segment/events.js';
import * as abi from '../../../native/segment/abi.js';
import { isValidSymbol } from '../../../native/segment/directory.js';
import { LogEvent, type Logger, rateLimit } from '../../../lib/log.js';
import { BRIDGE_DEFAULTS } from '../../../lib/wire/defaults.js';
import { type KV, type NatsConnection, booksBucket, connectNats } from '../../../lib/wire/nats.js';
import { bucketOf, checkPrefix, escapeSymbol, parseSubject } from '../../../lib/wire/subjects.js';
import { type BookBody, type Decoded, type Head, WireError, WireFlag, decode } from '../../../lib/wire/wire.js';
import { type BookSink, type FeedSource, NOT_PUBLISHED, OWN_INDEX, type RunContext, type SourceKind, newCounters } from '../../sink.js';
import { REFUSED, type SymbolState, checkSeq, newSymbolState, takeBook } from './books.js';

export interface NatsFeedOptions {
  url: string;
  prefix: string;
  /** Only these symbols are subscribed to (null: every symbol the bridge sends). */
  symbols: ReadonlySet<string> | null;
  /** The depth books must have (null: the first book's, found by layout()). */
  levels: number | null;
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

/** How often run() looks at the stop flag and copies the counters into the segment. */
const FLUSH_EVERY_MS = 50;

export class NatsFeed implements FeedSource {
  readonly total = null;
  readonly counters = newCounters();
  readonly stats: MirrorStats = { records: 0, books: 0, tops: 0, trades: 0, statuses: 0, malformed: 0, gaps: 0, lost: 0, staleMarks: 0, recovered: 0, reloads: 0, queueDropped: 0 };
  readonly bucket: string;
  private nc: NatsConnection | null = null;
  private kv: KV | null = null;
  private readonly subs: Subscription[] = [];
  /** Records that came before the bucket was applied, applied after it. */
  private queue: Array<{ subject: string; data: Uint8Array }> | null = [];
  private loaded: Decoded[] | null = null;
  private sink: BookSink | null = null;
  private log: Logger | null = null;
  private readonly symbols = new Map<string, SymbolState>();
  private readonly event: EventFields = newEventFields();
  private readonly malformedLog = rateLimit(1000);
  private readonly gapLog = rateLimit(1000);
  private levels: number | null;

  constructor(private readonly o: NatsFeedOptions) {
    this.bucket = bucketOf(o.prefix);
    this.levels = o.levels;
  }

  /**
   * Connects and subscribes (MDFAN_ERR_NATS at once when the server is not there or has no
   * JetStream); from the moment the server has the subscriptions nothing sent is missed.
   */
  async connect(log: Logger): Promise<void> {
    if (this.nc !== null) return;
    this.log = log;
    const nc = await connectNats(this.o.url, `mdfan-mirror ${this.o.prefix}`, log, { onDisconnect: () => this.onDisconnect(), onReconnect: () => void this.reload() });
    this.nc = nc;
    try {
      this.kv = await booksBucket(nc, this.bucket);
      const subjects = this.o.symbols === null ? [`${this.o.prefix}.*.*`] : [...this.o.symbols].map((s) => `${this.o.prefix}.${escapeSymbol(s)}.*`);
      for (const subject of subjects) this.subs.push(nc.subscribe(subject, { callback: (err, msg) => (err ? undefined : this.onMsg(msg)) }));
      await nc.flush();
      log.info({ event: LogEvent.MIRROR_SUBSCRIBED, subjects }, `subscribed to ${subjects.join(', ')}`);
    } catch (e) {
      await this.close();
      throw e;
    }
  }

  /**
   * The layout of the first book, in the bucket or on the wire (a bridge may start later: waited
   * for up to mirrorLayoutTimeoutMs, the bucket read again now and then, for a bridge that only puts).
   */
  async layout(): Promise<{ levels: number; maxInstruments: number }> {
    const end = performance.now() + BRIDGE_DEFAULTS.mirrorLayoutTimeoutMs;
    this.loaded = await this.loadBucket();
    for (let polls = 1; ; polls++) {
      const found = this.layoutOf(this.loaded);
      if (found !== null) {
        this.levels ??= found.levels;
        return found;
      }
      if (performance.now() > end)
        throw new MdfanError(ErrorCode.NOT_READY, `no book for the mirror's layout in bucket ${this.bucket} or on ${this.o.prefix}.> within ${BRIDGE_DEFAULTS.mirrorLayoutTimeoutMs} ms`, { prefix: this.o.prefix });
      await sleep(10);
      if (polls % 100 === 0) this.loaded = await this.loadBucket();
    }
  }

  /** Every book of the bucket, then the records that came meanwhile, then records as they come, until ctx.stop. */
  async run(sink: BookSink, ctx: RunContext): Promise<void> {
    await this.connect(ctx.log);
    try {
      const loaded = this.loaded ?? (await this.loadBucket());
      this.loaded = null;
      this.sink = sink;
      for (const d of loaded) if ('book' in d) this.applyBook(d.head, d.book, true);
      sink.tick();
      const queued = this.queue ?? [];
      this.queue = null;
      for (const q of queued) this.handle(q.subject, q.data);
      sink.tick();
      sink.flush(this.counters);
      ctx.log.info({ event: LogEvent.MIRROR_READY, books: loaded.length, queued: queued.length }, `mirroring: ${loaded.length} books from the bucket, ${queued.length} records queued meanwhile`);
      while (!ctx.stop.requested) {
        await sleep(FLUSH_EVERY_MS);
        sink.flush(this.counters);
      }
    } finally {
      await this.close();
    }
  }

  summary(): string {
    return `, ${this.stats.records} records, ${this.stats.books} books, ${this.stats.malformed} malformed`;
  }

  private async close(): Promise<void> {
    for (const s of this.subs) s.unsubscribe();
    this.subs.length = 0;
    const nc = this.nc;
    this.nc = null;
    await nc?.close();
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
    const kv = this.kv!;
    if ((await kv.status()).values === 0) return out; // listing an empty bucket waits for a timeout
    const keys: string[] = [];
    for await (const k of await kv.keys()) keys.push(k);
    const entries = await Promise.all(keys.map((k) => kv.get(k)));
    for (const e of entries) {
      if (e === null || e.operation !== 'PUT') continue;
      try {
        const d = decode(e.value);
        if (this.o.symbols !== null && !this.o.symbols.has(d.head.symbol)) continue;
        if (escapeSymbol(d.head.symbol) !== e.key) throw new WireError('symbol', `bucket key ${e.key} holds ${d.head.symbol}`);
        out.push(d);
      } catch (err) {
        if (!(err instanceof WireError)) throw err;
        this.malformed(`${this.bucket}/${e.key}`, err);
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
    this.sink!.tick();
  }

  private handle(subject: string, data: Uint8Array): void {
    this.stats.records++;
    this.counters.messages++;
    this.counters.inputBytes += data.length;
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
    const lost = checkSeq(sym, d.head, this.counters);
    if (lost > 0) {
      this.stats.gaps++;
      this.stats.lost += lost;
      if (this.gapLog()) this.log?.warn({ event: LogEvent.WIRE_GAP, subject, found: d.head.seq, lost, gaps: this.stats.gaps }, `${subject}: ${lost} records lost`);
    }
    if ('book' in d) this.applyBook(d.head, d.book, false);
    else if ('trade' in d) {
      const e = this.eventOf(d.head, sym.slot, abi.EVENT_KIND_TRADE, d.trade.action);
      e.side = d.trade.side;
      e.aux = d.trade.aux;
      e.price = d.trade.price;
      e.shares = d.trade.shares;
      e.orderRef = d.trade.orderRef;
      if (this.sink!.wantsEvents) this.sink!.event(e);
      this.stats.trades++;
    } else if ('status' in d) {
      const e = this.eventOf(d.head, sym.slot, abi.EVENT_KIND_STATUS, d.status.action);
      if (this.sink!.wantsEvents) this.sink!.event(e);
      this.stats.statuses++;
    } else this.stats.tops++;
  }

  private eventOf(h: Head, slot: number, kind: number, action: number): EventFields {
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

  /** The symbol's state, its slot asked of the publisher on first sight; null when it has none (refused, or not a symbol). */
  private symbolState(h: Head, feedId = 0): SymbolState | null {
    const s = this.symbols.get(h.symbol);
    if (s !== undefined) return s === REFUSED ? null : s;
    if (!isValidSymbol(h.symbol)) {
      this.malformed(h.symbol, new WireError('symbol', `not a symbol a segment can list: ${JSON.stringify(h.symbol)}`));
      return null;
    }
    const slot = this.sink!.instrument(h.symbol, feedId, h.priceScale || 1);
    const state = slot === NOT_PUBLISHED ? REFUSED : newSymbolState(slot, this.levels ?? 0);
    this.symbols.set(h.symbol, state);
    return state === REFUSED ? null : state;
  }

  /** Publishes a book unless the venue holds a newer one (books.ts); `reload`: from the bucket. */
  private applyBook(h: Head, b: BookBody, reload: boolean): void {
    if (b.levels !== this.levels) {
      this.malformed(h.symbol, new WireError('levels', `a ${b.levels}-level book for a ${this.levels}-level segment`));
      return;
    }
    const s = this.symbolState(h, b.feedId);
    if (s === null || !takeBook(s, h, b, reload)) return;
    this.sink!.book(s.slot, s.book, h.msgIndex, h.exchangeTsNs, (h.flags & WireFlag.STALE) !== 0);
    this.stats.books++;
  }

  /** The connection dropped (or the client dropped messages): a gap, every book stale until the bucket is read again. */
  private onDisconnect(): void {
    const sink = this.sink;
    if (sink === null || this.queue !== null) return;
    let n = 0;
    for (const s of this.symbols.values()) if (s !== REFUSED && s.hasBook) n++;
    sink.gap(OWN_INDEX, 0);
    this.stats.staleMarks += n;
    this.log?.warn({ event: LogEvent.MIRROR_STALE, books: n }, `${n} books marked stale until the bucket is read again`);
  }

  /** Back online: every book from the bucket, then the gap recovered (the books held are the last ones sent). */
  private async reload(): Promise<void> {
    const sink = this.sink;
    if (sink === null || this.queue !== null) return;
    try {
      const loaded = await this.loadBucket();
      for (const d of loaded) if ('book' in d) this.applyBook(d.head, d.book, true);
      let held = 0;
      for (const s of this.symbols.values()) if (s !== REFUSED && s.hasBook) held++;
      sink.recovered(OWN_INDEX);
      this.counters.recovered += held;
      this.stats.recovered += held;
      this.stats.reloads++;
      sink.flush(this.counters);
      this.log?.info({ event: LogEvent.MIRROR_RELOADED, books: loaded.length, cleared: held }, `reloaded ${loaded.length} books from the bucket`);
    } catch (e) {
      this.log?.error({ err: (e as Error).message }, `reloading the bucket failed: ${(e as Error).message}`);
    }
  }

  private malformed(where: string, e: WireError): void {
    this.stats.malformed++;
    this.counters.malformed++;
    if (this.malformedLog()) this.log?.warn({ event: LogEvent.WIRE_MALFORMED, subject: where, reason: e.reason, count: this.stats.malformed }, `${where}: ${e.message}`);
  }
}

/** `--source nats:URL[,PREFIX]`: the records of a bridge, books of the feed's --levels. */
export const nats: SourceKind = {
  scheme: 'nats',
  syntax: 'nats:nats://HOST:PORT[,PREFIX]',
  open(rest, opts) {
    const m = /^(nats:\/\/[^,\s]+)(?:,([^,\s]+))?$/.exec(rest);
    if (m === null) return null;
    return new NatsFeed({ url: m[1]!, prefix: checkPrefix(m[2] ?? BRIDGE_DEFAULTS.prefix), symbols: null, levels: opts.levels });
  },
};
