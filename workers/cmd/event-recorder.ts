/**
 * `mdfan read --events`: the events the follow loop hands out beside the books, counted, and with
 * --record-events one line per event in the contract format (lib/event-line.ts), `LAPPED,N` where
 * events were lost.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { EVENT_KIND_NAMES, formatEventLine, lappedLine } from '../../lib/event-line.js';
import { ErrorCode, type EventRecord, MdfanError, type StartAt } from '../../native/segment/index.js';
import type { Instrument } from '../../native/segment/directory.js';

/** Lines kept before a write to the record file. */
const FLUSH_LINES = 4096;

/** Parses --kinds trade,status,order,system into kind letters. */
export function parseKinds(text: string | undefined): number[] | undefined {
  if (text === undefined) return undefined;
  return text.split(',').map((k) => {
    const kind = EVENT_KIND_NAMES[k];
    if (kind === undefined) throw new MdfanError(ErrorCode.OPTIONS, `--kinds: unknown kind ${JSON.stringify(k)} (kinds: ${Object.keys(EVENT_KIND_NAMES).join(', ')})`, { flag: '--kinds', found: k });
    return kind;
  });
}

export function parseFrom(text: string | undefined): StartAt {
  if (text === undefined || text === 'oldest' || text === 'newest') return text ?? 'oldest';
  throw new MdfanError(ErrorCode.OPTIONS, `--from must be oldest or newest (got ${JSON.stringify(text)})`, { flag: '--from', found: text });
}

/** What `mdfan read --events` does with each event the follow loop hands it: counts it and, with a file, writes its line. */
export class EventRecorder {
  private readonly fd: number;
  private pending: string[] = [];
  private delivered = 0;
  private lost = 0;

  constructor(file: string | undefined) {
    this.fd = file ? openSync(file, 'w') : -1;
  }

  /** One event, named by the directory of the writer that published it. */
  event(rec: EventRecord, inst: Instrument | undefined): void {
    this.delivered++;
    if (this.fd < 0) return;
    const line = formatEventLine(rec, inst?.symbol ?? '', inst?.priceScale ?? 1);
    if (line !== null) this.pending.push(line);
    if (this.pending.length >= FLUSH_LINES) this.flush();
  }

  /** `lost` events were lost to lapping where the next line stands. */
  lapped(lost: number): void {
    this.lost += lost;
    if (this.fd >= 0) this.pending.push(lappedLine(lost));
  }

  get summary(): { delivered: number; lost: number } {
    return { delivered: this.delivered, lost: this.lost };
  }

  private flush(): void {
    if (this.fd >= 0 && this.pending.length > 0) writeSync(this.fd, this.pending.join('\n') + '\n');
    this.pending = [];
  }

  close(): void {
    this.flush();
    if (this.fd >= 0) closeSync(this.fd);
  }
}
