/** The addon's small pieces: clocks, CPU affinity, topology parsing, and the native commit begin. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SegmentWriter, SegmentReader, TopSnapshot, isMdfanError, type MdfanError } from '../native/segment/index.js';
import { native } from '../native/segment/binding.js';
import { benchAddonPath, benchNative } from '../bench/bench-addon.js';
import { parseCpuList, topology } from '../lib/topology.js';
import { segName, cleanupSegments } from './helpers/segments.js';

test.after.each(cleanupSegments);

test('CLOCK_MONOTONIC ns agrees with process.hrtime (libuv uses the same clock)', () => {
  const a = Number(process.hrtime.bigint());
  const b = native.monotonicNs();
  const c = Number(process.hrtime.bigint());
  assert.ok(b >= a - 1000 && b <= c + 1000, `${a} <= ${b} <= ${c}`);
  assert.ok(Math.abs(native.realtimeNs() / 1e6 - Date.now()) < 1000);
});

test('setAffinity pins the calling thread; getAffinity/currentCpu report it', () => {
  const before = native.getAffinity();
  try {
    const cpu = before[before.length - 1];
    native.setAffinity([cpu]);
    assert.equal(native.getAffinity(), [cpu]);
    assert.is(native.currentCpu(), cpu);
  } finally {
    native.setAffinity(before);
  }
  assert.equal(native.getAffinity(), before);
  // A CPU the process cannot run on is the caller's mistake, refused with a stable code.
  for (const bad of [[-1], [100000], [1000]]) {
    const e = (() => {
      try {
        native.setAffinity(bad);
      } catch (err) {
        return err;
      }
      return null;
    })();
    assert.ok(isMdfanError(e, 'MDFAN_ERR_OPTIONS'), `setAffinity(${bad}) -> ${String(e)}`);
    assert.match((e as Error).message, `CPU ${bad[0]} is not available`);
  }
  assert.equal(native.getAffinity(), before, 'a refused call changed nothing');
});

test('errors from the addon become MdfanError in the binding: a stable code, and syscall, errno and errno name as facts', () => {
  const absent = 'mdfan-test-definitely-absent-' + process.pid;
  try {
    native.shmOpen('/' + absent, 0, 0);
    assert.unreachable();
  } catch (e) {
    assert.ok(isMdfanError(e, 'MDFAN_ERR_NO_SEGMENT'), String(e));
    const err = e as MdfanError;
    assert.is(err.details.syscall, 'shm_open');
    assert.is(err.details.errname, 'ENOENT');
    assert.is(err.details.errno, 2);
    assert.is(err.details.segment, absent);
    assert.match(err.message, `no segment ${absent}`);
  }
  try {
    native.fstat(1_000_000); // no such fd
    assert.unreachable();
  } catch (e) {
    assert.ok(isMdfanError(e, 'MDFAN_ERR_SYSCALL'), String(e));
    assert.is((e as MdfanError).details.errname, 'EBADF');
  }
  assert.throws(() => native.shmOpen('no-leading-slash', 0, 0), /shm name must be/);
});

test('cpulists and topology from a synthetic /sys tree', () => {
  assert.equal(parseCpuList('0-3,8,10-11\n'), [0, 1, 2, 3, 8, 10, 11]);
  assert.equal(parseCpuList(''), []);
  assert.throws(() => parseCpuList('0-x'));
  const sys = mkdtempSync(join(tmpdir(), 'mdfan-sys-'));
  try {
    mkdirSync(join(sys, 'cpu'), { recursive: true });
    writeFileSync(join(sys, 'cpu', 'online'), '0-3\n');
    for (let c = 0; c < 4; c++) {
      mkdirSync(join(sys, 'cpu', `cpu${c}`, 'cache', 'index3'), { recursive: true });
      writeFileSync(join(sys, 'cpu', `cpu${c}`, 'cache', 'index3', 'shared_cpu_list'), c < 2 ? '0-1\n' : '2-3\n');
    }
    for (const n of [0, 1]) {
      mkdirSync(join(sys, 'node', `node${n}`), { recursive: true });
      writeFileSync(join(sys, 'node', `node${n}`, 'cpulist'), n === 0 ? '0-1\n' : '2-3\n');
    }
    const t = topology(sys);
    assert.equal(t.cpus, [0, 1, 2, 3]);
    assert.equal(t.numaNodes, [
      { node: 0, cpus: [0, 1] },
      { node: 1, cpus: [2, 3] },
    ]);
    assert.equal(t.l3Groups, [
      [0, 1],
      [2, 3],
    ]);
  } finally {
    rmSync(sys, { recursive: true, force: true });
  }
  const real = topology();
  assert.ok(real.cpus.length >= 1 && real.numaNodes.length >= 1 && real.l3Groups.length >= 1);
});

test('a commit stores every slot field; its top line carries level 0, the counts and the update count, and a commit that leaves the top alone does not touch the line', () => {
  const name = segName('commitfields');
  const w = SegmentWriter.open({ name, maxInstruments: 2, levels: 3 });
  try {
    const src = { bidCount: 2, askCount: 3, bids: new Float64Array([9, 8, 7, 6, 5, 4, 0, 0, 0]), asks: new Float64Array([10, 1, 1, 11, 2, 2, 12, 3, 3]) };
    const t0 = native.monotonicNs();
    const ts = w.slots.commit(1, src, 5, 6, 0);
    assert.ok(ts >= t0 && ts <= native.monotonicNs(), 'the publish time is read as the commit begins');
    const r = SegmentReader.openSync(name);
    const b = r.newSnapshot();
    r.read(1, b);
    assert.equal([b.seq, b.flags, b.msgIndex, b.exchangeTsNs, b.publishTsNs, b.bidCount, b.askCount, b.updateCount, b.instrumentIndex], [2, 0, 5, 6, ts, 2, 3, 1, 1]);
    assert.equal([...b.bids], [9, 8, 7, 6, 5, 4, 0, 0, 0], 'levels beyond the count are zeroed');
    assert.equal([...b.asks], [10, 1, 1, 11, 2, 2, 12, 3, 3]);
    const top = new TopSnapshot();
    r.readTop(1, top);
    assert.equal([top.seq, top.msgIndex, top.exchangeTsNs, top.publishTsNs, top.bidPrice, top.bidSize, top.askPrice, top.askSize, top.updateCount, top.bidCount, top.askCount], [2, 5, 6, ts, 9, 8, 10, 1, 1, 2, 3]);
    const before = w.slots.topCommits;
    src.bids[3] = 99; // level 1 only: the top is unchanged
    w.slots.commit(1, src, 7, 8, 0);
    r.readTop(1, top);
    assert.is(top.seq, 2, 'a commit below the top leaves the top line alone');
    assert.is(w.slots.topCommits, before);
    src.bids[1] = 1; // level 0's size
    w.slots.commit(1, src, 9, 10, 0);
    r.readTop(1, top);
    r.read(1, b);
    assert.equal([top.seq, top.msgIndex, top.bidSize, top.updateCount], [4, 9, 1, 2], 'two top commits for three book commits');
    assert.equal([b.updateCount, b.msgIndex], [3, top.msgIndex], 'the top and the book commit that followed it name one message');
    assert.is(w.slots.topCommits, before + 1);
    r.read(0, b);
    r.readTop(0, top);
    assert.is(b.seq, 0);
    assert.is(top.seq, 0, 'a slot never committed has a top line never committed');
    r.close();
  } finally {
    w.close({ unlink: true });
  }
  assert.throws(() => w.slots.commit(0, { bidCount: 0, askCount: 0, bids: new Float64Array(0), asks: new Float64Array(0) }, 1, 1, 0), /MDFAN_ERR_CLOSED/);
});

test('a commit into a slot left odd (a dead writer\'s half commit) completes from the odd seq, never exposing it even first', () => {
  const name = segName('oddcommit');
  const w = SegmentWriter.open({ name, maxInstruments: 1, levels: 1 });
  try {
    const src = { bidCount: 1, askCount: 1, bids: new Float64Array([5, 6, 7]), asks: new Float64Array([8, 9, 1]) };
    w.slots.commit(0, src, 1, 1, 0); // seq 2
    w.slots.beginOnlyForTest(0); // seq 3: "killed" between W1 and W2
    const r = SegmentReader.openSync(name, { staleAfterMs: 5 });
    const s = r.newSnapshot();
    assert.throws(() => r.read(0, s), /MDFAN_ERR_STALE/);
    w.slots.commit(0, { ...src, bids: new Float64Array([50, 60, 70]) }, 2, 2, 0);
    r.read(0, s);
    assert.is(s.seq, 4); // 3 -> 4: one W2, no intermediate even value
    assert.is(s.bidPrice(0), 50);
    r.close();
  } finally {
    w.close();
  }
});

test('c2c ping-pong: sorted positive one-way latencies, the caller keeps its CPUs', () => {
  const before = native.getAffinity();
  const cpus = before.length > 1 ? [before[0], before[1]] : [before[0], before[0]];
  const r = benchNative().c2cPingPong(cpus[0], cpus[1], 2000);
  native.setAffinity(before);
  assert.is(r.oneWayNs.length, 2000);
  assert.ok(r.oneWayNs[0] > 0);
  for (let i = 1; i < r.oneWayNs.length; i++) assert.ok(r.oneWayNs[i] >= r.oneWayNs[i - 1]);
  assert.ok(r.nsPerTick > 0);
  assert.throws(() => benchNative().c2cPingPong(0, 0, 0), /roundTrips/);
});

test('the product addon has no benchmark calls; the benchmarks\' addon has them, compiled on first use where the build has none', () => {
  for (const f of ['c2cPingPong', 'benchReadSlot', 'mbind', 'memNode', 'reactionRun']) {
    assert.not.ok(f in native, `${f} is not on the product addon`);
    assert.type((benchNative() as unknown as Record<string, unknown>)[f], 'function', `${f} is on the benchmarks' addon`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'mdfan-bench-addon-'));
  try {
    const path = benchAddonPath({ outDir: dir });
    assert.is(path, join(dir, 'mdfan_bench.node'));
    const m = { exports: {} as Record<string, unknown> };
    process.dlopen(m, path);
    assert.equal(Object.keys(m.exports).sort(), ['benchReadSlot', 'c2cPingPong', 'mbind', 'memNode', 'reactionRun']);
    assert.is(benchAddonPath({ outDir: dir }), path, 'a current build is reused');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('no C++ compiler for the benchmarks\' addon: MDFAN_ERR_BUILD naming the compiler', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mdfan-bench-addon-'));
  const saved = process.env.CXX;
  process.env.CXX = join(dir, 'no-such-c++');
  try {
    let err: unknown = null;
    try {
      benchAddonPath({ outDir: dir });
    } catch (e) {
      err = e;
    }
    assert.ok(isMdfanError(err, 'MDFAN_ERR_BUILD'), String(err));
    assert.is((err as MdfanError).details.compiler, join(dir, 'no-such-c++'));
    assert.match((err as MdfanError).message, /not installed/);
  } finally {
    if (saved === undefined) delete process.env.CXX;
    else process.env.CXX = saved;
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
