/**
 * A stalled reader (SIGSTOP) costs the writer nothing: the writer never waits for readers, so it
 * publishes everything while the reader is stopped (no timing is asserted: the writer's code has
 * no path that depends on a reader). Resumed, the reader reads the latest books.
 */
import { test } from 'uvu';
import { readBookLines } from '../lib/book-line.js';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SegmentWriter } from '../native/segment/index.js';
import { LogEvent } from '../lib/log.js';
import { binPath } from './helpers/paths.js';
import { startNode, killAll, procState } from './helpers/procs.js';
import { segName, cleanupSegments } from './helpers/segments.js';
import { waitUntil } from './helpers/wait.js';
import { specOf } from '../native/segment/directory.js';

const dir = mkdtempSync(join(tmpdir(), 'mdfan-stall-'));
test.after.each(() => {
  killAll();
  cleanupSegments();
});
test.after(() => rmSync(dir, { recursive: true, force: true }));

for (const wait of ['spin', 'block']) {
  test(`a ${wait} reader stopped for a second: the writer publishes on; resumed, the reader sees the latest book`, async () => {
    const name = segName(`stall-${wait}`);
    const rec = join(dir, `${wait}.txt`);
    const w = SegmentWriter.open({ name, maxInstruments: 2, levels: 1 });
    assert.ok(await w.startControl()); // block readers get the registry's descriptor over it
    w.startIdleHeartbeat();
    try {
      w.addInstrument('AAA', 1, specOf(0));
      const src = { bidCount: 1, askCount: 1, bids: new Float64Array([100, 1, 1]), asks: new Float64Array([101, 1, 1]) };
      w.publish(0, src, 1, 1); // the reader reads it first thing after attaching (its seq is new to it)
      const r = startNode(binPath, ['read', '--segment', name, '--wait', wait, '--record', rec]);
      await r.event(LogEvent.READER_ATTACHED);
      // block: asleep on the futex, which it only does once it has read every changed book (book 1).
      if (wait === 'block') await waitUntil(() => w.registry.sleepers() >= 1, 20_000, { what: 'the block reader asleep on the futex' });
      r.child.kill('SIGSTOP');
      await waitUntil(() => procState(r.child.pid) === 'T', 10_000, { what: 'the reader to be stopped' });
      for (let k = 2; k <= 20_000; k++) {
        src.bids[0] = 100 + (k % 50);
        w.publish(0, src, k, k);
        w.wakeIfSleepers(); // a stopped sleeper is still counted: a wake-up syscall, never a wait
      }
      assert.is(w.publishes, 20_000); // all published while the reader was stopped
      assert.is(procState(r.child.pid), 'T', 'the reader was still stopped');
      r.child.kill('SIGCONT');
      await waitUntil(() => procState(r.child.pid) !== 'T', 10_000, { what: 'the reader to resume' });
      w.close(); // CLOSED: the resumed reader reads what changed (the latest book), finishes and exits 0
      assert.is((await r.exited).code, 0, r.stderr());
      const lines = readBookLines(rec);
      assert.is(lines[lines.length - 1], `20000,AAA,101,1,${100 + (20_000 % 50)},1`, 'after resuming it read the latest book');
    } finally {
      if (!w.closed) w.close();
    }
  });
}

test.run();
