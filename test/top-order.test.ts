/**
 * The top line before the book, made certain: a book commit whose top changed commits the top line
 * first, then the slot (docs/ABI.md, "Commit with a book"), so a reader never finds a top line
 * older than a book it read (the torture test's check, met there only by chance). The writer
 * stops between the two commits (MDFAN_TEST_PAUSE_BETWEEN_COMMITS) and the test reads both.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SegmentReader, TopSnapshot } from '../native/segment/index.js';
import { killAll, startNode } from './helpers/procs.js';
import { cleanupSegments, segName } from './helpers/segments.js';
import { pauseReached, releasePause } from './helpers/test-pause.js';
import { makeFifo, removeFifo } from './helpers/fifo.js';

const proc = new URL('./helpers/top-order-proc.js', import.meta.url);

test.after.each(() => {
  killAll();
  cleanupSegments();
});

test('between a book commit\'s top line and its slot, the top line already shows the new book and the slot the old one: the line is never older than the book', async () => {
  const name = segName('top-order');
  const fifo = makeFifo('top-order');
  try {
    const wp = startNode(proc, [name], { env: { ...process.env, MDFAN_TEST_PAUSE_BETWEEN_COMMITS: fifo } });
    await wp.line(/^ready/);
    const r = SegmentReader.openSync(name);
    try {
      const book = r.newSnapshot();
      const top = new TopSnapshot();
      const look = (): number[] => {
        r.read(0, book); // the book first, then the line: the line must be at least as new
        r.readTop(0, top);
        return [book.msgIndex, top.msgIndex, top.bidPrice];
      };
      assert.equal(look(), [1, 1, 1001], 'book 1 committed whole');
      wp.child.kill('SIGUSR2');
      await pauseReached(fifo, 'the writer to commit book 2\'s top line and pause before its slot');
      const [bookMsg, topMsg, topBid] = look();
      assert.ok(topMsg >= bookMsg, `the top line (message ${topMsg}) is older than the book read before it (message ${bookMsg})`);
      assert.equal([bookMsg, topMsg, topBid], [1, 2, 1002], 'in the window: the line shows book 2, the slot still book 1');
      await releasePause(fifo, 'the writer to commit the slot');
      await wp.line(/^published 2$/);
      assert.equal(look(), [2, 2, 1002], 'book 2 committed whole');
    } finally {
      r.close();
    }
  } finally {
    removeFifo(fifo);
  }
});

test.run();
