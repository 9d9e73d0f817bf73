/**
 * The ITCH replay engine, independent of where the bytes come from (file, MoldUDP64): decode
 * each message into a reused ItchMessage, apply it to the books, and call onTopChange when an
 * instrument's top N changed by value. Allocation-free per message except the stock directory.
 */
import { ItchBooks, type InstrumentBook } from './books.js';
import { LENGTH, T } from './layout.js';
import { decode, ItchMessage } from './message.js';
import { TopOfBook } from '../book/top.js';
import { isValidSymbol } from '../../native/segment/directory.js';

/** A field's text as a quoted string whose every byte is visible (DEL and above escaped). */
export const shown = (text: string): string => JSON.stringify(text).replace(/[\x7f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

export interface ReplayHooks {
  /** A stock directory message named an instrument. */
  onDirectory?(book: InstrumentBook, msg: ItchMessage): void;
  /**
   * Message `msgIndex` is malformed in `field` (found: what it held): it was dropped. A file
   * replay throws from here; the live path counts and goes on.
   */
  onMalformed?(msgIndex: number, field: string, found: string): void;
  /** A decoded message other than a directory, before it is applied to the books (events see the orders it touches). */
  beforeApply?(msg: ItchMessage, msgIndex: number): void;
  /** Message `msgIndex` changed `book`'s top N, now in `top` (valid only during the call). */
  onTopChange(msgIndex: number, book: InstrumentBook, top: TopOfBook, exchangeTsNs: number): void;
}

export class ItchReplay {
  readonly books = new ItchBooks();
  readonly msg = new ItchMessage();
  /** Messages seen per type byte. */
  readonly typeCounts = new Float64Array(256);
  unknownTypes = 0;
  /** Known types whose length disagreed with the type (only possible on the live path). */
  badLengths = 0;
  /** Messages dropped as malformed (a directory symbol that cannot name an instrument). */
  malformed = 0;
  messages = 0;
  readonly top: TopOfBook;

  /** `scratch`: arrays to fill the top N into (a sink's, see BookSink.scratch). */
  constructor(
    readonly levels: number,
    private readonly hooks: ReplayHooks,
    scratch?: { bids: Float64Array; asks: Float64Array },
  ) {
    this.top = new TopOfBook(levels, scratch);
  }

  /**
   * One message. The type and its fixed length are checked here, not only by the file framing:
   * the live path hands over MoldUDP64 blocks, and a corrupt one must not decode past its end.
   */
  process(buf: Uint8Array, offset: number, length: number, msgIndex: number): void {
    this.messages++;
    const t = length > 0 ? buf[offset] : 0;
    this.typeCounts[t]++;
    const want = LENGTH[t];
    if (want === 0) {
      this.unknownTypes++;
      return;
    }
    if (want !== length) {
      this.badLengths++;
      return;
    }
    decode(this.msg, buf, offset, length);
    if (t === T.STOCK_DIRECTORY) {
      const symbol = this.msg.stock();
      if (!isValidSymbol(symbol)) {
        this.malformed++;
        this.hooks.onMalformed?.(msgIndex, 'stock', shown(symbol));
        return;
      }
      const b = this.books.name(this.msg.locate, symbol);
      this.hooks.onDirectory?.(b, this.msg);
      return;
    }
    this.hooks.beforeApply?.(this.msg, msgIndex);
    const locate = this.books.apply(this.msg);
    // touchedRank counts only changes by value (itch-books.ts): inside the top N, it changed.
    if (locate < 0 || this.books.touchedRank >= this.levels) return;
    const book = this.books.byLocate[locate]!;
    this.top.fill(book);
    this.hooks.onTopChange(msgIndex, book, this.top, this.msg.timestampNs);
  }
}
