/**
 * Reading the books' bucket with a deadline. The last value of every key comes in one flow (a
 * watch: one ordered consumer, not a round trip per key), each handed over as it arrives, so
 * nothing is held but the entry in hand; at the deadline, or when asked to stop, the read ends
 * with what came. A bucket anyone could fill (junk keys) then costs at most the deadline.
 */
import { KvWatchInclude } from '@nats-io/kv';
import type { KV } from '../../../lib/wire/nats.js';
import type { StopFlag } from '../../sink.js';

export interface BucketRead {
  /** Entries handed over (PUTs). */
  entries: number;
  /** False when the deadline (or a stop) ended the read first. */
  complete: boolean;
}

export async function readBucket(kv: KV, timeoutMs: number, stop: StopFlag, onEntry: (key: string, value: Uint8Array) => void): Promise<BucketRead> {
  const read: BucketRead = { entries: 0, complete: false };
  let timer: NodeJS.Timeout | undefined;
  let stopIter: (() => void) | null = null;
  let timedOut = false;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      timedOut = true;
      stopIter?.();
      resolve();
    }, timeoutMs);
  });
  const work = (async (): Promise<void> => {
    // Watching an empty bucket would wait for a value that never comes.
    if ((await kv.status()).values === 0) {
      read.complete = true;
      return;
    }
    if (timedOut) return;
    const it = await kv.watch({ include: KvWatchInclude.LastValue });
    stopIter = () => it.stop();
    if (timedOut) return it.stop();
    for await (const e of it) {
      if (timedOut) break;
      if (e.operation === 'PUT') {
        read.entries++;
        onEntry(e.key, e.value);
      }
      // The watch marks the last of the values present when it began: what follows are updates.
      if (e.isUpdate) {
        read.complete = true;
        break;
      }
      if (stop.requested) break;
    }
    it.stop();
  })();
  try {
    await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
  // The work may still be settling after the deadline: its late rejection is of no interest.
  work.catch(() => undefined);
  if (timedOut) read.complete = false;
  return read;
}
