/**
 * `--source lobster:MESSAGES.csv,ORDERBOOK.csv`: a LOBSTER pair. Row 0 seeds the book (and is
 * published as message 0), every later message is applied and verified against its orderbook
 * row (feed/lobster), and the top N is published when it changed. Paced by the message file's
 * timestamps.
 */
import { LogEvent } from '../../../lib/log.js';
import { abi, type EventFields, newEventFields } from '../../../native/segment/index.js';
import { LobsterBook } from '../../lobster/lobster-book.js';
import { type LobsterPair, RowStream, parseRow, probeLobster } from '../../lobster/lobster-files.js';
import { BATCH_MESSAGES, pause } from '../../pacing/drive.js';
import { ErrorCode, MdfanError } from '../../../native/segment/errors.js';
import { TopOfBook } from '../../book/top.js';
import { sizeUnit } from '../../input-stream.js';
import { ITCH_SPEC } from '../../../native/segment/directory.js';
import { type BookSink, type FeedSource, NOT_PUBLISHED, type RunContext, type SourceKind, newCounters } from '../../sink.js';

/** LOBSTER prices are dollars x 10000, as in ITCH. */
const LOBSTER_PRICE_SCALE = 10000;
/** Columns of a LOBSTER message row: time, type, order id, size, price, direction. */
const MESSAGE_COLUMNS = 6;
/** From LOBSTER's units (x10000) to the event ring's (1/MDFAN_EVENT_PRICE_SCALE). */
const PRICE_TO_RING = abi.EVENT_PRICE_SCALE / LOBSTER_PRICE_SCALE;

/**
 * The event of a LOBSTER message (type 1 add, 2 cancel, 3 delete, 4 visible execution, 5 hidden
 * execution, 6 cross, 7 trading halt), in the ring's terms; false for none. Executions are
 * reported with the letters of the ITCH messages they correspond to (E, P, Q).
 */
function lobsterEvent(msg: Float64Array, e: EventFields): boolean {
  const type = msg[1]!;
  const side = msg[5] === 1 ? 0x42 : msg[5] === -1 ? 0x53 : 0;
  e.orderRef = msg[2]!;
  e.side = side;
  e.size = msg[3]!;
  e.price = msg[4]! * PRICE_TO_RING;
  switch (type) {
    case 1:
    case 2:
    case 3:
      e.kind = abi.EVENT_KIND_ORDER;
      e.action = type === 1 ? 0x41 : type === 2 ? 0x58 : 0x44; // A X D
      return true;
    case 4:
    case 5:
    case 6:
      e.kind = abi.EVENT_KIND_TRADE;
      e.action = type === 4 ? 0x45 : type === 5 ? 0x50 : 0x51; // E P Q
      return true;
    case 7: // price -1: halted, 0: quoting, 1: trading resumes
      e.kind = abi.EVENT_KIND_STATUS;
      e.action = msg[4] === -1 ? 0x48 : msg[4] === 0 ? 0x51 : 0x54; // H Q T
      e.price = Number.NaN;
      e.orderRef = 0;
      e.size = 0;
      return true;
    default:
      return false;
  }
}

class LobsterSource implements FeedSource {
  readonly total: { unit: string; count: number };
  readonly counters = newCounters();

  constructor(
    private readonly pair: LobsterPair,
    private readonly levels: number,
  ) {
    this.total = { unit: sizeUnit(pair.messages), count: pair.messages.size };
  }

  async run(sink: BookSink, ctx: RunContext): Promise<void> {
    const { pair, levels, counters } = this;
    const book = new LobsterBook(pair.levels, pair.orderbookFile);
    const slot = sink.instrument(pair.symbol, 0, ITCH_SPEC);
    const msg = new Float64Array(MESSAGE_COLUMNS);
    const row = new Float64Array(pair.levels * 4);
    const top = new TopOfBook(pair.levels);
    const last = new Float64Array(2 + 6 * pair.levels);
    const out = new TopOfBook(levels, sink.scratch); // the segment's depth may be smaller than the file's; filled in the writer's stage
    const bidsHead = top.bids.subarray(0, levels * 3); // views made once: nothing allocated per publish
    const asksHead = top.asks.subarray(0, levels * 3);
    const publish = (i: number, tsNs: number): void => {
      book.fillTop(top);
      if (i > 0 && !top.differsFrom(last)) return;
      top.saveTo(last);
      out.bidCount = Math.min(top.bidCount, levels);
      out.askCount = Math.min(top.askCount, levels);
      out.bids.set(bidsHead);
      out.asks.set(asksHead);
      sink.book(slot, out, i, tsNs);
    };
    const events = sink.wantsEvents;
    const ev = newEventFields();
    // Both files stream row by row, in step: row i of the orderbook follows message i.
    const messages = new RowStream(pair.messages);
    const rows = new RowStream(pair.orderbook);
    let i = 0;
    try {
      while (!ctx.stop.requested) {
        const batchEnd = i + BATCH_MESSAGES;
        let waitNs = 0;
        for (; i < batchEnd && messages.ready() && rows.ready(); i++) {
          parseRow(messages.peek(), msg, pair.messageFile, i);
          const tsNs = Math.round(msg[0] * 1e9);
          waitNs = ctx.pacer.delayNs(tsNs);
          if (waitNs > 0) break;
          messages.skip();
          parseRow(rows.peek(), row, pair.orderbookFile, i);
          rows.skip();
          if (i === 0) book.seed(row);
          else book.apply(i, msg[1], msg[3], msg[4], msg[5], row);
          if (slot !== NOT_PUBLISHED) {
            publish(i, tsNs);
            if (events && lobsterEvent(msg, ev)) {
              ev.instrumentIndex = slot;
              ev.msgIndex = i;
              ev.exchangeTs = tsNs;
              ev.flags = abi.EVENT_FLAG_LAST;
              sink.event(ev);
            }
          }
          counters.messages++;
          sink.tick();
        }
        counters.reveals = book.reveals;
        sink.flush(counters);
        ctx.progress?.(i, messages.bytesRead, this.total.count);
        if (waitNs > 0 || i === batchEnd) {
          await pause(waitNs);
          continue;
        }
        if (!messages.ready()) await messages.fill(i);
        if (!rows.ready()) await rows.fill(i);
        if (messages.exhausted && rows.exhausted) break;
        if (messages.exhausted || rows.exhausted) {
          const [short, long] = messages.exhausted ? [pair.messageFile, pair.orderbookFile] : [pair.orderbookFile, pair.messageFile];
          throw new MdfanError(ErrorCode.FEED_TRUNCATED, `${short} ends after ${i} rows but ${long} goes on: the pair must have one orderbook row per message`, { file: short, msgIndex: i });
        }
      }
    } finally {
      messages.close();
      rows.close();
    }
    if (ctx.stop.requested) return;
    ctx.log.info({ event: LogEvent.FEED_VERIFIED, reveals: book.reveals }, 'LOBSTER replay verified against its orderbook file');
  }

  summary(): string {
    return `, ${this.counters.reveals} levels revealed from below the window`;
  }
}

export const lobster: SourceKind = {
  scheme: 'lobster',
  syntax: 'lobster:MESSAGES.csv,ORDERBOOK.csv',
  open: (rest, opts) => {
    const files = rest.split(',');
    if (files.length !== 2 || !files[0] || !files[1]) return null;
    return new LobsterSource(probeLobster(files[0], files[1]), opts.levels);
  },
};
