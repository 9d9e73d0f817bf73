/**
 * Signals for every command: SIGINT and SIGTERM mean "stop" (finish cleanly: a writer closes its
 * segment, a reader prints its summary). Each command registers its stop once, here. A second
 * SIGINT or SIGTERM exits at once (status 128 + the signal's number, as the default action would
 * say): a stop that cannot finish (an input that never answers) is never left with only SIGKILL.
 */
import { constants } from 'node:os';
import type { SegmentWriter } from '../../native/segment/writer.js';
import { LogEvent, createLogger } from '../log.js';

export const STOP_SIGNALS: readonly NodeJS.Signals[] = Object.freeze(['SIGINT', 'SIGTERM']);

/** The exit status of a process ended by `signal`'s default action (128 + its number). */
export const signalExitCode = (signal: NodeJS.Signals): number => 128 + (constants.signals[signal] ?? 0);

/**
 * Calls `stop(signal)` on the first SIGINT or SIGTERM; on a second one, exits at once (the
 * process's 'exit' handlers still run). The returned function removes both.
 */
export function onStopSignals(stop: (signal: NodeJS.Signals) => void): () => void {
  let signals = 0;
  const handler = (signal: NodeJS.Signals): void => {
    if (++signals === 1) {
      stop(signal);
      return;
    }
    createLogger('mdfan').warn({ event: LogEvent.STOPPING, signal, forced: true }, 'second stop signal: exiting now');
    process.exit(signalExitCode(signal));
  };
  for (const s of STOP_SIGNALS) process.on(s, handler);
  return () => {
    for (const s of STOP_SIGNALS) process.off(s, handler);
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

/**
 * A closed stdout (`mdfan read --events | head -1`) is the reader of our output saying "enough",
 * as SIGPIPE says to a C program: the command stops as on SIGTERM (a reader prints its summary, a
 * writer closes its segment), and later writes to the closed pipe are dropped, never an uncaught
 * EPIPE with a stack.
 */
export function stopOnClosedStdout(): void {
  let stopped = false;
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    if (stopped) return;
    stopped = true;
    process.kill(process.pid, 'SIGTERM');
  });
}
