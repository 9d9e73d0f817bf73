/**
 * Names of DBN instruments. A record carries only its `instrument_id`; the name comes from, in
 * order: an instrument definition's `raw_symbol` or a symbol mapping record seen before the
 * instrument's first published record; the metadata's mappings (raw symbol -> instrument id per
 * date interval, when the metadata maps to instrument ids), taken at the date of that first record;
 * else the id itself. The id stays as the instrument's feed id (its provenance). A name is fixed
 * once the instrument has a slot. Names that are not segment symbols (spaces become '_'; one too
 * long or not printable ASCII falls back to the id) are counted.
 */
import { STYPE } from '../../lib/dbn/enums.js';
import type { DbnMetadata } from '../../lib/dbn/metadata.js';
import { isValidSymbol } from '../../native/segment/directory.js';

const DAY_MS = 86400000;
const dayOf = (iso: string): number => Date.parse(`${iso}T00:00:00Z`) / DAY_MS;

interface Interval {
  startDay: number;
  endDay: number;
  name: string;
}

export class DbnSymbology {
  private readonly byMetadata = new Map<number, Interval[]>();
  private readonly byRecord = new Map<number, string>();
  /** Names that were not segment symbols as given. */
  renamed = 0;

  constructor(meta: DbnMetadata | null) {
    if (meta === null || meta.stypeOut !== STYPE.INSTRUMENT_ID) return;
    for (const m of meta.mappings)
      for (const i of m.intervals) {
        const id = Number(i.symbol);
        if (!Number.isInteger(id) || id < 0 || id > 0xffffffff) continue;
        const list = this.byMetadata.get(id) ?? [];
        this.byMetadata.set(id, list);
        list.push({ startDay: dayOf(i.startDate), endDay: dayOf(i.endDate), name: m.rawSymbol });
      }
  }

  /** A definition or mapping record named `id`. */
  define(id: number, name: string): void {
    if (name !== '') this.byRecord.set(id, name);
  }

  /** The segment symbol of `id` at the UTC day `day` (days since the epoch). */
  nameOf(id: number, day: number): string {
    let name = this.byRecord.get(id);
    if (name === undefined) {
      const list = this.byMetadata.get(id);
      name = list?.find((i) => i.startDay <= day && day < i.endDay)?.name ?? list?.[0]?.name ?? String(id);
    }
    const symbol = name.replaceAll(' ', '_');
    if (symbol === name && isValidSymbol(symbol)) return symbol;
    this.renamed++;
    return isValidSymbol(symbol) ? symbol : String(id);
  }
}
