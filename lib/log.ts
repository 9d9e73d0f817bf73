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
  /** Input is missing; books are marked stale while it is asked for again (fields: fromSeq, count). */
  FEED_GAP: 'feed_gap',
  /** The missing input came back by re-request; the books are exact again (fields: fromSeq, count). */
  FEED_RECOVERED: 'feed_recovered',
  /** Missing input was given up: books stay stale for the session (fields: fromSeq, count). */
  FEED_LOST: 'feed_lost',
  /** A recording ends early (a capture whose writer was killed): replayed up to the cut (fields: file, lines, reason). */
  FEED_TRUNCATED: 'feed_truncated',
  /** Input dropped as malformed on a live source, at most one line a second (fields: msgIndex, field, found, count). */
  FEED_MALFORMED: 'feed_malformed',
  /** An instrument got no slot: the directory is full (fields: symbol, maxInstruments, count). */
  INSTRUMENT_REFUSED: 'instrument_refused',
  /** A live source listens (fields: host, port). */
  FEED_LISTENING: 'feed_listening',
  /** A live source's session ended (fields: its counters). */
  FEED_SESSION_END: 'feed_session_end',
  /** A live source took its first packet from this source and drops every other's from now on (fields: host, port, session, configured). */
  FEED_SOURCE_PINNED: 'feed_source_pinned',
  /** Datagrams from a source other than the pinned one were dropped, at most one line a second (fields: host, port, count, pinned). */
  FEED_FOREIGN_SOURCE: 'feed_foreign_source',
  /** A re-request server did not answer a request, at most one line a second (fields: host, port, reason unlisted|rate|cap, count). */
  REREQUEST_REFUSED: 'rerequest_refused',
  /** A LOBSTER pair was replayed and every row verified (field: reveals). */
  FEED_VERIFIED: 'feed_verified',
  /** A reader is attached and about to read (fields: segment, wait, generation). */
  READER_ATTACHED: 'attached',
  /** A reader was refused the segment at attach (fields: code, segment, and the refusal's facts, e.g. found/expected ABI). */
  READER_REFUSED: 'attach_refused',
  /** A reader waits for a segment that is not there or not READY yet (fields: segment, timeoutS, code). */
  READER_WAITING: 'waiting',
  /** mdfan read --record-dbn: an instrument announced after attach with more than 9 price decimals; its books are not recorded (fields: symbol, priceDecimals). */
  DBN_INSTRUMENT_SKIPPED: 'dbn_instrument_skipped',
  /** Symbols asked for that the segment never listed (fields: segment, symbols). */
  SYMBOLS_UNKNOWN: 'symbols_unknown',
  /** The writer's control plane refused or cut off a peer, at most once a second (fields: segment, reason pid/uid_full/full/unread, the kernel's facts, refused: how many since the last line). */
  CONTROL_REFUSED: 'control_refused',
  /** A writer was refused the segment: another writer holds it (fields: code MDFAN_ERR_WRITER_ALIVE, segment, pid: the holder's, 0 if unknown). */
  WRITER_REFUSED: 'writer_refused',
  /** The writer closed the segment. */
  WRITER_CLOSED: 'writer_closed',
  /** The writer died (field: code MDFAN_ERR_WRITER_DEAD). */
  WRITER_DEAD: 'writer_dead',
  /** A writer reported dead because it stopped beating beats again (fields: segment, pid). */
  WRITER_BACK: 'writer_back',
  /** A new writer took the segment over (field: generation). */
  NEW_WRITER: 'new_writer',
  /** A slot stayed mid-commit past the stale bound (fields: code MDFAN_ERR_STALE, count). */
  STALE: 'stale',
  /** Connected to the NATS server (fields: server). */
  NATS_CONNECTED: 'nats_connected',
  /** The NATS connection dropped; the client reconnects (field: server). */
  NATS_DISCONNECTED: 'nats_disconnected',
  /** The client dropped messages of a subscription it could not keep up with (field: pending). */
  NATS_SLOW_CONSUMER: 'nats_slow_consumer',
  /** The NATS connection is back (field: server). */
  NATS_RECONNECTED: 'nats_reconnected',
  /** The NATS server refused an operation (a permission it withholds), at most one line a second (fields: operation, subject, count). */
  NATS_REFUSED: 'nats_refused',
  /** The bridge follows the segment and publishes (fields: segment, prefix, bucket, session). */
  BRIDGE_READY: 'bridge_ready',
  /** The bridge's origin writer died: every book sent again flagged STALE and ORIGIN_DEAD (fields: segment, code, pid, generation). */
  BRIDGE_ORIGIN_DEAD: 'bridge_origin_dead',
  /** The bridge's origin writer, reported dead, beats again: every book sent again (fields: segment, pid). */
  BRIDGE_ORIGIN_BACK: 'bridge_origin_back',
  /** A new origin writer took the segment over: its generation on every record, every book sent again (fields: segment, generation). */
  BRIDGE_NEW_ORIGIN: 'bridge_new_origin',
  /** The mirror received the origin's death (books flagged ORIGIN_DEAD): its books are stale (fields: session, generation, symbol). */
  MIRROR_ORIGIN_DEAD: 'mirror_origin_dead',
  /** The mirror received a book of a live origin after its death (a new writer, or one that beats again) (fields: session, generation, symbol). */
  MIRROR_ORIGIN_BACK: 'mirror_origin_back',
  /** The mirror's subscriptions are at the server: records from now on reach it (field: subjects). */
  MIRROR_SUBSCRIBED: 'mirror_subscribed',
  /** The mirror holds its local segment, books loaded from the bucket (fields: segment, books). */
  MIRROR_READY: 'mirror_ready',
  /** The mirror marked its books stale (the connection dropped) (field: books). */
  MIRROR_STALE: 'mirror_stale',
  /** The mirror reloaded books from the bucket after a reconnect and cleared the stale marks (fields: books, cleared). */
  MIRROR_RELOADED: 'mirror_reloaded',
  /** A record from the wire was refused, at most one line a second (fields: subject, reason, count). */
  WIRE_MALFORMED: 'wire_malformed',
  /** A subject's sequence numbers jumped: records were lost (fields: subject, expected, found, lost). */
  WIRE_GAP: 'wire_gap',
  /** The mirror dropped a record it will not apply, at most one line a second per reason (fields: reason, subject, count: of that reason, dropped: every reason's). */
  MIRROR_DROPPED: 'mirror_dropped',
  /** The mirror's bucket load hit its deadline: it goes on with the books read so far, the rest comes with updates (fields: books, timeoutMs). */
  MIRROR_BUCKET_TIMEOUT: 'mirror_bucket_timeout',
  /** A venue's WebSocket is open (fields: url, successor: a take-over connection before the 24-hour cut). */
  VENUE_CONNECTED: 'venue_connected',
  /** A venue's WebSocket closed; books go stale and it reconnects after a back-off (fields: url, code, reason, msgIndex). */
  VENUE_DISCONNECTED: 'venue_disconnected',
  /** A venue's WebSocket reported an error (fields: url, error); a close follows. */
  VENUE_ERROR: 'venue_error',
  /** A venue's WebSocket sent nothing for its silence bound: cut and reconnected (fields: url, silentMs). */
  VENUE_SILENT: 'venue_silent',
  /** A fresh WebSocket took over before the venue's 24-hour cut (field: url). */
  VENUE_ROTATED: 'venue_rotated',
  /** A depth snapshot came (fields: symbol, url, bytes; debug level). */
  VENUE_SNAPSHOT: 'venue_snapshot',
  /** A depth snapshot request failed and will be retried (fields: url, status, error, retryMs, failures). */
  VENUE_SNAPSHOT_FAILED: 'venue_snapshot_failed',
  /** Snapshot requests wait for the venue's rate limit (fields: reason budget|http_429|http_418, waitMs, url, status, used). */
  VENUE_RATE_LIMITED: 'venue_rate_limited',
  /** mdfan venue-replay serves (fields: host, port, capture, lines, symbols). */
  VENUE_REPLAY_LISTENING: 'venue_replay_listening',
  /** mdfan venue-replay answered a depth snapshot (fields: symbol, limit, lastUpdateId, line: the last capture line reached when it was made, delayMs). */
  VENUE_REPLAY_SNAPSHOT: 'venue_replay_snapshot',
  /** mdfan venue-replay sent its capture's last line (fields: lines, frames). */
  VENUE_REPLAY_END: 'venue_replay_end',
  /** mdfan capture writes (fields: out, url). */
  CAPTURE_READY: 'capture_ready',
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

/**
 * A log line for an event that may repeat at any rate (hostile input): true at most once per
 * `everyMs`, so a flood costs a counter, not a line per message.
 */
export function rateLimit(everyMs: number): () => boolean {
  let last = -Infinity;
  return () => {
    const now = performance.now();
    if (now - last < everyMs) return false;
    last = now;
    return true;
  };
}

/** The logger of a command or component, e.g. createLogger('mdfan-feed'). Level: MDFAN_LOG_LEVEL (default info). */
export function createLogger(name: string): Logger {
  return pino({ name, base: { pid: process.pid }, level: process.env.MDFAN_LOG_LEVEL ?? 'info' }, pino.destination(2));
}
