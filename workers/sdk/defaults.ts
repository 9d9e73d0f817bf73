/**
 * The reader SDK's defaults, each defined once; `mdfan read`, `mdfan strategies` and the pool use
 * these, so a reader behaves the same however it is started.
 */
import { SEGMENT_DEFAULTS } from '../../native/segment/defaults.js';
import type { WaitStrategy } from './wait.js';

export const READER_DEFAULTS = Object.freeze({
  /**
   * yield: poll, then give the thread back to the event loop and back off to short sleeps when
   * nothing changes. Under a steady feed its latency is close to spin's (docs/READERS.md), it
   * burns no core when the market is quiet, and on a machine with few cores it leaves CPU to the
   * writer and the other readers. spin is for a reader with a core of its own; block sleeps on
   * the futex until the writer publishes.
   */
  wait: 'yield' as WaitStrategy,
  attachTimeoutMs: SEGMENT_DEFAULTS.attachTimeoutMs,
  heartbeatTimeoutMs: SEGMENT_DEFAULTS.heartbeatTimeoutMs,
  staleAfterMs: SEGMENT_DEFAULTS.staleAfterMs,
  /**
   * yield's back-off (an idle strategy after Agrona's BackoffIdleStrategy): spin this long after
   * the last update, then this many event-loop turns, then park the thread for a period that
   * doubles from the minimum to the cap. The cap bounds what an update waits for a parked reader:
   * under a steady feed the reader rarely gets past the spin.
   */
  yieldSpinUs: 50,
  yieldTurns: 4,
  yieldParkMinUs: 10,
  yieldParkMaxUs: 200,
  /** next()'s own timeout when called without one. */
  nextTimeoutMs: 1000,
  /** A follow loop whose writer is dead parks this long between looks, whatever its wait, until the writer beats again or a new one comes. */
  deadBackoffMs: 10,
  /** How often an event reader tells the writer's control plane its counts (for `mdfan stat`). */
  eventsReportMs: 250,
  /**
   * The values coordinated-omission correction may add to one histogram (recordCorrected): the
   * correction adds one value per interval a latency spans, so a reader that fell far behind
   * would otherwise spend longer correcting than reading, fall further behind, and not catch up.
   * About a second of work; past it, latencies are recorded as they are and counted.
   */
  correctionBudget: 2_000_000,
});

/** The --wait line of --help, with the default and why. */
export const WAIT_HELP = `--wait spin|yield|block (default ${READER_DEFAULTS.wait}: near-spin latency under a steady feed without burning a core when idle; spin for a reader with a core of its own, block to sleep until the writer publishes)`;
