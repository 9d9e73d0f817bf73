/**
 * zeromq-ipc peer: a PUB socket bound on ipc://<unique path>; R SUB receiver processes
 * (zeromq-reader.js). Slow joiners: a SUB only gets what is published after its subscription
 * reached the PUB, so warm-up messages go out until every receiver has printed "ready"; only then
 * does the measured period start. High-water marks are 0 (unlimited) on both ends: PUB drops at
 * its HWM, and the comparison is for a transport that delivers every message.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type * as Zmq from 'zeromq';
import { ErrorCode, MdfanError } from '../../native/segment/errors.js';
import { pacedAsync } from '../paced.js';
import { exitWatch, killAll, spawnChild, type Child } from './child.js';
import { fillPayload, KIND_DATA, KIND_END, KIND_WARMUP, PAYLOAD_WORDS, stampPayload } from './payload.js';
import { mergeReports, type PeerOptions, type PeerResult, type ReceiverReport } from './types.js';

const READER = new URL('./zeromq-reader.js', import.meta.url);
const WARMUP_TIMEOUT_MS = 15_000;
const WARMUP_GAP_MS = 1;
const REPORT_TIMEOUT_MS = 30_000;

/** A fresh frame per message: zeromq sends buffers over 128 bytes without copying them. */
function frame(seq: number, kind: number): Uint32Array {
  const words = new Uint32Array(PAYLOAD_WORDS);
  fillPayload(words, seq, kind);
  return words;
}

/**
 * zeromq 6 allows one send in flight: send at once when idle (the usual case: a PUB send
 * completes synchronously), otherwise after the previous one. The timestamp is read right before
 * the actual send either way. `drain()` awaits every send and rethrows the first failure.
 */
class SerialSender {
  private inflight = 0;
  private tail: Promise<void> = Promise.resolve();
  private failure: unknown = null;
  constructor(private readonly pub: Zmq.Publisher) {}

  send(words: Uint32Array): void {
    const go = (): Promise<void> => {
      stampPayload(words);
      return this.pub.send(Buffer.from(words.buffer, words.byteOffset, words.byteLength));
    };
    const p = this.inflight++ === 0 ? go() : this.tail.then(go);
    this.tail = p.then(
      () => void this.inflight--,
      (e: unknown) => {
        this.inflight--;
        this.failure ??= e;
      },
    );
  }

  async drain(): Promise<void> {
    await this.tail;
    if (this.failure) throw new Error(`zeromq-ipc peer: send failed: ${(this.failure as Error).message ?? this.failure}`);
  }
}

/**
 * zeromq is a benchmark-only, optional package (a native library of ~34 MB): loaded here, on first
 * use, so that installing mdfan does not pull it in.
 */
export async function loadZeromq(): Promise<typeof Zmq> {
  try {
    return await import('zeromq');
  } catch (e) {
    if ((e as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND') throw e;
    throw new MdfanError(ErrorCode.MISSING_DEPENDENCY, 'the zeromq-ipc peer needs the optional package zeromq, which is not installed: `npm install zeromq`', { package: 'zeromq' });
  }
}

export async function measureZeromqIpc(o: PeerOptions): Promise<PeerResult> {
  const zmq = await loadZeromq();
  const intervalNs = 1e9 / o.rate;
  const dir = mkdtempSync(join(tmpdir(), 'mdfan-peer-zmq-')); // unique; removed with the ipc file in it
  const endpoint = `ipc://${join(dir, 'feed.ipc')}`;
  const pub = new zmq.Publisher({ sendHighWaterMark: 0, linger: 0 });
  const children: Child[] = [];
  try {
    await pub.bind(endpoint);
    for (let i = 0; i < o.readers; i++) children.push(spawnChild(`zeromq-ipc reader ${i}`, READER, [endpoint, String(intervalNs)]));
    const sender = new SerialSender(pub);

    // Warm up until every SUB has received something (or one failed: line() rejects on exit).
    let warming = true;
    let warmupError: unknown = null;
    Promise.all(children.map((c) => c.line(/^ready$/, WARMUP_TIMEOUT_MS))).then(
      () => (warming = false),
      (e: unknown) => {
        warming = false;
        warmupError = e;
      },
    );
    for (let w = 0; warming; w++) {
      sender.send(frame(w, KIND_WARMUP));
      await sender.drain();
      await sleep(WARMUP_GAP_MS);
    }
    if (warmupError) throw warmupError;

    // Yield after every send: a send zeromq deferred completes only on the event loop.
    const watch = exitWatch(children);
    const { sent } = await pacedAsync(
      o.rate,
      o.seconds,
      (k) => {
        watch.check();
        sender.send(frame(k, KIND_DATA));
      },
      1,
    );
    await sender.drain();
    sender.send(frame(sent, KIND_END));
    await sender.drain();
    // line() fails if a reader exits without its report.
    const lines = await Promise.all(children.map((c) => c.line(/^\{/, REPORT_TIMEOUT_MS + o.seconds * 2000)));
    return mergeReports('zeromq-ipc', 'event-loop', o.readers, sent, lines.map((l) => JSON.parse(l) as ReceiverReport));
  } finally {
    await killAll(children);
    pub.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
