/**
 * `mdfan read --events`: the events the follow loop hands out beside the books, counted, and one
 * line per event in the contract format (lib/event-line.ts), `LAPPED,N` where events were lost:
 * to the --record-events FILE, or to stdout without one (or with \`-\`), where the summary JSON
 * line still comes last (an event line never starts with \`{\`).
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { EVENT_KIND_NAMES, formatEventLine, lappedLine } from '../../lib/event-line.js';
import { ErrorCode, type EventRecord, MdfanError, type StartAt } from '../../native/segment/index.js';
import type { Instrument } from '../../native/segment/directory.js';

/** Lines kept before a write to the record file. */
const FLUSH_LINES = 4096;
/** On stdout, lines wait at most this long (a person or a pipe sees a quiet feed's events soon). */
const STDOUT_FLUSH_MS = 100;
/** --record-events `-`: stdout, as without --record-events. */
export const STDOUT_NAME = '-';

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

/** What `mdfan read --events` does with each event the follow loop hands it: counts it and writes its line (to the file or stdout). */
export class EventRecorder {
  /** The record file's descriptor; -1 for stdout. */
  private readonly fd: number;
  private pending: string[] = [];
  private delivered = 0;
  private lost = 0;
  private readonly timer: NodeJS.Timeout | null;

  /** `file`: the record file; undefined or `-`: stdout. */
  constructor(file: string | undefined) {
    const toStdout = file === undefined || file === STDOUT_NAME;
    this.fd = toStdout ? -1 : openSync(file, 'w');
    // stdout through process.stdout, in order with the summary and --print's lines; flushed on a timer too.
    this.timer = toStdout ? setInterval(() => this.flush(), STDOUT_FLUSH_MS).unref() : null;
  }

  /** One event, named by the directory of the writer that published it. */
  event(rec: EventRecord, inst: Instrument | undefined): void {
    this.delivered++;
    const line = formatEventLine(rec, inst?.symbol ?? '', inst?.priceScale ?? 1);
    if (line !== null) this.pending.push(line);
    if (this.pending.length >= FLUSH_LINES) this.flush();
  }

  /** `lost` events were lost to lapping where the next line stands. */
  lapped(lost: number): void {
    this.lost += lost;
    this.pending.push(lappedLine(lost));
  }

  get summary(): { delivered: number; lost: number } {
    return { delivered: this.delivered, lost: this.lost };
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    const text = this.pending.join('\n') + '\n';
    this.pending = [];
    if (this.fd >= 0) writeSync(this.fd, text);
    else process.stdout.write(text);
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.flush();
    if (this.fd >= 0) closeSync(this.fd);
  }
}
