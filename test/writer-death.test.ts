/**
 * kill -9 at random moments under load: a writer process commits to a slot as fast as it can, a
 * reader reads it as fast as it can, and the writer is SIGKILLed at a random moment (possibly
 * mid-commit). The reader must never get a torn book (every read is whole or MDFAN_ERR_STALE),
 * must see the writer dead, and must carry on when the next writer takes over (generation + 1).
 * The same for the top-of-book line, read beside the book: whole, level 0 of one commit, or STALE.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SegmentReader, TopSnapshot, type MdfanError } from '../native/segment/index.js';
import { segName, cleanupSegments, codeOf } from './helpers/segments.js';
import { startNode, killAll } from './helpers/procs.js';
import { checkPayload, checkTopPayload } from './helpers/torture-payload.js';

const proc = new URL('./helpers/writer-proc.js', import.meta.url);

test.after.each(() => {
  killAll();
  cleanupSegments();
});

test('SIGKILL at random moments under load: never torn, death seen, takeover with generation + 1', async () => {
  const name = segName('kill9');
  let reader: SegmentReader | null = null;
  let torn = 0;
  let firstTorn = '';
  let whole = 0;
  let stale = 0;
  let empty = 0;
  let topsWhole = 0;
  try {
    for (let round = 1; round <= 6; round++) {
      const p = startNode(proc, ['hammer', name]);
      const ready = await p.line(/^ready/);
      assert.is(ready, round === 1 ? 'ready 1 created' : `ready ${round} takeover`);
      reader ??= SegmentReader.openSync(name, { staleAfterMs: 20 });
      assert.is(reader.currentGeneration, round);
      reader.refreshTops(); // the new writer made new top lines
      const snap = reader.newSnapshot();
      const top = new TopSnapshot();
      const readFor = (ms: number): void => {
        const end = performance.now() + ms;
        while (performance.now() < end) {
          try {
            reader!.read(0, snap);
          } catch (e) {
            if ((e as MdfanError).code !== 'MDFAN_ERR_STALE') throw e;
            stale++;
            continue;
          }
          try {
            reader!.readTop(0, top);
            if (top.seq !== 0 && !top.stale) {
              const why = checkTopPayload(top);
              if (why !== null) {
                torn++;
                firstTorn ||= `round ${round}: top: ${why} (seq ${top.seq}, msgIndex ${top.msgIndex})`;
              } else topsWhole++;
            }
          } catch (e) {
            if ((e as MdfanError).code !== 'MDFAN_ERR_STALE') throw e;
            stale++;
          }
          if (snap.stale) continue; // the takeover's empty placeholder until the first commit
          if (snap.seq === 0) {
            empty++; // never committed yet (the writer printed "ready" before its first commit)
            continue;
          }
          const why = checkPayload(snap);
          if (why !== null) {
            torn++;
            firstTorn ||= `round ${round}: ${why} (seq ${snap.seq}, flags ${snap.flags}, msgIndex ${snap.msgIndex}, gen ${reader!.currentGeneration})`;
          } else whole++;
        }
      };
      readFor(10 + Math.random() * 150);
      p.child.kill('SIGKILL');
      readFor(30); // reads after the death: whole books or STALE (a half commit), never torn
      await p.exited;
      assert.is(codeOf(() => reader!.checkWriter()), 'MDFAN_ERR_WRITER_DEAD');
    }
  } finally {
    reader?.close();
  }
  assert.is(torn, 0, `${torn} torn books returned; first: ${firstTorn}`);
  assert.ok(whole > 1000, `only ${whole} whole reads: the test did not read under load`);
  assert.ok(topsWhole > 1000, `only ${topsWhole} whole top reads`);
  console.log(`  (${whole} whole reads, ${stale} STALE refusals, ${empty} reads before the first commit, across 6 kills)`);
});

test.run();
