/**
 * Signals for every command: SIGINT and SIGTERM mean "stop" (finish cleanly: a writer closes its
 * segment, a reader prints its summary). Each command registers its stop once, here.
 */
import type { SegmentWriter } from '../../native/segment/writer.js';

export const STOP_SIGNALS: readonly NodeJS.Signals[] = Object.freeze(['SIGINT', 'SIGTERM']);

/** Calls `stop(signal)` on SIGINT or SIGTERM until the returned function removes it. */
export function onStopSignals(stop: (signal: NodeJS.Signals) => void): () => void {
  for (const s of STOP_SIGNALS) process.on(s, stop);
  return () => {
    for (const s of STOP_SIGNALS) process.off(s, stop);
  };
}

/**
 * Graceful shutdown for a writer process: SIGINT / SIGTERM set the segment CLOSED (waking
 * sleepers), release the lock and exit 0. A writer killed by SIGKILL cannot do this: readers
 * then see the lock free and the heartbeat stop (docs/ABI.md, "Lifecycle").
 */
export function closeOnSignals(writer: SegmentWriter, opts: { unlink?: boolean; onClose?: (signal: string) => void } = {}): () => void {
  const handler = (signal: NodeJS.Signals): void => {
    try {
      writer.close({ unlink: opts.unlink });
      opts.onClose?.(signal);
    } finally {
      process.exit(0);
    }
  };
  for (const s of STOP_SIGNALS) process.once(s, handler);
  return () => {
    for (const s of STOP_SIGNALS) process.off(s, handler);
  };
}
