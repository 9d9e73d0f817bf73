/**
 * Fuzzing the mirror as a rogue NATS publisher would: records of every type (book, top, trade,
 * status) made by the bridge's own encoder, then mutated (bytes flipped, cut, extended; forged
 * sessions, generations, depths, counts and symbols; subjects that lie about the symbol or type,
 * or are not the prefix's), through the NATS venue into a real segment (`NatsFeed.offline`, every
 * check of a live mirror). No record may throw; every book the segment then holds must be one a
 * bridge could have sent (counts within the depth, each level priced and sized, prices strictly
 * worse after the best); and a real book sent after the fuzzing must be the one published.
 */
import pino from 'pino';
import { SegmentReader, SegmentWriter } from '../../native/segment/index.js';
import { NatsFeed, Publisher } from '../../feed/index.js';
import { BRIDGE_DEFAULTS } from '../../lib/wire/defaults.js';
import { subjectOf } from '../../lib/wire/subjects.js';
import { BOOK_HEAD, type Head, MsgType, WireWriter } from '../../lib/wire/wire.js';
import { type FuzzResult, count, crash, newResult } from './fuzz.js';

const PREFIX = 'fz';
const LEVELS = 3;
const SYMBOLS = ['AAA', 'BBB', 'CC.D', 'E*F', 'GOOG'];

/** A book a bridge could send: `n` levels a side, prices strictly worse after the best. */
function realBook(rand: () => number, bidN: number, askN: number): { bids: Uint32Array; asks: Uint32Array } {
  const mid = 1000 + Math.floor(rand() * 1000);
  const bids = new Uint32Array(LEVELS * 3);
  const asks = new Uint32Array(LEVELS * 3);
  for (let i = 0; i < bidN; i++) bids.set([mid - 1 - i, 1 + Math.floor(rand() * 500), 1], i * 3);
  for (let i = 0; i < askN; i++) asks.set([mid + 1 + i, 1 + Math.floor(rand() * 500), 1], i * 3);
  return { bids, asks };
}

/** Whether a published snapshot is a book a bridge could have sent (null) or what is wrong with it. */
function wrongShape(bids: Float64Array, bidN: number, asks: Float64Array, askN: number): string | null {
  if (bidN > LEVELS || askN > LEVELS) return `${bidN}/${askN} levels in a ${LEVELS}-level segment`;
  for (const [lv, n, down] of [[bids, bidN, true], [asks, askN, false]] as const)
    for (let i = 0; i < n; i++) {
      if (lv[i * 3] === 0 || lv[i * 3 + 1] === 0) return `level ${i} priced ${lv[i * 3]} sized ${lv[i * 3 + 1]}`;
      if (i > 0 && (down ? lv[i * 3]! >= lv[i * 3 - 3]! : lv[i * 3]! <= lv[i * 3 - 3]!)) return `level ${i} not worse than level ${i - 1}`;
    }
  return null;
}

/**
 * `cases` hostile records through a mirror writing segment `name` (created and removed here).
 * Outcomes: what each record did, by the mirror's own drop reasons, or 'applied'.
 */
export function fuzzNats(cases: number, rand: () => number, name: string): FuzzResult {
  const r = newResult();
  const w = SegmentWriter.open({ name, maxInstruments: 8, levels: LEVELS, ringEvents: 1024 });
  try {
    const feed = new NatsFeed({ url: 'nats://127.0.0.1:1', prefix: PREFIX, symbols: null, levels: LEVELS });
    const apply = feed.offline(new Publisher(w, { symbols: null }), pino({ level: 'silent' }));
    const ww = new WireWriter();
    const session = Math.floor(Date.now() / 1000) - 100;
    const head: Head = { type: MsgType.BOOK, flags: 0, generation: 1, session, priceDecimals: 4, sizeDecimals: 0, seq: 0, msgIndex: 0, exchangeTsNs: 0, publishTsNs: 0, bridgeTsNs: 0, symbol: '' };
    let seq = 0;
    for (let c = 0; c < cases; c++) {
      head.symbol = SYMBOLS[Math.floor(rand() * SYMBOLS.length)]!;
      head.type = (1 + Math.floor(rand() * 4)) as MsgType;
      head.seq = ++seq;
      head.msgIndex = seq;
      head.session = session;
      head.generation = 1;
      head.priceDecimals = 4;
      head.sizeDecimals = 0;
      const kind = rand();
      if (kind < 0.05) head.session = Math.floor(rand() * 4294967296); // a forged session, in the future or the past
      else if (kind < 0.08) head.generation = Math.floor(rand() * 4294967296);
      else if (kind < 0.11) head[rand() < 0.5 ? 'priceDecimals' : 'sizeDecimals'] = Math.floor(rand() * 256); // decimals other than the slot's, or beyond any

      ww.head(head);
      let len: number;
      const bidN = Math.floor(rand() * (LEVELS + 1));
      const askN = Math.floor(rand() * (LEVELS + 1));
      const book = realBook(rand, bidN, askN);
      if (head.type === MsgType.BOOK)
        len = ww.book({ levels: LEVELS, feedId: 0, maxInstruments: 8, bids: { count: bidN, levels: book.bids.subarray(0, bidN * 3) }, asks: { count: askN, levels: book.asks.subarray(0, askN * 3) } });
      else if (head.type === MsgType.TOP) len = ww.top({ count: bidN > 0 ? 1 : 0, levels: book.bids }, { count: askN > 0 ? 1 : 0, levels: book.asks });
      else if (head.type === MsgType.TRADE) len = ww.trade({ price: book.bids[0]!, size: 100, action: 0, side: 0, flags: 0, orderRef: seq });
      else len = ww.status(Math.floor(rand() * 256));
      let rec = ww.buf.slice(0, len);
      const m = rand();
      if (m < 0.3) for (let k = 0, n = 1 + Math.floor(rand() * 6); k < n; k++) rec[Math.floor(rand() * rec.length)] = Math.floor(rand() * 256);
      else if (m < 0.38) rec = rec.subarray(0, Math.floor(rand() * rec.length)); // cut
      else if (m < 0.42) rec = Uint8Array.from([...rec, ...new Uint8Array(1 + Math.floor(rand() * 64))]); // trailing bytes
      else if (m < 0.47 && head.type === MsgType.BOOK) new DataView(rec.buffer).setUint16([BOOK_HEAD.levels, BOOK_HEAD.bidCount, BOOK_HEAD.askCount][Math.floor(rand() * 3)]!, rand() < 0.5 ? LEVELS + 1 + Math.floor(rand() * 60) : Math.floor(rand() * 65536), true); // a depth or count out of bounds
      let subject = subjectOf(PREFIX, head.symbol, head.type);
      const sm = rand();
      if (sm < 0.03) subject = subjectOf(PREFIX, SYMBOLS[Math.floor(rand() * SYMBOLS.length)]!, head.type); // the subject names another symbol
      else if (sm < 0.05) subject = subjectOf(PREFIX, head.symbol, (1 + Math.floor(rand() * 4)) as MsgType);
      else if (sm < 0.06) subject = `${PREFIX}.${'x'.repeat(Math.floor(rand() * 40))}`;
      else if (sm < 0.07) subject = `other.${head.symbol}.book`;
      const dropsBefore = feed.drops.total;
      try {
        apply(subject, rec);
        count(r, feed.drops.total > dropsBefore ? 'dropped' : 'applied');
      } catch (e) {
        crash(r, `nats case ${c} on ${subject}`, e);
      }
    }
    // Every book the segment holds is one a bridge could have sent.
    const reader = SegmentReader.openSync(name, { anyState: true });
    try {
      const snap = reader.newSnapshot();
      for (const inst of reader.instruments()) {
        reader.read(inst.slotIndex, snap);
        const bad = wrongShape(snap.bids, snap.bidCount, snap.asks, snap.askCount);
        if (bad !== null) {
          r.badFacts++;
          r.firstCrash ||= `nats: ${inst.symbol} published as ${bad}`;
        }
      }
      // A real book after all that is the one published: no forged record blocks it. Its session is
      // the latest any admitted record can claim, the generation and message the highest.
      head.type = MsgType.BOOK;
      head.symbol = 'GOOG';
      // In the decimals GOOG's slot was given by the first record that reached it (others are refused).
      const goog = reader.instruments().find((i) => i.symbol === 'GOOG');
      head.priceDecimals = goog?.priceDecimals ?? 4;
      head.sizeDecimals = goog?.sizeDecimals ?? 0;
      head.session = Math.floor(Date.now() / 1000) + BRIDGE_DEFAULTS.mirrorSessionSkewS;
      head.generation = 0xffffffff;
      head.msgIndex = Number.MAX_SAFE_INTEGER;
      head.seq = ++seq;
      ww.head(head);
      const real = realBook(rand, 2, 1);
      const len = ww.book({ levels: LEVELS, feedId: 0, maxInstruments: 8, bids: { count: 2, levels: real.bids.subarray(0, 6) }, asks: { count: 1, levels: real.asks.subarray(0, 3) } });
      apply(subjectOf(PREFIX, 'GOOG', MsgType.BOOK), ww.buf.slice(0, len));
      const slot = reader.instruments().find((i) => i.symbol === 'GOOG');
      if (slot === undefined) crash(r, 'nats', new Error('a real book for GOOG after the fuzzing got no slot'));
      else {
        reader.read(slot.slotIndex, snap);
        if (snap.bidCount !== 2 || snap.bids[0] !== real.bids[0] || snap.bids[3] !== real.bids[3] || snap.askCount !== 1 || snap.asks[0] !== real.asks[0])
          crash(r, 'nats', new Error(`a real GOOG book after the fuzzing was not published: ${snap.bidCount}/${snap.askCount} levels, best bid ${snap.bids[0]} (sent ${real.bids[0]})`));
      }
    } finally {
      reader.close();
    }
  } catch (e) {
    crash(r, 'nats', e);
  } finally {
    w.close({ unlink: true });
  }
  return r;
}
