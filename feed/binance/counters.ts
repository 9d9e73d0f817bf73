/** What a Binance market counts beyond every venue's SourceCounters (feed/sink.ts): its rules' work. */
import { MALFORMED_REASONS, type MalformedReason } from './messages.js';

/** What Binance's rules did, beyond the SourceCounters. */
export interface BinanceCounters {
  /** Books lost (a gap, a sequence break, a snapshot older than every event left). */
  gaps: number;
  /** Snapshots asked for (first sync, each gap, each disconnect, each re-anchor). */
  snapshotRequests: number;
  /** Snapshots loaded (re-anchors included). */
  snapshots: number;
  /** Snapshots asked for because a commit showed a level past the edge. */
  reanchorRequests: number;
  /** Snapshots that came while the book was in sync: re-anchored on, and not (the log could not bridge them). */
  reanchors: number;
  reanchorsFailed: number;
  /** Books that went STALE, and those rebuilt from a new snapshot (mark cleared). */
  staleMarks: number;
  resyncs: number;
  /** Depth events dropped as older than the snapshot, and as duplicates (u applied already). */
  droppedOld: number;
  duplicates: number;
  /** Depth events applied, buffered, and dropped from a full buffer (oldest first). */
  applied: number;
  buffered: number;
  bufferOverflows: number;
  /** @bookTicker committed to the top line, and dropped as not newer than what it shows. */
  tickers: number;
  tickersDropped: number;
  trades: number;
  /** Trades dropped as handed on already (an id not above the symbol's last). */
  tradeDuplicates: number;
  /** Book commits that showed a level past the snapshot's edge (committed STALE: the book beyond it may have holes). */
  pastEdge: number;
  /** Messages of symbols not among `symbols`, or not published by the sink. */
  otherSymbols: number;
  /** Malformed payloads by reason. */
  malformed: Record<MalformedReason, number>;
}

export const newBinanceCounters = (): BinanceCounters => ({
  gaps: 0,
  snapshotRequests: 0,
  snapshots: 0,
  reanchorRequests: 0,
  reanchors: 0,
  reanchorsFailed: 0,
  staleMarks: 0,
  resyncs: 0,
  droppedOld: 0,
  duplicates: 0,
  applied: 0,
  buffered: 0,
  bufferOverflows: 0,
  tickers: 0,
  tickersDropped: 0,
  trades: 0,
  tradeDuplicates: 0,
  pastEdge: 0,
  otherSymbols: 0,
  malformed: Object.fromEntries(MALFORMED_REASONS.map((r) => [r, 0])) as Record<MalformedReason, number>,
});
