/**
 * A writer restarted with an older ABI against live readers: the SDK reader and `mdfan read`
 * refuse the new object with MDFAN_ERR_ABI_VERSION naming both versions, instead of reading it
 * or reporting a dead writer forever. (The older writer is simulated: a segment whose header
 * says ABI major 0, created under the name after the ABI-1 writer died.)
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { closeSync, openSync, writeSync } from 'node:fs';
import { SegmentWriter, abi, unlinkSegment } from '../native/segment/index.js';
import { LogEvent } from '../lib/log.js';
import { BookReader, WaitResult } from '../workers/sdk/book-reader.js';
import { binPath } from './helpers/paths.js';
import { startNode, killAll } from './helpers/procs.js';
import { segName, cleanupSegments } from './helpers/segments.js';
import { ITCH_SPEC } from '../native/segment/directory.js';

const proc = new URL('./helpers/writer-proc.js', import.meta.url);
test.after.each(() => {
  killAll();
  cleanupSegments();
});

/** What an ABI-0 writer leaves under the name: a READY segment whose header says major 0. */
function olderAbiWriter(name: string): void {
  unlinkSegment(name); // it does not know our protocol: it just makes its own object
  const w = SegmentWriter.open({ name, maxInstruments: 4, levels: 5 });
  w.addInstrument('OLD', 1, ITCH_SPEC);
  const fd = openSync(`/dev/shm/${name}`, 'r+');
  try {
    writeSync(fd, Buffer.from([0, 0]), 0, 2, abi.HDR.abi_major.offset);
  } finally {
    closeSync(fd);
  }
  w.close({ state: abi.STATE_READY }); // leaves it READY, as a live older writer would show it
}

test('SDK reader: writer killed, an ABI-0 writer re-creates the name: next() throws MDFAN_ERR_ABI_VERSION naming 0 and 1', async () => {
  const name = segName('oldabi');
  const p = startNode(proc, ['serve', name, '10', '2']);
  await p.line(/^ready/);
  const r = await BookReader.attach(name, { wait: 'yield', heartbeatTimeoutMs: 300 });
  try {
    p.child.kill('SIGKILL');
    await p.exited;
    assert.is(await r.next(2000), WaitResult.WRITER_DEAD);
    olderAbiWriter(name);
    let err: { code?: string; message?: string } = {};
    try {
      const changed = new Int32Array(16);
      for (const end = performance.now() + 3000; performance.now() < end; ) {
        if ((await r.next(100)) === WaitResult.UPDATED) r.changed(changed); // consume, as a reader does
      }
    } catch (e) {
      err = e as typeof err;
    }
    assert.is(err.code, 'MDFAN_ERR_ABI_VERSION');
    assert.match(err.message!, `ABI 0.${abi.ABI_MINOR}`); // the older writer is simulated by patching the major only
    assert.match(err.message!, `ABI ${abi.ABI_MAJOR}.${abi.ABI_MINOR}`);
  } finally {
    r.close();
  }
});

test('mdfan read: the same restart ends the reader with exit 1 and MDFAN_ERR_ABI_VERSION naming both versions', async () => {
  const name = segName('oldabi-cli');
  const p = startNode(proc, ['serve', name, '10', '2']);
  await p.line(/^ready/);
  const reader = startNode(binPath, ['read', '--segment', name, '--wait', 'block']);
  await reader.event(LogEvent.READER_ATTACHED);
  p.child.kill('SIGKILL');
  await p.exited;
  await reader.event(LogEvent.WRITER_DEAD); // the reader reports the death (lock free, or heartbeat silent 1 s)
  olderAbiWriter(name);
  const { code } = await reader.exited;
  assert.is(code, 1, reader.stderr());
  assert.match(reader.stderr(), 'MDFAN_ERR_WRITER_DEAD');
  assert.match(reader.stderr(), new RegExp(`MDFAN_ERR_ABI_VERSION: segment .* has ABI 0\\.${abi.ABI_MINOR}; this reader speaks ABI ${abi.ABI_MAJOR}\\.${abi.ABI_MINOR}`));
});

test.run();
