/**
 * The control plane: readers announce themselves and `mdfan stat` lists them; the writer says
 * hello and shutdown; losing the socket never stops the data plane.
 */
import { test } from 'uvu';
import { readBookLines } from '../lib/book-line.js';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SegmentWriter } from '../native/segment/index.js';
import { parseControlLine } from '../native/segment/control.js';
import { SEGMENT_DEFAULTS } from '../native/segment/defaults.js';
import { LogEvent } from '../lib/log.js';
import { binPath } from './helpers/paths.js';
import { startNode, killAll } from './helpers/procs.js';
import { segName, cleanupSegments } from './helpers/segments.js';
import { waitUntil } from './helpers/wait.js';
import { specOf } from '../native/segment/directory.js';

const dir = mkdtempSync(join(tmpdir(), 'mdfan-ctl-'));
test.after.each(() => {
  killAll();
  cleanupSegments();
});
test.after(() => rmSync(dir, { recursive: true, force: true }));

// Asynchronous: the writer under test lives in this process, and its control server must be
// able to answer while stat runs.
const run = promisify(execFile);
const statJson = async (name: string) => JSON.parse((await run(process.execPath, [binPath, 'stat', '--segment', name, '--json'])).stdout);
const book = (k: number) => ({ bidCount: 1, askCount: 0, bids: new Float64Array([k, 1, 1]), asks: new Float64Array(3) });

test('readers announce attach and detach; mdfan stat lists them and counts them', async () => {
  const name = segName('ctl');
  const w = SegmentWriter.open({ name, maxInstruments: 1, levels: 1 });
  w.startIdleHeartbeat();
  try {
    assert.ok(await w.startControl());
    w.addInstrument('AAA', 1, specOf(0));
    const r = startNode(binPath, ['read', '--segment', name, '--wait', 'block']);
    await waitUntil(() => w.control!.readers().length > 0, 20_000, { what: 'the reader to announce itself on the control socket' });
    let st = await statJson(name);
    assert.is(st.control_socket, `/dev/shm/${name}.ctl`);
    assert.equal(st.readers.map((x: { pid: number; wait: string }) => [x.pid, x.wait]), [[r.child.pid, 'block']]);
    assert.is(st.counters.reader_attaches, 1);
    const text = (await run(process.execPath, [binPath, 'stat', '--segment', name])).stdout;
    assert.match(text, `pid ${r.child.pid} (block`);
    r.child.kill('SIGKILL');
    await r.exited;
    await waitUntil(() => w.control!.readers().length === 0, 10_000, { what: "the writer to see the killed reader's connection close" });
    st = await statJson(name);
    assert.equal(st.readers, []);
    assert.is(st.counters.reader_detaches, 1);
  } finally {
    w.close();
  }
  assert.is(existsSync(`/dev/shm/${name}.ctl`), false, 'the socket is removed at close');
});

test('a reader attached before the control socket listens is registered once it does', async () => {
  const name = segName('ctl-late');
  const w = SegmentWriter.open({ name, maxInstruments: 1, levels: 1 });
  w.startIdleHeartbeat();
  try {
    w.addInstrument('AAA', 1, specOf(0));
    const r = startNode(binPath, ['read', '--segment', name, '--wait', 'yield']);
    await r.event(LogEvent.READER_ATTACHED);
    assert.ok(await w.startControl());
    await waitUntil(() => w.control!.readers().some((x) => x.pid === r.child.pid), 20_000, { what: 'the early reader announced on the late socket' });
    const st = await statJson(name);
    assert.equal(st.readers.map((x: { pid: number }) => x.pid), [r.child.pid]);
  } finally {
    w.close();
  }
});

test('a flood of connections cannot exhaust the writer: at most the cap stay open, and a real reader still gets in and is listed', async () => {
  const name = segName('ctl-flood');
  const w = SegmentWriter.open({ name, maxInstruments: 1, levels: 1 });
  w.startIdleHeartbeat();
  const flood: Array<ReturnType<typeof createConnection>> = [];
  try {
    assert.ok(await w.startControl());
    w.addInstrument('AAA', 1, specOf(0));
    const cap = SEGMENT_DEFAULTS.controlMaxConnections;
    let open = 0;
    for (let i = 0; i < cap + 100; i++) {
      const c = createConnection(`/dev/shm/${name}.ctl`);
      c.on('error', () => undefined);
      c.resume(); // read (and drop) what the writer says, so its hang-up is seen
      c.on('connect', () => open++);
      c.on('close', () => open--);
      flood.push(c);
    }
    await waitUntil(() => flood.every((c) => c.destroyed || c.readyState === 'open'), 20_000, { what: 'the flood to connect' });
    await waitUntil(() => open <= cap, 20_000, { what: `the writer to keep at most ${cap} connections (open: ${open})` });
    // One too long line is hung up on, not buffered.
    const big = createConnection(`/dev/shm/${name}.ctl`);
    big.on('error', () => undefined);
    big.resume();
    big.on('connect', () => big.write('x'.repeat(SEGMENT_DEFAULTS.controlMaxLineBytes * 4)));
    await waitUntil(() => big.destroyed || big.readyState === 'closed', 20_000, { what: 'the writer to hang up on an endless line' });
    const r = startNode(binPath, ['read', '--segment', name, '--wait', 'block']);
    await waitUntil(() => w.control!.readers().some((x) => x.pid === r.child.pid), 20_000, { what: 'a real reader registered despite the flood' });
    const st = await statJson(name);
    assert.ok(st.readers.some((x: { pid: number }) => x.pid === r.child.pid), JSON.stringify(st.readers));
  } finally {
    for (const c of flood) c.destroy();
    w.close();
  }
});

test('hostile lines are dropped as data, never thrown: null, arrays, numbers, strings, unknown types, fields of the wrong kind; the writer serves on', async () => {
  const name = segName('ctl-hostile');
  // A writer in its own process: an exception escaping its control plane would end it.
  const wp = startNode(new URL('./helpers/writer-proc.js', import.meta.url), ['serve', name, '1', '1']);
  await wp.line(/^ready /);
  const c = createConnection(`/dev/shm/${name}.ctl`);
  c.on('error', () => undefined);
  c.setEncoding('utf8');
  let heard = '';
  c.on('data', (d: string) => {
    heard += d;
  });
  await new Promise((r) => c.once('connect', r));
  // A pid that is not this process's is refused (the connection serves on); a wait of the wrong kind is dropped.
  for (const line of ['null', '[]', '1', '"attach"', 'true', '{"type":5}', '{"type":null}', '{"type":"shutdown"}', '{"type":"attach","pid":{"a":1},"wait":"spin"}', `{"type":"attach","pid":${process.pid},"wait":{"x":1}}`, '{"type":"events","read":"many","lost":null}'])
    c.write(`${line}\n`);
  c.write('{"type":"list"}\n');
  // The writer is still there and answers on the same connection: its list names this peer with the claims dropped.
  const listed = await waitUntil(() => /"type":"readers"/.test(heard) ? heard : null, 10_000, { what: 'the list answered after the hostile lines' });
  assert.is(wp.run.exit, null, `the writer lives on: ${wp.stderr()}`);
  const readers = JSON.parse(listed.split('\n').find((l) => l.includes('"readers"'))!).readers as Array<{ pid: number; wait: string; events_read?: number }>;
  assert.equal(readers.map((r) => [r.pid, r.wait, r.events_read]), [[process.pid, '', undefined]]);
  assert.match(heard, '"type":"refused","code":"MDFAN_ERR_PEER_REFUSED","reason":"pid","claimed":0');
  c.destroy();
  wp.child.kill('SIGTERM');
  assert.is((await wp.exited).code, 0, wp.stderr());
});

test('the writer says hello with its generation, and shutdown when it closes', async () => {
  const name = segName('ctl-hello');
  const w = SegmentWriter.open({ name, maxInstruments: 1, levels: 1 });
  assert.ok(await w.startControl());
  const sock = createConnection(`/dev/shm/${name}.ctl`);
  sock.setEncoding('utf8');
  let got = '';
  sock.on('data', (d: string) => (got += d));
  await new Promise((r) => sock.once('connect', r));
  await waitUntil(() => got.includes('\n'), 10_000, { what: "the writer's hello" });
  w.close();
  await new Promise((r) => sock.once('close', r));
  const msgs = got.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(msgs[0], { type: 'hello', generation: 1, pid: process.pid });
  assert.equal(msgs[msgs.length - 1], { type: 'shutdown', state: 'CLOSED' });
});

test('readers still connected when the writer closes: the writer exits cleanly (no counter update after unmapping)', async () => {
  const name = segName('ctl-close');
  const w = SegmentWriter.open({ name, maxInstruments: 1, levels: 1 });
  assert.ok(await w.startControl());
  const readers = [0, 1, 2].map(() => startNode(binPath, ['read', '--segment', name, '--wait', 'block']));
  await waitUntil(() => w.control!.readers().length === 3, 20_000, { what: 'the three readers connected to the control socket' });
  let crashed: unknown = null;
  const onErr = (e: unknown): void => {
    crashed = e;
  };
  process.on('uncaughtException', onErr);
  try {
    w.close();
    // The sockets' close events arrive after the mapping is gone: wait until all three came in.
    await waitUntil(() => w.control!.readers().length === 0, 10_000, { what: "the readers' sockets to close" });
  } finally {
    process.off('uncaughtException', onErr);
  }
  assert.is(crashed, null, String(crashed));
  for (const r of readers) assert.is((await r.exited).code, 0, r.stderr());
});

test('losing the control socket never stops the data plane', async () => {
  const name = segName('ctl-lost');
  const rec = join(dir, 'lost.txt');
  const w = SegmentWriter.open({ name, maxInstruments: 1, levels: 1 });
  w.startIdleHeartbeat();
  try {
    assert.ok(await w.startControl());
    w.addInstrument('AAA', 1, specOf(0));
    const r = startNode(binPath, ['read', '--segment', name, '--wait', 'yield', '--record', rec]);
    await waitUntil(() => w.control!.readers().length === 1, 20_000, { what: 'the reader attached and connected to the control socket' });
    w.publish(0, book(1), 1, 1);
    w.control!.close(); // the socket goes away (its readers are told "shutdown", and ignore it)
    assert.is(existsSync(`/dev/shm/${name}.ctl`), false);
    for (let k = 2; k <= 5; k++) {
      w.publish(0, book(k), k, k);
      await sleep(30); // pacing only (books over time, not in one burst): nothing waits on it
    }
    w.close(); // the reader reads what it has not read yet, then sees CLOSED
    assert.is((await r.exited).code, 0, r.stderr());
    const lines = readBookLines(rec);
    assert.is(lines[lines.length - 1], '5,AAA,9999999999,0,5,1', 'books published after the socket was lost were read');
  } finally {
    if (!w.closed) w.close();
  }
});

test('a control line\'s fields are checked for size too: a wait name longer than 16 characters, or a pid out of range, is dropped', () => {
  const attach = (pid: unknown, wait: unknown) => parseControlLine(JSON.stringify({ type: 'attach', pid, wait }));
  assert.equal(attach(42, 'x'.repeat(16)), { type: 'attach', pid: 42, wait: 'x'.repeat(16) });
  assert.equal(attach(42, 'x'.repeat(17)), { type: 'attach', pid: 42, wait: '' });
  assert.equal(attach(42, 'x'.repeat(4000)), { type: 'attach', pid: 42, wait: '' });
  assert.equal(attach(0x7fffffff, 'spin'), { type: 'attach', pid: 0x7fffffff, wait: 'spin' });
  for (const pid of [0, -1, 0x80000000, 1.5, '42', null]) assert.equal(attach(pid, 'spin'), { type: 'attach', pid: 0, wait: 'spin' }, `pid ${JSON.stringify(pid)}`);
});

test.run();
