/**
 * The package as a user meets it: `npm pack` of a copy of this tree (so that packing, which builds
 * dist/ and the prebuild, never touches the dist/ these tests run from), the tarball's contents,
 * publint and @arethetypeswrong/cli, an install into a fresh project on a machine whose compiler
 * and make fail, the README's example type-checked with strict and noUncheckedIndexedAccess and run
 * against a live feed (a book printed and checked against the feed's own dump, the writer killed,
 * a new writer), and the build from source when asked for. Dependencies come from npm's cache or
 * the registry CI reaches anyway; nothing is fetched from elsewhere.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Child, spawnChild } from '../lib/child.js';
import { PREBUILT_PLATFORMS } from '../native/segment/addon-load.js';
import { repoRoot } from './helpers/paths.js';
import { GOOG_ITCH } from './helpers/oracle.js';
import { cleanupSegments, segName } from './helpers/segments.js';
import { readmeExample } from './helpers/readme-example.js';
import { freshProject as newProject, noCompilerEnv, packedTarball, runOrThrow } from './helpers/pack.js';

const work = mkdtempSync(join(tmpdir(), 'mdfan-package-test-'));
const children: Child[] = [];

test.after.each(async () => {
  await Promise.all(children.splice(0).map((c) => c.kill()));
  cleanupSegments();
});
test.after(() => rmSync(work, { recursive: true, force: true }));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));

const run = runOrThrow;
const pack = packedTarball;

/** The version of a development dependency this tree uses, so the fresh project gets the same. */
const devVersion = (name: string): string => (JSON.parse(readFileSync(join(repoRoot, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;

/** A fresh project in this file's folder (see helpers/pack.ts). */
const freshProject = (name: string, installArgs: string[], env: NodeJS.ProcessEnv, allowScripts = true): string => newProject(join(work, name), installArgs, env, allowScripts);

test('the tarball holds the library, its types, the CLI, the addon sources, the prebuild, the C example, the licence and the changelog, and nothing else', () => {
  const files = execFileSync('tar', ['tzf', pack()], { encoding: 'utf8' }).trim().split('\n');
  for (const f of [
    'package/package.json',
    'package/README.md',
    'package/LICENSE',
    'package/CHANGELOG.md',
    'package/bin/mdfan.js',
    'package/dist/workers/index.js',
    'package/dist/workers/index.d.ts',
    'package/dist/bin/cli.js',
    'package/native/prebuilds/linux-x64/node.node',
    'package/native/prebuilds/linux-arm64/node.node',
    'package/native/binding.gyp',
    'package/native/install.mjs',
    'package/native/src/segment.cc',
    'package/native/src/abi_fields.generated.h',
    'package/native/include/mdfan_abi.h',
    'package/native/examples/read_book.c',
    'package/native/include/mdfan_attach.h',
    'package/native/include/mdfan_events.h',
    'package/native/tools/mdfan_c_reader.c',
    'package/native/bench/bench_addon.cc',
    'package/docs/ABI.md',
    'package/bench/peers/c_latency_reader.c',
    'package/bench/peers/peer_die.h',
  ])
    assert.ok(files.includes(f), `${f} is in the tarball`);
  const unwanted = files.filter(
    (f) => /^package\/(test|dist\/test|scenarios\/data|docs\/bench|node_modules|native\/build)\//.test(f) || f.endsWith('.map') || /\.ts$/.test(f.replace(/\.d\.ts$/, '')) || f.endsWith('.gz'),
  );
  assert.equal(unwanted, [], 'no tests, recordings, results, build trees, maps or TypeScript sources');
  const prebuilds = files.filter((f) => f.startsWith('package/native/prebuilds/') && f.endsWith('.node'));
  assert.equal(prebuilds.sort(), PREBUILT_PLATFORMS.map((p) => `package/native/prebuilds/${p}/node.node`).sort(), 'one prebuild per shipped platform: the product addon alone, not the benchmarks\'');
  // Each built for the architecture its folder names (a cross build that used the host's compiler would not be).
  const machines: Record<string, string> = { x64: 'Advanced Micro Devices X86-64', arm64: 'AArch64' };
  for (const f of prebuilds) {
    const copy = join(work, 'prebuild.node');
    writeFileSync(copy, execFileSync('tar', ['xzOf', pack(), f], { maxBuffer: 64 << 20 }));
    const arch = /prebuilds\/linux-(\w+)\//.exec(f)![1]!;
    assert.match(execFileSync('readelf', ['-h', copy], { encoding: 'utf8' }), new RegExp(`Machine:\\s+${machines[arch]}\\n`), `${f} is an ELF for ${arch}`);
  }
  assert.equal(files.filter((f) => f.startsWith('package/native/examples/')), ['package/native/examples/read_book.c'], 'the example keeps only its program');
  const pkg = JSON.parse(execFileSync('tar', ['xzOf', pack(), 'package/package.json'], { encoding: 'utf8' })) as {
    dependencies: Record<string, string>;
    scripts: Record<string, string>;
  };
  assert.not.ok('zeromq' in pkg.dependencies, 'zeromq is not a runtime dependency');
  assert.ok('node-gyp-build' in pkg.dependencies);
  assert.not.ok(pkg.scripts.postinstall, 'nothing compiles TypeScript at install');
});

test('publint and @arethetypeswrong/cli pass on the tarball', () => {
  const bin = (p: string): string => join(repoRoot, 'node_modules', p);
  run(process.execPath, [bin('publint/src/cli.js'), 'run', pack(), '--strict'], work);
  // ESM only: a CommonJS require() of it needs a dynamic import, which is what this profile allows.
  run(process.execPath, [bin('@arethetypeswrong/cli/dist/index.js'), pack(), '--profile', 'esm-only', '--format', 'ascii'], work);
});

test('installs into a fresh project on a machine with no compiler: the prebuild loads, zeromq stays out, the raw addon is not exported', () => {
  const env = noCompilerEnv();
  const dir = freshProject('consumer', [pack(), `typescript@${devVersion('typescript')}`, `@types/node@${devVersion('@types/node')}`], env);
  const installed = join(dir, 'node_modules', 'mdfan');
  assert.not.ok(existsSync(join(installed, 'native', 'build')), 'no build tree: nothing was compiled');
  assert.not.ok(existsSync(join(dir, 'node_modules', 'zeromq')), 'zeromq is not installed');
  const probe = `
    const m = await import('mdfan');
    const deep = await import('mdfan/dist/native/segment/binding.js').then(() => 'importable', (e) => e.code);
    console.log(JSON.stringify({ BookReader: typeof m.BookReader, SegmentWriter: typeof m.SegmentWriter, native: 'native' in m, deep }));`;
  const out = JSON.parse(run(process.execPath, ['--input-type=module', '-e', probe], dir, env)) as Record<string, unknown>;
  assert.equal(out, { BookReader: 'function', SegmentWriter: 'function', native: false, deep: 'ERR_PACKAGE_PATH_NOT_EXPORTED' });
  assert.match(run(join(dir, 'node_modules', '.bin', 'mdfan'), ['--version'], dir, env), /^mdfan 0\.\d+\.\d+\n$/);
});

test("the README's example type-checks with strict and noUncheckedIndexedAccess, prints a book of a live feed, and rides out the writer's death", async () => {
  const dir = join(work, 'consumer');
  if (!existsSync(dir)) freshProject('consumer', [pack(), `typescript@${devVersion('typescript')}`, `@types/node@${devVersion('@types/node')}`], noCompilerEnv());
  writeFileSync(join(dir, 'strategy.ts'), readmeExample());
  const tsconfig = {
    compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noUncheckedIndexedAccess: true, types: ['node'], outDir: 'out' },
    files: ['strategy.ts'],
  };
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
  run(process.execPath, [join(dir, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], dir);

  // The books the feed publishes, dumped by a run at full speed: the reference for what the example prints.
  const mdfan = join(dir, 'node_modules', 'mdfan', 'bin', 'mdfan.js');
  const dump = join(work, 'books.txt');
  run(process.execPath, [mdfan, 'feed', '--source', `itch:${GOOG_ITCH}`, '--segment', segName('pkg-ref'), '--speed', 'max', '--dump-books', dump], dir);
  const dumped = new Map(readFileSync(dump, 'utf8').trim().split('\n').map((l) => [l.slice(0, l.indexOf(',')), l.split(',')] as const));

  const name = segName('pkg');
  const feedArgs = ['feed', '--source', `itch:${GOOG_ITCH}`, '--segment', name, '--speed', '100', '--max-gap', '0.05'];
  const feed = spawnChild('feed', mdfan, feedArgs);
  children.push(feed);
  const strategy = spawnChild('strategy', join(dir, 'out', 'strategy.js'), [name, 'GOOG']);
  children.push(strategy);

  const line = await strategy.line(/^GOOG #\d+ bid /, 60_000);
  const m = /^GOOG #(\d+) bid (none|(\d+) @ ([\d.]+)) ask (none|(\d+) @ ([\d.]+))/.exec(line);
  assert.ok(m, `a book line: ${line}`);
  const ref = dumped.get(m![1]!);
  assert.ok(ref, `message ${m![1]} changed a book in the feed's own dump`);
  // Dump columns: msgIndex, SYMBOL, ask1 price, ask1 size, bid1 price, bid1 size, ...
  const expectSide = (price: string, size: string): string => (Number(size) > 0 ? `${size} @ ${(Number(price) / 10000).toFixed(2)}` : 'none');
  assert.is(m![2], expectSide(ref![4]!, ref![5]!), 'best bid as the feed published it');
  assert.is(m![5], expectSide(ref![2]!, ref![3]!), 'best ask as the feed published it');

  await feed.kill(); // SIGKILL: the writer dies mid-session
  await strategy.line(/^GOOG: writer died, books frozen/, 20_000);
  const second = spawnChild('feed again', mdfan, feedArgs);
  children.push(second);
  await strategy.line(/^GOOG: new writer$/, 30_000);
  await strategy.line(/^GOOG #\d+ bid /, 60_000);
  assert.is(strategy.exit, null, 'the strategy is still running');
});

test("a build from source, the README's way (approve mdfan's install script, rebuild), replaces the prebuild", () => {
  const dir = freshProject('from-source', [pack()], process.env, false);
  const installed = join(dir, 'node_modules', 'mdfan');
  run('npm', ['install-scripts', 'approve', 'mdfan'], dir);
  run('npm', ['rebuild', 'mdfan'], dir, { ...process.env, npm_config_build_from_source: 'true' });
  assert.ok(existsSync(join(installed, 'native', 'build', 'Release', 'mdfan.node')), 'the addon was built');
  const probe = `const m = await import('mdfan'); const w = m.SegmentWriter.open({ name: process.argv[1], maxInstruments: 1, levels: 1 }); console.log(w.name); w.close();`;
  const name = segName('pkg-src');
  assert.is(run(process.execPath, ['--input-type=module', '-e', probe, name], dir).trim(), name);
});

test.run();
