/**
 * The one logger: pino, JSON lines on stderr (stdout carries results), configured once here for
 * every command. Lines that another part of the program or a test reacts to carry a machine
 * field `event` whose values are the constants below: react to those, never to message text.
 */
import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

/** Values of the `event` field. The message text beside them is for people and may change. */
export const LogEvent = Object.freeze({
  /** A writer holds the segment, READY (fields: segment, outcome, generation, levels, maxInstruments). */
  WRITER_READY: 'writer_ready',
  /** A writer or reader was asked to stop (field: signal). */
  STOPPING: 'stopping',
  /** The writer runs without its control socket (data plane only). */
  NO_CONTROL_PLANE: 'no_control_plane',
  /** The input is bad: the writer set the segment BROKEN (fields: code, file, offset, msgIndex). */
  FEED_ERROR: 'feed_error',
  /** Input was lost; books are marked stale (fields: fromSeq, count). */
  FEED_GAP: 'feed_gap',
  /** A live source listens (fields: host, port). */
  FEED_LISTENING: 'feed_listening',
  /** A live source's session ended (fields: its counters). */
  FEED_SESSION_END: 'feed_session_end',
  /** A LOBSTER pair was replayed and every row verified (field: reveals). */
  FEED_VERIFIED: 'feed_verified',
  /** A reader is attached and about to read (fields: segment, wait, generation). */
  READER_ATTACHED: 'attached',
  /** The writer closed the segment. */
  WRITER_CLOSED: 'writer_closed',
  /** The writer died (field: code MDFAN_ERR_WRITER_DEAD). */
  WRITER_DEAD: 'writer_dead',
  /** A new writer took the segment over (field: generation). */
  NEW_WRITER: 'new_writer',
  /** A slot stayed mid-commit past the stale bound (fields: code MDFAN_ERR_STALE, count). */
  STALE: 'stale',
} as const);
export type LogEvent = (typeof LogEvent)[keyof typeof LogEvent];

/** True if `text` (pino JSON lines) holds a line whose event is `event`. */
export function hasEvent(text: string, event: LogEvent): boolean {
  for (const line of text.split('\n')) {
    if (!line.includes(event)) continue;
    try {
      if ((JSON.parse(line) as { event?: unknown }).event === event) return true;
    } catch {
      /* not a log line */
    }
  }
  return false;
}

/** The logger of a command or component, e.g. createLogger('mdfan-feed'). Level: MDFAN_LOG_LEVEL (default info). */
export function createLogger(name: string): Logger {
  return pino({ name, base: { pid: process.pid }, level: process.env.MDFAN_LOG_LEVEL ?? 'info' }, pino.destination(2));
}
