/**
 * Fuzzers for every input mdfan takes from outside: ITCH frames (mutated and truncated slices of
 * real days), segment images (corrupted and truncated), MoldUDP64 packets (mutated, forged
 * sequence numbers and counts, through the receiver and the ITCH venue into a real segment), and
 * scenario files (mutated JSON). Each case must end clean or with a coded error (MdfanError);
 * anything else is a crash, counted with the first one's story. Every draw comes from the caller's
 * seeded generator, so a crash replays from its seed.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { MdfanError, SegmentReader, SegmentWriter, abi, unlinkSegmentObjects } from '../../native/segment/index.js';
import { ItchReplay, ItchVenue, MoldReceiver, PacketBuilder, Publisher, nextFrame } from '../../feed/index.js';
import { loadScenario } from '../replay/load.js';
import { ITCH_SPEC } from '../../native/segment/directory.js';

export interface FuzzResult {
  cases: number;
  /** How the cases ended: 'clean', or the error code. */
  outcomes: Record<string, number>;
  /** Cases that ended in anything but a clean run or an MdfanError (must be 0). */
  crashes: number;
  firstCrash: string;
  /** Coded errors whose facts were wrong (an offset outside the input, a message index out of range): must be 0. */
  badFacts: number;
}

export const newResult = (): FuzzResult => ({ cases: 0, outcomes: {}, crashes: 0, firstCrash: '', badFacts: 0 });

export function count(r: FuzzResult, outcome: string): void {
  r.cases++;
  r.outcomes[outcome] = (r.outcomes[outcome] ?? 0) + 1;
}

export function crash(r: FuzzResult, what: string, e: unknown): void {
  r.cases++;
  r.crashes++;
  r.firstCrash ||= `${what}: ${(e as Error)?.stack ?? String(e)}`;
}

/** Frame starts of an ITCH file (2-byte big-endian lengths), and its end. */
function frameStarts(b: Buffer): number[] {
  const out: number[] = [];
  for (let p = 0; p + 2 <= b.length; p += 2 + b.readUInt16BE(p)) out.push(p);
  out.push(b.length);
  return out;
}

/**
 * `cases` mutated or truncated slices of the ITCH files in `sources` through framing, decoder and
 * books: clean, or MDFAN_ERR_FEED_TRUNCATED / _CORRUPT with an offset inside the slice and a
 * message index of the slice.
 */
export function fuzzItch(cases: number, rand: () => number, sources: readonly Buffer[]): FuzzResult {
  const r = newResult();
  const work = Buffer.alloc(512);
  const replay = new ItchReplay(10, { onTopChange() {} }); // shared: its state only grows more varied
  const fr = { offset: 0, length: 0 };
  const starts = sources.map(frameStarts);
  let msgIndex = 0;
  for (let c = 0; c < cases; c++) {
    const which = c & 7 || sources.length === 1 ? 0 : 1;
    const src = sources[which]!;
    const st = starts[which]!;
    let start: number;
    let len: number;
    if (rand() < 0.8 && st.length > 12) {
      // Frame starts, so most slices are whole messages (the decoder and books then run on them).
      const i = Math.floor(rand() * (st.length - 12));
      start = st[i]!;
      len = Math.min(st[i + 1 + Math.floor(rand() * 10)]! - start, work.length);
    } else {
      len = 1 + Math.floor(rand() * Math.min(400, src.length - 1));
      start = Math.floor(rand() * (src.length - len)); // anywhere: framing misaligned
    }
    src.copy(work, 0, start, start + len);
    const kind = rand();
    if (kind < 0.5) for (let k = 0, n = 1 + Math.floor(rand() * 4); k < n; k++) work[Math.floor(rand() * len)] = Math.floor(rand() * 256);
    else if (kind < 0.6 && len >= 2) work.writeUInt16BE(Math.floor(rand() * 65536), Math.floor(rand() * Math.max(1, len - 1))); // a wild length
    const first = msgIndex;
    try {
      for (let pos = 0; pos < len; msgIndex++) {
        pos = nextFrame(work, len, pos, msgIndex, 'fuzz', fr);
        replay.process(work, fr.offset, fr.length, msgIndex);
      }
      count(r, 'clean');
    } catch (e) {
      if (!(e instanceof MdfanError)) {
        crash(r, `itch case ${c}`, e);
        continue;
      }
      const off = e.details.offset as number;
      const mi = e.details.msgIndex as number;
      if (!(off >= 0 && off < len) || !(mi >= first && mi <= msgIndex) || (e.code !== 'MDFAN_ERR_FEED_TRUNCATED' && e.code !== 'MDFAN_ERR_FEED_CORRUPT')) {
        r.badFacts++;
        r.firstCrash ||= `itch case ${c}: ${e.code} offset ${off} (slice of ${len}), message ${mi} (${first}..${msgIndex})`;
      }
      count(r, e.code);
    }
  }
  return r;
}

/** A small real segment's bytes: 3 instruments of 3 levels, published. */
function segmentImage(name: string): Buffer {
  const w = SegmentWriter.open({ name, maxInstruments: 4, levels: 3 });
  try {
    for (let i = 0; i < 3; i++) w.addInstrument(`SYM${i}`, i + 1, ITCH_SPEC);
    const src = { bidCount: 3, askCount: 2, bids: new Float64Array([10, 1, 1, 9, 2, 1, 8, 3, 1]), asks: new Float64Array([11, 1, 1, 12, 2, 2, 0, 0, 0]) };
    for (let i = 0; i < 3; i++) w.publish(i, src, i, i);
    w.close();
    return readFileSync(`/dev/shm/${name}`);
  } finally {
    unlinkSegmentObjects(name);
  }
}

/**
 * `cases` corruptions (1–4 words, mostly in the header and directory) and truncations of a real
 * segment written to /dev/shm/`name`; opening, listing and reading every slot must work or refuse
 * with a code, and a snapshot's counts stay within the depth. Removes `name` at the end.
 */
export function fuzzSegment(cases: number, rand: () => number, name: string): FuzzResult {
  const r = newResult();
  const good = segmentImage(name);
  const path = `/dev/shm/${name}`;
  try {
    for (let c = 0; c < cases; c++) {
      let buf = Buffer.from(good);
      if (rand() < 0.15) buf = buf.subarray(0, Math.floor(rand() * good.length));
      else {
        for (let k = 0, n = 1 + Math.floor(rand() * 4); k < n; k++) {
          const region = rand() < 0.7 ? abi.HEADER_BYTES : good.length;
          const off = Math.floor(rand() * (region / 4)) * 4;
          const v = rand() < 0.3 ? 0xffffffff : rand() < 0.5 ? 0 : Math.floor(rand() * 4294967296);
          buf.writeUInt32LE(v >>> 0, off);
        }
      }
      writeFileSync(path, buf, { mode: 0o600 });
      let outcome = 'ok';
      try {
        const s = SegmentReader.openSync(name, { anyState: true, staleAfterMs: 1 });
        try {
          const snap = s.newSnapshot();
          for (const inst of s.instruments()) {
            try {
              s.read(inst.slotIndex, snap);
              if (snap.bidCount > s.layout.levels || snap.askCount > s.layout.levels) {
                r.badFacts++;
                r.firstCrash ||= `segment case ${c}: counts ${snap.bidCount}/${snap.askCount} beyond ${s.layout.levels} levels`;
              }
            } catch (e) {
              if (!(e instanceof MdfanError)) throw e;
              outcome = e.code;
            }
          }
        } finally {
          s.close();
        }
        count(r, outcome);
      } catch (e) {
        if (e instanceof MdfanError) count(r, e.code);
        else crash(r, `segment case ${c}`, e);
      }
    }
  } finally {
    rmSync(path, { force: true });
  }
  return r;
}

/** The source the fuzzed feed pins, and others that send to it. */
const FEED_SOURCE = Object.freeze({ address: '127.0.0.1', port: 5000 });
const FOREIGN = Object.freeze([Object.freeze({ address: '127.0.0.1', port: 5001 }), Object.freeze({ address: '10.0.0.9', port: 5000 })]);

/**
 * `cases` hostile MoldUDP64 packets (real ITCH messages of `itch`, mutated bytes, forged sequence
 * numbers, counts and sessions, truncations, forged stock directories, and packets from other sources) through the receiver
 * and the ITCH venue into a real segment `name`: no packet may throw out of the receiver.
 * Removes `name` at the end. Outcome 'clean' per packet; crashes counted.
 */
export function fuzzMold(cases: number, rand: () => number, itch: Buffer, name: string): FuzzResult {
  const r = newResult();
  const w = SegmentWriter.open({ name, maxInstruments: 8, levels: 5 });
  try {
    const venue = new ItchVenue(new Publisher(w), 5, () => undefined);
    let now = 0;
    const rx = new MoldReceiver('127.0.0.1', 1, { onMessage: (b, o, l, seq) => venue.process(b, o, l, seq - 1), onGap: () => undefined, onEnd: () => undefined }, { now: () => now, send: () => undefined, rerequest: { host: '127.0.0.1', port: 9 } });
    const starts = frameStarts(itch);
    let seq = 1;
    for (let c = 0; c < cases; c++) {
      const b = new PacketBuilder('FUZZ', seq, 1400);
      const n = 1 + Math.floor(rand() * 20);
      let i = Math.floor(rand() * (starts.length - n - 1));
      for (let k = 0; k < n && i < starts.length - 1; k++, i++) {
        const off = starts[i]! + 2;
        const len = starts[i + 1]! - off;
        if (!b.fits(len)) break;
        b.add(itch, off, len);
      }
      const sent = b.pending;
      const pkt = b.take();
      const kind = rand();
      if (kind < 0.3) for (let k = 0, m = 1 + Math.floor(rand() * 6); k < m; k++) pkt[Math.floor(rand() * pkt.length)] = Math.floor(rand() * 256);
      else if (kind < 0.4) pkt.writeUInt32BE(Math.floor(rand() * 4294967296), 10 + Math.floor(rand() * 2) * 4); // a forged sequence number
      else if (kind < 0.45) pkt.writeUInt16BE(Math.floor(rand() * 65536), 18); // a forged count (0xFFFF: an end of session)
      else if (kind < 0.5) pkt.write('OTHERSESS1', 0, 'latin1');
      else if (kind < 0.55) pkt.writeUInt8(0x52, 22); // a message turned into a stock directory of whatever bytes follow
      const cut = rand() < 0.05 ? Math.floor(rand() * pkt.length) : pkt.length;
      try {
        rx.onPacket(pkt.subarray(0, cut), rand() < 0.9 ? FEED_SOURCE : FOREIGN[Math.floor(rand() * FOREIGN.length)]); // mostly the feed's source, sometimes another host or port
        if (rand() < 0.02) {
          now += 5000; // time passes: open gaps are asked for again, then given up
          rx.poll();
        }
        count(r, 'clean');
      } catch (e) {
        crash(r, `mold case ${c}`, e);
      }
      seq += rand() < 0.9 ? sent : Math.floor(rand() * 100); // mostly in order, sometimes a loss or a replay
    }
  } finally {
    w.close({ unlink: true });
  }
  return r;
}

/** Mutations of a JSON value: a key dropped or added, a value replaced by a hostile one. */
export const HOSTILE: readonly unknown[] = [null, true, -1, 0, 1e308, -1e308, 1e-300, '', 'x'.repeat(300), [], {}, '../../../../etc/passwd', 'itch:/dev/zero', Number.MAX_SAFE_INTEGER];

export function mutate(v: unknown, rand: () => number, depth = 0): unknown {
  if (Array.isArray(v)) {
    const a = v.map((x) => (rand() < 0.3 ? mutate(x, rand, depth + 1) : x));
    if (rand() < 0.1) a.push(HOSTILE[Math.floor(rand() * HOSTILE.length)]);
    return a;
  }
  if (v !== null && typeof v === 'object') {
    const o: Record<string, unknown> = { ...(v as Record<string, unknown>) };
    for (const k of Object.keys(o)) {
      const x = rand();
      if (x < 0.08) delete o[k];
      else if (x < 0.25) o[k] = HOSTILE[Math.floor(rand() * HOSTILE.length)];
      else if (x < 0.5) o[k] = mutate(o[k], rand, depth + 1);
    }
    if (rand() < 0.05) o[`extra${Math.floor(rand() * 10)}`] = 1;
    return o;
  }
  return rand() < 0.5 ? HOSTILE[Math.floor(rand() * HOSTILE.length)] : v;
}

/** A scenario with its feed source and strategy path resolved against `dir`. */
function absolutePaths(json: Record<string, unknown>, dir: string): Record<string, unknown> {
  const feed = json.feed as { source?: unknown } | undefined;
  if (feed && typeof feed.source === 'string') {
    const [scheme, rest] = [feed.source.slice(0, feed.source.indexOf(':')), feed.source.slice(feed.source.indexOf(':') + 1)];
    feed.source = `${scheme}:${rest.split(',').map((p) => resolve(dir, p)).join(',')}`;
  }
  const pool = json.pool as { strategy?: unknown } | undefined;
  if (pool && typeof pool.strategy === 'string' && pool.strategy.includes('/')) pool.strategy = resolve(dir, pool.strategy);
  return json;
}

/**
 * `cases` mutations of the scenario files in `files` (and a few byte-level breakages) through the
 * loader: each validates or is refused with MDFAN_ERR_SCENARIO.
 */
export function fuzzScenario(cases: number, rand: () => number, files: readonly string[]): FuzzResult {
  const r = newResult();
  const dir = mkdtempSync(join(tmpdir(), 'mdfan-fuzz-scenario-'));
  try {
    // Paths made absolute: the mutated copies live elsewhere, and should still find their inputs.
    const bases = files.map((f) => ({ file: f, json: absolutePaths(JSON.parse(readFileSync(f, 'utf8')) as Record<string, unknown>, dirname(f)) }));
    for (let c = 0; c < cases; c++) {
      const base = bases[Math.floor(rand() * bases.length)]!;
      let text = JSON.stringify(mutate(base.json, rand));
      if (rand() < 0.05) text = text.slice(0, Math.floor(rand() * text.length)); // cut JSON
      // Beside the original, so relative feed paths still resolve.
      const file = join(dir, `case.json`);
      writeFileSync(file, text);
      try {
        loadScenario(file);
        count(r, 'valid');
      } catch (e) {
        if (e instanceof MdfanError) count(r, e.code);
        else crash(r, `scenario case ${c} (${base.file}): ${text.slice(0, 300)}`, e);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return r;
}
