/**
 * The ITCH replay engine, independent of where the bytes come from (file, MoldUDP64): decode
 * each message into a reused ItchMessage, apply it to the books, and call onTopChange when an
 * instrument's top N changed by value. Allocation-free per message except the stock directory.
 */
import { ItchBooks, InstrumentBook } from '../book/itch-books.js';
import { LENGTH, T } from '../itch/layout.js';
import { decode, ItchMessage } from '../itch/message.js';
import { TopOfBook } from './top.js';

export interface ReplayHooks {
  /** A stock directory message named an instrument. */
  onDirectory?(book: InstrumentBook, msg: ItchMessage): void;
  /** Message `msgIndex` changed `book`'s top N, now in `top` (valid only during the call). */
  onTopChange(msgIndex: number, book: InstrumentBook, top: TopOfBook, exchangeTsNs: number): void;
}

export class ItchReplay {
  readonly books = new ItchBooks();
  readonly msg = new ItchMessage();
  /** Messages seen per type byte. */
  readonly typeCounts = new Float64Array(256);
  unknownTypes = 0;
  messages = 0;
  readonly top: TopOfBook;
  private readonly last: Array<Uint32Array | undefined> = [];

  constructor(
    readonly levels: number,
    private readonly hooks: ReplayHooks,
  ) {
    this.top = new TopOfBook(levels);
  }

  process(buf: Uint8Array, offset: number, length: number, msgIndex: number): void {
    const t = decode(this.msg, buf, offset, length);
    this.messages++;
    this.typeCounts[t]++;
    if (LENGTH[t] === 0) {
      this.unknownTypes++;
      return;
    }
    if (t === T.STOCK_DIRECTORY) {
      const b = this.books.name(this.msg.locate, this.msg.stock());
      this.hooks.onDirectory?.(b, this.msg);
      return;
    }
    const locate = this.books.apply(this.msg);
    if (locate < 0 || this.books.touchedRank >= this.levels) return;
    const book = this.books.byLocate[locate]!;
    const top = this.top;
    top.fill(book);
    let last = this.last[locate];
    if (last === undefined) {
      last = new Uint32Array(2 + 6 * this.levels); // once per instrument
      this.last[locate] = last;
    } else if (!top.differsFrom(last)) return;
    top.saveTo(last);
    this.hooks.onTopChange(msgIndex, book, top, this.msg.timestampNs);
  }
}
