/**
 * A synthetic whole market from real recorded days: N instruments, each a relabelled copy of a
 * real instrument's message sequence. Copy k of source instrument s gets its own stock locate
 * (k + 1), its own symbol, its own order references and match numbers (the source's references
 * numbered densely, then v * N + k: unique across copies), and its times shifted by a fraction of a millisecond, so the copies
 * interleave by time as a real market's instruments do. The copies are merged in time order up to
 * M messages, each copy a prefix of its source's sequence: copy k's book after its j-th message
 * is the source's book after its j-th message. The first source's system events come first.
 *
 * Kept per copy: directory, trading action, Reg SHO, IPO, LULD and operational halt messages
 * (their stock field relabelled) and every order and trade message. Left out: messages that carry
 * no book and no instrument state of their own here (market participant position, NOII, RPII,
 * MWCB levels), said in docs/FEED.md.
 */
import { ErrorCode, MdfanError } from '../../native/segment/errors.js';
import { probeInputFile } from '../input-stream.js';
import { type StreamedMessage, itchMessages } from '../itch/stream.js';
import { OFF, T } from '../itch/layout.js';

export interface GenMarketOptions {
  sources: readonly string[];
  instruments: number;
  messages: number;
}

/** Where each kept type carries its stock symbol (8 bytes), order references and match numbers. */
const STOCK_AT: Readonly<Record<number, number>> = {
  [T.STOCK_DIRECTORY]: OFF.stock,
  [T.TRADING_ACTION]: OFF.stock,
  [T.REG_SHO]: OFF.stock,
  [T.IPO_QUOTING_PERIOD]: OFF.stock,
  [T.LULD_AUCTION_COLLAR]: OFF.stock,
  [T.OPERATIONAL_HALT]: OFF.stock,
  [T.ADD_ORDER]: OFF.addStock,
  [T.ADD_ORDER_MPID]: OFF.addStock,
  [T.TRADE]: OFF.addStock,
  [T.CROSS_TRADE]: 19,
};
/** Order reference fields by type. */
const REFS_AT: Readonly<Record<number, readonly number[]>> = {
  [T.ADD_ORDER]: [OFF.ref],
  [T.ADD_ORDER_MPID]: [OFF.ref],
  [T.ORDER_EXECUTED]: [OFF.ref],
  [T.ORDER_EXECUTED_WITH_PRICE]: [OFF.ref],
  [T.ORDER_CANCEL]: [OFF.ref],
  [T.ORDER_DELETE]: [OFF.ref],
  [T.ORDER_REPLACE]: [OFF.ref, OFF.newRef],
  [T.TRADE]: [OFF.ref],
};
/** Match number fields by type. */
const MATCHES_AT: Readonly<Record<number, readonly number[]>> = {
  [T.ORDER_EXECUTED]: [OFF.matchNumber],
  [T.ORDER_EXECUTED_WITH_PRICE]: [OFF.matchNumber],
  [T.TRADE]: [OFF.tradeMatch],
  [T.CROSS_TRADE]: [31],
  [T.BROKEN_TRADE]: [11],
};
const KEPT = new Set<number>([...Object.keys(STOCK_AT), ...Object.keys(REFS_AT), ...Object.keys(MATCHES_AT)].map(Number));
/** The largest shift of a copy's times: copies interleave within a millisecond of each other. */
const MAX_SHIFT_NS = 1_000_000;
const DAY_NS = 86_400e9;
const TWO32 = 4294967296;

/** One source instrument: its symbol and the messages (payloads, in file order) its copies can use. */
interface SourceInstrument {
  symbol: string;
  messages: Uint8Array[];
}

/** What the generator draws from: the source instruments and the first source's system events. */
export interface MarketSources {
  instruments: SourceInstrument[];
  system: Uint8Array[];
}

function readU48(b: Uint8Array, o: number): number {
  return ((b[o]! << 8) | b[o + 1]!) * TWO32 + (((b[o + 2]! << 24) | (b[o + 3]! << 16) | (b[o + 4]! << 8) | b[o + 5]!) >>> 0);
}
function writeU48(b: Uint8Array, o: number, v: number): void {
  const hi = Math.floor(v / TWO32);
  const lo = v % TWO32;
  b[o] = (hi >>> 8) & 0xff;
  b[o + 1] = hi & 0xff;
  b[o + 2] = (lo >>> 24) & 0xff;
  b[o + 3] = (lo >>> 16) & 0xff;
  b[o + 4] = (lo >>> 8) & 0xff;
  b[o + 5] = lo & 0xff;
}
function readU64(b: Uint8Array, o: number): number {
  const dv = new DataView(b.buffer, b.byteOffset + o, 8);
  return dv.getUint32(0) * TWO32 + dv.getUint32(4);
}
function writeU64(b: Uint8Array, o: number, v: number): void {
  const dv = new DataView(b.buffer, b.byteOffset + o, 8);
  dv.setUint32(0, Math.floor(v / TWO32));
  dv.setUint32(4, v % TWO32);
}

/** An instrument as the first pass over a file finds it: its symbol and how many kept messages it has. */
interface Census {
  symbol: string;
  kept: number;
}

/** The payload of a streamed message (a view into the stream's chunk: copy what is kept). */
const payloadOf = (m: StreamedMessage): Uint8Array => m.buf.subarray(m.frame.offset, m.frame.offset + m.frame.length);
const locateOf = (msg: Uint8Array): number => (msg[OFF.locate]! << 8) | msg[OFF.locate + 1]!;

/** First pass over one file: its instruments (by their first directory message, in order) and their kept messages. */
async function census(file: string): Promise<Map<number, Census>> {
  const byLocate = new Map<number, Census>();
  for await (const m of itchMessages(probeInputFile(file))) {
    const msg = payloadOf(m);
    const type = msg[0]!;
    const locate = locateOf(msg);
    if (type === T.STOCK_DIRECTORY && !byLocate.has(locate)) byLocate.set(locate, { symbol: Buffer.from(msg.subarray(OFF.stock, OFF.stock + 8)).toString('latin1').trimEnd(), kept: 0 });
    const inst = byLocate.get(locate);
    if (inst !== undefined && KEPT.has(type)) inst.kept++;
  }
  return byLocate;
}

/**
 * The M smallest keys seen (a max-heap on parallel arrays: no object per key). A key is a copy's
 * (time, copy number, message number), the order the generator's merge takes messages in.
 */
class SmallestKeys {
  private t = new Float64Array(1024);
  private k = new Int32Array(1024);
  private j = new Float64Array(1024);
  size = 0;

  constructor(private readonly limit: number) {}

  get full(): boolean {
    return this.size >= this.limit;
  }
  /** Key (t, k, j) is above the largest kept. */
  above(t: number, k: number, j: number): boolean {
    return this.size > 0 && this.gt(t, k, j, 0);
  }
  /** Adds a key; past the limit, removes the largest and returns its copy number (else -1). */
  push(t: number, k: number, j: number): number {
    if (this.size === this.t.length) this.grow();
    let i = this.size++;
    this.set(i, t, k, j);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.gt(this.t[i]!, this.k[i]!, this.j[i]!, p)) break;
      this.swap(i, p);
      i = p;
    }
    if (this.size <= this.limit) return -1;
    const top = this.k[0]!;
    this.size--;
    this.set(0, this.t[this.size]!, this.k[this.size]!, this.j[this.size]!);
    for (let a = 0; ; ) {
      const l = 2 * a + 1;
      const r = l + 1;
      let m = a;
      if (l < this.size && this.gt(this.t[l]!, this.k[l]!, this.j[l]!, m)) m = l;
      if (r < this.size && this.gt(this.t[r]!, this.k[r]!, this.j[r]!, m)) m = r;
      if (m === a) break;
      this.swap(a, m);
      a = m;
    }
    return top;
  }
  private gt(t: number, k: number, j: number, at: number): boolean {
    const ta = this.t[at]!;
    if (t !== ta) return t > ta;
    const ka = this.k[at]!;
    return k !== ka ? k > ka : j > this.j[at]!;
  }
  private set(i: number, t: number, k: number, j: number): void {
    this.t[i] = t;
    this.k[i] = k;
    this.j[i] = j;
  }
  private swap(a: number, b: number): void {
    const t = this.t[a]!;
    const k = this.k[a]!;
    const j = this.j[a]!;
    this.set(a, this.t[b]!, this.k[b]!, this.j[b]!);
    this.set(b, t, k, j);
  }
  private grow(): void {
    const n = this.t.length * 2;
    const t = new Float64Array(n);
    const k = new Int32Array(n);
    const j = new Float64Array(n);
    t.set(this.t);
    k.set(this.k);
    j.set(this.j);
    this.t = t;
    this.k = k;
    this.j = j;
  }
}

/**
 * Reads the sources for a market of `o.instruments` copies and `o.messages` messages: every
 * instrument (by directory message) with its messages, and the first source's system events.
 * Streamed, in two passes per file (memory bounded whatever the files hold, a gzip bomb
 * included): the first counts each instrument's messages, which fixes the sources (those with
 * more than one) and so which copy replays which; the second keeps only what the merge can reach.
 * Copy k's message j comes at (time + shift(k), k, j); each source's own messages are met in that
 * order (ITCH files are in time order), so keeping the o.messages smallest keys of each source's
 * earliest copy keeps every message the first o.messages of the merge can take: memory follows
 * --messages, not the input. Order references become dense numbers per source (1, 2, … in
 * first-seen order: recorded days number from large, scattered bases), so copies can multiply them.
 */
export async function readMarketSources(o: GenMarketOptions): Promise<MarketSources> {
  checkInstruments(o.instruments);
  const files = o.sources;
  const n = o.instruments;
  const censuses = [];
  for (const file of files) censuses.push(await census(file));
  const instruments: SourceInstrument[] = [];
  const sourceOf = files.map(() => new Map<number, number>()); // per file: locate -> source index
  censuses.forEach((byLocate, f) => {
    for (const [locate, c] of byLocate)
      if (c.kept > 1) {
        sourceOf[f]!.set(locate, instruments.length);
        instruments.push({ symbol: c.symbol, messages: [] });
      }
  });
  if (instruments.length === 0) throw new MdfanError(ErrorCode.FEED_CORRUPT, `no instrument with messages in ${files.join(', ')}: gen-market needs ITCH 5.0 days with stock directory messages`, { file: files.join(',') });
  const sources = instruments.length;
  // Each used source's earliest copy (smallest shift, then number): its keys bound every copy's.
  const used = Math.min(n, sources);
  const firstCopy = Int32Array.from({ length: used }, (_, s) => s);
  for (let k = sources; k < n; k++) {
    const s = k % sources;
    if (copyShiftNs(k) < copyShiftNs(firstCopy[s]!)) firstCopy[s] = k;
  }
  const keys = new SmallestKeys(o.messages);
  const cut = new Uint8Array(used);
  const lastTime = new Float64Array(used);
  const refs = Array.from({ length: used }, () => new Map<number, number>());
  const system: Uint8Array[] = [];
  for (let f = 0; f < files.length; f++) {
    const seen = new Set<number>(); // locates whose directory message has come (messages before it are not the instrument's)
    for await (const m of itchMessages(probeInputFile(files[f]!))) {
      const msg = payloadOf(m);
      const type = msg[0]!;
      if (type === T.SYSTEM_EVENT) {
        if (f === 0 && system.length < o.messages) system.push(Uint8Array.from(msg));
        continue;
      }
      const locate = locateOf(msg);
      if (type === T.STOCK_DIRECTORY) seen.add(locate);
      const s = sourceOf[f]!.get(locate);
      if (s === undefined || s >= used || cut[s] || !seen.has(locate) || !KEPT.has(type)) continue;
      const own = instruments[s]!.messages;
      const t = Math.max(readU48(msg, OFF.timestamp), lastTime[s]!);
      lastTime[s] = t;
      const k = firstCopy[s]!;
      const kt = t + copyShiftNs(k);
      if (keys.full && keys.above(kt, k, own.length)) {
        cut[s] = 1; // this and every later message of the source come after the merge's end
        continue;
      }
      own.push(denseRefs(msg, type, refs[s]!));
      const dropped = keys.push(kt, k, own.length - 1);
      if (dropped >= 0) {
        // The largest key kept is its source's last message: that source ends before it.
        instruments[dropped % sources]!.messages.pop();
        cut[dropped % sources] = 1;
      }
    }
  }
  return { instruments, system };
}

/** A copy of a kept message with its order references numbered densely, per source. */
function denseRefs(msg: Uint8Array, type: number, refs: Map<number, number>): Uint8Array {
  const own = Uint8Array.from(msg);
  for (const at of REFS_AT[type] ?? []) {
    const ref = readU64(own, at);
    if (ref === 0) continue;
    let dense = refs.get(ref);
    if (dense === undefined) {
      dense = refs.size + 1;
      refs.set(ref, dense);
    }
    writeU64(own, at, dense);
  }
  return own;
}

function checkInstruments(instruments: number): void {
  if (!Number.isInteger(instruments) || instruments < 1 || instruments > 65535)
    throw new MdfanError(ErrorCode.OPTIONS, `--instruments must be 1..65535 (stock locates are 16 bits), got ${instruments}`, { flag: '--instruments' });
}

/** The symbol of copy k: the source's first letters and k in base 36, at most 8 characters. */
export function copySymbol(source: string, k: number, n: number): string {
  const digits = Math.max(1, (n - 1).toString(36).length);
  return `${source.slice(0, 8 - digits)}${k.toString(36).toUpperCase().padStart(digits, '0')}`;
}

/** The time shift of copy k (deterministic, below MAX_SHIFT_NS). */
export const copyShiftNs = (k: number): number => (k * 7919) % MAX_SHIFT_NS;

/** A (dense) reference or match number of copy k: v * n + k, unique across copies; 0 stays 0. */
function renumber(m: Uint8Array, at: number, k: number, n: number): void {
  const v = readU64(m, at);
  if (v === 0) return;
  const out = v * n + k;
  if (out > Number.MAX_SAFE_INTEGER) throw new MdfanError(ErrorCode.OPTIONS, `reference ${v} of a copy passes 2^53 with ${n} instruments: fewer --instruments`, { instruments: n });
  writeU64(m, at, out);
}

/** Copy k's version of one source message (a new buffer). */
function relabel(src: Uint8Array, k: number, n: number, symbol: string, shiftNs: number): Uint8Array {
  const m = Uint8Array.from(src);
  const type = m[0]!;
  m[OFF.locate] = ((k + 1) >>> 8) & 0xff;
  m[OFF.locate + 1] = (k + 1) & 0xff;
  const t = readU48(m, OFF.timestamp) + shiftNs;
  writeU48(m, OFF.timestamp, Math.min(t, DAY_NS - 1));
  const stockAt = STOCK_AT[type];
  if (stockAt !== undefined) for (let i = 0; i < 8; i++) m[stockAt + i] = i < symbol.length ? symbol.charCodeAt(i) : 0x20;
  for (const at of REFS_AT[type] ?? []) renumber(m, at, k, n);
  for (const at of MATCHES_AT[type] ?? []) renumber(m, at, k, n);
  return m;
}

/**
 * Generates the market from what readMarketSources read: yields framed messages (2-byte length,
 * payload) in time order, at most `messages` in all (system events included).
 */
export function* generateMarket(o: GenMarketOptions, sources: MarketSources): Generator<Uint8Array> {
  checkInstruments(o.instruments);
  const { instruments, system } = sources;
  const n = o.instruments;
  const next = new Int32Array(n); // per copy: its next source message
  const source = (k: number): SourceInstrument => instruments[k % instruments.length]!;
  const symbols = Array.from({ length: n }, (_, k) => copySymbol(source(k).symbol, k, n));
  const timeOf = (k: number): number => readU48(source(k).messages[next[k]!]!, OFF.timestamp) + copyShiftNs(k);
  // A binary heap of copies by their next message's time (then copy number): the k-way merge.
  const heap: number[] = [];
  const less = (a: number, b: number): boolean => {
    const ta = timeOf(a);
    const tb = timeOf(b);
    return ta < tb || (ta === tb && a < b);
  };
  const push = (k: number): void => {
    heap.push(k);
    for (let i = heap.length - 1; i > 0; ) {
      const p = (i - 1) >> 1;
      if (!less(heap[i]!, heap[p]!)) break;
      [heap[i], heap[p]] = [heap[p]!, heap[i]!];
      i = p;
    }
  };
  const pop = (): number => {
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && less(heap[l]!, heap[m]!)) m = l;
        if (r < heap.length && less(heap[r]!, heap[m]!)) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m]!, heap[i]!];
        i = m;
      }
    }
    return top;
  };
  for (let k = 0; k < n; k++) if (source(k).messages.length > 0) push(k);
  let emitted = 0;
  const frame = (payload: Uint8Array): Uint8Array => {
    const out = new Uint8Array(payload.length + 2);
    out[0] = payload.length >>> 8;
    out[1] = payload.length & 0xff;
    out.set(payload, 2);
    return out;
  };
  // The first source's system events take their place in the merge by their own time (a tie: the
  // system event first, as in the source, where it precedes the messages of its moment).
  let sys = 0;
  while ((heap.length > 0 || sys < system.length) && emitted < o.messages) {
    if (sys < system.length && (heap.length === 0 || readU48(system[sys]!, OFF.timestamp) <= timeOf(heap[0]!))) {
      yield frame(system[sys++]!);
      emitted++;
      continue;
    }
    const k = pop();
    const msgs = source(k).messages;
    yield frame(relabel(msgs[next[k]!]!, k, n, symbols[k]!, copyShiftNs(k)));
    emitted++;
    if (++next[k]! < msgs.length) push(k);
  }
}
