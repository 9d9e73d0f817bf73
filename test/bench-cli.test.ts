/**
 * `mdfan bench`: refusals with their codes, NUMA placement choice on made-up topologies, mbind on
 * a real segment, and one whole `bench all` run (short sessions; no timing is asserted) whose
 * JSON has the contracted shape, whose .hgrm files are there, and whose HTML report, opened in
 * headless Chromium, shows exactly the JSON's numbers.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { lstatSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SegmentWriter, isMdfanError, type MdfanError } from '../native/segment/index.js';
import { benchNative } from '../bench/bench-addon.js';
import { placements } from '../bench/numa.js';
import { getPath } from '../bench/report/html.js';
import { ALL } from '../bench/registry.js';
import { segName, cleanupSegments } from './helpers/segments.js';
import { binPath } from './helpers/paths.js';
import { waitUntil } from './helpers/wait.js';
import { dumpDom } from './helpers/chromium.js';

const mdfan = (...args: string[]) => spawnSync(process.execPath, [binPath, 'bench', ...args], { encoding: 'utf8' });
const dirs: string[] = [];
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'mdfan-bench-test-'));
  dirs.push(d);
  return d;
};

test.after.each(() => {
  cleanupSegments();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

test('unknown benchmark and bad options: exit 2 with MDFAN_ERR_OPTIONS naming the problem', () => {
  const a = mdfan('nope');
  assert.is(a.status, 2);
  assert.match(a.stderr, 'MDFAN_ERR_OPTIONS');
  assert.match(a.stderr, 'unknown benchmark "nope"');
  const b = mdfan('latency', '--runs', '0');
  assert.is(b.status, 2);
  assert.match(b.stderr, '--runs must be an integer 1..100');
  const c = mdfan('latency', '--seconds', 'abc');
  assert.is(c.status, 2);
  assert.match(c.stderr, '--seconds must be a number');
  const d = mdfan('latency', '--bogus');
  assert.is(d.status, 2);
  assert.match(d.stderr, 'MDFAN_ERR_OPTIONS');
});

test('numa placements: every case on a 2-node, 4-L3 machine; only what exists on a 1-node one', () => {
  const big = { cpus: [0, 1, 2, 3], numaNodes: [{ node: 0, cpus: [0, 1] }, { node: 1, cpus: [2, 3] }], l3Groups: [[0], [1], [2], [3]] };
  const sameL3 = { cpus: [0, 1, 2, 3], numaNodes: [{ node: 0, cpus: [0, 1] }, { node: 1, cpus: [2, 3] }], l3Groups: [[0, 1], [2, 3]] };
  const p = placements(sameL3, [0, 1, 2, 3]);
  assert.equal(p.map((x) => x.available), [true, false, true, true]);
  assert.equal([p[0].writer_cpu, p[0].reader_cpu], [0, 1]);
  const cross = p[2];
  assert.is.not(Math.floor(cross.writer_cpu! / 2), Math.floor(cross.reader_cpu! / 2), 'different nodes');
  assert.is(p[2].memory_node, Math.floor(cross.writer_cpu! / 2));
  assert.is(p[3].memory_node, Math.floor(cross.reader_cpu! / 2));
  const q = placements(big, [0, 1, 2, 3]);
  assert.equal(q.map((x) => x.available), [false, true, true, true]);
  const one = placements({ cpus: [0, 1], numaNodes: [{ node: 0, cpus: [0, 1] }], l3Groups: [[0, 1]] }, [0, 1]);
  assert.equal(one.map((x) => x.available), [true, false, false, false]);
  assert.match(one[2].reason!, '1 NUMA node(s)');
  const single = placements({ cpus: [0, 1], numaNodes: [{ node: 0, cpus: [0, 1] }], l3Groups: [[0, 1]] }, [1]);
  assert.equal(single.map((x) => x.available), [false, false, false, false], 'one usable CPU: no pair at all');
});

test('mbind binds a segment to node 0 (the node get_mempolicy reports); a node that does not exist is refused', () => {
  const name = segName('mbind');
  const w = SegmentWriter.open({ name, maxInstruments: 4, levels: 10 });
  try {
    benchNative().mbind(w.map.buffer, 0);
    assert.is(benchNative().memNode(w.map.buffer, w.layout.slotsOffset), 0);
    let err: unknown = null;
    try {
      benchNative().mbind(w.map.buffer, 1023);
    } catch (e) {
      err = e;
    }
    assert.ok(isMdfanError(err, 'MDFAN_ERR_SYSCALL'), String(err));
    assert.is((err as MdfanError).details.syscall, 'mbind');
    assert.is((err as MdfanError).details.errname, 'EINVAL');
    assert.throws(() => benchNative().memNode(w.map.buffer, w.map.buffer.byteLength), /past the mapping/);
  } finally {
    w.close({ unlink: true });
  }
});

test('Ctrl-C during a benchmark: exit 130, no segment, temp dir or reader process left behind', async () => {
  const child = spawn(process.execPath, [binPath, 'bench', 'latency', '--runs', '1', '--seconds', '30'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (x) => (err += x));
  const closed = new Promise<number | null>((r) => child.once('close', r));
  const mine = (): string[] => readdirSync('/dev/shm').filter((f) => f.startsWith(`mdfan-bench-shm-${child.pid}-`));
  const readers = (): string => spawnSync('pgrep', ['-f', `mdfan-bench-shm-${child.pid}-`], { encoding: 'utf8' }).stdout.trim();
  await waitUntil(() => mine().length > 0 && readers() !== '', 20_000, { what: 'a session with its reader running', everyMs: 50 }).catch(() => false);
  assert.ok(mine().length > 0 && readers() !== '', 'a session with its reader was running');
  child.kill('SIGINT');
  assert.is(await closed, 130, err);
  // It SIGKILLed its readers on the way out (without waiting): they are gone once the kernel has
  // ended them. A reader left running is never gone, and fails below.
  await waitUntil(() => readers() === '', 10_000, { what: 'the SIGKILLed reader processes to be gone', everyMs: 50 }).catch(() => false);
  assert.equal(mine(), []);
  assert.is(readers(), '', 'no reader process left');
  assert.equal(readdirSync(tmpdir()).filter((f) => f.startsWith('mdfan-bench-') && !f.startsWith('mdfan-bench-test-')).length, 0, 'no temp dir left');
});

test('bench all: the JSON shape, .hgrm files, and an HTML report whose numbers equal the JSON in Chromium', async () => {
  const d = tmp();
  const json = join(d, 'all.json');
  const html = join(d, 'all.html');
  const hgrm = join(d, 'hgrm');
  // A link planted where the JSON goes: the report replaces the link, never writes through it.
  const victim = join(d, 'victim');
  writeFileSync(victim, 'untouched');
  symlinkSync(victim, json);
  const child = spawn(process.execPath, [binPath, 'bench', 'all', '--runs', '1', '--seconds', '0.1', '--rate', '5000', '--json', json, '--html', html, '--hgrm', hgrm], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (x) => (out += x));
  child.stderr.on('data', (x) => (err += x));
  const code = await new Promise<number | null>((r) => child.once('close', r));
  assert.is(code, 0, `exit ${code}\n${out.slice(-3000)}\n${err.slice(-3000)}`);
  assert.equal(readdirSync('/dev/shm').filter((f) => f.includes(`-${child.pid}-`)), [], 'no segment left behind');

  assert.is(readFileSync(victim, 'utf8'), 'untouched', 'the linked file is not written through');
  assert.ok(lstatSync(json).isFile(), 'the report replaced the link');
  const j = JSON.parse(readFileSync(json, 'utf8'));
  for (const k of ['cpu_model', 'cores', 'numa_nodes', 'node_version', 'kernel']) assert.ok(k in j.machine, `machine.${k}`);
  assert.ok(j.baseline.c2c_one_way_ns.p50 > 0 && j.baseline.c2c_one_way_ns.p99 >= j.baseline.c2c_one_way_ns.p50);
  assert.equal(j.results.map((s: { benchmark: string }) => s.benchmark), ALL);
  const lat = j.results.find((s: { benchmark: string }) => s.benchmark === 'latency');
  const transports = new Set(lat.results.map((r: { transport: string }) => r.transport));
  assert.equal([...transports].sort(), ['floor', 'native-c', 'postMessage', 'shm-seqlock', 'shm-seqlock-top', 'unix-socket', 'zeromq-ipc']);
  for (const r of lat.results) {
    assert.ok(['spin', 'yield', 'block'].includes(r.wait), `the issue's wait values only: ${r.wait}`);
    assert.ok(r.count > 0, `${r.transport} ${r.host} ${r.readers} ${r.wait} observed something`);
    assert.ok(r.latency_ns.p50 > 0 && r.latency_ns.p50 <= r.latency_ns.p90 && r.latency_ns.p90 <= r.latency_ns.p99 && r.latency_ns.p99 <= r.latency_ns.max);
    assert.ok(r.c2c_p50_ns > 0, 'a handoff baseline before the run');
    assert.ok(Math.abs(r.ratio_to_c2c_p50 - r.latency_ns.p50 / r.c2c_p50_ns) < 1e-9, 'one run: the ratio is p50 over that run\'s handoff');
  }
  const shm = lat.results.filter((r: { transport: string }) => r.transport === 'shm-seqlock');
  assert.is(shm.length, 19, '1/2/4 readers x 3 waits x (processes, pool), and block --sync in a process');
  assert.equal(shm.filter((r: { receiver: string }) => r.receiver.includes('--sync')).map((r: { host: string; readers: number; wait: string }) => `${r.host} ${r.readers} ${r.wait}`), ['process 1 block']);
  const tops = lat.results.filter((r: { transport: string }) => r.transport === 'shm-seqlock-top');
  assert.equal(
    tops.map((r: { host: string; wait: string; layout: string; receiver: string }) => `${r.host} ${r.wait} ${r.layout} ${r.receiver}`),
    [
      'process spin top mdfan read (spin)',
      'process yield top mdfan read (yield)',
      'process block top mdfan read (block)',
      'process block top mdfan read (block --sync: waitTopSync)',
      'pool spin top mdfan pool worker (spin)',
      'pool yield top mdfan pool worker (yield)',
      'pool block top mdfan pool worker (block)',
      "process spin top C, spinning on the top line's seq (c_latency_reader top)",
    ],
  );
  const floor = lat.results.filter((r: { transport: string }) => r.transport === 'floor');
  assert.equal(floor.map((r: { layout: string }) => r.layout), ['top', 'book', 'book-1x'], 'the C floor of each layout (and of a 1.x book), in the same run');
  const fan = j.results.find((s: { benchmark: string }) => s.benchmark === 'fanout');
  assert.equal(fan.results.map((r: { readers: number }) => r.readers), [0, 1, 2, 4, 8]);
  const fs = j.results.find((s: { benchmark: string }) => s.benchmark === 'false-sharing');
  assert.equal(fs.results.map((r: { layout: string; slot_stride_bytes: number }) => [r.layout, r.slot_stride_bytes]), [['default', 640], ['packed', 544]]);

  const files = readdirSync(hgrm);
  assert.ok(files.includes('latency-shm-seqlock_process_1r_spin.hgrm'), files.join(' '));
  assert.ok(files.includes('false-sharing-packed_layout.hgrm'), files.join(' '));
  assert.match(readFileSync(join(hgrm, 'latency-shm-seqlock_process_1r_spin.hgrm'), 'utf8'), /#\[Max\s+=/);

  // Every table cell in the rendered page is the JSON's value, formatted with the column's digits.
  const dom = await dumpDom(html);
  let cells = 0;
  for (const name of ALL) {
    const m = new RegExp(`<section data-benchmark="${name}">([\\s\\S]*?)</section>`).exec(dom);
    assert.ok(m, `section ${name} rendered`);
    const sectionJson = j.results.find((s: { benchmark: string }) => s.benchmark === name);
    for (const tr of m![1].matchAll(/<tr data-row="(\d+)">([\s\S]*?)<\/tr>/g)) {
      const row = sectionJson.results[Number(tr[1])];
      for (const td of tr[2].matchAll(/<td data-key="([^"]+)"[^>]*>([^<]*)<\/td>/g)) {
        assertShows(unescapeHtml(td[2]), getPath(row, td[1]), `${name} row ${tr[1]} ${td[1]}`);
        cells++;
      }
    }
  }
  assert.ok(cells > 100, `${cells} cells compared`);
  assert.ok((dom.match(/<polyline/g) ?? []).length >= 5, 'latency curves drawn');
});

/** A cell shows the JSON value: numbers equal at the decimals shown, the rest as text, missing as a dash. */
function assertShows(cell: string, v: unknown, what: string): void {
  if (v === undefined || v === null) assert.is(cell, '–', what);
  else if (typeof v === 'number') {
    const decimals = cell.includes('.') ? cell.length - cell.indexOf('.') - 1 : 0;
    assert.is(Number(cell).toFixed(decimals), v.toFixed(decimals), `${what}: ${cell} vs ${v}`);
  } else assert.is(cell, String(v), what);
}

const unescapeHtml = (s: string): string => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');

test.run();
