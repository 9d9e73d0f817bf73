/**
 * 2 MiB pages (`hugePages`, `mdfan feed --huge-pages`). Where /dev/shm cannot have them (its tmpfs
 * mounted without huge=, the default): MDFAN_ERR_NO_HUGE_PAGES naming the setting and how to
 * change it, and nothing left in /dev/shm. Where it can (huge=advise): the writer's and a
 * reader's mappings are 2 MiB-mapped (smaps), books read back exact, stat says so, and a writer
 * without huge pages re-creates the object rather than adopt it. The branch that runs is the
 * machine's; both are run where the mount is switched.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { SegmentReader, SegmentWriter } from '../native/segment/index.js';
import { HUGE_PAGE_BYTES, checkHugePages, hugeMappedBytes } from '../native/segment/huge-pages.js';
import { statSegment } from '../native/segment/stat.js';
import { isMdfanError } from '../native/segment/errors.js';
import { binPath } from './helpers/paths.js';
import { GOOG_ITCH } from './helpers/oracle.js';
import { killAll, startNode } from './helpers/procs.js';
import { cleanupSegments, segName } from './helpers/segments.js';
import { ITCH_SPEC } from '../native/segment/directory.js';

test.after.each(() => {
  killAll();
  cleanupSegments();
});

function available(): boolean {
  try {
    checkHugePages('probe');
    return true;
  } catch (e) {
    if (isMdfanError(e, 'MDFAN_ERR_NO_HUGE_PAGES')) return false;
    throw e;
  }
}

const book = (bid: number) => ({ bidCount: 1, askCount: 1, bids: new Float64Array([bid, 10, 1, ...new Array(27).fill(0)]), asks: new Float64Array([bid + 5, 20, 2, ...new Array(27).fill(0)]) });

test('no 2 MiB pages here: MDFAN_ERR_NO_HUGE_PAGES naming the setting and the fix, nothing left behind (writer and mdfan feed)', async () => {
  if (available()) return console.log('\n  (skipped: /dev/shm has 2 MiB pages here; the next test runs instead)');
  const name = segName('huge-refused');
  assert.throws(
    () => SegmentWriter.open({ name, maxInstruments: 10_000, levels: 10, hugePages: true }),
    (e: unknown) => isMdfanError(e, 'MDFAN_ERR_NO_HUGE_PAGES') && /huge=\w+|shmem_enabled/.test(e.message) && /mount -o remount,huge=advise|shmem_enabled/.test(e.message),
  );
  assert.not.ok(existsSync(`/dev/shm/${name}`), 'no object left');
  const feed = startNode(binPath, ['feed', '--source', `itch:${GOOG_ITCH}`, '--segment', name, '--huge-pages']);
  assert.is((await feed.exited).code, 1);
  assert.match(feed.stderr(), /MDFAN_ERR_NO_HUGE_PAGES/);
  assert.not.ok(existsSync(`/dev/shm/${name}`));
});

test('2 MiB pages here: writer and reader map them (smaps), books read back exact, stat says so, a 4 KiB writer re-creates the object', () => {
  if (!available()) return console.log('\n  (skipped: /dev/shm has no 2 MiB pages here: mount -o remount,huge=advise /dev/shm runs this test)');
  const name = segName('huge');
  const w = SegmentWriter.open({ name, maxInstruments: 10_000, levels: 10, hugePages: true });
  try {
    const writerHuge = hugeMappedBytes(name);
    assert.ok(writerHuge >= HUGE_PAGE_BYTES, `the writer's mapping: ${writerHuge} bytes in 2 MiB pages`);
    const slot = w.addInstrument('GOOG', 1, ITCH_SPEC);
    w.publish(slot, book(5853300), 7, 1);
    const r = SegmentReader.openSync(name);
    try {
      assert.ok(hugeMappedBytes(name) >= writerHuge + HUGE_PAGE_BYTES, "the reader's mapping too");
      const snap = r.newSnapshot();
      r.read(slot, snap);
      assert.equal([snap.msgIndex, snap.bidPrice(0), snap.bidSize(0), snap.askPrice(0), snap.askSize(0)], [7, 5853300, 10, 5853305, 20]);
    } finally {
      r.close();
    }
    assert.is(statSegment(name).layout.huge_pages, true);
  } finally {
    w.close();
  }
  const w4k = SegmentWriter.open({ name, maxInstruments: 10_000, levels: 10 });
  try {
    assert.is(w4k.outcome, 'recreated', 'another page size is another layout: the object is made again');
    assert.is(statSegment(name).layout.huge_pages, false);
  } finally {
    w4k.close({ unlink: true });
  }
});

test.run();
