/**
 * unix-socket peer: this process listens on a Unix domain stream socket; R receiver processes
 * (unix-socket-reader.js) connect; each snapshot goes out as one 304-byte write per receiver.
 * libuv tries the write at once when nothing is queued, so the paced loop only yields every 64
 * sends for the event loop to accept, flush backlog, and see errors.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pacedAsync } from '../paced.js';
import { exitWatch, killAll, spawnChild, waitFor, type Child } from './child.js';
import { fillPayload, PAYLOAD_WORDS, stampPayload } from './payload.js';
import { mergeReports, type PeerOptions, type PeerResult, type ReceiverReport } from './types.js';

const READER = new URL('./unix-socket-reader.js', import.meta.url);
const CONNECT_TIMEOUT_MS = 15_000;
const REPORT_TIMEOUT_MS = 30_000;

export async function measureUnixSocket(o: PeerOptions): Promise<PeerResult> {
  const intervalNs = 1e9 / o.rate;
  const dir = mkdtempSync(join(tmpdir(), 'mdfan-peer-uds-')); // unique; removed with the socket in it
  const path = join(dir, 'feed.sock');
  const server = createServer();
  const sockets: Socket[] = [];
  const children: Child[] = [];
  let socketError: Error | null = null;
  try {
    const connected = new Promise<void>((resolve, reject) => {
      server.on('connection', (s) => {
        s.on('error', (e) => (socketError ??= e));
        sockets.push(s);
        if (sockets.length === o.readers) resolve();
      });
      server.on('error', reject);
    });
    connected.catch(() => {}); // a listen error is reported by listen below
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(path, () => resolve()));
    for (let i = 0; i < o.readers; i++) children.push(spawnChild(`unix-socket reader ${i}`, READER, [path, String(intervalNs)]));
    await waitFor(connected, children, `${o.readers} unix-socket readers to connect`, CONNECT_TIMEOUT_MS);

    const watch = exitWatch(children);
    const { sent } = await pacedAsync(o.rate, o.seconds, (k) => {
      if ((k & 63) === 0) watch.check();
      const words = new Uint32Array(PAYLOAD_WORDS); // fresh: a write that cannot finish at once keeps the buffer
      fillPayload(words, k);
      const bytes = new Uint8Array(words.buffer);
      stampPayload(words); // once per message: the fan-out to R sockets is part of the cost
      for (const s of sockets) s.write(bytes);
    });
    for (const s of sockets) s.end(); // the readers report on 'end'
    const reports = await Promise.all(children.map((c) => c.line(/^\{/, REPORT_TIMEOUT_MS + o.seconds * 2000)));
    if (socketError) throw new Error(`unix-socket peer: a connection failed: ${(socketError as Error).message}`);
    return mergeReports('unix-socket', 'event-loop', o.readers, sent, reports.map((l) => JSON.parse(l) as ReceiverReport));
  } finally {
    for (const s of sockets) s.destroy();
    await killAll(children);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  }
}
