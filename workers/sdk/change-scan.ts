/**
 * How a reader finds changed books: it remembers the seq it last saw of each slot (and of each
 * top-of-book line) and compares, one Atomics.load per slot looked at, allocating nothing. It
 * looks at every announced slot, or, when the reader watches a few symbols, at theirs alone: then
 * its cost follows what the reader watches, not the market's size. Read-only: nothing in the
 * segment changes for it.
 */
import type { Instrument } from '../../native/segment/directory.js';
import type { SegmentReader } from '../../native/segment/reader.js';
import { topWord } from '../../native/segment/tops.js';

export class ChangeScan {
  /** The seq last seen per slot: of its book, and of its top line. */
  private lastSeq: Uint32Array;
  private lastTopSeq: Uint32Array;
  private watchSet: Set<string> | null;
  /** Slots of the watched symbols announced so far (null: every slot), and how many. */
  private slots: Int32Array | null = null;
  private count = 0;

  constructor(maxInstruments: number, symbols: readonly string[] | undefined) {
    this.lastSeq = new Uint32Array(maxInstruments);
    this.lastTopSeq = new Uint32Array(maxInstruments);
    this.watchSet = symbols ? new Set(symbols) : null;
  }

  /** The symbols watched, or null for all. */
  get watched(): ReadonlySet<string> | null {
    return this.watchSet;
  }

  /** Watches `symbols` (null: all); follow() then resolves them against the directory. */
  setWatch(symbols: readonly string[] | null): void {
    this.watchSet = symbols === null ? null : new Set(symbols);
  }

  /** The directory as now read: the watched symbols' slots (cold: on announcements and takeovers). */
  follow(list: readonly Instrument[]): void {
    const watch = this.watchSet;
    if (watch === null) {
      this.slots = null;
      return;
    }
    const slots = list.filter((i) => watch.has(i.symbol)).map((i) => i.slotIndex);
    this.slots = Int32Array.from(slots);
    this.count = slots.length;
  }

  /** A new writer: nothing seen yet, for a layout of `maxInstruments` slots. */
  reset(maxInstruments: number): void {
    if (this.lastSeq.length !== maxInstruments) {
      this.lastSeq = new Uint32Array(maxInstruments);
      this.lastTopSeq = new Uint32Array(maxInstruments);
    } else {
      this.lastSeq.fill(0);
      this.lastTopSeq.fill(0);
    }
  }

  /** The seq a read validated its copy at: the same commit is not reported again. */
  sawBook(slot: number, seq: number): void {
    if (slot < this.lastSeq.length) this.lastSeq[slot] = seq;
  }
  sawTop(slot: number, seq: number): void {
    if (slot < this.lastTopSeq.length) this.lastTopSeq[slot] = seq;
  }

  /**
   * Fills `out` with the slots among the first `announced` whose seq moved (in `words`: the
   * segment's, or the top lines' with `tops`) and returns how many. A slot mid-commit counts as
   * changed: the read waits it out.
   */
  collect(seg: SegmentReader, words: Uint32Array, announced: number, tops: boolean, out: Int32Array): number {
    const last = tops ? this.lastTopSeq : this.lastSeq;
    const n = Math.min(announced, last.length);
    const list = this.slots;
    const m = list === null ? n : this.count;
    let k = 0;
    for (let j = 0; j < m && k < out.length; j++) {
      const i = list === null ? j : list[j]!;
      const s = Atomics.load(words, tops ? topWord(i) : seg.slotWord(i));
      if (s !== last[i]) {
        last[i] = s;
        out[k++] = i;
      }
    }
    return k;
  }

  /** Whether collect() would report anything (it records nothing). */
  any(seg: SegmentReader, words: Uint32Array, announced: number, tops: boolean): boolean {
    const last = tops ? this.lastTopSeq : this.lastSeq;
    const list = this.slots;
    const m = list === null ? Math.min(announced, last.length) : this.count;
    for (let j = 0; j < m; j++) {
      const i = list === null ? j : list[j]!;
      if (Atomics.load(words, tops ? topWord(i) : seg.slotWord(i)) !== last[i]) return true;
    }
    return false;
  }
}
