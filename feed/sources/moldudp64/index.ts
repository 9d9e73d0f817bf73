/**
 * `--source moldudp64:HOST:PORT`: the live path, a MoldUDP64 stream (multicast group or unicast)
 * of ITCH messages through the ITCH venue. Messages are numbered by their MoldUDP64 sequence
 * number (msgIndex = seq - 1, so a replay of a file keeps the file's message indexes). A gap
 * marks every book stale; the end of session ends the run.
 */
import { LogEvent } from '../../../bin/lib/log.js';
import { MoldReceiver } from '../../moldudp64/receiver.js';
import { ItchVenue } from '../../itch/venue.js';
import { type BookSink, type FeedSource, type RunContext, type SourceCounters, type SourceKind, newCounters } from '../source.js';

/** How often the live path flushes counters and checks for a stop request, ms. */
const POLL_MS = 50;

class MoldUdpSource implements FeedSource {
  readonly total = null;
  private venue: ItchVenue | null = null;
  private rx: MoldReceiver | null = null;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly levels: number,
  ) {}

  get counters(): SourceCounters {
    const c = this.venue?.syncCounters() ?? newCounters();
    if (this.rx) c.duplicates = this.rx.counters.duplicates;
    return c;
  }

  async run(sink: BookSink, ctx: RunContext): Promise<void> {
    const venue = new ItchVenue(sink, this.levels);
    this.venue = venue;
    let done!: () => void;
    const finished = new Promise<void>((resolve) => (done = resolve));
    const rx = new MoldReceiver(this.host, this.port, {
      onMessage: (buf, off, len, seq) => venue.process(buf, off, len, seq - 1),
      onGap: (fromSeq, count) => {
        ctx.log.warn({ event: LogEvent.FEED_GAP, fromSeq, count, code: 'MDFAN_ERR_FEED_GAP' }, 'MoldUDP64 gap: books marked stale');
        sink.gap(fromSeq + count - 1, count);
      },
      onEnd: () => done(),
    });
    this.rx = rx;
    await rx.start();
    ctx.log.info({ event: LogEvent.FEED_LISTENING, host: this.host, port: this.port }, 'listening for MoldUDP64');
    const poll = setInterval(() => {
      sink.flush(this.counters);
      if (ctx.stop.requested) done();
    }, POLL_MS);
    try {
      await finished;
    } finally {
      clearInterval(poll);
      rx.close();
    }
    sink.flush(this.counters);
    ctx.log.info({ event: LogEvent.FEED_SESSION_END, ...rx.counters }, 'MoldUDP64 session ended');
  }

  summary(): string {
    return '';
  }
}

export const moldudp64: SourceKind = {
  scheme: 'moldudp64',
  syntax: 'moldudp64:HOST:PORT',
  open: (rest, opts) => {
    const j = rest.lastIndexOf(':');
    const port = Number(rest.slice(j + 1));
    if (j <= 0 || !Number.isInteger(port) || port < 1 || port > 65535) return null;
    return new MoldUdpSource(rest.slice(0, j), port, opts.levels);
  },
};
