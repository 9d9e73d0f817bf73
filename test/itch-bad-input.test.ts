/**
 * Bad feed input: truncated at every kind of boundary, zero or contradictory lengths, random bytes,
 * mutated real data, corrupt and truncated gzip. Always the right code with the byte offset and
 * message index; never a crash or a hang; what was published before stays valid.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { FrameCursor, frameMessages, loadFeed, nextFrame } from '../feed/itch/framing.js';
import { ItchReplay } from '../feed/itch/engine.js';
import { MdfanError } from '../native/segment/index.js';
import { GOOG_ITCH } from './helpers/oracle.js';
import { binPath } from './helpers/paths.js';
import { segName, cleanupSegments } from './helpers/segments.js';
import { add, directory, exec } from './helpers/itch-encode.js';

const dir = mkdtempSync(join(tmpdir(), 'mdfan-bad-'));
test.after.each(cleanupSegments);
test.after(() => rmSync(dir, { recursive: true, force: true }));

const raw = loadFeed(GOOG_ITCH).bytes;

/** Frames and replays `buf`; returns messages processed and the error (null if it ended cleanly). */
function replay(buf: Uint8Array): { n: number; err: MdfanError | null } {
  const r = new ItchReplay(10, { onTopChange() {} });
  const fr = { offset: 0, length: 0 };
  let i = 0;
  try {
    for (let pos = 0; pos < buf.length; i++) {
      pos = nextFrame(buf, buf.length, pos, i, 'x.itch', fr);
      r.process(buf, fr.offset, fr.length, i);
    }
  } catch (e) {
    if (!(e instanceof MdfanError)) throw e;
    return { n: i, err: e };
  }
  return { n: i, err: null };
}

/** Start offsets of the first `count` frames of the real file. */
const starts: number[] = [];
for (let p = 0; starts.length < 400; p += 2 + raw.readUInt16BE(p)) starts.push(p);

test('truncated inside the length prefix, right after it, and inside the payload: FEED_TRUNCATED at the message', () => {
  for (let k = 1; k < 399; k += 7) {
    const s = starts[k];
    for (const cut of [s + 1, s + 2, s + 3, starts[k + 1] - 1]) {
      const { n, err } = replay(raw.subarray(0, cut));
      assert.is(n, k, `cut at ${cut}`);
      assert.is(err?.code, 'MDFAN_ERR_FEED_TRUNCATED');
      assert.is(err?.details.offset, s);
      assert.is(err?.details.msgIndex, k);
      assert.match(err!.message, `byte offset ${s}`);
    }
    assert.equal(replay(raw.subarray(0, s)), { n: k, err: null }); // a cut on a boundary is a clean end
  }
});

test('zero length and a length that disagrees with the type: FEED_CORRUPT naming the field', () => {
  const a = add(1, 'B', 1, 1);
  const z = Buffer.concat([frameMessages([a]), Buffer.from([0, 0])]);
  const e1 = replay(z).err!;
  assert.is(e1.code, 'MDFAN_ERR_FEED_CORRUPT');
  assert.equal([e1.details.offset, e1.details.msgIndex, e1.details.field], [38, 1, 'length']);
  const long = Buffer.concat([a, Buffer.alloc(4)]); // an A message framed as 40 bytes
  const e2 = replay(frameMessages([exec(1, 1), long])).err!;
  assert.is(e2.code, 'MDFAN_ERR_FEED_CORRUPT');
  assert.equal([e2.details.type, e2.details.expected, e2.details.found, e2.details.msgIndex], ['A', 36, 40, 1]);
  assert.match(e2.message, "type 'A' is 36 bytes but its length prefix says 40");
});

test('a length prefix that runs past the end', () => {
  const b = Buffer.from(raw.subarray(0, starts[10]));
  b.writeUInt16BE(0xffff, starts[5]);
  const { n, err } = replay(b);
  assert.is(n, 5);
  assert.is(err?.code, 'MDFAN_ERR_FEED_TRUNCATED');
  assert.match(err!.message, 'length prefix says 65535 bytes');
});

test('random bytes and mutated real data: only coded feed errors, never a crash or a hang', () => {
  let seed = 12345;
  const rand = (): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 4294967296;
  };
  const codes = new Map<string, number>();
  const count = (e: MdfanError | null): void => void codes.set(e?.code ?? 'clean', (codes.get(e?.code ?? 'clean') ?? 0) + 1);
  for (let c = 0; c < 3000; c++) {
    const b = Buffer.alloc(1 + Math.floor(rand() * 300));
    for (let i = 0; i < b.length; i++) b[i] = Math.floor(rand() * 256);
    count(replay(b).err);
  }
  const slice = raw.subarray(0, starts[399]);
  for (let c = 0; c < 3000; c++) {
    const b = Buffer.from(slice);
    for (let k = 0; k < 1 + Math.floor(rand() * 6); k++) b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256);
    count(replay(b).err);
  }
  assert.ok((codes.get('MDFAN_ERR_FEED_CORRUPT') ?? 0) > 0 && (codes.get('MDFAN_ERR_FEED_TRUNCATED') ?? 0) > 0, JSON.stringify([...codes]));
  assert.ok((codes.get('clean') ?? 0) > 0, JSON.stringify([...codes])); // mutations inside payloads decode and are absorbed
});

test('the frame cursor yields the same messages for any chunking, and names stream offsets', () => {
  const slice = raw.subarray(0, starts[399]);
  const whole: string[] = [];
  const fr = { offset: 0, length: 0 };
  for (let p = 0, i = 0; p < slice.length; i++) {
    p = nextFrame(slice, slice.length, p, i, 'x', fr);
    whole.push(slice.subarray(fr.offset, fr.offset + fr.length).toString('hex'));
  }
  for (const chunk of [1, 2, 3, 37, 1000]) {
    const got: string[] = [];
    const c = new FrameCursor('x');
    const take = (): void => {
      while (c.ready()) {
        c.next(got.length, fr);
        got.push(c.bytes.subarray(fr.offset, fr.offset + fr.length).toString('hex'));
      }
    };
    for (let p = 0; p < slice.length; p += chunk) {
      c.append(slice.subarray(p, p + chunk));
      take();
    }
    c.end(got.length);
    assert.equal(got, whole, `chunk ${chunk}`);
  }
  const cut = new FrameCursor('x');
  cut.append(slice.subarray(0, 7));
  cut.append(slice.subarray(7, starts[3] + 5));
  for (let i = 0; cut.ready(); i++) cut.next(i, fr);
  try {
    cut.end(3);
    assert.unreachable();
  } catch (e) {
    assert.is((e as MdfanError).code, 'MDFAN_ERR_FEED_TRUNCATED');
    assert.is((e as MdfanError).details.offset, starts[3]);
  }
});

const feedCli = (file: string, name: string) =>
  spawnSync(process.execPath, [binPath, 'feed', '--source', `itch:${file}`, '--segment', name, '--keep-segment'], { encoding: 'utf8' });
const statOf = (name: string) => JSON.parse(spawnSync(process.execPath, [binPath, 'stat', '--segment', name, '--json'], { encoding: 'utf8' }).stdout);

test('CLI: a truncated file exits 1 with the code, offset and index; the segment is BROKEN with the books published before', () => {
  const file = join(dir, 'cut.itch');
  const cutAt = starts[300] + 7;
  writeFileSync(file, raw.subarray(0, cutAt));
  const name = segName('cut');
  const r = feedCli(file, name);
  assert.is(r.status, 1);
  assert.match(r.stderr, `MDFAN_ERR_FEED_TRUNCATED: ${file}: message 300 at byte offset ${starts[300]}`);
  const st = statOf(name);
  assert.is(st.state, 'BROKEN');
  assert.is(st.messages, 300);
  assert.ok(st.instruments[0].msg_index <= 299 && st.instruments[0].updates > 0);
});

test('CLI: a truncated gzip stream replays what it holds, then MDFAN_ERR_FEED_TRUNCATED; a corrupt one MDFAN_ERR_FEED_CORRUPT', () => {
  const gz = gzipSync(raw.subarray(0, starts[399]));
  const cutFile = join(dir, 'cut.itch.gz');
  writeFileSync(cutFile, gz.subarray(0, gz.length - 200));
  const name = segName('gzcut');
  const r = feedCli(cutFile, name);
  assert.is(r.status, 1);
  assert.match(r.stderr, 'MDFAN_ERR_FEED_TRUNCATED');
  assert.ok(statOf(name).messages > 100, 'the messages before the cut were replayed');
  const bad = Buffer.from(gz);
  for (let i = 100; i < 140; i++) bad[i] ^= 0x5a;
  const badFile = join(dir, 'bad.itch.gz');
  writeFileSync(badFile, bad);
  const r2 = feedCli(badFile, segName('gzbad'));
  assert.is(r2.status, 1);
  assert.match(r2.stderr, /MDFAN_ERR_FEED_(CORRUPT|TRUNCATED)/);
  assert.match(r2.stderr, badFile);
});

test('CLI: a missing file and bad options exit with a clear message and leave no segment', () => {
  const name = segName('nofile');
  const r = feedCli(join(dir, 'absent.itch'), name);
  assert.is(r.status, 1);
  assert.match(r.stderr, 'MDFAN_ERR_FEED_IO');
  assert.is(spawnSync(process.execPath, [binPath, 'stat', '--segment', name], { encoding: 'utf8' }).status, 1);
  const o = spawnSync(process.execPath, [binPath, 'feed', '--source', 'itch:x', '--segment', name, '--levels', '99'], { encoding: 'utf8' });
  assert.is(o.status, 2);
  assert.match(o.stderr, '--levels must be an integer 1..50');
  const s = spawnSync(process.execPath, [binPath, 'feed', '--source', 'carrier-pigeon:x', '--segment', name], { encoding: 'utf8' });
  assert.is(s.status, 2);
  assert.match(s.stderr, '--source must be itch:FILE');
});

test('CLI: unknown message types and unknown order references are counted in the segment, not fatal', () => {
  const file = join(dir, 'unknowns.itch');
  const unknownType = Buffer.from([0x7a, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]); // 'z': not an ITCH 5.0 type
  writeFileSync(file, frameMessages([directory(1, 'TEST'), add(1, 'B', 10, 100), unknownType, exec(99, 1), exec(98, 1), unknownType, add(2, 'S', 5, 101)]));
  const name = segName('unknowns');
  const r = feedCli(file, name);
  assert.is(r.status, 0, r.stderr);
  const st = statOf(name);
  assert.is(st.state, 'CLOSED');
  assert.is(st.counters.unknown_message_types, 2);
  assert.is(st.counters.unknown_order_refs, 2);
  assert.is(st.counters.unannounced_messages, 0);
  assert.is(st.messages, 7);
  assert.is(st.instruments[0].msg_index, 6); // the last add was still published
});

test.run();
