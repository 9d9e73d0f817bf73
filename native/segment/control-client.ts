/**
 * The reader's side of the control plane: announcing an attach, and asking for the list of
 * readers. Best effort, like the whole plane; the protocol is in control.ts.
 */
import { createConnection, type Socket } from 'node:net';
import type { ReaderInfo } from './control.js';
import { SEGMENT_DEFAULTS } from './defaults.js';

/** A reader's announcement: connects, says attach, and stays connected (closing = detach). */
export function announceAttach(path: string, wait: string, onMessage?: (msg: { type: string }) => void): Socket | null {
  if (!path) return null;
  const sock = createConnection(path);
  sock.unref(); // never keeps a reader alive
  sock.setEncoding('utf8');
  sock.on('error', () => undefined); // best effort: the data plane does not need it
  sock.on('connect', () => sock.write(JSON.stringify({ type: 'attach', pid: process.pid, wait }) + '\n'));
  let buf = '';
  sock.on('data', (d: string) => {
    buf += d;
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      try {
        const m: unknown = JSON.parse(line);
        if (typeof m === 'object' && m !== null && typeof (m as { type?: unknown }).type === 'string') onMessage?.(m as { type: string });
      } catch {
        /* ignore */
      }
    }
    if (buf.length > SEGMENT_DEFAULTS.controlMaxLineBytes) sock.destroy(); // a confused or hostile peer
  });
  return sock;
}

/** Asks the writer for its attached readers (null if the socket does not answer in time). */
export function listReaders(path: string, timeoutMs: number = SEGMENT_DEFAULTS.controlAnswerMs): Promise<ReaderInfo[] | null> {
  return new Promise((resolve) => {
    const sock = createConnection(path);
    const timer = setTimeout(() => finish(null), timeoutMs);
    let buf = '';
    const finish = (r: ReaderInfo[] | null): void => {
      clearTimeout(timer);
      sock.destroy();
      resolve(r);
    };
    sock.setEncoding('utf8');
    sock.on('error', () => finish(null));
    sock.on('connect', () => sock.write('{"type":"list"}\n'));
    sock.on('data', (d: string) => {
      buf += d;
      if (buf.length > SEGMENT_DEFAULTS.controlMaxLineBytes * 64) return finish(null); // a list is never this long
      for (const line of buf.split('\n').slice(0, -1)) {
        try {
          const m: unknown = JSON.parse(line);
          if (typeof m === 'object' && m !== null && (m as { type?: unknown }).type === 'readers') {
            const readers = (m as { readers?: unknown }).readers;
            return finish(Array.isArray(readers) ? readers.filter((r): r is ReaderInfo => typeof r === 'object' && r !== null) : null);
          }
        } catch {
          /* keep reading */
        }
      }
    });
  });
}
