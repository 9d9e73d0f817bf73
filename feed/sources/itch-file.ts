/**
 * Replays an ITCH file through the publisher: frames are checked and processed in batches; the
 * loop yields to the event loop between batches (signals, timers, the idle heartbeat) and waits
 * when pacing says a message is not due yet.
 */
import { setImmediate as yieldNow, setTimeout as sleep } from 'node:timers/promises';
import { ErrorCode, MdfanError } from '../../native/segment/errors.js';
import { Frame, LoadedFeed, nextFrame } from '../itch/framing.js';
import { Pacer } from '../pacing/pacer.js';
import type { Publisher } from '../publish/publisher.js';

const BATCH = 4096;

export interface Progress {
  (msgIndex: number, bytesDone: number, bytesTotal: number): void;
}

/** Exchange timestamp (ns since midnight) of the framed message whose payload starts at `p`. */
const timestampAt = (b: Uint8Array, p: number): number =>
  ((b[p + 5] << 8) | b[p + 6]) * 4294967296 + ((b[p + 7] << 24) >>> 0) + ((b[p + 8] << 16) | (b[p + 9] << 8) | b[p + 10]);

export async function replayFile(feed: LoadedFeed, pub: Publisher, pacer: Pacer, progress: Progress, stop: { requested: boolean }): Promise<number> {
  const buf = feed.bytes;
  const end = buf.length;
  const frame: Frame = { offset: 0, length: 0 };
  const replay = pub.replay;
  const writer = pub.writer;
  let pos = 0;
  let i = 0;
  while (pos < end && !stop.requested) {
    const batchEnd = i + BATCH;
    let waitNs = 0;
    while (pos < end && i < batchEnd) {
      if (pacer.paced && pos + 13 <= end) {
        waitNs = pacer.delayNs(timestampAt(buf, pos + 2));
        if (waitNs > 0) break;
      }
      pos = nextFrame(buf, end, pos, i, feed.file, frame);
      replay.process(buf, frame.offset, frame.length, i);
      writer.tick();
      i++;
    }
    writer.inputBytes = pos;
    pub.flushCounters();
    progress(i, pos, end);
    if (waitNs > 2e6) await sleep(Math.min(waitNs, 250e6) / 1e6);
    else await yieldNow();
  }
  if (feed.gzipProblem && !stop.requested) {
    const p = feed.gzipProblem;
    throw new MdfanError(ErrorCode.FEED_TRUNCATED, `${p.message}; message index ${i}`, { ...p.details, msgIndex: i });
  }
  return i;
}
