/**
 * The operator's commands: `mdfan --version`, `mdfan ls` (every segment, live or dead, other
 * programs' objects left out), `mdfan rm` (a dead writer's segment and everything beside it; a
 * live one refused) and `mdfan gc --prefix` (every dead one named so, the live ones kept; segments
 * named otherwise, other programs' and other test runs', are not looked at).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SegmentWriter } from '../native/segment/index.js';
import { binPath, repoRoot } from './helpers/paths.js';
import { killAll, startNode } from './helpers/procs.js';
import { cleanupSegments, ownPrefix, segName, shmExists } from './helpers/segments.js';
import { specOf } from '../native/segment/directory.js';

const writerProc = new URL('./helpers/writer-proc.js', import.meta.url);
const mdfan = (...args: string[]) => spawnSync(process.execPath, [binPath, ...args], { encoding: 'utf8' });
test.after.each(() => {
  killAll();
  cleanupSegments();
});

/** A segment whose writer process was SIGKILLed: its objects stay, its lock is free. */
async function deadSegment(tag: string): Promise<string> {
  const name = segName(tag);
  const w = startNode(writerProc, ['serve', name]);
  await w.line(/^ready/);
  w.child.kill('SIGKILL');
  await w.exited;
  return name;
}

test('mdfan --version prints the package version', () => {
  const r = mdfan('--version');
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout.trim(), `mdfan ${JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).version}`);
  assert.match(mdfan('--help').stdout, 'MDFAN_LOG_LEVEL');
});

test('every command\'s --help gives its options, an example, its exit codes and MDFAN_LOG_LEVEL', () => {
  const list = mdfan('--help').stdout;
  const names = [...list.matchAll(/^ {2}([a-z]+) {2,}/gm)].map((m) => m[1]!);
  assert.ok(names.length >= 12 && names.includes('feed') && names.includes('gc'), names.join(' '));
  for (const name of names) {
    const h = mdfan(name, '--help');
    assert.is(h.status, 0, `${name}: ${h.stderr}`);
    assert.match(h.stdout, `usage: mdfan ${name}`, name);
    assert.match(h.stdout, /(^|\n) *[Ee]xample: mdfan /, `${name}: an example`);
    assert.match(h.stdout, /[Ee]xit codes: 0 /, `${name}: exit codes`);
    assert.match(h.stdout, 'MDFAN_LOG_LEVEL', `${name}: the log level`);
  }
});

test('mdfan ls lists live and dead segments with their writer, and leaves other programs\' objects out', async () => {
  const live = segName('ls-live');
  const w = SegmentWriter.open({ name: live, maxInstruments: 2, levels: 1 });
  const foreign = segName('ls-foreign');
  writeFileSync(`/dev/shm/${foreign}`, Buffer.alloc(4096, 0x41), { mode: 0o600 });
  try {
    w.addInstrument('AAA', 1, specOf(0));
    const dead = await deadSegment('ls-dead');
    const r = mdfan('ls', '--json');
    assert.is(r.status, 0, r.stderr);
    const list = JSON.parse(r.stdout) as Array<{ name: string; state: string; writer_alive: boolean; writer_pid: number; instruments: number; size_bytes: number }>;
    const mine = list.filter((s) => s.name === live || s.name === dead);
    assert.equal(
      mine.map((s) => [s.name, s.state, s.writer_alive]),
      [
        [dead, 'READY', false],
        [live, 'READY', true],
      ].sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    );
    const l = list.find((s) => s.name === live)!;
    assert.equal([l.writer_pid, l.instruments], [process.pid, 1]);
    assert.ok(l.size_bytes > 1024);
    assert.not.ok(list.some((s) => s.name === foreign), 'not an mdfan segment: left out');
    const text = mdfan('ls').stdout;
    assert.match(text, /^NAME\s+STATE\s+GEN\s+WRITER/);
    assert.match(text, new RegExp(`${dead}\\s+READY\\s+1\\s+\\d+ dead`));
  } finally {
    w.close({ unlink: true });
    rmSync(`/dev/shm/${foreign}`, { force: true });
  }
});

test('mdfan rm removes a dead writer\'s segment and everything beside it; refuses a live one, a foreign object, and nothing', async () => {
  const dead = await deadSegment('rm-dead');
  assert.ok(shmExists(dead) && shmExists(`${dead}.tops`) && shmExists(`${dead}.ctl`));
  const r = mdfan('rm', dead);
  assert.is(r.status, 0, r.stderr);
  for (const obj of [dead, `${dead}.readers`, `${dead}.tops`, `${dead}.events`, `${dead}.ctl`]) assert.not.ok(shmExists(obj), obj);
  const live = segName('rm-live');
  const w = SegmentWriter.open({ name: live, maxInstruments: 1, levels: 1 });
  const foreign = segName('rm-foreign');
  writeFileSync(`/dev/shm/${foreign}`, Buffer.alloc(4096, 0x41), { mode: 0o600 });
  try {
    const a = mdfan('rm', live);
    assert.is(a.status, 1);
    assert.match(a.stderr, `MDFAN_ERR_WRITER_ALIVE: segment ${live} has a live writer, pid ${process.pid}`);
    assert.ok(shmExists(live));
    const b = mdfan('rm', foreign);
    assert.is(b.status, 1);
    assert.match(b.stderr, 'MDFAN_ERR_BAD_MAGIC');
    assert.ok(shmExists(foreign), 'another program\'s shared memory is never removed');
    const c = mdfan('rm', segName('rm-none'));
    assert.is(c.status, 1);
    assert.match(c.stderr, 'MDFAN_ERR_NO_SEGMENT');
    assert.is(mdfan('rm').status, 2);
  } finally {
    w.close({ unlink: true });
    rmSync(`/dev/shm/${foreign}`, { force: true });
  }
});

test('mdfan gc --prefix removes the dead segments named so and keeps the live ones; segments not named so are not looked at', async () => {
  const dead1 = await deadSegment('gc-dead1');
  const dead2 = await deadSegment('gc-dead2');
  const live = segName('gc-live');
  const w = SegmentWriter.open({ name: live, maxInstruments: 1, levels: 1 });
  const gc = (...args: string[]): { removed: string[]; kept: string[] } => {
    const r = mdfan('gc', '--json', ...args);
    assert.is(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as { removed: string[]; kept: string[] };
  };
  try {
    // One dead segment's own name as the prefix: the other dead one is not named so, and stays.
    assert.equal(gc('--prefix', dead1), { removed: [dead1], kept: [] });
    assert.not.ok(shmExists(dead1) || shmExists(`${dead1}.tops`));
    assert.ok(shmExists(dead2), 'a dead segment not named so is left alone');
    // This test run's prefix: nothing of anyone else's (other programs, other runs) is listed, let alone removed.
    const own = ownPrefix();
    const j = gc('--prefix', own);
    assert.equal(j.removed, [dead2]);
    assert.ok(j.kept.includes(live), JSON.stringify(j));
    for (const n of [...j.removed, ...j.kept]) assert.ok(n.startsWith(own), `${n} is not named ${own}…`);
    assert.not.ok(shmExists(dead2) || shmExists(`${dead2}.tops`));
    assert.ok(shmExists(live));
    const empty = mdfan('gc', '--prefix', '');
    assert.is(empty.status, 2);
    assert.match(empty.stderr, 'MDFAN_ERR_OPTIONS: --prefix needs a value');
    assert.match(mdfan('gc', '--help').stdout, '--prefix P: only segments whose name starts with P');
  } finally {
    w.close({ unlink: true });
  }
});

test.run();
