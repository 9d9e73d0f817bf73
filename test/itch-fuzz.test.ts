/**
 * ITCH decoder and books under 300,000 mutated or truncated slices of the real GOOG day (and of
 * the pre-open fixture): every outcome is a clean replay or a coded feed error (TRUNCATED or
 * CORRUPT, with an offset inside the input and the message index); never a crash, a hang, an
 * exception of another kind, or an offset out of range. Seeded: a failure replays exactly.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadFeed, nextFrame } from '../feed/itch/framing.js';
import { ItchReplay } from '../feed/itch/engine.js';
import { MdfanError } from '../native/segment/index.js';
import { GOOG_ITCH } from './helpers/oracle.js';
import { repoRoot } from './helpers/paths.js';

test('300,000 mutated and truncated real slices: clean or a coded error with a valid offset', () => {
  const goog = loadFeed(GOOG_ITCH).bytes;
  const preopen = readFileSync(join(repoRoot, 'scenarios', 'data', 'itch', 'nasdaq-preopen-1000.itch'));
  const sources = [goog, preopen];
  let seed = 0x5eed1234;
  const rand = (): number => {
    seed = (Math.imul(seed ^ (seed >>> 15), 2246822507) + 0x9e3779b9) >>> 0;
    return seed / 4294967296;
  };
  const work = Buffer.alloc(512);
  const replay = new ItchReplay(10, { onTopChange() {} }); // shared: its state only grows more varied
  const fr = { offset: 0, length: 0 };
  const codes = new Map<string, number>();
  const CASES = 300_000;
  let msgIndex = 0;
  // Frame starts, so most slices are whole messages (the decoder and books then run on them).
  const starts = sources.map((b) => {
    const out: number[] = [];
    for (let p = 0; p < b.length; p += 2 + b.readUInt16BE(p)) out.push(p);
    out.push(b.length);
    return out;
  });
  for (let c = 0; c < CASES; c++) {
    const which = c & 7 ? 0 : 1;
    const src = sources[which];
    const st = starts[which];
    let start: number;
    let len: number;
    if (rand() < 0.8) {
      const i = Math.floor(rand() * (st.length - 12));
      start = st[i];
      len = Math.min(st[i + 1 + Math.floor(rand() * 10)] - start, work.length);
    } else {
      len = 1 + Math.floor(rand() * 400);
      start = Math.floor(rand() * (src.length - len)); // anywhere: framing misaligned
    }
    src.copy(work, 0, start, start + len);
    const kind = rand();
    if (kind < 0.5) for (let k = 0, n = 1 + Math.floor(rand() * 4); k < n; k++) work[Math.floor(rand() * len)] = Math.floor(rand() * 256);
    else if (kind < 0.6 && len >= 2) work.writeUInt16BE(Math.floor(rand() * 65536), Math.floor(rand() * Math.max(1, len - 1))); // a wild length
    // else: the slice as is
    const first = msgIndex;
    let outcome = 'clean';
    try {
      for (let pos = 0; pos < len; msgIndex++) {
        pos = nextFrame(work, len, pos, msgIndex, 'fuzz', fr);
        replay.process(work, fr.offset, fr.length, msgIndex);
      }
    } catch (e) {
      if (!(e instanceof MdfanError)) throw new Error(`case ${c} (seed state ${seed}): ${(e as Error).stack}`);
      outcome = e.code;
      const off = e.details.offset as number;
      assert.ok(off >= 0 && off < len, `case ${c}: offset ${off} outside 0..${len - 1}`);
      assert.ok((e.details.msgIndex as number) >= first && (e.details.msgIndex as number) <= msgIndex, `case ${c}: message index`);
      assert.ok(e.code === 'MDFAN_ERR_FEED_TRUNCATED' || e.code === 'MDFAN_ERR_FEED_CORRUPT', e.code);
    }
    codes.set(outcome, (codes.get(outcome) ?? 0) + 1);
  }
  assert.is([...codes.values()].reduce((a, b) => a + b, 0), CASES);
  for (const k of ['clean', 'MDFAN_ERR_FEED_TRUNCATED', 'MDFAN_ERR_FEED_CORRUPT']) assert.ok((codes.get(k) ?? 0) > 1000, `${k}: ${JSON.stringify([...codes])}`);
  console.log(`  (${JSON.stringify(Object.fromEntries(codes))}; ${replay.messages} messages decoded, ${replay.unknownTypes} unknown types, ${replay.books.counters.unknownOrderRefs} unknown refs)`);
});

test.run();
