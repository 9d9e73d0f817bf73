/**
 * The NATS venue: the records a bridge (`mdfan bridge`) publishes on another host, fed to the one
 * publisher like any feed, so that a mirror's segment is written by the same code as every other.
 * The segment's layout is the mirror's own (its options), never a record's: whoever can publish
 * may send anything. It subscribes to the bridge's subjects (callback subscriptions: nothing
 * buffered without bound), reads every book in the bucket (with a deadline), then applies the
 * records that came meanwhile (held up to a byte cap), then records as they come:
 *   book    a full book, published unless older than the one held (books.ts)
 *   trade   an event of the ring (with the origin's message index and times)
 *   status  likewise
 *   top     counted only: the books carry the same levels, exact at their message
 * A dropped connection is a gap (every book stale, through the publisher); on reconnect the bucket
 * is read again and the gap recovered. A record that is short or long, of another version, on a
 * foreign subject, naming another symbol than its subject, from a session in the future, a book
 * that does not fit the segment, or naming a symbol no segment can list is counted
 * (malformed_messages) and logged at most once a second per reason, never thrown; an older book,
 * a symbol with no slot and a full start queue are counted and logged the same way (drops.ts).
 */
import type { Msg, Subscription } from '@nats-io/transport-node';
import { setTimeout as sleep } from 'node:timers/promises';
import { type EventFields, newEventFields } from '../../../native/segment/events.js';
import * as abi from '../../../native/segment/abi.js';
import { isValidSymbol, specOf } from '../../../native/segment/directory.js';
import { LogEvent, type Logger, rateLimit } from '../../../lib/log.js';
import { type NatsAuth, NO_AUTH, parseNatsAuth } from '../../../lib/wire/auth.js';
import { BRIDGE_DEFAULTS } from '../../../lib/wire/defaults.js';
import { type KV, type NatsConnection, booksBucket, connectNats } from '../../../lib/wire/nats.js';
import { bucketOf, checkPrefix, escapeSymbol, parseSubject, unescapeSymbol } from '../../../lib/wire/subjects.js';
import { type BookBody, type Decoded, type Head, MAX_BOOK_BYTES, TYPE_TOKENS, WireError, WireFlag, decode } from '../../../lib/wire/wire.js';
import { type BookSink, type FeedSource, NOT_PUBLISHED, OWN_INDEX, type RunContext, type SourceKind, type StopFlag, newCounters } from '../../sink.js';
import { REFUSED, type SymbolState, bookShape, checkSeq, futureSession, newSymbolState, takeBook } from './books.js';
import { readBucket } from './bucket.js';
import { Drops } from './drops.js';

export interface NatsFeedOptions {
  url: string;
  prefix: string;
  /** Only these symbols are subscribed to (null: every symbol the bridge sends). */
  symbols: ReadonlySet<string> | null;
  /** The depth of the segment's books: books of another depth are refused. */
  levels: number;
  auth?: NatsAuth;
  /** The byte cap of the records held before READY (default BRIDGE_DEFAULTS.mirrorQueueBytes). */
  queueBytes?: number;
  /** The deadline of a bucket read (default BRIDGE_DEFAULTS.mirrorBucketTimeoutMs). */
  bucketTimeoutMs?: number;
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
  /** Bucket reads that hit their deadline. */
  bucketTimeouts: number;
  /** Books taken flagged ORIGIN_DEAD (the origin's writer died: held stale until a live origin's book). */
  originDead: number;
}

/** How often run() looks at the stop flag and copies the counters into the segment. */
const FLUSH_EVERY_MS = 50;
/** What a held record costs beyond its bytes and subject (the entry object, the array slot). */
const QUEUE_ENTRY_OVERHEAD = 64;

export class NatsFeed implements FeedSource {
  readonly total = null;
  readonly counters = newCounters();
  readonly stats: MirrorStats = { records: 0, books: 0, tops: 0, trades: 0, statuses: 0, malformed: 0, gaps: 0, lost: 0, staleMarks: 0, recovered: 0, reloads: 0, queueDropped: 0, bucketTimeouts: 0, originDead: 0 };
  readonly drops = new Drops(this.counters, this.stats);
  readonly bucket: string;
  private nc: NatsConnection | null = null;
  private kv: KV | null = null;
  private readonly subs: Subscription[] = [];
  /** Records that came before the bucket was applied, applied after it; `queued` their bytes. */
  private queue: Array<{ subject: string; data: Uint8Array }> | null = [];
  private queued = 0;
  private readonly queueBytes: number;
  private readonly bucketTimeoutMs: number;
  private sink: BookSink | null = null;
  private log: Logger | null = null;
  private readonly symbols = new Map<string, SymbolState>();
  private readonly event: EventFields = newEventFields();
  private readonly gapLog = rateLimit(1000);
  private readonly levels: number;
  private stop: StopFlag = { requested: false };
  /** The last book taken said the origin's writer was dead: logged once per death, and once when a live origin's book comes. */
  private originDead = false;

  constructor(private readonly o: NatsFeedOptions) {
    this.bucket = bucketOf(o.prefix);
    this.levels = o.levels;
    this.queueBytes = o.queueBytes ?? BRIDGE_DEFAULTS.mirrorQueueBytes;
    this.bucketTimeoutMs = o.bucketTimeoutMs ?? BRIDGE_DEFAULTS.mirrorBucketTimeoutMs;
  }

  /**
   * Connects and subscribes (MDFAN_ERR_NATS at once when the server is not there or has no
   * JetStream, MDFAN_ERR_NATS_AUTH / _TLS when it refuses us); from the moment the server has the
   * subscriptions nothing sent is missed.
   */
  async connect(log: Logger): Promise<void> {
    if (this.nc !== null) return;
    this.log = log;
    this.drops.setLog(log);
    const nc = await connectNats(this.o.url, `mdfan-mirror ${this.o.prefix}`, log, { onDisconnect: () => this.onDisconnect(), onReconnect: () => void this.reload() }, this.o.auth ?? NO_AUTH);
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

  /** Every book of the bucket, then the records that came meanwhile, then records as they come, until ctx.stop. */
  async run(sink: BookSink, ctx: RunContext): Promise<void> {
    await this.connect(ctx.log);
    this.stop = ctx.stop;
    try {
      this.sink = sink;
      const books = await this.loadBucket();
      sink.tick();
      const queued = this.queue ?? [];
      this.queue = null;
      this.queued = 0;
      for (const q of queued) this.handle(q.subject, q.data);
      sink.tick();
      sink.flush(this.counters);
      ctx.log.info({ event: LogEvent.MIRROR_READY, books, queued: queued.length, dropped: this.drops.total }, `mirroring: ${books} books from the bucket, ${queued.length} records queued meanwhile`);
      while (!ctx.stop.requested) {
        await sleep(FLUSH_EVERY_MS);
        sink.flush(this.counters);
      }
    } finally {
      await this.close();
    }
  }

  summary(): string {
    return `, ${this.stats.records} records, ${this.stats.books} books, ${this.stats.malformed} malformed, ${this.drops.total} dropped`;
  }

  /** What the start queue holds: records and the bytes counted against --queue-bytes. */
  get queuedNow(): { records: number; bytes: number } {
    return { records: this.queue?.length ?? 0, bytes: this.queued };
  }

  /** Unsubscribes and closes the connection (run() does it when it ends). */
  async close(): Promise<void> {
    for (const s of this.subs) s.unsubscribe();
    this.subs.length = 0;
    const nc = this.nc;
    this.nc = null;
    await nc?.close();
  }

  /**
   * Reads the bucket (up to its deadline) and applies each book as it comes; returns the books
   * read. Keys that are not a symbol's, values that are not a book of that symbol, are dropped.
   */
  private async loadBucket(): Promise<number> {
    let books = 0;
    const read = await readBucket(this.kv!, this.bucketTimeoutMs, this.stop, (key, value) => {
      const where = `${this.bucket}/${key}`;
      const symbol = unescapeSymbol(key);
      if (symbol === null || !isValidSymbol(symbol)) return this.drops.drop('subject', where, 'a bucket key that is not a symbol');
      if (this.o.symbols !== null && !this.o.symbols.has(symbol)) return;
      if (value.length > MAX_BOOK_BYTES) return this.drops.drop('length', where, `${value.length} bytes, more than any book`);
      let d: Decoded;
      try {
        d = decode(value);
        if (d.head.symbol !== symbol) throw new WireError('symbol', `bucket key ${key} holds ${d.head.symbol}`);
        if (!('book' in d)) throw new WireError('type', `bucket key ${key} holds a ${TYPE_TOKENS[d.head.type]} record`);
      } catch (err) {
        if (!(err instanceof WireError)) throw err;
        return this.drops.drop(err.reason, where, err.message);
      }
      if (!this.admit(d.head, where)) return;
      books++;
      this.applyBook(d.head, d.book, true, where);
    });
    if (!read.complete && !this.stop.requested) {
      this.stats.bucketTimeouts++;
      this.log?.warn({ event: LogEvent.MIRROR_BUCKET_TIMEOUT, books, entries: read.entries, timeoutMs: this.bucketTimeoutMs }, `the bucket ${this.bucket} was not read within ${this.bucketTimeoutMs} ms: going on with ${books} books (the others come with their next update)`);
    }
    return books;
  }

  /**
   * Records without a server: `sink` is written from now on, and each call is one record as the
   * subscription would deliver it after READY (every check included). For fuzzing and for records
   * captured elsewhere.
   */
  offline(sink: BookSink, log: Logger): (subject: string, data: Uint8Array) => void {
    this.sink = sink;
    this.log = log;
    this.drops.setLog(log);
    this.queue = null;
    return (subject, data) => this.onRecord(subject, data);
  }

  private onMsg(msg: Msg): void {
    this.onRecord(msg.subject, msg.data);
  }

  private onRecord(subject: string, data: Uint8Array): void {
    if (data.length > MAX_BOOK_BYTES) {
      this.drops.drop('length', subject, `${data.length} bytes, more than any record`);
      return;
    }
    if (this.queue !== null) {
      const cost = data.length + subject.length + QUEUE_ENTRY_OVERHEAD;
      if (this.queued + cost <= this.queueBytes && this.queue.length < BRIDGE_DEFAULTS.mirrorQueueLimit) {
        this.queue.push({ subject, data });
        this.queued += cost;
      } else {
        this.stats.queueDropped++;
        this.drops.drop('queue', subject);
      }
      return;
    }
    this.handle(subject, data);
    this.sink!.tick();
  }

  /** The checks every record passes before it may touch the segment: a session not in the future. */
  private admit(h: Head, where: string): boolean {
    const ahead = futureSession(h, Date.now(), BRIDGE_DEFAULTS.mirrorSessionSkewS);
    if (ahead === 0) return true;
    this.drops.drop('session', where, `bridge session ${h.session} is ${ahead} s ahead of this clock (at most ${BRIDGE_DEFAULTS.mirrorSessionSkewS} s allowed)`);
    return false;
  }

  private handle(subject: string, data: Uint8Array): void {
    this.stats.records++;
    this.counters.messages++;
    this.counters.inputBytes += data.length;
    const parsed = parseSubject(this.o.prefix, subject);
    if (parsed === null) {
      this.drops.drop('subject', subject);
      return;
    }
    let d: Decoded;
    try {
      d = decode(data);
      if (d.head.symbol !== parsed.symbol) throw new WireError('symbol', `the record names ${d.head.symbol}`);
      if (d.head.type !== parsed.type) throw new WireError('type', `a record of type ${d.head.type} on a ${subject.slice(subject.lastIndexOf('.') + 1)} subject`);
    } catch (e) {
      if (!(e instanceof WireError)) throw e;
      this.drops.drop(e.reason, subject, e.message);
      return;
    }
    if (!this.admit(d.head, subject)) return;
    if ('book' in d) {
      this.applyBook(d.head, d.book, false, subject);
      return;
    }
    const sym = this.symbolState(d.head, subject);
    if (sym === null) return;
    this.sequence(sym, d.head, subject);
    if ('trade' in d) {
      const e = this.eventOf(d.head, sym.slot, abi.EVENT_KIND_TRADE, d.trade.action);
      e.side = d.trade.side;
      e.flags = d.trade.flags;
      e.price = d.trade.price;
      e.size = d.trade.size;
      e.orderRef = d.trade.orderRef;
      if (this.sink!.wantsEvents) this.sink!.event(e);
      this.stats.trades++;
    } else if ('status' in d) {
      const e = this.eventOf(d.head, sym.slot, abi.EVENT_KIND_STATUS, d.status.action);
      if (this.sink!.wantsEvents) this.sink!.event(e);
      this.stats.statuses++;
    } else this.stats.tops++;
  }

  /** A subject's sequence numbers: a jump is counted and said (rate-limited). */
  private sequence(sym: SymbolState, h: Head, subject: string): void {
    const lost = checkSeq(sym, h, this.counters);
    if (lost > 0) {
      this.stats.gaps++;
      this.stats.lost += lost;
      if (this.gapLog()) this.log?.warn({ event: LogEvent.WIRE_GAP, subject, found: h.seq, lost, gaps: this.stats.gaps }, `${subject}: ${lost} records lost`);
    }
  }

  private eventOf(h: Head, slot: number, kind: number, action: number): EventFields {
    const e = this.event;
    e.kind = kind;
    e.action = action;
    e.side = 0;
    e.flags = 0;
    e.instrumentIndex = slot;
    e.msgIndex = h.msgIndex;
    e.exchangeTs = h.exchangeTsNs;
    e.price = Number.NaN;
    e.orderRef = 0;
    e.size = 0;
    return e;
  }

  /**
   * The symbol's state, its slot asked of the publisher on first sight (which logs a full
   * directory); null, counted, when it has none (refused, or not a symbol).
   */
  private symbolState(h: Head, where: string, feedId = 0): SymbolState | null {
    const s = this.symbols.get(h.symbol);
    if (s !== undefined) {
      if (s === REFUSED) {
        this.drops.drop('refused', where);
        return null;
      }
      // The slot's decimals were fixed by the first record: numbers in others are refused, never reinterpreted.
      if (h.priceDecimals !== s.priceDecimals || h.sizeDecimals !== s.sizeDecimals) {
        this.drops.drop('shape', where, `decimals ${h.priceDecimals}/${h.sizeDecimals} (price/size), ${h.symbol}'s slot has ${s.priceDecimals}/${s.sizeDecimals}`);
        return null;
      }
      return s;
    }
    if (!isValidSymbol(h.symbol)) {
      this.drops.drop('symbol', where, `not a symbol a segment can list: ${JSON.stringify(h.symbol)}`);
      return null;
    }
    // The record's decimals are the instrument's (the bridge sends the origin directory's); times in ns.
    const slot = this.sink!.instrument(h.symbol, feedId, specOf(h.priceDecimals, h.sizeDecimals, 1));
    const state = slot === NOT_PUBLISHED ? REFUSED : newSymbolState(slot, this.levels, h.priceDecimals, h.sizeDecimals);
    this.symbols.set(h.symbol, state);
    if (state !== REFUSED) return state;
    this.drops.drop('refused', where, `${h.symbol} has no slot (not among --symbols, or the directory is full)`);
    return null;
  }

  /** Publishes a book of the segment's shape unless the venue holds a newer one (books.ts); `reload`: from the bucket. */
  private applyBook(h: Head, b: BookBody, reload: boolean, where: string): void {
    const wrong = bookShape(b, this.levels);
    if (wrong !== null) {
      this.drops.drop('shape', where, wrong);
      return;
    }
    const s = this.symbolState(h, where, b.feedId);
    if (s === null) return;
    if (!reload) this.sequence(s, h, where);
    if (!takeBook(s, h, b, reload)) {
      this.drops.drop('older', where);
      return;
    }
    this.sink!.book(s.slot, s.book, h.msgIndex, h.exchangeTsNs, (h.flags & WireFlag.STALE) !== 0);
    this.stats.books++;
    this.originStory(h);
  }

  /** The origin's story as the books tell it: its death (flag ORIGIN_DEAD) and a live origin after it. */
  private originStory(h: Head): void {
    const dead = (h.flags & WireFlag.ORIGIN_DEAD) !== 0;
    if (dead) this.stats.originDead++;
    if (dead === this.originDead) return;
    this.originDead = dead;
    const fields = { event: dead ? LogEvent.MIRROR_ORIGIN_DEAD : LogEvent.MIRROR_ORIGIN_BACK, session: h.session, generation: h.generation, symbol: h.symbol };
    if (dead) this.log?.warn(fields, `the origin's writer died (bridge session ${h.session}, generation ${h.generation}): its books are stale until it is back`);
    else this.log?.info(fields, `the origin publishes again (bridge session ${h.session}, generation ${h.generation})`);
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
      const books = await this.loadBucket();
      let held = 0;
      for (const s of this.symbols.values()) if (s !== REFUSED && s.hasBook) held++;
      sink.recovered(OWN_INDEX);
      this.counters.recovered += held;
      this.stats.recovered += held;
      this.stats.reloads++;
      sink.flush(this.counters);
      this.log?.info({ event: LogEvent.MIRROR_RELOADED, books, cleared: held }, `reloaded ${books} books from the bucket`);
    } catch (e) {
      this.log?.error({ err: (e as Error).message }, `reloading the bucket failed: ${(e as Error).message}`);
    }
  }
}

/** `--source nats:URL[,PREFIX]`: the records of a bridge, books of the feed's --levels (a tls:// URL: TLS, the system's CAs). */
export const nats: SourceKind = {
  scheme: 'nats',
  syntax: 'nats:nats://HOST:PORT[,PREFIX]',
  open(rest, opts) {
    const m = /^((?:nats|tls):\/\/[^,\s]+)(?:,([^,\s]+))?$/.exec(rest);
    if (m === null) return null;
    return new NatsFeed({ url: m[1]!, prefix: checkPrefix(m[2] ?? BRIDGE_DEFAULTS.prefix), symbols: null, levels: opts.levels, auth: parseNatsAuth(opts.natsFlags ?? {}, m[1]!) });
  },
};
