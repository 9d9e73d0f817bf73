/**
 * `mdfan bench live`'s matching: each book the reader observed, back to the depth frame the venue
 * sent that produced it. The live source numbers every message it takes, frames and REST snapshot
 * bodies, in the order taken, so frame f of the connection has message index f plus the snapshots
 * taken before it. What cannot be matched is counted and left out, never guessed:
 *   - books from before the first snapshot's index, and books whose index is not above every
 *     index seen before (depth events buffered before a snapshot are applied when it arrives:
 *     their books come out then, not when their frames came);
 *   - an index that lands on a frame that is not a depth event (would mean the mapping is off).
 */
import type * as hdr from 'hdr-histogram-js';

export interface Sends {
  /** Per client frame: the monotonic time the venue handed it to the socket. */
  ns: Float64Array;
  /** Per client frame: its capture line. */
  line: Int32Array;
  count: number;
}

export interface MatchCounts {
  /** Books the reader observed. */
  observed: number;
  matched: number;
  /** Before the first snapshot, or applied from the snapshot's buffer. */
  warmup: number;
  /** Landed on a frame that is not a depth event, or past the frames sent. */
  unmatched: number;
  /** Depth frames sent after the first snapshot's position: what could have been a book. */
  depthFrames: number;
}

/**
 * Fills the three histograms (venue send -> reader observe; send -> the writer's publish_ts;
 * publish_ts -> observe) from the reader's (msgIndex, publish_ts, observe) triples.
 */
export function matchBooks(
  triples: Float64Array,
  snapshots: readonly number[],
  sends: Sends,
  isDepth: Uint8Array,
  h: { sendToObserve: hdr.Histogram; sendToPublish: hdr.Histogram; publishToObserve: hdr.Histogram },
): MatchCounts {
  const snaps = [...snapshots].sort((a, b) => a - b);
  const c: MatchCounts = { observed: triples.length / 3, matched: 0, warmup: 0, unmatched: 0, depthFrames: 0 };
  if (snaps.length === 0) {
    c.warmup = c.observed;
    return c;
  }
  for (let f = snaps[0]!; f < sends.count; f++) if (isDepth[sends.line[f]!] === 1) c.depthFrames++;
  let highest = -1;
  for (let i = 0; i < triples.length; i += 3) {
    const m = triples[i]!;
    if (m <= snaps[0]! || m <= highest || snaps.includes(m)) {
      c.warmup++;
      continue;
    }
    highest = m;
    let before = 0;
    while (before < snaps.length && snaps[before]! < m) before++;
    const f = m - before;
    if (f >= sends.count || isDepth[sends.line[f]!] !== 1) {
      c.unmatched++;
      continue;
    }
    const sent = sends.ns[f]!;
    const published = triples[i + 1]!;
    const observed = triples[i + 2]!;
    h.sendToObserve.recordValue(Math.max(1, Math.round(observed - sent)));
    h.sendToPublish.recordValue(Math.max(1, Math.round(published - sent)));
    h.publishToObserve.recordValue(Math.max(1, Math.round(observed - published)));
    c.matched++;
  }
  return c;
}
