/**
 * A first pass over a capture before a venue-replay serves it: its symbols, its streams, and whose
 * book each REST snapshot line is. A futures snapshot names its symbol; a spot one does not, and
 * is attributed to the symbol whose depth events bridge its lastUpdateId L (an event with
 * U <= L+1 and u >= L); when several do (copies of one market under two names), to the first of
 * them, in order of first appearance, that has no snapshot yet; in a one-symbol capture, to it.
 */
import { readCapture } from '../capture-read.js';

export interface CaptureScan {
  lines: number;
  /** Upper-case symbols (as REST names them), in order of first appearance. */
  symbols: string[];
  /** Stream name (lower case, as subscribed) -> its symbol. */
  streams: Map<string, string>;
  /** Line index of each snapshot line -> its symbol (lines not attributed are absent). */
  snapshotOf: Map<number, string>;
  /** Snapshot lines no symbol could be found for. */
  unattributed: number[];
  /** The capture ends early (a killed capture): why. */
  truncated: string | null;
}

interface DepthRange {
  U: number;
  u: number;
}

const STREAM_PREFIX = '{"stream":"';

/** The stream name of a combined-stream payload (`{"stream":"NAME",...`), or null. */
export function streamOf(payload: string): string | null {
  if (!payload.startsWith(STREAM_PREFIX)) return null;
  const end = payload.indexOf('"', STREAM_PREFIX.length);
  return end < 0 ? null : payload.slice(STREAM_PREFIX.length, end);
}

/** A payload as JSON, or null if it is not an object. */
export function parseObject(payload: string): Record<string, unknown> | null {
  try {
    const j = JSON.parse(payload) as unknown;
    return j !== null && typeof j === 'object' && !Array.isArray(j) ? (j as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

export async function scanCapture(file: string): Promise<CaptureScan> {
  const scan: CaptureScan = { lines: 0, symbols: [], streams: new Map(), snapshotOf: new Map(), unattributed: [], truncated: null };
  const ranges = new Map<string, DepthRange[]>();
  const bare: Array<{ line: number; L: number }> = [];
  for await (const l of readCapture(file, (why) => (scan.truncated = why))) {
    scan.lines++;
    const stream = streamOf(l.payload);
    const j = parseObject(l.payload);
    if (j === null) continue; // garbage: sent as recorded, nobody's book
    if (stream !== null) {
      const data = j.data as Record<string, unknown> | undefined;
      const s = typeof data?.s === 'string' ? data.s : null;
      if (s === null) continue;
      if (!scan.streams.has(stream)) scan.streams.set(stream, s);
      if (!ranges.has(s)) {
        ranges.set(s, []);
        scan.symbols.push(s);
      }
      if (data!.e === 'depthUpdate' && typeof data!.U === 'number' && typeof data!.u === 'number') ranges.get(s)!.push({ U: data!.U, u: data!.u });
    } else if (typeof j.lastUpdateId === 'number') {
      if (typeof j.symbol === 'string') {
        scan.snapshotOf.set(l.lineIndex, j.symbol);
        if (!ranges.has(j.symbol)) {
          ranges.set(j.symbol, []);
          scan.symbols.push(j.symbol);
        }
      } else bare.push({ line: l.lineIndex, L: j.lastUpdateId });
    }
  }
  const seeded = new Set(scan.snapshotOf.values());
  for (const { line, L } of bare) {
    const bridging = scan.symbols.filter((s) => ranges.get(s)!.some((r) => r.U <= L + 1 && r.u >= L));
    const pick = scan.symbols.length === 1 ? scan.symbols[0] : (bridging.find((s) => !seeded.has(s)) ?? bridging[0]);
    if (pick === undefined) {
      scan.unattributed.push(line);
      continue;
    }
    scan.snapshotOf.set(line, pick);
    seeded.add(pick);
  }
  return scan;
}
