/** Event-ring helpers of the C reader tests: appending events, and the lines the TypeScript reader prints for them. */
import { EventBatch, type EventRingReader, type SegmentWriter, abi, newEventFields, type EventFields, type EventRecord } from '../../native/segment/index.js';
import { formatEventLine, lappedLine } from '../../lib/event-line.js';

export const ch = (c: string): number => c.charCodeAt(0);
/** ITCH prices (x10000) to the ring's 1e-9 units. */
export const PX = abi.EVENT_PRICE_SCALE / 10000;

/** Appends one event: the fields given, the rest as newEventFields leaves them (no price, no instrument). */
export function appendEvent(w: SegmentWriter, fields: Partial<EventFields>): void {
  w.appendEvent(Object.assign(newEventFields(), fields));
}

/**
 * The lines `mdfan read --record-events` writes for what `reader` (TypeScript) polls from here
 * on: formatEventLine per record (symbol and scale by directory entry, '' and 1 for none) and
 * lappedLine where it was lapped. `accept` filters as the SDK's instrument filter does.
 */
export function tsLines(reader: EventRingReader, names: ReadonlyMap<number, readonly [string, number]>, accept?: (rec: EventRecord) => boolean): string[] {
  const batch = new EventBatch(64);
  const out: string[] = [];
  for (;;) {
    const n = reader.poll(batch, accept);
    if (batch.lost > 0) out.push(lappedLine(batch.lost));
    if (n === 0 && batch.lost === 0) return out;
    for (let i = 0; i < n; i++) {
      const rec = batch.records[i]!;
      const [symbol, scale] = names.get(rec.instrumentIndex) ?? ['', 1];
      const line = formatEventLine(rec, symbol, scale);
      if (line !== null) out.push(line);
    }
  }
}

/** A trade per ring sequence r, on instrument 0 (AAPL), so every line names its record. */
export function appendTrades(w: SegmentWriter, from: number, to: number): void {
  for (let r = from; r <= to; r++)
    appendEvent(w, { kind: abi.EVENT_KIND_TRADE, action: ch('E'), side: ch('B'), instrumentIndex: 0, msgIndex: r * 10, price: r * PX, size: r });
}
export const AAPL = new Map([[0, ['AAPL', 10000] as const]]);

