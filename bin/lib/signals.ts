/**
 * Graceful shutdown for a writer process: SIGINT / SIGTERM set the segment CLOSED (waking
 * sleepers), release the lock and exit 0. A writer killed by SIGKILL cannot do this: readers
 * then see the lock free and the heartbeat stop (docs/ABI.md, "Lifecycle").
 */
import type { SegmentWriter } from '../../native/segment/writer.js';

export function closeOnSignals(writer: SegmentWriter, opts: { unlink?: boolean; onClose?: (signal: string) => void } = {}): () => void {
  const handler = (signal: NodeJS.Signals): void => {
    try {
      writer.close({ unlink: opts.unlink });
      opts.onClose?.(signal);
    } finally {
      process.exit(0);
    }
  };
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}
