/**
 * Replays a LOBSTER pair into the segment: row 0 seeds the book (and is published as message 0),
 * every later message is applied and verified against its orderbook row (feed/lobster), and the
 * top N is published when it changed. Paced by the message file's timestamps.
 */
import { setImmediate as yieldNow, setTimeout as sleep } from 'node:timers/promises';
import type { SegmentWriter } from '../../native/segment/writer.js';
import { LobsterBook } from '../lobster/lobster-book.js';
import { LobsterPair, parseRow } from '../lobster/lobster-files.js';
import type { BookDump } from '../publish/dump.js';
import type { Pacer } from '../pacing/pacer.js';
import { TopOfBook } from '../publish/top.js';

const BATCH = 4096;
const LOBSTER_PRICE_SCALE = 10000; // prices are dollars x 10000, as in ITCH

export async function replayLobster(
  pair: LobsterPair,
  writer: SegmentWriter,
  levels: number,
  dump: BookDump | null,
  pacer: Pacer,
  stop: { requested: boolean },
  progress: (msgIndex: number, done: number, total: number) => void = () => {},
): Promise<{ messages: number; reveals: number }> {
  const book = new LobsterBook(pair.levels, pair.orderbookFile);
  const slot = writer.addInstrument(pair.symbol, 0, LOBSTER_PRICE_SCALE);
  const msg = new Float64Array(6);
  const row = new Float64Array(pair.levels * 4);
  const top = new TopOfBook(pair.levels);
  const last = new Uint32Array(2 + 6 * pair.levels);
  const out = new TopOfBook(levels); // the segment's depth may be smaller than the file's
  const bidsHead = top.bids.subarray(0, levels * 3); // views made once: nothing allocated per publish
  const asksHead = top.asks.subarray(0, levels * 3);
  let reported = 0;
  const publish = (i: number, tsNs: number): void => {
    book.fillTop(top);
    if (i > 0 && !top.differsFrom(last)) return;
    top.saveTo(last);
    out.bidCount = Math.min(top.bidCount, levels);
    out.askCount = Math.min(top.askCount, levels);
    out.bids.set(bidsHead);
    out.asks.set(asksHead);
    writer.publish(slot, out, i, tsNs);
    writer.wakeIfSleepers();
    dump?.write(i, pair.symbol, out);
  };
  const n = pair.messages.length;
  let i = 0;
  while (i < n && !stop.requested) {
    const batchEnd = i + BATCH;
    let waitNs = 0;
    for (; i < n && i < batchEnd; i++) {
      parseRow(pair.messages[i], msg, pair.messageFile, i);
      const tsNs = Math.round(msg[0] * 1e9);
      waitNs = pacer.delayNs(tsNs);
      if (waitNs > 0) break;
      parseRow(pair.orderbook[i], row, pair.orderbookFile, i);
      if (i === 0) book.seed(row);
      else book.apply(i, msg[1], msg[3], msg[4], msg[5], row);
      publish(i, tsNs);
      writer.messages++;
      writer.tick();
    }
    if (book.reveals > reported) {
      writer.addCounter('reveals', book.reveals - reported);
      reported = book.reveals;
    }
    writer.flushCounters();
    progress(i, i, n);
    if (waitNs > 2e6) await sleep(Math.min(waitNs, 250e6) / 1e6);
    else await yieldNow();
  }
  return { messages: i, reveals: book.reveals };
}
