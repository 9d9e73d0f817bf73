/**
 * `--source moldudp64:HOST:PORT`: the live path, a MoldUDP64 stream (multicast group or unicast)
 * of ITCH messages through the ITCH venue. Messages are numbered by their MoldUDP64 sequence
 * number (msgIndex = seq - 1, so a replay of a file keeps the file's message indexes). Packets are
 * taken from one source only (--source-addr, default the first data packet's); others are counted
 * as malformed and logged at most once a second. A gap marks every book stale while the missing
 * packets are asked for again (--rerequest, default the pinned source); filled, the marks go;
 * given up, they stay for the session. Malformed input is counted, logged at most once a second
 * and dropped: nothing on the wire stops the writer. The end of session (in sequence) ends the run.
 */
import { LogEvent, rateLimit } from '../../../lib/log.js';
import { MoldReceiver } from '../../moldudp64/receiver.js';
import { type Peer, peerText } from '../../moldudp64/peer.js';
import { ItchVenue } from '../../itch/venue.js';
import { holdLiveSession } from '../live-session.js';
import { type BookSink, type FeedSource, type RunContext, type SourceCounters, type SourceKind, newCounters } from '../../sink.js';

/** At most one log line per this many ms for malformed input. */
const MALFORMED_LOG_MS = 1000;

class MoldUdpSource implements FeedSource {
  readonly total = null;
  private venue: ItchVenue | null = null;
  private rx: MoldReceiver | null = null;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly levels: number,
    private readonly rerequest: { host: string; port: number } | null,
    private readonly sourceAddr: Peer | null,
  ) {}

  get counters(): SourceCounters {
    const c = this.venue?.syncCounters() ?? newCounters();
    const rx = this.rx?.counters;
    if (rx) {
      c.duplicates = rx.duplicates;
      // Everything dropped on the wire that was not the session's to take.
      c.malformed += rx.malformed + rx.foreignSessions + rx.outOfWindow + rx.staleEnds + rx.foreignSources;
      c.recovered = rx.recovered;
      c.unrecovered = rx.unrecovered;
    }
    return c;
  }

  async run(sink: BookSink, ctx: RunContext): Promise<void> {
    const malformedDue = rateLimit(MALFORMED_LOG_MS);
    const foreignDue = rateLimit(MALFORMED_LOG_MS);
    let malformed = 0;
    const venue = new ItchVenue(sink, this.levels, (msgIndex, field, found) => {
      malformed++;
      if (malformedDue())
        ctx.log.warn({ event: LogEvent.FEED_MALFORMED, code: 'MDFAN_ERR_FEED_CORRUPT', msgIndex, field, found, count: malformed }, `message ${msgIndex}: ${field} ${found} is malformed; dropped`);
    });
    this.venue = venue;
    let done!: () => void;
    const finished = new Promise<void>((resolve) => (done = resolve));
    const rx = new MoldReceiver(
      this.host,
      this.port,
      {
        onMessage: (buf, off, len, seq) => venue.process(buf, off, len, seq - 1),
        onGap: (fromSeq, count) => {
          ctx.log.warn({ event: LogEvent.FEED_GAP, fromSeq, count, code: 'MDFAN_ERR_FEED_GAP' }, 'MoldUDP64 gap: books marked stale while it is asked for again');
          sink.gap(fromSeq + count - 1, count);
        },
        onRecovered: (fromSeq, count) => {
          ctx.log.info({ event: LogEvent.FEED_RECOVERED, fromSeq, count }, 'MoldUDP64 gap filled by re-request: books exact again');
          sink.recovered(rx.expectedSeq - 2);
        },
        onLost: (fromSeq, count) => {
          ctx.log.error({ event: LogEvent.FEED_LOST, fromSeq, count, code: 'MDFAN_ERR_FEED_GAP' }, 'MoldUDP64 messages lost for good: books stay stale for the session');
          sink.lost(fromSeq + count - 1, count);
        },
        onEnd: () => done(),
        onSourcePinned: (host, port, session) =>
          ctx.log.info({ event: LogEvent.FEED_SOURCE_PINNED, host, port, session, configured: this.sourceAddr !== null }, 'MoldUDP64 source pinned: packets from anywhere else are dropped'),
        onForeignSource: (host, port, count) => {
          if (foreignDue()) {
            const pin = rx.pinnedSource;
            ctx.log.warn({ event: LogEvent.FEED_FOREIGN_SOURCE, host, port, count, pinned: pin ? peerText(pin) : null }, 'MoldUDP64 packets from a source other than the pinned one: dropped');
          }
        },
      },
      { rerequest: this.rerequest, sourceAddr: this.sourceAddr },
    );
    this.rx = rx;
    await rx.start();
    ctx.log.info({ event: LogEvent.FEED_LISTENING, host: this.host, port: this.port, sourceAddr: this.sourceAddr ? peerText(this.sourceAddr) : null }, 'listening for MoldUDP64');
    await holdLiveSession(sink, () => this.counters, ctx, finished, done, () => rx.close());
    ctx.log.info({ event: LogEvent.FEED_SESSION_END, ...rx.counters }, 'MoldUDP64 session ended');
  }

  summary(): string {
    const c = this.rx?.counters;
    return c ? `, gaps ${c.gaps}, recovered ${c.recovered}, unrecovered ${c.unrecovered}, duplicates ${c.duplicates}, requests ${c.requests}, foreign sources ${c.foreignSources}` : '';
  }
}

export const moldudp64: SourceKind = {
  scheme: 'moldudp64',
  syntax: 'moldudp64:HOST:PORT',
  open: (rest, opts) => {
    const j = rest.lastIndexOf(':');
    const port = Number(rest.slice(j + 1));
    if (j <= 0 || !Number.isInteger(port) || port < 1 || port > 65535) return null;
    return new MoldUdpSource(rest.slice(0, j), port, opts.levels, opts.rerequest ?? null, opts.sourceAddr ?? null);
  },
};
