/**
 * The NATS connection the bridge and the mirror share: the maintained client
 * (@nats-io/transport-node), reconnecting forever, its status events turned into log lines and
 * callbacks (a disconnect is where core NATS loses messages: the mirror treats it as a gap).
 * Identity and TLS come from lib/wire/auth.ts; a refusal is told apart from an absent server
 * (MDFAN_ERR_NATS_AUTH, MDFAN_ERR_NATS_TLS, MDFAN_ERR_NATS), and no secret reaches a message.
 */
import { connect, type ConnectionOptions, type NatsConnection } from '@nats-io/transport-node';
import { Kvm, type KV } from '@nats-io/kv';
import { ErrorCode, MdfanError } from '../../native/segment/errors.js';
import { LogEvent, type Logger, rateLimit } from '../log.js';
import { type NatsAuth, NO_AUTH, redactUrl } from './auth.js';
import { BRIDGE_DEFAULTS } from './defaults.js';
import { MAX_BOOK_BYTES } from './wire.js';

export type { KV, NatsConnection };

export interface StatusHandlers {
  onDisconnect?: () => void;
  onReconnect?: () => void;
}

/** Node's TLS verification failures (a certificate not trusted, another host's certificate). */
const TLS_CODES = /^(UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|CERT_|ERR_TLS_|ERR_SSL_|EPROTO)/;

/** The client's failure as one of our codes: refused identity, failed TLS, or no server. */
export function natsConnectError(e: unknown, url: string, auth: NatsAuth): MdfanError {
  const err = e as Error & { code?: string; cause?: { code?: string; message?: string } };
  const where = redactUrl(url);
  const text = `${err.message ?? String(e)} ${err.cause?.message ?? ''}`;
  const tlsCode = [err.code, err.cause?.code].find((c) => typeof c === 'string' && TLS_CODES.test(c));
  if (err.name === 'AuthorizationError' || err.name === 'UserAuthenticationExpiredError' || /authorization violation|authentication (expired|timeout)/i.test(text)) {
    const how = auth.method === 'none' ? 'no credentials were given (--nats-creds, --nats-user, --nats-token-file or --nats-nkey)' : `the ${auth.method} credentials given were refused`;
    return new MdfanError(ErrorCode.NATS_AUTH, `NATS at ${where} refused the connection: ${how}`, { url: where, method: auth.method });
  }
  if (tlsCode !== undefined || /\btls\b|certificate|ssl/i.test(text)) {
    const why = /does not support 'tls'|not available/i.test(text) ? 'the server offers no TLS' : (err.cause?.message ?? err.message);
    return new MdfanError(ErrorCode.NATS_TLS, `TLS to NATS at ${where} failed: ${why}${auth.tls?.caFile === undefined ? ' (--nats-ca names the CA that signed the server certificate)' : ''}`, { url: where, tlsCode });
  }
  return new MdfanError(ErrorCode.NATS, `cannot connect to NATS at ${where}: ${err.message}`, { url: where });
}

/**
 * Connects to `url` (nats://HOST:PORT, tls://HOST:PORT); a typed error naming the URL when it
 * cannot, at once (a server that was there and went away is reconnected to, forever).
 */
export async function connectNats(url: string, name: string, log: Logger, handlers: StatusHandlers = {}, auth: NatsAuth = NO_AUTH): Promise<NatsConnection> {
  const opts: ConnectionOptions = { servers: url.split(','), name, maxReconnectAttempts: -1, reconnectTimeWait: BRIDGE_DEFAULTS.reconnectWaitMs, waitOnFirstConnect: false, timeout: 5_000 };
  if (auth.authenticator !== null) opts.authenticator = auth.authenticator;
  if (auth.tls !== null) opts.tls = { ...auth.tls };
  let nc: NatsConnection;
  try {
    nc = await connect(opts);
  } catch (e) {
    throw natsConnectError(e, url, auth);
  }
  const server = redactUrl(url);
  log.info({ event: LogEvent.NATS_CONNECTED, server, auth: auth.method, tls: auth.tls !== null }, `connected to ${server}`);
  const refusedLog = rateLimit(1000);
  let refused = 0;
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
      } else if (s.type === 'error') {
        // A permission the server's configuration withholds: said (rate-limited), never fatal.
        const e = s.error as Error & { operation?: string; subject?: string };
        refused++;
        if (refusedLog()) log.warn({ event: LogEvent.NATS_REFUSED, operation: e.operation, subject: e.subject, count: refused }, `the NATS server refused: ${e.message}`);
      }
    }
  })();
  return nc;
}

/**
 * The books' bucket: created (history 1: the last book per instrument; values no larger than a
 * book) or bound if it exists. A client that may only read (a mirror with read-only permissions)
 * binds to the bucket the bridge created.
 */
export async function booksBucket(nc: NatsConnection, bucket: string): Promise<KV> {
  try {
    return await new Kvm(nc).create(bucket, { history: 1, maxValueSize: MAX_BOOK_BYTES });
  } catch (e) {
    throw new MdfanError(
      ErrorCode.NATS,
      `the key-value bucket ${bucket} is not available (is JetStream enabled on the server? nats-server -js; a user that may only read needs the bridge to have created it): ${(e as Error).message}`,
      { bucket },
    );
  }
}
