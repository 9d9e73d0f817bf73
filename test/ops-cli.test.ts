/**
 * The operator's commands: `mdfan --version`, `mdfan ls` (every segment, live or dead, other
 * programs' objects left out), `mdfan rm` (a dead writer's segment and everything beside it; a
 * live one refused) and `mdfan gc --prefix` (every dead one named so, the live ones kept; segments
 * named otherwise, other programs' and other test runs', are not looked at), `--match`, `--dry-run`
 * and `--all-users`; one help shape for every command; `mdfan top --once` on a missing segment;
 * `--writer-uid` by name.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { chownSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SegmentWriter } from '../native/segment/index.js';
import { binPath, repoRoot } from './helpers/paths.js';
import { killAll, startNode } from './helpers/procs.js';
import { cleanupSegments, ownPrefix, segName, shmExists } from './helpers/segments.js';
import { specOf } from '../native/segment/directory.js';
import { BENCHMARKS } from '../bench/registry.js';

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

test('every command\'s --help has one shape: usage:, then example: and exit codes: once each, in lower case like usage:', () => {
  const names = [...mdfan('--help').stdout.matchAll(/^ {2}([a-z-]+) {2,}/gm)].map((m) => m[1]!);
  assert.ok(names.includes('ls') && names.includes('rm') && names.includes('gc') && names.includes('gen-market'), names.join(' '));
  for (const name of names) {
    const lines = mdfan(name, '--help').stdout.trimEnd().split('\n');
    assert.ok(lines[0]!.startsWith(`usage: mdfan ${name}`), `${name}: ${lines[0]}`);
    assert.is(lines.filter((l) => l.startsWith('example: mdfan ')).length, 1, `${name}: one "example:" line`);
    assert.is(lines.filter((l) => l.startsWith('exit codes: 0 ')).length, 1, `${name}: one "exit codes:" line`);
    assert.is(lines.filter((l) => /^\s*(Usage|Example|Exit codes):/.test(l)).length, 0, `${name}: no capitalised heading`);
    assert.ok(lines.at(-1)!.startsWith('MDFAN_LOG_LEVEL'), `${name}: the log level last`);
  }
});

test('mdfan --help lists every benchmark of the registry, and all', () => {
  const row = mdfan('--help').stdout.split('\n').find((l) => /^ {2}bench {2,}/.test(l));
  assert.ok(row, 'a bench row');
  const listed = row!.slice(row!.indexOf(':') + 1).split(',').map((n) => n.trim());
  assert.equal(listed, [...Object.keys(BENCHMARKS), 'all']);
});

test('mdfan top --once on a missing segment exits 1 with MDFAN_ERR_NO_SEGMENT and prints no frame', () => {
  const name = segName('top-missing');
  const r = mdfan('top', '--segment', name, '--once', '--interval-ms', '50');
  assert.is(r.status, 1, r.stdout);
  assert.match(r.stderr, `mdfan top: MDFAN_ERR_NO_SEGMENT: no segment ${name}`);
  assert.is(r.stdout, '');
});

test('mdfan ls lists live and dead segments with their writer, and leaves other programs\' objects out', async () => {
  const live = segName('ls-live');
  const w = SegmentWriter.open({ name: live, maxInstruments: 2, levels: 1 });
  const foreign = segName('ls-foreign');
  writeFileSync(`/dev/shm/${foreign}`, Buffer.alloc(4096, 0x41), { mode: 0o600 });
  try {
    w.addInstrument('AAA', 1, specOf(0));
    w.startIdleHeartbeat(); // alive however long the dead one takes to make on a loaded machine
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

test('mdfan rm --segment NAME removes as mdfan rm NAME does; two names, or none, are bad usage', async () => {
  const dead = await deadSegment('rm-flag');
  const other = await deadSegment('rm-flag-other');
  for (const args of [['--segment', dead, other], ['--segment']]) {
    const r = mdfan('rm', ...args);
    assert.is(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, 'MDFAN_ERR_OPTIONS');
  }
  assert.ok(shmExists(dead) && shmExists(other), 'a bad usage removes nothing');
  const r = mdfan('rm', '--segment', dead);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, `mdfan rm: removed ${dead}, `);
  for (const obj of [dead, `${dead}.readers`, `${dead}.tops`, `${dead}.events`, `${dead}.ctl`]) assert.not.ok(shmExists(obj), obj);
  assert.ok(shmExists(other));
  const again = mdfan('rm', '--segment', dead);
  assert.is(again.status, 1);
  assert.match(again.stderr, 'MDFAN_ERR_NO_SEGMENT');
});

test('mdfan gc --prefix removes the dead segments named so and keeps the live ones; segments not named so are not looked at', async () => {
  const dead1 = await deadSegment('gc-dead1');
  const dead2 = await deadSegment('gc-dead2');
  const live = segName('gc-live');
  const w = SegmentWriter.open({ name: live, maxInstruments: 1, levels: 1 });
  const gc = (...args: string[]): { removed: string[]; kept: string[]; skipped: string[] } => {
    const r = mdfan('gc', '--json', ...args);
    assert.is(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as { removed: string[]; kept: string[]; skipped: string[] };
  };
  try {
    // One dead segment's own name as the prefix: the other dead one is not named so, and stays.
    assert.equal(gc('--prefix', dead1), { removed: [dead1], kept: [], skipped: [] });
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

type GcResult = { removed: string[]; kept: string[]; skipped: string[]; would_remove?: string[] };
const gcJson = (...args: string[]): GcResult => {
  const r = mdfan('gc', '--json', ...args);
  assert.is(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as GcResult;
};

test('mdfan gc --match GLOB looks only at names matching it whole; --dry-run lists what it would remove and removes nothing', async () => {
  const a1 = await deadSegment('gcm-a1');
  const a2 = await deadSegment('gcm-a2');
  const b1 = await deadSegment('gcm-b1');
  const own = ownPrefix();
  // A dry run: every dead one named so is listed, none removed.
  const dry = gcJson('--prefix', own, '--match', '*-gcm-a?', '--dry-run');
  assert.equal(dry, { removed: [], kept: [], skipped: [], would_remove: [a1, a2] });
  for (const n of [a1, a2, b1]) assert.ok(shmExists(n), `${n} is still there after --dry-run`);
  const text = mdfan('gc', '--prefix', own, '--match', '*-gcm-a?', '--dry-run');
  assert.match(text.stdout, `mdfan gc: would remove 2 (${a1}, ${a2}), removed none (--dry-run)`);
  // The pattern is the whole name: a prefix of it matches nothing; a class picks one.
  assert.equal(gcJson('--prefix', own, '--match', '*-gcm-a', '--dry-run').would_remove, []);
  assert.equal(gcJson('--prefix', own, '--match', '*-gcm-[b]1').removed, [b1]);
  assert.not.ok(shmExists(b1));
  assert.ok(shmExists(a1) && shmExists(a2), 'names not matching are left alone');
  assert.equal(gcJson('--prefix', own, '--match', `${own}*-gcm-a*`).removed, [a1, a2]);
  assert.not.ok(shmExists(a1) || shmExists(a2) || shmExists(`${a1}.tops`));
  assert.is(mdfan('gc', '--match', '').status, 2);
  assert.match(mdfan('gc', '--help').stdout, '--match GLOB: only segments whose whole name matches GLOB');
});

/** Makes every object of segment `name` another user's (as if that user's writer had made them). */
function giveTo(name: string, uid: number): void {
  for (const f of readdirSync('/dev/shm').filter((f) => f === name || f.startsWith(`${name}.`))) chownSync(`/dev/shm/${f}`, uid, uid);
}
const NOBODY = 65534;
const root = process.geteuid?.() === 0;

test('mdfan gc skips other users\' segments and says how many; as root, --all-users removes them when their writer is gone', async () => {
  if (!root) {
    // Not root: chown is refused, and --all-users is root's only.
    const r = mdfan('gc', '--all-users', '--prefix', ownPrefix());
    assert.is(r.status, 1);
    assert.match(r.stderr, 'MDFAN_ERR_PERMISSION');
    return;
  }
  const mine = await deadSegment('gcu-mine');
  const theirs = await deadSegment('gcu-theirs');
  giveTo(theirs, NOBODY);
  const own = ownPrefix();
  assert.equal(gcJson('--prefix', own, '--dry-run'), { removed: [], kept: [], skipped: [theirs], would_remove: [mine] });
  const text = mdfan('gc', '--prefix', own, '--match', '*-gcu-*', '--dry-run');
  assert.match(text.stdout, 'skipped 1 of other users (--all-users, as root, to include them)');
  assert.equal(gcJson('--prefix', own), { removed: [mine], kept: [], skipped: [theirs] });
  assert.ok(shmExists(theirs) && shmExists(`${theirs}.lock`), 'another user\'s segment is left alone without --all-users');
  assert.equal(gcJson('--prefix', own, '--all-users', '--dry-run'), { removed: [], kept: [], skipped: [], would_remove: [theirs] });
  assert.ok(shmExists(theirs));
  assert.equal(gcJson('--prefix', own, '--all-users'), { removed: [theirs], kept: [], skipped: [] });
  for (const obj of [theirs, `${theirs}.readers`, `${theirs}.tops`, `${theirs}.events`, `${theirs}.ctl`, `${theirs}.lock`]) assert.not.ok(shmExists(obj), obj);
});

test('--writer-uid takes a user name as well as a uid; an unknown name is bad usage naming it', async () => {
  const name = segName('uid-name');
  const w = SegmentWriter.open({ name, maxInstruments: 1, levels: 1 });
  try {
    w.addInstrument('AAA', 1, specOf(0));
    w.startIdleHeartbeat();
    const read = (...args: string[]) => mdfan('read', '--segment', name, '--timeout', '0', '--duration', '0.05', ...args);
    const unknown = read('--writer-uid', 'no-such-user-mdfan');
    assert.is(unknown.status, 2);
    assert.match(unknown.stderr, 'MDFAN_ERR_OPTIONS: --writer-uid: no user named "no-such-user-mdfan"');
    if (!root) return; // giving the segment to another user takes root
    giveTo(name, NOBODY);
    const refused = read();
    assert.is(refused.status, 1);
    assert.match(refused.stderr, 'MDFAN_ERR_UNSAFE_OBJECT');
    for (const who of ['nobody', String(NOBODY)]) {
      const r = read('--writer-uid', who);
      assert.is(r.status, 0, `${who}: ${r.stderr}`);
      assert.is(JSON.parse(r.stdout.trim().split('\n').at(-1)!).segment, name, who);
    }
  } finally {
    w.close({ unlink: true });
  }
});

test.run();
