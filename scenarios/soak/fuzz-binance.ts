/**
 * Fuzzing the Binance venue as a hostile or broken venue would feed it, from the recordings
 * (/work/shared/data/crypto, MDFAN_CRYPTO_DATA): the first lines of each set's depth, trade and
 * bookTicker streams and its REST snapshot, merged by receive time as the recorder got them.
 *
 * - Messages (fuzzBinance): the merged stream, in order, through a BinanceMarket into a real
 *   segment, most payloads damaged: bytes (damageText), JSON values (mutate), decimal strings,
 *   update and trade ids (gaps, duplicates, overflows), stream names, symbols forged on both the
 *   stream and the data (too long, blanks, another market's), levels (empty, short, long), older
 *   messages replayed, snapshots out of turn. A payload must be decoded or refused as malformed
 *   (counted by reason); a coded error is an outcome, anything else a crash. Afterwards every book
 *   the segment holds must be one a depth book can make (within the depth, each level sized,
 *   prices strictly worse after the best), and a real ticker must still reach the top line.
 * - Capture files (fuzzBinanceCapture): a few merged lines written as a capture
 *   (`<recv_ns> <payload>`), the file damaged (digits, blanks, line breaks, NUL and non-ASCII
 *   bytes, a cut, a gzip'd capture cut or corrupted), replayed by the venue's own source. It must
 *   end clean, warn of a cut end, or stop with MDFAN_ERR_FEED_CORRUPT naming the line: the offset
 *   of a line start in the file and that line's number.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import pino from 'pino';
import { LogEvent } from '../../lib/log.js';
import { BINANCE_VENUES, BinanceMarket, type BinanceVenueName, NullSink, Pacer, Publisher, openSource, readCapture } from '../../feed/index.js';
import type { LevelSource } from '../../native/segment/seqlock.js';
import { MdfanError, SegmentReader, SegmentWriter } from '../../native/segment/index.js';
import { type FuzzResult, HOSTILE, count, crash, mutate, newResult } from './fuzz.js';
import { damageText } from './fuzz-text.js';

const LEVELS = 5;
/** Depth events a fuzzed market buffers (and logs for re-anchoring). */
const MAX_BUFFERED = 256;
/** Lines taken from the start of each stream file: enough to sync, apply and re-anchor. */
const LINES_PER_STREAM = 3000;
const SETS: ReadonlyArray<{ prefix: string; venue: BinanceVenueName }> = [
  { prefix: 'cm-BTCUSD_PERP-2024-08-08', venue: 'binance-coinm' },
  { prefix: 'spot-BTCUSDT-2024-08-08', venue: 'binance-spot' },
];

export interface CaptureLineText {
  /** recv_ns as written in the capture. */
  recv: string;
  payload: string;
}

/** One recorded set: its market, and the first lines of its streams merged by receive time. */
export interface BinanceSet {
  venue: BinanceVenueName;
  lines: CaptureLineText[];
  /** Index in `lines` of the REST snapshot. */
  snapshotIndex: number;
  /** Per line: its depth event's first and last update id (U, u), NaN for other lines. */
  firstIds: Float64Array;
  lastIds: Float64Array;
}

async function firstLines(file: string, max: number): Promise<Array<CaptureLineText & { sec: number; ns: number }>> {
  const out: Array<CaptureLineText & { sec: number; ns: number }> = [];
  for await (const l of readCapture(file)) {
    out.push({ recv: `${l.recvSec}${String(l.recvSubNs).padStart(9, '0')}`, payload: l.payload, sec: l.recvSec, ns: l.recvSubNs });
    if (out.length >= max) break;
  }
  return out;
}

/** The recorded sets in `dir`: each stream's first lines, merged by receive time up to where the shortest ends. */
export async function loadBinanceSets(dir: string): Promise<BinanceSet[]> {
  const sets: BinanceSet[] = [];
  for (const { prefix, venue } of SETS) {
    const streams = await Promise.all(['depth', 'trade', 'bookTicker'].map((s) => firstLines(join(dir, `${prefix}.${s}.gz`), LINES_PER_STREAM)));
    const snapshot = await firstLines(join(dir, `${prefix}.snapshot.gz`), 1);
    const endOf = (s: Array<{ sec: number; ns: number }>): number => s[s.length - 1]!.sec * 1e9 + s[s.length - 1]!.ns;
    const end = Math.min(...streams.map(endOf));
    const all = [...streams.flat(), ...snapshot].filter((l) => l.sec * 1e9 + l.ns <= end || l === snapshot[0]);
    all.sort((a, b) => a.sec - b.sec || a.ns - b.ns);
    const firstIds = new Float64Array(all.length).fill(Number.NaN);
    const lastIds = new Float64Array(all.length).fill(Number.NaN);
    all.forEach((l, i) => {
      const d = (JSON.parse(l.payload) as { data?: { e?: string; U?: number; u?: number } }).data;
      if (d?.e === 'depthUpdate') [firstIds[i], lastIds[i]] = [d.U!, d.u!];
    });
    sets.push({ venue, lines: all.map(({ recv, payload }) => ({ recv, payload })), snapshotIndex: all.indexOf(snapshot[0]!), firstIds, lastIds });
  }
  return sets;
}

/** Decimal strings a number field may be given instead of Binance's. */
const BAD_DECIMALS: readonly string[] = ['', '-', '.', '1.', '.5', '-0', '+1', '1e3', '0x10', '1,5', ' 1', '1 ', 'NaN', 'Infinity', '99999999999999999999', '0.000000001', '1.123456789012', '-61804.7', '0', '00061804.70', '\u0663', '1_000'];
/** Ids (U, u, pu, t, lastUpdateId) a forged message may carry. */
const BAD_IDS: readonly unknown[] = [-1, 0, 1.5, 2 ** 53, 2 ** 53 + 2, 1e21, '123', null, Number.MAX_SAFE_INTEGER];
/** Symbols forged on both the stream name and the data: another market's, too long, blanks, non-ASCII, lower case. */
const BAD_SYMBOLS: readonly string[] = ['BTCUSD_PERP', 'BTCUSDT', 'ETHUSDT', 'A'.repeat(32), 'A'.repeat(33), 'B T C', 'X\u00c4Y', 'btcusdt', 'Q\u0000', '"', 'S'];
const STREAM_SUFFIXES: readonly string[] = ['@depth', '@depth@100ms', '@depth@0ms', '@depth@500ms', '@depth20', '@trade', '@aggTrade', '@bookTicker', '@', '@bookticker'];

const pick = <T>(a: readonly T[], rand: () => number): T => a[Math.floor(rand() * a.length)]!;

type Json = Record<string, unknown>;

/** A recorded payload with one targeted forgery (or null if it is not an object to forge in). */
function forge(payload: string, rand: () => number, set: BinanceSet): string | null {
  let msg: Json;
  try {
    msg = JSON.parse(payload) as Json;
  } catch {
    return null;
  }
  const data = (msg.data ?? msg) as Json;
  const kind = rand();
  if (kind < 0.2) {
    // A number field given a string that is not a Binance decimal.
    const fields = ['p', 'q', 'b', 'B', 'a', 'A'].filter((f) => typeof data[f] === 'string');
    const levels = ['b', 'a', 'bids', 'asks'].filter((f) => Array.isArray(data[f]) && (data[f] as unknown[]).length > 0);
    if (levels.length > 0 && (fields.length === 0 || rand() < 0.5)) {
      const side = data[pick(levels, rand)] as unknown[][];
      const level = side[Math.floor(rand() * side.length)]!;
      level[rand() < 0.5 ? 0 : 1] = pick(BAD_DECIMALS, rand);
    } else if (fields.length > 0) data[pick(fields, rand)] = pick(BAD_DECIMALS, rand);
  } else if (kind < 0.45) {
    // Ids: forged, or moved a little (gaps, duplicates, events out of order, older snapshots).
    const ids = ['U', 'u', 'pu', 't', 'lastUpdateId'].filter((f) => typeof data[f] === 'number');
    if (ids.length > 0) {
      const f = pick(ids, rand);
      const near = rand() < 0.7;
      data[f] = rand() < 0.2 ? pick(BAD_IDS, rand) : (data[f] as number) + (near ? pick([-3, -2, -1, 1, 2, 3], rand) : Math.floor((rand() - 0.5) * 2000));
    }
  } else if (kind < 0.6) {
    // A symbol forged where the decoder looks: the data's and the stream name's, kept consistent.
    const s = pick(BAD_SYMBOLS, rand);
    if (typeof msg.stream === 'string') msg.stream = s.toLowerCase() + (rand() < 0.8 ? msg.stream.slice(msg.stream.indexOf('@')) : pick(STREAM_SUFFIXES, rand));
    data[msg.stream === undefined ? 'symbol' : 's'] = s;
  } else if (kind < 0.7) {
    if (typeof msg.stream === 'string') msg.stream = msg.stream.slice(0, msg.stream.indexOf('@')) + pick(STREAM_SUFFIXES, rand);
  } else if (kind < 0.82) {
    // Levels: none, a short or long level, one side very long, prices in the wrong order.
    const f = pick(['b', 'a', 'bids', 'asks'].filter((k) => Array.isArray(data[k])), rand) as string | undefined;
    if (f !== undefined) {
      const side = data[f] as unknown[][];
      const m = rand();
      if (m < 0.25) data[f] = [];
      else if (m < 0.5 && side.length > 0) side[Math.floor(rand() * side.length)] = rand() < 0.5 ? [side[0]![0]] : [...side[0]!, '1', '2'];
      else if (m < 0.65) data[f] = Array.from({ length: 100 + Math.floor(rand() * 1000) }, (_, i) => [String(60000 + i), '1']);
      else side.reverse();
    }
  } else if (kind < 0.84) {
    // This market's snapshot out of turn, with another lastUpdateId (older or newer: a re-anchor,
    // a failed one, a resync), sometimes without its symbol.
    const snap = set.lines[set.snapshotIndex]!.payload;
    const id = /"lastUpdateId":(\d+)/.exec(snap);
    const moved = id === null ? snap : snap.replace(id[0], `"lastUpdateId":${Number(id[1]) + Math.floor((rand() - 0.3) * 5000)}`);
    return rand() < 0.3 ? moved.replace(/"symbol":"[^"]*",?/, '') : moved;
  } else return JSON.stringify(mutate(msg, rand)) ?? 'null';
  return JSON.stringify(msg);
}

/** What one payload of the fuzzed stream is. */
function hostilePayload(rand: () => number, set: BinanceSet, at: number): string {
  const real = set.lines[at]!.payload;
  const kind = rand();
  if (kind < 0.8) return real; // the stream goes on: the book syncs, applies, re-anchors
  if (kind < 0.86) return damageText(real, rand);
  if (kind < 0.99) return forge(real, rand, set) ?? real;
  if (kind < 0.997) return set.lines[Math.floor(rand() * (at + 1))]!.payload; // an older message again
  return JSON.stringify(pick(HOSTILE, rand)) ?? '';
}

/** Whether a published book is one a depth book can make (null) or what is wrong with it. */
function wrongShape(bids: Float64Array, bidN: number, asks: Float64Array, askN: number): string | null {
  if (bidN > LEVELS || askN > LEVELS) return `${bidN}/${askN} levels in a ${LEVELS}-level segment`;
  for (const [lv, n, down] of [[bids, bidN, true], [asks, askN, false]] as const)
    for (let i = 0; i < n; i++) {
      if (!(lv[i * 3 + 1]! > 0) || !Number.isInteger(lv[i * 3]!)) return `level ${i} priced ${lv[i * 3]} sized ${lv[i * 3 + 1]}`;
      if (i > 0 && (down ? lv[i * 3]! >= lv[i * 3 - 3]! : lv[i * 3]! <= lv[i * 3 - 3]!)) return `level ${i} not worse than level ${i - 1}`;
    }
  return null;
}

const silent = pino({ level: 'silent' });

/** A market's malformed counts by reason as last seen: which one a refused payload raised. */
class ReasonCounts {
  private readonly last: Record<string, number>;
  constructor(market: BinanceMarket) {
    this.last = { ...market.binance.malformed };
  }
  changed(market: BinanceMarket): string {
    let which = 'unknown';
    for (const [k, n] of Object.entries(market.binance.malformed)) {
      if (this.last[k] !== n) which = k;
      this.last[k] = n;
    }
    return which;
  }
}

/** Every book segment `name` holds must be one a depth book can make. */
function checkSegment(r: FuzzResult, name: string): void {
  const reader = SegmentReader.openSync(name, { anyState: true });
  try {
    const snap = reader.newSnapshot();
    for (const inst of reader.instruments()) {
      reader.read(inst.slotIndex, snap);
      const bad = wrongShape(snap.bids, snap.bidCount, snap.asks, snap.askCount);
      if (bad !== null) {
        r.badFacts++;
        r.firstCrash ||= `binance: ${inst.symbol} published as ${bad}`;
      }
    }
  } finally {
    reader.close();
  }
}

/**
 * The recorded snapshot of `set` as the REST answer to a request made at line `at`: its
 * lastUpdateId moved to bridge the next depth event (the book syncs again), or to the last one
 * applied (a re-anchor on an older snapshot), or anywhere near (one that bridges nothing).
 */
function snapshotAnswer(set: BinanceSet, at: number, rand: () => number): string {
  let next = at;
  while (next < set.lines.length && Number.isNaN(set.firstIds[next]!)) next++;
  let prev = at - 1;
  while (prev >= 0 && Number.isNaN(set.lastIds[prev]!)) prev--;
  const futures = BINANCE_VENUES[set.venue].sequencing === 'futures';
  const m = rand();
  let id: number;
  if (m < 0.8 && next < set.lines.length) id = futures ? set.firstIds[next]! : set.firstIds[next]! - 1;
  else if (m < 0.92 && prev >= 0) id = set.lastIds[prev]! - Math.floor(rand() * 50);
  else id = (set.firstIds[Math.min(next, set.lines.length - 1)] || 1) + Math.floor((rand() - 0.5) * 100);
  const body = set.lines[set.snapshotIndex]!.payload.replace(/"lastUpdateId":\d+/, `"lastUpdateId":${id}`);
  return rand() < 0.1 ? damageText(body, rand) : body;
}

/**
 * `cases` payloads of the recorded sets (alternating runs of each) through a BinanceMarket per set
 * into segment `name` (created and removed here). A snapshot the market asks for is answered a few
 * messages later through onSnapshot, as the live transport answers (the answer is a case too).
 * Outcomes: 'accepted', 'snapshot', 'malformed_<reason>', or an error's code.
 */
export function fuzzBinance(cases: number, rand: () => number, sets: readonly BinanceSet[], name: string): FuzzResult {
  const r = newResult();
  const w = SegmentWriter.open({ name, maxInstruments: 16, levels: LEVELS, ringEvents: 1024 });
  try {
    const publisher = new Publisher(w, { symbols: null });
    // Snapshots asked for, per set: symbol -> the message index it is answered at.
    const asked = sets.map(() => new Map<string, number>());
    let msgIndex = 0;
    // A small buffer: its overflow is fuzzed too, and a re-anchor re-decodes at most this many events.
    const markets = sets.map(
      (s, k) =>
        new BinanceMarket(BINANCE_VENUES[s.venue], publisher, {
          levels: LEVELS,
          symbols: null,
          log: silent,
          transport: { requestSnapshot: (symbol) => void asked[k]!.set(symbol, msgIndex + 1 + Math.floor(rand() * 20)) },
          maxBuffered: MAX_BUFFERED,
        }),
    );
    const at = sets.map(() => 0);
    const reasons = markets.map((m) => new ReasonCounts(m));
    for (let c = 0; c < cases; ) {
      const k = Math.floor(rand() * sets.length);
      const set = sets[k]!;
      const market = markets[k]!;
      for (let run = 1 + Math.floor(rand() * 200); run > 0 && c < cases; run--, c++, msgIndex++) {
        if (at[k]! >= set.lines.length) {
          // From the start again, as after a reconnection: every book lost, new snapshots asked for.
          at[k] = 0;
          market.onDisconnect(msgIndex);
        }
        let due: string | null = null;
        for (const [symbol, when] of asked[k]!) if (when <= msgIndex) due = symbol;
        const payload = due !== null ? snapshotAnswer(set, at[k]!, rand) : hostilePayload(rand, set, at[k]!++);
        const before = market.counters.malformed;
        try {
          if (due !== null) {
            asked[k]!.delete(due);
            market.onSnapshot(due, payload, msgIndex);
          } else market.onMessage(payload, msgIndex);
          count(r, market.counters.malformed !== before ? `malformed_${reasons[k]!.changed(market)}` : due !== null ? 'snapshot' : 'accepted');
        } catch (e) {
          if (!(e instanceof MdfanError)) crash(r, `binance ${set.venue} payload ${msgIndex}: ${payload.slice(0, 300)}`, e);
          else {
            if (e.details.msgIndex !== undefined && e.details.msgIndex !== msgIndex) {
              r.badFacts++;
              r.firstCrash ||= `binance ${set.venue} payload ${msgIndex}: ${e.code} names message ${String(e.details.msgIndex)}`;
            }
            count(r, e.code);
          }
        }
      }
    }
    checkSegment(r, name);
  } catch (e) {
    crash(r, 'binance', e);
  } finally {
    w.close({ unlink: true });
  }
  return r;
}

/** A sink that checks every book a source gives it (a depth book's shape): the first wrong one kept. */
class ShapeSink extends NullSink {
  wrong = '';
  override book(_slot: number, top: LevelSource): void {
    this.wrong ||= wrongShape(top.bids, top.bidCount, top.asks, top.askCount) ?? '';
  }
}

/** recv_ns fields a damaged capture may have instead of digits. */
const BAD_RECV: readonly string[] = ['', '-1', 'x123', '1'.repeat(21), '0', ' 1', '1723161254087891268\t', '\u00e9'];

/** A capture of `lines`, damaged where the capture format (not the payload) can be. */
function damagedCapture(lines: readonly CaptureLineText[], rand: () => number): string {
  const rows = lines.map((l) => `${l.recv} ${l.payload}`);
  const kind = rand();
  if (kind < 0.2) return damageText(`${rows.join('\n')}\n`, rand);
  if (kind < 0.4) {
    const i = Math.floor(rand() * rows.length);
    rows[i] = `${pick(BAD_RECV, rand)}${rand() < 0.7 ? ' ' : ''}${lines[i]!.payload}`;
  } else if (kind < 0.5) {
    const text = `${rows.join(rand() < 0.5 ? '\r\n' : '\n\n')}\n`;
    const at = Math.floor(rand() * text.length);
    return rand() < 0.5 ? `${text.slice(0, at)}\n${text.slice(at)}` : text.replace('\n', '');
  } else if (kind < 0.62) return `${rows.join('\n')}\n`.slice(0, Math.floor(rand() * rows.join('\n').length)); // cut: the last line has no newline
  else if (kind < 0.7) {
    const i = Math.floor(rand() * rows.length);
    const at = Math.floor(rand() * (rows[i]!.length + 1));
    rows[i] = rows[i]!.slice(0, at) + pick(['\u0000', '\u00ff', '\u00c3\u00a9', '\u0080'], rand) + rows[i]!.slice(at);
  }
  return `${rows.join('\n')}\n`;
}

/** Whether a FEED_CORRUPT of the capture `plain` names a line start and that line's number (null), or what is wrong. */
function wrongLineFacts(e: MdfanError, plain: Buffer): string | null {
  const off = e.details.offset as number;
  const line = e.details.msgIndex as number;
  if (!Number.isInteger(off) || off < 0 || off >= plain.length) return `offset ${off} outside the capture's ${plain.length} bytes`;
  if (off > 0 && plain[off - 1] !== 0x0a) return `offset ${off} is not a line start`;
  let lines = 0;
  for (let i = plain.indexOf(0x0a); i >= 0 && i < off; i = plain.indexOf(0x0a, i + 1)) lines++;
  return lines === line ? null : `line ${line} named at offset ${off}, which starts line ${lines}`;
}

/**
 * `cases` damaged capture files of the recorded sets, in `dir` (a private directory the caller
 * removes), replayed by the venue's source. Outcomes: 'capture_clean', 'capture_cut' (the source
 * warned of a cut end), or the error's code.
 */
export async function fuzzBinanceCapture(cases: number, rand: () => number, sets: readonly BinanceSet[], dir: string): Promise<FuzzResult> {
  const r = newResult();
  let cut = false;
  const log = pino(
    { level: 'warn' },
    {
      write: (line: string): void => {
        if (line.includes(`"event":"${LogEvent.FEED_TRUNCATED}"`)) cut = true;
      },
    },
  );
  const ctx = { pacer: new Pacer('max'), stop: { requested: false }, log };
  for (let c = 0; c < cases; c++) {
    const set = sets[Math.floor(rand() * sets.length)]!;
    const n = 1 + Math.floor(rand() * 40);
    const start = Math.floor(rand() * (set.lines.length - n));
    const plain = Buffer.from(damagedCapture(set.lines.slice(start, start + n), rand), 'latin1');
    let bytes = plain;
    let intact = true; // the file decodes to `plain`
    if (rand() < 0.3) {
      bytes = gzipSync(plain);
      const m = rand();
      if (m < 0.3) {
        bytes = bytes.subarray(0, Math.floor(rand() * bytes.length)); // a recorder killed mid-write
        intact = false;
      } else if (m < 0.5) {
        bytes[10 + Math.floor(rand() * (bytes.length - 10))] ^= 1 + Math.floor(rand() * 255);
        intact = false;
      }
    }
    // A new name for each case: rewriting one file in place makes the filesystem flush it.
    const file = join(dir, `capture-${c}`);
    writeFileSync(file, bytes);
    cut = false;
    const sink = new ShapeSink();
    try {
      await openSource(`${set.venue}:${file}`, { levels: LEVELS }).run(sink, ctx);
      count(r, cut ? 'capture_cut' : 'capture_clean');
    } catch (e) {
      if (!(e instanceof MdfanError)) {
        crash(r, `binance capture case ${c} (${set.venue}): ${JSON.stringify(plain.toString('latin1').slice(0, 300))}`, e);
        continue;
      }
      const wrong = e.code !== 'MDFAN_ERR_FEED_CORRUPT' ? `code ${e.code}` : intact ? wrongLineFacts(e, plain) : Number.isInteger(e.details.offset) && (e.details.offset as number) >= 0 ? null : `offset ${String(e.details.offset)}`;
      if (wrong !== null) {
        r.badFacts++;
        r.firstCrash ||= `binance capture case ${c} (${set.venue}): ${wrong}: ${e.message}`;
      }
      count(r, e.code);
    } finally {
      rmSync(file, { force: true });
    }
    if (sink.wrong !== '') {
      r.badFacts++;
      r.firstCrash ||= `binance capture case ${c} (${set.venue}): a book published as ${sink.wrong}`;
    }
  }
  return r;
}

/** A private directory for capture files, removed by the caller (rmSync). */
