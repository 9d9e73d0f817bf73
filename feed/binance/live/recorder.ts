/**
 * `mdfan capture`'s session: one market's WebSocket and REST snapshots into a capture file, every
 * frame and every snapshot body one line at its receive time, so the line number of a message is
 * the message index the live source gave it. Which snapshots to take is decided as the live
 * source decides it: the frames also go through a BinanceMarket (with a sink that publishes
 * nothing), which asks for a snapshot when it first sees a symbol, after a gap and after a
 * disconnect, and when the book passes its snapshot's edge (re-anchoring). A replay of the capture
 * therefore meets the resyncs and re-anchors the live run made.
 */
import type { Logger } from '../../../lib/log.js';
import * as abi from '../../../native/segment/abi.js';
import { NullSink } from '../../sink.js';
import { recvNs } from './recv-clock.js';
import { BinanceMarket } from '../market.js';
import type { BinanceVenue } from '../venues.js';
import type { CaptureWriter } from './capture-write.js';
import { SnapshotFetcher } from './rest.js';
import { type MessageCounter, type StreamTarget, WsStream, combinedStreamUrl } from './ws-stream.js';
import type { MdfanError } from '../../../native/segment/errors.js';

/** A sink that publishes nothing: the market only judges the sequence. */
const NO_SINK = new NullSink();

export interface RecorderOptions {
  venue: BinanceVenue;
  symbols: readonly string[];
  wsUrl: string;
  restUrl: string;
  log: Logger;
  /** The session cannot go on (an unknown symbol). */
  onFatal(e: MdfanError): void;
}

export class Recorder implements StreamTarget {
  readonly counter: MessageCounter = { next: 0 };
  readonly stream: WsStream;
  readonly rest: SnapshotFetcher;
  readonly market: BinanceMarket;
  snapshots = 0;
  private readonly symbols: readonly string[];

  constructor(
    private readonly writer: CaptureWriter,
    o: RecorderOptions,
  ) {
    this.symbols = o.symbols;
    this.rest = new SnapshotFetcher(
      { onSnapshot: (symbol, payload, msgIndex) => this.onSnapshot(symbol, payload, msgIndex) },
      { venue: o.venue, restUrl: o.restUrl, log: o.log, counter: this.counter, onFatal: o.onFatal },
    );
    // The deepest book a replay may publish: a re-anchoring snapshot is taken as soon as any replay's
    // top N would pass the snapshot's edge.
    this.market = new BinanceMarket(o.venue, NO_SINK, { levels: abi.MAX_LEVELS, symbols: [...o.symbols], log: o.log, transport: this.rest });
    this.stream = new WsStream(this, {
      url: combinedStreamUrl(o.venue, o.wsUrl, o.symbols),
      log: o.log,
      counter: this.counter,
      onDown: () => this.rest.hold(),
      onLive: () => this.rest.release(),
    });
  }

  start(): void {
    this.rest.hold(); // until the stream delivers: a snapshot must be bridged by the events after it
    this.stream.start();
    void this.rest.verify(this.symbols); // a misspelt symbol stops the capture at once
  }

  close(): void {
    this.stream.close();
    this.rest.close();
  }

  // The receive time is read here, in the frame's (or the snapshot's) own turn: only a capture keeps it.
  onMessage(payload: string, msgIndex: number): void {
    this.writer.write(recvNs(), payload);
    this.market.onMessage(payload, msgIndex);
  }

  onDisconnect(msgIndex: number): void {
    this.market.onDisconnect(msgIndex);
  }

  private onSnapshot(symbol: string, payload: string, msgIndex: number): void {
    this.snapshots++;
    this.writer.write(recvNs(), payload);
    this.market.onSnapshot(symbol, payload, msgIndex);
  }
}
