/**
 * `mdfan read --events`: follows the segment's event ring beside the books, and with
 * --record-events writes one line per event in the contract format (lib/event-line.ts),
 * `LAPPED,N` where events were lost.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { EVENT_KIND_NAMES, formatEventLine, lappedLine } from '../../lib/event-line.js';
import { ErrorCode, EventBatch, MdfanError, type StartAt, abi } from '../../native/segment/index.js';
import { EventReader } from '../sdk/event-reader.js';

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

export class EventRecorder {
  private readonly reader: EventReader;
  private readonly batch = new EventBatch(1024);
  private readonly fd: number;
  private pending: string[] = [];

  constructor(segment: string, opts: { from: StartAt; kinds?: number[]; file?: string }) {
    this.reader = EventReader.open(segment, { from: opts.from, kinds: opts.kinds });
    this.fd = opts.file ? openSync(opts.file, 'w') : -1;
  }

  /**
   * Reads every event published so far; returns how many were delivered. `refresh` re-reads the
   * directory into symbolOf/scaleOf when an event names an instrument not known yet (an event can
   * arrive before the reader's periodic directory check).
   */
  drain(symbolOf: readonly string[], scaleOf: readonly number[], refresh: () => void): number {
    let total = 0;
    for (;;) {
      const n = this.reader.poll(this.batch);
      if (this.fd >= 0 && this.batch.lost > 0) this.pending.push(lappedLine(this.batch.lost));
      if (n === 0 && this.batch.lost === 0) break;
      total += n;
      if (this.fd < 0) continue;
      for (let i = 0; i < n; i++) {
        const rec = this.batch.records[i]!;
        const slot = rec.instrumentIndex;
        if (symbolOf[slot] === undefined && slot !== abi.EVENT_NO_INSTRUMENT) refresh();
        const line = formatEventLine(rec, symbolOf[slot] ?? '', scaleOf[slot] ?? 1);
        if (line !== null) this.pending.push(line);
      }
      if (this.pending.length >= FLUSH_LINES) this.flush();
    }
    return total;
  }

  /** A new writer generation: the events of the old ring are drained first by the caller. */
  reopen(): void {
    this.reader.reopen();
  }

  get summary(): { delivered: number; lost: number } {
    return { delivered: this.reader.delivered, lost: this.reader.lost };
  }

  private flush(): void {
    if (this.fd >= 0 && this.pending.length > 0) writeSync(this.fd, this.pending.join('\n') + '\n');
    this.pending = [];
  }

  close(): void {
    this.flush();
    if (this.fd >= 0) closeSync(this.fd);
    this.reader.close();
  }
}
