/**
 * `--source dbn:FILE.dbn[.zst]`: a Databento DBN stream (versions 1 to 3, plain or zstd) replayed
 * through the DBN venue, record by record; the message index is the record index after the
 * metadata. Paced at --speed by ts_event, or by ts_recv with --pace recv (a record type without
 * ts_recv is paced by its ts_event). The file is streamed; its metadata is checked when the source
 * is opened, before any segment exists (when it lies in the file's first 64 KiB, as it does but for
 * huge symbol lists). Bad input stops the replay with MDFAN_ERR_FEED_CORRUPT naming the file, the
 * byte offset in the decompressed stream and the record index; what was published stays.
 */
import { ErrorCode, MdfanError } from '../../../native/segment/errors.js';
import { HEADER, layoutOf } from '../../../lib/dbn/fields.js';
import { METADATA, SKIPPABLE_FRAME, decodeMetadata, decodePrelude, legacyDbz } from '../../../lib/dbn/metadata.js';
import { DbnReader, type RecordView } from '../../dbn/reader.js';
import { DbnVenue } from '../../dbn/venue.js';
import { tsSince } from '../../dbn/numbers.js';
import { type InputFile, probeInputFile, readDecodedHead, readInputHead, sizeUnit } from '../../input-stream.js';
import { BATCH_MESSAGES, pause } from '../../pacing/drive.js';
import { type BookSink, type FeedSource, type RunContext, type SourceCounters, type SourceKind, type SourceOptions, newCounters } from '../../sink.js';

/** Stored bytes read when the source is opened, to check the metadata before a segment exists. */
const HEAD_BYTES = 64 * 1024;

/** The ts_recv offset of each record type in `version` (-1: none; paced by ts_event). */
function recvOffsets(version: number): Int16Array {
  const out = new Int16Array(256).fill(-1);
  for (let rtype = 0; rtype < 256; rtype++) {
    const f = layoutOf(rtype, version)?.fields.find((x) => x.name === 'ts_recv');
    if (f) out[rtype] = f.offset;
  }
  return out;
}

class DbnFileSource implements FeedSource {
  readonly total: { unit: string; count: number };
  private venue: DbnVenue | null = null;
  private reader: DbnReader | null = null;

  constructor(
    private readonly input: InputFile,
    private readonly levels: number,
    private readonly paceRecv: boolean,
  ) {
    this.total = { unit: sizeUnit(input), count: input.size };
  }

  get counters(): SourceCounters {
    return this.venue?.syncCounters() ?? newCounters();
  }

  async run(sink: BookSink, ctx: RunContext): Promise<void> {
    const file = this.input.file;
    const reader = new DbnReader(this.input);
    this.reader = reader;
    const pacer = ctx.pacer;
    let i = 0;
    try {
      const meta = await reader.open();
      const venue = new DbnVenue(sink, this.levels, meta, reader.version, (recordIndex, field, why) => {
        const offset = reader.offset - view.bytes;
        throw new MdfanError(ErrorCode.FEED_CORRUPT, `${file}: record ${recordIndex} at byte offset ${offset}: field ${field}: ${why}`, { file, offset, msgIndex: recordIndex, field });
      });
      this.venue = venue;
      const recv = recvOffsets(reader.version);
      const view: RecordView = { buf: Buffer.alloc(0), at: 0, bytes: 0, rtype: 0 };
      let pending = false; // `view` holds a record not yet due
      let baseHi = -1;
      let baseLo = 0;
      const report = (): void => {
        const c = venue.syncCounters();
        c.inputBytes = reader.offset;
        sink.flush(c);
        ctx.progress?.(i, reader.bytesRead, this.total.count);
      };
      try {
        while (!ctx.stop.requested) {
          const batchEnd = i + BATCH_MESSAGES;
          let waitNs = 0;
          while (i < batchEnd && (pending || reader.next(view))) {
            if (pacer.paced) {
              const b = view.buf;
              const r = this.paceRecv ? recv[view.rtype]! : -1;
              const tsAt = view.at + (r >= 0 ? r : HEADER.tsEvent);
              if (baseHi < 0) {
                // Pace by ns after the first record's second: exact in a double for any file's span.
                baseHi = b.readUInt32LE(tsAt + 4);
                baseLo = b.readUInt32LE(tsAt);
              }
              const ts = tsSince(b, tsAt, baseHi, baseLo);
              if (!Number.isNaN(ts)) {
                waitNs = pacer.delayNs(ts);
                if (waitNs > 0) {
                  pending = true;
                  break;
                }
              }
            }
            pending = false;
            venue.process(view, i);
            i++;
          }
          report();
          if (waitNs > 0 || i === batchEnd) {
            await pause(waitNs);
            continue;
          }
          if (!(await reader.fill())) break;
        }
      } finally {
        report();
      }
    } finally {
      reader.close();
    }
  }

  summary(): string {
    const v = this.venue;
    if (!v) return '';
    const d = v.dbn;
    const k = v.books.counters;
    const m = this.reader?.metadata;
    const head = m ? `DBN v${m.version} ${m.dataset} ` : '';
    // What every replay has, then only the anomalies that occurred.
    const anomalies: Array<[number, string]> = [
      [d.skipped, 'other records skipped'],
      [d.unknownTypes, 'unknown types skipped'],
      [d.unknownActions, 'unknown actions'],
      [k.unknownOrderRefs, 'unknown orders'],
      [k.duplicateOrderRefs, 'duplicate adds'],
      [k.overCancels, 'over-cancels'],
      [k.modifiesAsAdds, 'modifies of unknown orders (added)'],
      [k.unpriced, 'orders without price or side'],
      [k.clears, 'clears'],
      [d.wideOrderIds, 'order ids past 2^53'],
      [d.unknownTimes, 'unknown times'],
      [v.names.renamed, 'renamed symbols'],
    ];
    const extra = anomalies
      .filter(([n]) => n > 0)
      .map(([n, what]) => `, ${n} ${what}`)
      .join('');
    return `, ${head}${d.mbo} MBO, ${d.mbp} MBP, ${d.trades} trades, ${d.statuses} status, ${d.definitions} definitions, ${d.mappings} mappings${extra}`;
  }
}

/** Checks the prelude and, when the file's head holds it, the whole metadata: before any segment exists. */
function checkHead(input: InputFile): void {
  const raw = readInputHead(input, 4);
  if (raw.length === 4 && (raw.readUInt32LE(0) & 0xfffffff0) === SKIPPABLE_FRAME) throw legacyDbz(input.file); // DBZ starts with a skippable frame
  const head = readDecodedHead(input, HEAD_BYTES, METADATA.maxBytes);
  const { version, length } = decodePrelude(head, input.file);
  const needed = METADATA.preludeBytes + length;
  // The whole stream's size when it is known now: a plain file's; a compressed file read whole into the head (not capped).
  const whole = input.compression === null ? input.size : input.size <= HEAD_BYTES && head.length < METADATA.maxBytes ? head.length : Number.POSITIVE_INFINITY;
  if (needed > whole)
    throw new MdfanError(ErrorCode.FEED_CORRUPT, `${input.file}: the stream ends inside the metadata (its length says ${length} bytes): ${needed} bytes needed at byte offset 0, ${whole} there`, {
      file: input.file,
      offset: 0,
      expected: needed,
      found: whole,
    });
  if (head.length >= needed) decodeMetadata(version, head.subarray(METADATA.preludeBytes, needed), input.file);
}

export const dbn: SourceKind = {
  scheme: 'dbn',
  syntax: 'dbn:FILE.dbn[.zst]',
  open: (rest: string, opts: SourceOptions) => {
    if (rest === '') return null;
    const input = probeInputFile(rest);
    checkHead(input);
    return new DbnFileSource(input, opts.levels, opts.pace === 'recv');
  },
};
