/**
 * `mdfan capture` against `mdfan venue-replay`: the capture holds every frame served, byte for
 * byte and in order, and the snapshot it took; replayed (`mdfan feed --source binance-spot:FILE`)
 * it gives the recorded books of the original from its snapshot on. A capture killed with SIGKILL
 * leaves a file that reads up to the cut. The writer alone: lines readable while it writes, line
 * breaks inside a payload, output refusals.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { CaptureWriter } from '../feed/binance/live/capture-write.js';
import { binPath } from './helpers/paths.js';
import { killAll, startNode, type Proc } from './helpers/procs.js';
import { cleanupSegments, segName } from './helpers/segments.js';
import { waitUntil } from './helpers/wait.js';
import { type DumpLine, captureLines, compareAfter, cutCapture, mergedSet, readDump, recordedDump, servedSnapshots, startVenueReplay } from './helpers/venue-replay.js';

const dir = mkdtempSync(join(tmpdir(), 'mdfan-binance-capture-'));
test.after.each(cleanupSegments);
test.after(() => rmSync(dir, { recursive: true, force: true }));

const LINES = 20_000;

interface Source {
  file: string;
  /** The original's payloads, and its stream frames alone (what venue-replay sends). */
  payloads: string[];
  frames: string[];
  recorded: DumpLine[];
  updateIds: Map<number, number>;
}

let source: Source | null = null;

async function spot(): Promise<Source> {
  if (source) return source;
  const merged = join(dir, 'spot-merged.gz');
  await mergedSet('spot', merged);
  const file = join(dir, 'spot.gz');
  await cutCapture(merged, file, { lines: LINES });
  const payloads = (await captureLines(file)).lines;
  const dump = join(dir, 'spot.recorded.dump');
  recordedDump('binance-spot', file, segName('bcrec'), dump);
  const updateIds = new Map<number, number>();
  payloads.forEach((p, i) => {
    if (p.includes('@depth')) updateIds.set(i, (JSON.parse(p) as { data: { u: number } }).data.u);
  });
  source = { file, payloads, frames: payloads.filter((p) => p.startsWith('{"stream"')), recorded: readDump(dump), updateIds };
  return source;
}

const captureArgs = (ws: string, rest: string, out: string): string[] => ['capture', '--source', 'binance-spot:live', '--symbols', 'BTCUSDT', '--out', out, '--ws-url', ws, '--rest-url', rest];

test('a capture of a venue-replay holds every frame served, as sent and in order, and its snapshot; replayed, it gives the original books from that snapshot on', async () => {
  const s = await spot();
  const vr = await startVenueReplay(s.file, ['--speed', 'max']);
  const out = join(dir, 'captured.gz');
  let cap: Proc | null = null;
  try {
    const t0 = BigInt(Date.now()) * 1_000_000n;
    cap = startNode(binPath, captureArgs(vr.ws, vr.rest, out));
    await vr.proc.line(/^venue-replay: end of capture/, 60_000);
    const want = s.frames.length + 1; // and one snapshot
    await waitUntil(async () => (await captureLines(out)).lines.length >= want, 60_000, { what: `${want} lines in the capture` });
    cap.child.kill('SIGTERM');
    const exit = await cap.exited;
    assert.is(exit.code, 0, cap.run.describeExit());
    const t1 = BigInt(Date.now()) * 1_000_000n;
    assert.match(cap.run.stdout.join('\n'), `mdfan capture: ${want} lines (1 snapshots) to ${out}`);
    gunzipSync(readFileSync(out)); // a whole gzip file: it throws on a cut one
    const got = await captureLines(out);
    assert.is(got.truncated, null);
    const snapshots = got.lines.filter((p) => !p.startsWith('{"stream"'));
    assert.equal(
      got.lines.filter((p) => p.startsWith('{"stream"')),
      s.frames,
      'every frame, byte for byte, in order',
    );
    assert.is(snapshots.length, 1);
    const served = servedSnapshots(vr);
    assert.is(served.length, 1);
    const L = (JSON.parse(snapshots[0]!) as { lastUpdateId: number }).lastUpdateId;
    assert.is(L, served[0]!.lastUpdateId, 'the snapshot line is the body the venue served');
    // recv_ns: ns since the epoch, never going back.
    const text = gunzipSync(readFileSync(out)).toString('latin1').trim().split('\n');
    let prev = 0n;
    for (const line of text) {
      const ns = BigInt(line.slice(0, line.indexOf(' ')));
      assert.ok(ns >= prev && ns >= t0 - 1_000_000_000n && ns <= t1 + 1_000_000_000n, `recv_ns ${ns} in order and now`);
      prev = ns;
    }
    // Replayed: the books of the original after the snapshot, one for one, and no gap.
    const dump = join(dir, 'captured.dump');
    const summary = recordedDump('binance-spot', out, segName('bccap'), dump);
    assert.match(summary, ' 0 gaps');
    const { bad, compared } = compareAfter(readDump(dump), s.recorded, 'BTCUSDT', (line) => s.updateIds.get(line)! > L);
    assert.is(bad, '');
    assert.is(compared, readDump(dump).length, 'no book but those');
    assert.ok(compared > 100, `${compared} books`);
  } finally {
    await cap?.run.kill();
    await vr.proc.run.kill();
  }
});

test('a capture killed with SIGKILL leaves a file that reads up to the cut: the frames served so far, in order', async () => {
  const s = await spot();
  // Paced, so the kill lands mid-way.
  const vr = await startVenueReplay(s.file, ['--speed', '10']);
  const out = join(dir, 'killed.gz');
  let cap: Proc | null = null;
  try {
    cap = startNode(binPath, captureArgs(vr.ws, vr.rest, out));
    const some = 1000;
    await waitUntil(async () => (await captureLines(out)).lines.length >= some, 60_000, { what: `${some} lines readable in the growing capture` });
    cap.child.kill('SIGKILL');
    const exit = await cap.exited;
    assert.is(exit.signal, 'SIGKILL');
    const got = await captureLines(out);
    assert.ok(got.truncated !== null, 'the cut end is reported');
    assert.match(got.truncated!, 'ends early');
    assert.ok(got.lines.length >= some, `${got.lines.length} lines`);
    const frames = got.lines.filter((p) => p.startsWith('{"stream"'));
    assert.ok(frames.length < s.frames.length, 'killed before the end');
    assert.equal(frames, s.frames.slice(0, frames.length), 'a prefix of what was served');
    assert.throws(() => gunzipSync(readFileSync(out)), /unexpected end of file/);
  } finally {
    await cap?.run.kill();
    await vr.proc.run.kill();
  }
});

test('the writer: lines are readable while it writes (sync flushes), a line break inside a payload becomes a space, close makes a whole gzip file', async () => {
  const out = join(dir, 'writer.gz');
  const w = CaptureWriter.open(out, { flushMs: 60_000, flushLines: 2 });
  w.write(1723161253937085768n, '{"a":1}');
  w.write(1723161253937085769n, '{"b":\n2}');
  await waitUntil(async () => (await captureLines(out)).lines.length === 2, 10_000, { what: 'two lines readable before close' });
  const mid = await captureLines(out);
  assert.equal(mid.lines, ['{"a":1}', '{"b": 2}']);
  assert.ok(mid.truncated !== null, 'not closed yet: a cut gzip stream');
  w.write(1723161253937085770n, 'not json');
  await w.close();
  assert.is(w.rewritten, 1);
  assert.is(gunzipSync(readFileSync(out)).toString(), '1723161253937085768 {"a":1}\n1723161253937085769 {"b": 2}\n1723161253937085770 not json\n');
});

test('capture refuses an output it cannot write (a directory, a missing directory) with MDFAN_ERR_OUTPUT, before connecting', () => {
  const sub = join(dir, 'adir');
  mkdirSync(sub);
  for (const [out, why] of [
    [sub, 'is a directory'],
    [join(dir, 'missing', 'x.gz'), 'does not exist'],
  ] as const) {
    const r = spawnSync(process.execPath, [binPath, ...captureArgs('ws://127.0.0.1:9', 'http://127.0.0.1:9', out)], { encoding: 'utf8', timeout: 20_000 });
    assert.is(r.status, 1, r.stderr);
    assert.match(r.stderr, 'MDFAN_ERR_OUTPUT');
    assert.match(r.stderr, why);
  }
});

test('capture refuses a source that is not live, and a bad URL (exit 2)', () => {
  for (const [args, what] of [
    [['--source', 'binance-spot:x.gz'], '--source must be'],
    [['--source', 'binance-spot:live', '--ws-url', 'http://x'], '--ws-url must be a ws: or wss: URL'],
  ] as const) {
    const r = spawnSync(process.execPath, [binPath, 'capture', '--symbols', 'BTCUSDT', '--out', join(dir, 'n.gz'), ...args], { encoding: 'utf8' });
    assert.is(r.status, 2, r.stderr);
    assert.match(r.stderr, what);
  }
});

test.after(killAll);
test.run();
