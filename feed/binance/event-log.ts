/**
 * A bounded ring of one symbol's depth events: their payloads (re-decoded when used), message
 * indexes and update ids (U, u, pu). The market keeps two per symbol: the events that wait for a
 * snapshot, and the events applied since the book's snapshot (a snapshot older than the book is
 * re-anchored by re-applying them). Full, the oldest goes first. Nothing is allocated per event
 * beyond keeping the payload's reference.
 */
export class EventBuffer {
  readonly payloads: string[];
  readonly msgIndexes: Float64Array;
  readonly firstIds: Float64Array;
  readonly lastIds: Float64Array;
  readonly prevIds: Float64Array;
  private head = 0;
  count = 0;

  constructor(readonly capacity: number) {
    this.payloads = new Array<string>(capacity).fill('');
    this.msgIndexes = new Float64Array(capacity);
    this.firstIds = new Float64Array(capacity);
    this.lastIds = new Float64Array(capacity);
    this.prevIds = new Float64Array(capacity);
  }

  /** Keeps an event; false if the buffer was full and its oldest event was dropped for it. */
  push(payload: string, msgIndex: number, firstId: number, lastId: number, prevId: number): boolean {
    const full = this.count === this.capacity;
    const at = (this.head + this.count) % this.capacity;
    this.payloads[at] = payload;
    this.msgIndexes[at] = msgIndex;
    this.firstIds[at] = firstId;
    this.lastIds[at] = lastId;
    this.prevIds[at] = prevId;
    if (full) this.head = (this.head + 1) % this.capacity;
    else this.count++;
    return !full;
  }

  /** Position of the k-th oldest event. */
  at(k: number): number {
    return (this.head + k) % this.capacity;
  }

  clear(): void {
    for (let k = 0; k < this.count; k++) this.payloads[this.at(k)] = '';
    this.head = 0;
    this.count = 0;
  }
}
