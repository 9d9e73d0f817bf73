/**
 * `mdfan bench feed`, the DBN half: records/s through the DBN source on the GOOG day as DBN MBO
 * records (../shared/data/dbn, 172,926 records, one zstd frame), in stages: zstd decompression
 * alone (fzstd); record framing over the decompressed bytes in memory; + MBO books and top-10
 * change detection (a sink that does nothing); + publication and the event ring into a fresh
 * segment; then the whole source as `mdfan feed` runs it, streamed from the file, from the .zst and
 * from the same stream decompressed to a plain .dbn (written to a temp dir, removed after).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Decompress } from 'fzstd';
import { DbnReader, DbnVenue, NullSink, Publisher, type RecordView, probeInputFile, readInput } from '../feed/index.js';
import type { BookSink } from '../feed/index.js';
import { SegmentWriter } from '../native/segment/writer.js';
import { SEGMENT_DEFAULTS } from '../native/segment/defaults.js';
import * as abi from '../native/segment/abi.js';
import { onAbort } from './abort.js';
import type { FeedRow } from './feed.js';
import { median } from './machine.js';

export const DBN_DIR = process.env.MDFAN_DBN_DATA ?? join(fileURLToPath(new URL('../../../', import.meta.url)), 'shared', 'data', 'dbn');
const GOOG_DBN = 'GOOG-2012-06-21.mbo.dbn.zst';
const LEVELS = 10;

export interface DbnFeedRow extends FeedRow {
  feed: 'dbn';
  records: number;
}

const fail = (i: number, field: string, why: string): never => {
  throw new Error(`record ${i} ${field}: ${why}`);
};

/** Records/s of one pass over the decompressed records in memory through `venue` (null: framing alone). */
function driveMemory(bytes: Buffer, from: number, venue: DbnVenue | null): number {
  const v: RecordView = { buf: bytes, at: 0, bytes: 0, rtype: 0 };
  const t0 = performance.now();
  let i = 0;
  for (let at = from; at < bytes.length; i++) {
    v.at = at;
    v.bytes = bytes[at]! * 4;
    v.rtype = bytes[at + 1]!;
    venue?.process(v, i);
    at += v.bytes;
  }
  return i / ((performance.now() - t0) / 1000);
}

/** A segment with the event ring for one timed pass (unlinked after, also on abort). */
function withSegment(tag: string, f: (sink: BookSink) => number): number {
  const name = `mdfan-bench-feed-dbn-${tag}-${process.pid}`;
  const w = SegmentWriter.open({ name, maxInstruments: SEGMENT_DEFAULTS.maxInstruments, levels: LEVELS, ringEvents: abi.EVENTS_DEFAULT_CAPACITY });
  const undo = onAbort(() => w.close({ unlink: true }));
  try {
    return f(new Publisher(w));
  } finally {
    w.close({ unlink: true });
    undo();
  }
}

/** Records/s of the whole source path: the file streamed (and decompressed), framed, the venue, the sink. */
async function driveFile(file: string, tag: string): Promise<number> {
  const name = `mdfan-bench-feed-dbn-${tag}-${process.pid}`;
  const w = SegmentWriter.open({ name, maxInstruments: SEGMENT_DEFAULTS.maxInstruments, levels: LEVELS, ringEvents: abi.EVENTS_DEFAULT_CAPACITY });
  const undo = onAbort(() => w.close({ unlink: true }));
  const reader = new DbnReader(probeInputFile(file));
  try {
    const t0 = performance.now();
    const meta = await reader.open();
    const venue = new DbnVenue(new Publisher(w), LEVELS, meta, reader.version, fail);
    const v: RecordView = { buf: Buffer.alloc(0), at: 0, bytes: 0, rtype: 0 };
    let i = 0;
    for (;;) {
      while (reader.next(v)) venue.process(v, i++);
      if (!(await reader.fill())) break;
    }
    return i / ((performance.now() - t0) / 1000);
  } finally {
    reader.close();
    w.close({ unlink: true });
    undo();
  }
}

export async function dbnFeedBench(runs: number, log: (s: string) => void): Promise<DbnFeedRow[]> {
  const zst = join(DBN_DIR, GOOG_DBN);
  if (!existsSync(zst)) {
    log(`  DBN recording not found (${zst}; MDFAN_DBN_DATA): skipped`);
    return [];
  }
  const compressed = readFileSync(zst);
  const bytes = await readInput(zst, 64 * 1024 * 1024);
  const probe = new DbnReader(probeInputFile(zst));
  const meta = await probe.open();
  const from = probe.recordsOffset;
  const version = probe.version;
  probe.close();
  const records = countRecords(bytes, from);
  const dir = mkdtempSync(join(tmpdir(), 'mdfan-bench-dbn-'));
  const undoDir = onAbort(() => rmSync(dir, { recursive: true, force: true }));
  const plain = join(dir, 'GOOG.mbo.dbn');
  writeFileSync(plain, bytes);
  const stages: Array<[string, () => number | Promise<number>]> = [
    [
      'zstd decompression alone (fzstd, 1 MiB pushes)',
      () => {
        let n = 0;
        const d = new Decompress((c) => {
          n += c.length;
        });
        const t0 = performance.now();
        for (let i = 0; i < compressed.length; i += 1 << 20) d.push(compressed.subarray(i, Math.min(compressed.length, i + (1 << 20))), i + (1 << 20) >= compressed.length);
        if (n !== bytes.length) throw new Error(`decompressed ${n} bytes, expected ${bytes.length}`);
        return records / ((performance.now() - t0) / 1000);
      },
    ],
    ['record framing (decompressed, in memory)', () => driveMemory(bytes, from, null)],
    ['+ MBO books + top-10 change detection (no-op sink)', () => driveMemory(bytes, from, new DbnVenue(new NullSink(), LEVELS, meta, version, fail))],
    ['+ publication + event ring (seqlock commits, trades appended)', () => withSegment('mem', (sink) => driveMemory(bytes, from, new DbnVenue(sink, LEVELS, meta, version, fail)))],
    ['whole source from the plain .dbn file (streamed, framed, published)', () => driveFile(plain, 'plain')],
    ['whole source from the .dbn.zst file (streamed, decompressed, framed, published)', () => driveFile(zst, 'zst')],
  ];
  const rows: DbnFeedRow[] = [];
  try {
    for (const [stage, f] of stages) {
      await f(); // warm-up: JIT
      const res: number[] = [];
      for (let r = 0; r < runs; r++) res.push(await f());
      rows.push({ feed: 'dbn', stage: `dbn GOOG MBO: ${stage}`, msgs_per_s: median(res), runs: res, records });
      log(`  dbn ${stage}: ${(median(res) / 1e6).toFixed(2)} M records/s`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    undoDir();
  }
  return rows;
}

function countRecords(bytes: Buffer, from: number): number {
  let n = 0;
  for (let at = from; at < bytes.length; at += bytes[at]! * 4) n++;
  return n;
}
