/**
 * The NATS connection the bridge and the mirror share: the maintained client
 * (@nats-io/transport-node), reconnecting forever, its status events turned into log lines and
 * callbacks (a disconnect is where core NATS loses messages: the mirror treats it as a gap).
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Kvm, type KV } from '@nats-io/kv';
import { ErrorCode, MdfanError } from '../../native/segment/errors.js';
import { LogEvent, type Logger } from '../log.js';
import { BRIDGE_DEFAULTS } from './defaults.js';

export type { KV, NatsConnection };

export interface StatusHandlers {
  onDisconnect?: () => void;
  onReconnect?: () => void;
}

/**
 * Connects to `url` (nats://HOST:PORT); MDFAN_ERR_NATS naming the URL when it cannot, at once (a
 * server that was there and went away is reconnected to, forever).
 */
export async function connectNats(url: string, name: string, log: Logger, handlers: StatusHandlers = {}): Promise<NatsConnection> {
  let nc: NatsConnection;
  try {
    nc = await connect({ servers: url, name, maxReconnectAttempts: -1, reconnectTimeWait: BRIDGE_DEFAULTS.reconnectWaitMs, waitOnFirstConnect: false, timeout: 5_000 });
  } catch (e) {
    throw new MdfanError(ErrorCode.NATS, `cannot connect to NATS at ${url}: ${(e as Error).message}`, { url });
  }
  log.info({ event: LogEvent.NATS_CONNECTED, server: url }, `connected to ${url}`);
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') {
        log.warn({ event: LogEvent.NATS_DISCONNECTED, server: s.server }, `NATS connection to ${s.server} lost; reconnecting`);
        handlers.onDisconnect?.();
      } else if (s.type === 'reconnect') {
        log.info({ event: LogEvent.NATS_RECONNECTED, server: s.server }, `reconnected to ${s.server}`);
        handlers.onReconnect?.();
      } else if (s.type === 'slowConsumer') {
        // Messages are gone as surely as in a disconnect: the same recovery.
        log.warn({ event: LogEvent.NATS_SLOW_CONSUMER, pending: s.pending }, 'slow consumer: the client dropped messages');
        handlers.onDisconnect?.();
        handlers.onReconnect?.();
      }
    }
  })();
  return nc;
}

/** The books' bucket: created (history 1: the last book per instrument) or bound if it exists. */
export async function booksBucket(nc: NatsConnection, bucket: string): Promise<KV> {
  try {
    return await new Kvm(nc).create(bucket, { history: 1 });
  } catch (e) {
    throw new MdfanError(ErrorCode.NATS, `the key-value bucket ${bucket} is not available (is JetStream enabled on the server? nats-server -js): ${(e as Error).message}`, { bucket });
  }
}
