/**
 * Peer transports for the latency benchmark: each measures send -> receive latency of
 * the same 304-byte snapshot at a paced rate, so the shared-memory path is compared in one run.
 */
import { measureNativeC } from './native-c.js';
import { measurePostMessage } from './post-message.js';
import { measureUnixSocket } from './unix-socket.js';
import { measureZeromqIpc } from './zeromq-ipc.js';
import { checkOptions, isPeerTransport, PEER_TRANSPORTS, type PeerOptions, type PeerResult, type PeerTransport } from './types.js';

export { PEER_TRANSPORTS, newHistogram } from './types.js';
export type { PeerOptions, PeerResult, PeerTransport } from './types.js';
export { startCReader } from './native-c.js';
export { cProgram } from './c-program.js';

const MEASURE: Record<PeerTransport, (o: PeerOptions) => Promise<PeerResult>> = {
  postMessage: measurePostMessage,
  'unix-socket': measureUnixSocket,
  'zeromq-ipc': measureZeromqIpc,
  'native-c': measureNativeC,
};

/** Runs one transport for `o.seconds` at `o.rate` with `o.readers` receivers. */
export async function measurePeer(transport: PeerTransport, o: PeerOptions): Promise<PeerResult> {
  if (!isPeerTransport(transport)) throw new Error(`unknown peer transport ${JSON.stringify(transport)}: expected one of ${PEER_TRANSPORTS.join(', ')}`);
  checkOptions(o);
  return MEASURE[transport](o);
}
