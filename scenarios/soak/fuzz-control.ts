/**
 * Fuzzing the control plane as a hostile peer on `NAME.ctl` would: mutated messages of the
 * protocol, JSON values of every kind, raw bytes (invalid UTF-8, NULs, no newline), overlong lines
 * and lines split across writes, sent over real connections to a real writer's control server in
 * this process. Every line must parse to a message whose fields are of the protocol's kinds, or to
 * nothing (`parseControlLine`); after each connection the server must still answer `list`; at the
 * end a real reader's attach must still be registered. An exception out of the server ends this
 * process: the soak then fails loudly, which is the point.
 */
import { createConnection, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { SEGMENT_DEFAULTS, SegmentWriter } from '../../native/segment/index.js';
import { listReaders, parseControlLine } from '../../native/segment/control.js';
import { type FuzzResult, HOSTILE, count, crash, mutate, newResult } from './fuzz.js';

/** The protocol's messages, the seeds every mutation starts from. */
const MESSAGES: readonly object[] = [{ type: 'attach', pid: 4242, wait: 'spin' }, { type: 'events', read: 10, lost: 0 }, { type: 'list' }, { type: 'registry' }];

/** Lines a hostile peer might send: mutated messages, bare values, raw bytes, overlong lines. */
function hostileLine(rand: () => number): Buffer {
  const kind = rand();
  if (kind < 0.5) return Buffer.from(JSON.stringify(mutate(MESSAGES[Math.floor(rand() * MESSAGES.length)], rand)) ?? 'undefined');
  if (kind < 0.7) return Buffer.from(JSON.stringify(HOSTILE[Math.floor(rand() * HOSTILE.length)]) ?? '');
  if (kind < 0.8) return Buffer.from(rand() < 0.5 ? '['.repeat(5000) : `{"type":"attach","pid":${'9'.repeat(400)}}`); // deep nesting, a huge number
  if (kind < 0.95) {
    const b = Buffer.alloc(1 + Math.floor(rand() * 200));
    for (let i = 0; i < b.length; i++) b[i] = Math.floor(rand() * 256);
    return b;
  }
  return Buffer.alloc(SEGMENT_DEFAULTS.controlMaxLineBytes + 1 + Math.floor(rand() * 1000), 0x7b); // overlong
}

/** A parsed line holds only the protocol's kinds: a pid the kernel could give, a short wait name. */
function parsedWell(line: string): string | null {
  const m = parseControlLine(line);
  if (m === null || m.type === 'list' || m.type === 'registry' || m.type === 'events') return null;
  if (!Number.isInteger(m.pid) || m.pid < 0 || m.pid > 0x7fffffff) return `attach with pid ${String(m.pid)}`;
  if (typeof m.wait !== 'string' || m.wait.length > 16) return `attach with wait of ${String(m.wait).length} characters`;
  return null;
}

/** Writes `chunks` on a new connection, then closes it; resolves when the socket is gone. */
function sendAndClose(path: string, chunks: readonly Buffer[], rand: () => number): Promise<void> {
  return new Promise((resolve) => {
    const sock: Socket = createConnection(path);
    sock.on('error', () => undefined); // the server may cut a hostile connection: expected
    sock.on('close', () => resolve());
    sock.on('data', () => undefined); // hello, readers lists: read and dropped
    sock.on('connect', () => {
      for (const c of chunks) {
        // Sometimes a line split across writes, so the server's line assembly is exercised.
        if (rand() < 0.2 && c.length > 2) {
          const cut = 1 + Math.floor(rand() * (c.length - 1));
          sock.write(c.subarray(0, cut));
          sock.write(c.subarray(cut));
        } else sock.write(c);
      }
      sock.end();
    });
  });
}

/** Connects as a real reader of this process and waits until the server lists it (false: it never does). */
async function realAttach(w: SegmentWriter, path: string, deadlineMs: number): Promise<boolean> {
  const sock = createConnection(path);
  sock.on('error', () => undefined);
  sock.on('data', () => undefined);
  sock.on('connect', () => sock.write(`${JSON.stringify({ type: 'attach', pid: process.pid, wait: 'block' })}\n`));
  try {
    for (const end = performance.now() + deadlineMs; performance.now() < end; await sleep(5)) if (w.control?.readers().some((r) => r.pid === process.pid)) return true;
    return false;
  } finally {
    sock.destroy();
  }
}

/**
 * `cases` hostile control lines, in connections of 1–20 lines, to a real writer's control server
 * for segment `name` (created and removed here). Outcomes: 'parsed' / 'dropped' per line.
 */
export async function fuzzControl(cases: number, rand: () => number, name: string): Promise<FuzzResult> {
  const r = newResult();
  const w = SegmentWriter.open({ name, maxInstruments: 2, levels: 1 });
  try {
    if (!(await w.startControl()) || w.control === null) {
      crash(r, 'control', new Error(`the control server for ${name} did not start`));
      return r;
    }
    const path = w.control.path;
    for (let c = 0; c < cases; ) {
      const chunks: Buffer[] = [];
      for (let k = 1 + Math.floor(rand() * 20); k > 0 && c < cases; k--, c++) {
        const line = hostileLine(rand);
        const bad = parsedWell(line.toString('utf8'));
        if (bad !== null) {
          r.badFacts++;
          r.firstCrash ||= `control case ${c}: ${bad} from ${line.toString('utf8').slice(0, 200)}`;
        }
        count(r, parseControlLine(line.toString('utf8')) === null ? 'dropped' : 'parsed');
        chunks.push(rand() < 0.95 ? Buffer.concat([line, Buffer.from('\n')]) : line); // sometimes no newline at all
      }
      await sendAndClose(path, chunks, rand);
      if ((await listReaders(path, 5000)) === null) {
        crash(r, `control case ${c}`, new Error('the control server stopped answering list'));
        return r;
      }
    }
    if (!(await realAttach(w, path, 10_000))) crash(r, 'control', new Error("a real reader's attach was not registered after the fuzzing"));
  } finally {
    w.close({ unlink: true });
  }
  return r;
}
