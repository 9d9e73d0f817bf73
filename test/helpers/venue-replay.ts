/**
 * For the Binance network tests: captures cut from the shared recordings (optionally with a twin
 * symbol), `mdfan venue-replay` started on a free port, recorded replays' dumps, and the
 * comparison of a live run's books with the recorded ones.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createGzip } from 'node:zlib';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { mergeCaptures, readCapture } from '../../feed/binance/capture-read.js';
import { type CryptoSet, setFiles } from './crypto-capture.js';
import { binPath } from './paths.js';
import { type Proc, startNode } from './procs.js';

/** The shared recording `set` merged into one capture at `out` (crypto-capture.ts names the sets). */
export async function mergedSet(set: CryptoSet, out: string): Promise<void> {
  await mergeCaptures(setFiles(set), out);
}

export interface CutOptions {
  /** Keep the first `lines` lines, and then up to the next trade (so the capture ends with a trade: its id is a sentinel). */
  lines: number;
  /**
   * Add a copy of every line under this second symbol (stream names and `s` rewritten, update
   * ids and trade ids shifted by idShift so the two symbols' snapshots are told apart).
   */
  twin?: { symbol: string; idShift: number };
}

/** A capture of the first lines of `from`, maybe with a twin symbol, gzip'd to `out`: its lines and the id of its last trade. */
export async function cutCapture(from: string, out: string, o: CutOptions): Promise<{ lines: number; lastTradeId: number }> {
  const gz = createGzip();
  const sink = createWriteStream(out);
  gz.pipe(sink);
  let n = 0;
  let lastTradeId = -1;
  for await (const l of readCapture(from)) {
    const trade = l.payload.includes('@trade"');
    const ns = `${BigInt(l.recvSec) * 1_000_000_000n + BigInt(l.recvSubNs)}`;
    gz.write(`${ns} ${l.payload}\n`);
    n++;
    if (trade) lastTradeId = (JSON.parse(l.payload) as { data: { t: number } }).data.t;
    if (o.twin) {
      gz.write(`${ns} ${twinPayload(l.payload, o.twin.symbol, o.twin.idShift)}\n`);
      n++;
      if (trade) lastTradeId += o.twin.idShift;
    }
    if (l.lineIndex + 1 >= o.lines && trade) break;
  }
  gz.end();
  await once(sink, 'close');
  return { lines: n, lastTradeId };
}

function twinPayload(payload: string, symbol: string, shift: number): string {
  const j = JSON.parse(payload) as Record<string, unknown>;
  if (typeof j.stream === 'string') {
    const d = j.data as Record<string, unknown>;
    j.stream = `${symbol.toLowerCase()}${j.stream.slice(j.stream.indexOf('@'))}`;
    d.s = symbol;
    for (const k of ['U', 'u', 'pu', 't']) if (typeof d[k] === 'number') d[k] = (d[k] as number) + shift;
  } else {
    j.lastUpdateId = (j.lastUpdateId as number) + shift;
    if (typeof j.symbol === 'string') j.symbol = symbol;
  }
  return JSON.stringify(j);
}

/** The capture's lines, as [lineIndex, payload]. */
export async function captureLines(file: string): Promise<{ lines: string[]; truncated: string | null }> {
  const lines: string[] = [];
  let truncated: string | null = null;
  for await (const l of readCapture(file, (why) => (truncated = why))) lines.push(l.payload);
  return { lines, truncated };
}

export interface VenueReplay {
  proc: Proc;
  port: number;
  ws: string;
  rest: string;
}

/** `mdfan venue-replay` on 127.0.0.1, a free port: resolves once it listens. */
export async function startVenueReplay(capture: string, args: string[] = []): Promise<VenueReplay> {
  const proc = startNode(binPath, ['venue-replay', '--capture', capture, '--listen', '127.0.0.1:0', ...args]);
  const line = await proc.line(/^venue-replay: listening on/, 30_000);
  const port = Number(/127\.0\.0\.1:(\d+)/.exec(line)![1]);
  return { proc, port, ws: `ws://127.0.0.1:${port}`, rest: `http://127.0.0.1:${port}` };
}

/** The depth snapshots (limit 1000) venue-replay served so far: symbol, lastUpdateId, and the capture line reached when made. */
export function servedSnapshots(vr: VenueReplay): Array<{ symbol: string; line: number; lastUpdateId: number }> {
  return vr.proc.run.logs
    .filter((l) => l.event === 'venue_replay_snapshot' && l.limit === 1000)
    .map((l) => ({ symbol: l.symbol as string, line: l.line as number, lastUpdateId: l.lastUpdateId as number }));
}

/** `mdfan feed --source SOURCE:FILE --dump-books DUMP --speed max` (the recorded replay): its stdout. */
export function recordedDump(source: string, capture: string, segment: string, dump: string): string {
  const r = spawnSync(process.execPath, [binPath, 'feed', '--source', `${source}:${capture}`, '--segment', segment, '--dump-books', dump, '--speed', 'max'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`recorded replay of ${capture} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

export interface DumpLine {
  msgIndex: number;
  symbol: string;
  /** The levels, without the message index. */
  book: string;
}

export function readDump(file: string): DumpLine[] {
  return readFileSync(file, 'latin1')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const a = l.indexOf(',');
      const b = l.indexOf(',', a + 1);
      return { msgIndex: Number(l.slice(0, a)), symbol: l.slice(a + 1, b), book: l.slice(b + 1) };
    });
}

/**
 * A live run's books against the recorded replay's, per symbol: after its last snapshot (its
 * lastUpdateId L), the live run applies exactly the depth events the rules keep (spot: u > L;
 * futures: u >= L, the event that ends at L applied again), so its last books must be the recorded
 * books of those events, one for one. `updateIdOf` gives a recorded line's depth event's u.
 * Returns '' or what differs, and how many books were compared.
 */
export function compareAfter(live: DumpLine[], recorded: DumpLine[], symbol: string, keep: (msgIndex: number) => boolean): { bad: string; compared: number } {
  const want = recorded.filter((d) => d.symbol === symbol && keep(d.msgIndex)).map((d) => d.book);
  const got = live.filter((d) => d.symbol === symbol).map((d) => d.book);
  if (want.length === 0) return { bad: `${symbol}: no recorded books after the snapshot`, compared: 0 };
  if (got.length < want.length) return { bad: `${symbol}: the live run has ${got.length} books, fewer than the ${want.length} recorded after the snapshot`, compared: 0 };
  const tail = got.slice(got.length - want.length);
  for (let i = 0; i < want.length; i++)
    if (tail[i] !== want[i]) return { bad: `${symbol}: book ${i} of ${want.length} after the snapshot differs: live ${tail[i]!.slice(0, 100)} vs recorded ${want[i]!.slice(0, 100)}`, compared: i };
  return { bad: '', compared: want.length };
}
