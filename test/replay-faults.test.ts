/**
 * The failure scenarios of `mdfan replay` on short runs of the GOOG day at 500x: the writer
 * killed and restarted, a second writer, a version mismatch, a stalled reader. Each must report
 * what was detected, by whom, with which code, and a detection time (checked only to be present
 * and below the heartbeat timeout plus a generous bound: no performance figures here).
 */
import { test } from 'uvu';
import { abi } from '../native/segment/index.js';
import * as assert from 'uvu/assert';
import { goog, replayCli, scenarioFile, seg, teardown } from './helpers/replay-run.js';

test.after.each(teardown);

const feed = { source: `itch:${goog}`, speed: 500, maxGapS: 1 };
const BOUND_MS = 1000 + 4000; // heartbeat timeout + a loaded 2-core machine

test('kill-writer and restart: every reader logs MDFAN_ERR_WRITER_DEAD, generation + 1, readers go on', async () => {
  const file = scenarioFile({
    name: 'kill',
    feed: { ...feed, levels: 2 },
    readers: [{ count: 1, wait: 'block' }, { count: 1, wait: 'yield' }],
    faults: [{ kind: 'kill-writer', atS: 1.5, restartAfterS: 0.5 }],
    durationS: 4.5,
  });
  const r = await replayCli(file, seg('kill'), ['--quiet']);
  assert.is(r.code, 0, r.stdout + r.stderr);
  const run = r.report.runs[0];
  const f = run.faults[0];
  assert.is(f.kind, 'kill-writer');
  assert.is(f.ok, true, f.reason);
  assert.is(f.detections.length, 2);
  for (const d of f.detections) {
    assert.is(d.code, 'MDFAN_ERR_WRITER_DEAD', JSON.stringify(d));
    assert.ok(typeof d.ms === 'number' && d.ms >= 0 && d.ms < BOUND_MS, `detection ${d.ms} ms`);
  }
  assert.is(f.details.generation_after, f.details.generation_before + 1);
  assert.is(f.details.restart_outcome, 'takeover');
  for (const a of f.details.readers_after_restart) assert.ok(a.updates_after_restart > 0, JSON.stringify(a));
  assert.is(run.writer.writers_started, 2);
  assert.is(run.writer.generation, f.details.generation_after);
  assert.match(r.stdout, 'MDFAN_ERR_WRITER_DEAD');
});

test('second-writer: refused with MDFAN_ERR_WRITER_ALIVE naming the live pid; the first writer goes on', async () => {
  const file = scenarioFile({ name: 'second', feed, readers: [{ count: 1, wait: 'block' }], faults: [{ kind: 'second-writer', atS: 1 }], durationS: 3 });
  const r = await replayCli(file, seg('second'), ['--quiet']);
  assert.is(r.code, 0, r.stdout + r.stderr);
  const run = r.report.runs[0];
  const f = run.faults[0];
  assert.is(f.ok, true, f.reason);
  assert.is(f.detections[0].code, 'MDFAN_ERR_WRITER_ALIVE');
  assert.match(f.detections[0].message, `pid ${run.writer.pid}`);
  assert.is(f.details.first_pid, run.writer.pid);
  assert.is(f.details.second_exit_code, 1);
  assert.ok(f.detection_ms > 0 && f.detection_ms < 30_000);
  assert.is(run.writer.exit_code, 0);
  assert.is(f.details.generation_after, f.details.generation);
});

test('version-mismatch: a reader attaching is refused with MDFAN_ERR_ABI_VERSION naming both versions', async () => {
  const file = scenarioFile({ name: 'abi', feed, readers: [{ count: 1, wait: 'block' }], faults: [{ kind: 'version-mismatch', atS: 1 }], durationS: 3 });
  const r = await replayCli(file, seg('abi'), ['--quiet']);
  assert.is(r.code, 0, r.stdout + r.stderr);
  const run = r.report.runs[0];
  const f = run.faults[0];
  assert.is(f.ok, true, f.reason);
  assert.is(f.detections.length, 2); // the probe process and the in-process attach
  for (const d of f.detections) {
    assert.is(d.code, 'MDFAN_ERR_ABI_VERSION');
    assert.match(d.message, `ABI ${abi.ABI_MAJOR + 1}.${abi.ABI_MINOR}`); // the fault patches the major only
    assert.match(d.message, `ABI ${abi.ABI_MAJOR}.`);
    assert.ok(typeof d.ms === 'number' && d.ms < BOUND_MS);
  }
  assert.is(run.readers[0].exit_code, 0);
  assert.ok(run.readers[0].updates > 0);
});

test('a stalled reader: the writer publishes on; resumed, the reader reads the latest book', async () => {
  const file = scenarioFile({
    name: 'stall',
    feed: { ...feed, levels: 2 },
    readers: [{ count: 2, wait: 'block' }],
    stalls: [{ reader: 0, atS: 1, forS: 1.5 }],
    durationS: 4,
  });
  const r = await replayCli(file, seg('stall'), ['--quiet']);
  assert.is(r.code, 0, r.stdout + r.stderr);
  const run = r.report.runs[0];
  const s = run.stalls[0];
  assert.is(s.ok, true, s.reason);
  assert.is(s.read_latest, true);
  assert.ok(s.writer_publishes_while_stopped > 0, 'the writer published while the reader was stopped');
  assert.ok(s.updates_after_resume > 0);
  const goog = s.last_msg_index.GOOG;
  assert.is(goog.reader, goog.writer);
  assert.ok(run.readers[0].stalled && !run.readers[1].stalled);
  assert.ok(run.readers[1].updates > 0);
});

test.run();
