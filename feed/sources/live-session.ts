/**
 * The rhythm every live source keeps (its messages arrive on their own): the session is held open
 * until the source ends it or a stop is asked, with the counters flushed every LIVE_POLL_MS, and
 * once more at the end.
 */
import type { BookSink, RunContext, SourceCounters } from '../sink.js';

/** How often a live source's counters are flushed and a stop request looked for, ms. */
export const LIVE_POLL_MS = 50;

/**
 * Waits for `finished` (the source's own end), calling `end()` once a stop is asked (it must
 * settle `finished`); `close()` then releases the source's sockets and timers, whatever ended it.
 */
export async function holdLiveSession(sink: BookSink, counters: () => SourceCounters, ctx: RunContext, finished: Promise<void>, end: () => void, close: () => void): Promise<void> {
  const poll = setInterval(() => {
    sink.flush(counters());
    if (ctx.stop.requested) end();
  }, LIVE_POLL_MS);
  try {
    await finished;
  } finally {
    clearInterval(poll);
    close();
  }
  sink.flush(counters());
}
