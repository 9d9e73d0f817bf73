/**
 * The live path: a MoldUDP64 stream (multicast group or unicast) into the publisher. Messages are
 * numbered by their MoldUDP64 sequence number (msgIndex = seq - 1, so a replay of a file keeps
 * the file's message indexes). A gap marks every book stale; the end of session ends the replay.
 */
import type { Logger } from 'pino';
import { MoldReceiver } from '../moldudp64/receiver.js';
import type { Publisher } from '../publish/publisher.js';

export async function replayMoldUdp(host: string, port: number, pub: Publisher, log: Logger, stop: { requested: boolean }): Promise<number> {
  const writer = pub.writer;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const rx = new MoldReceiver(host, port, {
    onMessage: (buf, off, len, seq) => {
      pub.replay.process(buf, off, len, seq - 1);
      writer.tick();
    },
    onGap: (fromSeq, count) => {
      log.warn({ fromSeq, count, code: 'MDFAN_ERR_FEED_GAP' }, 'MoldUDP64 gap: books marked stale');
      writer.addCounter('feed_gaps');
      pub.markAllStale(fromSeq + count - 1);
    },
    onEnd: () => done(),
  });
  await rx.start();
  log.info({ host, port }, 'listening for MoldUDP64');
  const poll = setInterval(() => {
    pub.flushCounters();
    if (stop.requested) done();
  }, 50);
  await finished;
  clearInterval(poll);
  rx.close();
  writer.addCounter('feed_duplicates', rx.counters.duplicates);
  log.info({ ...rx.counters }, 'MoldUDP64 session ended');
  return rx.counters.messages;
}
