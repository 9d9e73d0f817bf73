/**
 * Corrupted segments: thousands of random corruptions of a real segment's bytes (header fields,
 * directory, slots) and truncations. Opening, listing and reading every slot must either work or
 * fail with an MdfanError code: never a crash, never a hang, never an out-of-range access.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { SegmentReader, SegmentWriter, MdfanError, abi } from '../native/segment/index.js';
import { segName, cleanupSegments } from './helpers/segments.js';

test.after.each(cleanupSegments);

/** A small deterministic PRNG (xorshift32) so a failure can be replayed from its seed. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 4294967296;
  };
}

function image(): Buffer {
  const name = segName('fuzzsrc');
  const w = SegmentWriter.open({ name, maxInstruments: 4, levels: 3 });
  for (let i = 0; i < 3; i++) w.addInstrument(`SYM${i}`, i + 1, 10000);
  const src = { bidCount: 3, askCount: 2, bids: new Uint32Array([10, 1, 1, 9, 2, 1, 8, 3, 1]), asks: new Uint32Array([11, 1, 1, 12, 2, 2, 0, 0, 0]) };
  for (let i = 0; i < 3; i++) w.publish(i, src, i, i);
  w.close();
  return readFileSync(`/dev/shm/${name}`);
}

test('random corruptions and truncations: every outcome is success or a coded refusal', () => {
  const good = image();
  const name = segName('fuzz');
  const path = `/dev/shm/${name}`;
  const codes = new Map<string, number>();
  const rand = rng(0xc0ffee);
  const CASES = 3000;
  for (let c = 0; c < CASES; c++) {
    let buf = Buffer.from(good);
    const kind = rand();
    if (kind < 0.15) buf = buf.subarray(0, Math.floor(rand() * good.length));
    else {
      // Corrupt 1..4 words, biased to the header and directory where the offsets live.
      const n = 1 + Math.floor(rand() * 4);
      for (let k = 0; k < n; k++) {
        const region = rand() < 0.7 ? abi.HEADER_BYTES : good.length;
        const off = Math.floor(rand() * (region / 4)) * 4;
        const v = rand() < 0.3 ? 0xffffffff : rand() < 0.5 ? 0 : Math.floor(rand() * 4294967296);
        buf.writeUInt32LE(v >>> 0, off);
      }
    }
    writeFileSync(path, buf);
    let outcome = 'ok';
    try {
      const r = SegmentReader.openSync(name, { anyState: true, staleAfterMs: 1 });
      try {
        const snap = r.newSnapshot();
        for (const inst of r.instruments()) {
          try {
            r.read(inst.slotIndex, snap);
            // Whatever the bytes say, the snapshot's counts stay within the depth.
            assert.ok(snap.bidCount <= r.layout.levels && snap.askCount <= r.layout.levels);
          } catch (e) {
            if (!(e instanceof MdfanError)) throw e;
            outcome = e.code;
          }
        }
      } finally {
        r.close();
      }
    } catch (e) {
      if (!(e instanceof MdfanError)) throw new Error(`case ${c}: not an MdfanError: ${(e as Error).stack}`);
      outcome = e.code;
    }
    codes.set(outcome, (codes.get(outcome) ?? 0) + 1);
  }
  // The run must have exercised both paths and several refusal codes.
  assert.ok((codes.get('ok') ?? 0) > 100, JSON.stringify([...codes]));
  for (const code of ['MDFAN_ERR_BAD_MAGIC', 'MDFAN_ERR_SEGMENT_SIZE', 'MDFAN_ERR_LAYOUT', 'MDFAN_ERR_ABI_VERSION'])
    assert.ok((codes.get(code) ?? 0) > 0, `${code} never produced: ${JSON.stringify([...codes])}`);
});

test.run();
