/**
 * The Node versions mdfan supports (22 and 24, from the npm registry) and the TypeScript ones its
 * users have (7 and 5.9), each against the package tarball installed into a fresh project with no
 * compiler: the one prebuild loads on Node 20, 22 and 24 (Node-API is ABI-stable); on 22 and 24
 * the README's example follows a live feed and a pool of TypeScript strategies (imported as .ts,
 * types stripped by Node) sees its books; the shipped .d.ts type-checks the README's example in a
 * strict project with `"types": []` and no @types/node of its own; and Node 20, which strips no
 * types, refuses a .ts strategy at once, saying what to do.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Child, spawnChild } from '../lib/child.js';
import { binPath, repoRoot } from './helpers/paths.js';
import { GOOG_ITCH } from './helpers/oracle.js';
import { cleanupSegments, segName } from './helpers/segments.js';
import { freshProject, noCompilerEnv, packedTarball, runOrThrow } from './helpers/pack.js';
import { envWithNode, nodeBinary } from './helpers/node-bins.js';
import { typescriptCompiler } from './helpers/typescript-versions.js';
import { cachedPackage } from './helpers/registry-packages.js';
import { readmeExample } from './helpers/readme-example.js';
import { waitUntil } from './helpers/wait.js';

const work = mkdtempSync(join(tmpdir(), 'mdfan-node-versions-'));
const children: Child[] = [];
const SUPPORTED_MAJORS = [22, 24] as const;

test.after.each(async () => {
  await Promise.all(children.splice(0).map((c) => c.kill()));
  cleanupSegments();
});
test.after(() => rmSync(work, { recursive: true, force: true }));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));

/** Node `major`: this process's own when it is that major, else the registry's. */
const nodeOf = (major: number): string => (process.versions.node.startsWith(`${major}.`) ? process.execPath : nodeBinary(major));

/** A project that installed the tarball with Node `major` (npm and mdfan's install step on it), no compiler; once per major. */
function projectOn(major: number): string {
  const dir = join(work, `node${major}`);
  if (!existsSync(dir)) freshProject(dir, [packedTarball()], envWithNode(nodeOf(major), noCompilerEnv()));
  return dir;
}

const installedBin = (dir: string): string => join(dir, 'node_modules', 'mdfan', 'bin', 'mdfan.js');

/**
 * A strategy in TypeScript, as a user writes one: types from 'mdfan' (type-only imports, so that
 * stripping leaves plain JavaScript), counting the books it sees and any crossed one.
 */
const TS_STRATEGY = `import type { BookSnapshot, Strategy, StrategyContext } from 'mdfan';

class BookCounter implements Strategy {
  private books: number = 0;
  private crossed: number = 0;
  private readonly symbols = new Set<string>();

  onBook(book: BookSnapshot, ctx: StrategyContext): void {
    this.books++;
    this.symbols.add(ctx.symbolOf(book.instrumentIndex));
    if (book.bidCount > 0 && book.askCount > 0 && book.bidPrice(0) > book.askPrice(0)) this.crossed++;
  }

  onClose(): Record<string, unknown> {
    return { books: this.books, crossed: this.crossed, symbols: [...this.symbols] };
  }
}

export default BookCounter;
`;

/** The user's TypeScript files and a strict tsconfig with TypeScript 7's default `"types": []`. */
function writeUserFiles(dir: string, emit: boolean): void {
  writeFileSync(join(dir, 'strategy.ts'), readmeExample());
  writeFileSync(join(dir, 'book-counter.ts'), TS_STRATEGY);
  const compilerOptions = { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noUncheckedIndexedAccess: true, types: [], ...(emit ? { outDir: 'out' } : { noEmit: true }) };
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['strategy.ts', 'book-counter.ts'] }, null, 2));
}

/** The books the feed publishes, dumped by a run at full speed: msgIndex -> the dump's columns. */
let dumped: Map<string, string[]> | null = null;
function feedDump(): Map<string, string[]> {
  if (dumped) return dumped;
  const file = join(work, 'books.txt');
  runOrThrow(process.execPath, [binPath, 'feed', '--source', `itch:${GOOG_ITCH}`, '--segment', segName('dump'), '--speed', 'max', '--dump-books', file], work);
  dumped = new Map(readFileSync(file, 'utf8').trim().split('\n').map((l) => [l.slice(0, l.indexOf(',')), l.split(',')] as const));
  return dumped;
}

/** The .node files a process has mapped (what it loaded). */
const mappedAddons = (pid: number): string[] => {
  try {
    const paths = readFileSync(`/proc/${pid}/maps`, 'latin1').split('\n').map((l) => l.split(/\s+/)[5] ?? '');
    return [...new Set(paths.filter((p) => p.endsWith('.node')))];
  } catch {
    return []; // gone
  }
};

test('engines admits the Node versions tested here, from the oldest of them up', () => {
  const { engines } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { engines: { node: string } };
  const oldest = /^>=(\d+)$/.exec(engines.node);
  assert.ok(oldest, `engines.node is an open lower bound: ${engines.node}`);
  assert.is(Number(oldest![1]), Math.min(...SUPPORTED_MAJORS), `engines.node ${engines.node}: the oldest Node admitted is the oldest tested`);
});

test('one prebuild, installed with no compiler, loads on Node 20, 22 and 24: Node-API is ABI-stable', () => {
  const dir = projectOn(20);
  const installed = join(dir, 'node_modules', 'mdfan');
  assert.not.ok(existsSync(join(installed, 'native', 'build')), 'nothing was compiled');
  const prebuild = realpathSync(join(installed, 'native', 'prebuilds', 'linux-x64', 'node.node'));
  const probe = `
    import { readFileSync } from 'node:fs';
    const { SegmentWriter } = await import('mdfan');
    const w = SegmentWriter.open({ name: process.argv[1], maxInstruments: 1, levels: 1 });
    const addons = [...new Set(readFileSync('/proc/self/maps', 'latin1').split('\\n').map((l) => l.split(/\\s+/)[5] ?? '').filter((p) => p.endsWith('.node')))];
    console.log(JSON.stringify({ version: process.version, name: w.name, addons }));
    w.close();`;
  for (const major of [20, ...SUPPORTED_MAJORS]) {
    const name = segName(`abi${major}`);
    const out = JSON.parse(runOrThrow(nodeOf(major), ['--input-type=module', '-e', probe, name], dir)) as { version: string; name: string; addons: string[] };
    assert.ok(out.version.startsWith(`v${major}.`), `ran on Node ${major}: ${out.version}`);
    assert.is(out.name, name, `Node ${major} made a segment through the addon`);
    assert.equal(out.addons, [prebuild], `Node ${major} loaded the one prebuild`);
  }
});

for (const major of SUPPORTED_MAJORS) {
  test(`Node ${major}, installed by it with no compiler: the README's example follows a live feed, and a pool of .ts strategies sees its books`, async () => {
    const node = nodeOf(major);
    const dir = projectOn(major);
    assert.not.ok(existsSync(join(dir, 'node_modules', 'mdfan', 'native', 'build')), 'nothing was compiled');
    writeUserFiles(dir, true);
    runOrThrow(node, [typescriptCompiler('5.9').tsc, '-p', 'tsconfig.json'], dir);
    const mdfan = installedBin(dir);
    const ref = feedDump();

    // The README's example, compiled, on a feed paced to last, both run by this Node.
    const name = segName(`example${major}`);
    const feed = spawnChild('feed', node, [mdfan, 'feed', '--source', `itch:${GOOG_ITCH}`, '--segment', name, '--speed', '100', '--max-gap', '0.05']);
    children.push(feed);
    const example = spawnChild('example', node, [join(dir, 'out', 'strategy.js'), name, 'GOOG']);
    children.push(example);
    const line = await example.line(/^GOOG #\d+ bid /, 60_000);
    const m = /^GOOG #(\d+) bid (none|\d+ @ [\d.]+) ask (none|\d+ @ [\d.]+)/.exec(line);
    assert.ok(m, `a book line: ${line}`);
    const row = ref.get(m![1]!);
    assert.ok(row, `message ${m![1]} changed a book in the feed's own dump`);
    // Dump columns: msgIndex, SYMBOL, ask1 price, ask1 size, bid1 price, bid1 size, ...
    const side = (price: string, size: string): string => (Number(size) > 0 ? `${size} @ ${(Number(price) / 10000).toFixed(2)}` : 'none');
    assert.is(m![2], side(row![4]!, row![5]!), 'best bid as the feed published it');
    assert.is(m![3], side(row![2]!, row![3]!), 'best ask as the feed published it');
    await Promise.all([feed.kill(), example.kill()]);

    // The pool, its strategy given as the .ts file itself: the pool starts first and waits.
    const poolSeg = segName(`pool${major}`);
    const json = join(dir, `pool${major}.json`);
    const pool = spawnChild('pool', node, [mdfan, 'strategies', '--segment', poolSeg, '--workers', '2', '--strategy', join(dir, 'book-counter.ts'), '--wait', 'block', '--json', json, '--timeout', '60']);
    children.push(pool);
    // Its workers attach from their own threads, unseen from outside: the feed starts once the
    // pool process has loaded the addon, and a worker attaching late would fail the counts below.
    await waitUntil(() => mappedAddons(pool.pid).some((p) => p.includes('/mdfan/native/prebuilds/')), 60_000, { what: 'the pool to load the addon' });
    const poolFeed = spawnChild('pool feed', node, [mdfan, 'feed', '--source', `itch:${GOOG_ITCH}`, '--segment', poolSeg, '--speed', '25000', '--max-gap', '0.01']);
    children.push(poolFeed);
    assert.is((await poolFeed.exited).code, 0, poolFeed.describeExit());
    assert.is((await pool.exited).code, 0, `${pool.describeExit()}\n${pool.stdout.join('\n')}`);
    const report = JSON.parse(readFileSync(json, 'utf8')) as { workers: Array<{ worker: number; status: string; updates: number; summary: { books: number; crossed: number; symbols: string[] } }> };
    assert.is(report.workers.length, 2);
    for (const w of report.workers) {
      assert.is(w.status, 'ok', JSON.stringify(w));
      assert.ok(w.updates > 1000, `worker ${w.worker}: ${w.updates} updates`);
      assert.equal(w.summary, { books: w.updates, crossed: 0, symbols: ['GOOG'] }, `worker ${w.worker}: the .ts strategy saw every book the worker read`);
    }
  });
}

test("the shipped types stand alone: TypeScript 7 and 5.9 check the README's example and a strategy, strict, noUncheckedIndexedAccess, types [], no @types/node in the project", () => {
  const dir = projectOn(24);
  const own = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string>; devDependencies?: Record<string, string> };
  assert.equal(Object.keys({ ...own.dependencies, ...own.devDependencies }), ['mdfan'], 'the project depends on mdfan alone');
  writeUserFiles(dir, false);
  for (const spec of ['7', '5.9']) {
    const { tsc, version } = typescriptCompiler(spec);
    const r = spawnSync(nodeOf(24), [tsc, '-p', 'tsconfig.json'], { cwd: dir, encoding: 'utf8' });
    assert.is(r.status, 0, `TypeScript ${version}: ${r.stdout}${r.stderr}`);
  }
});

test('Node 20 strips no types: a .ts strategy is refused at once, before any worker starts, saying what to do, with no stack', () => {
  const dir = mkdtempSync(join(work, 'node20-'));
  writeFileSync(join(dir, 'book-counter.ts'), TS_STRATEGY);
  // A segment that never appears and a long attach timeout: a worker started would wait it out and report MDFAN_ERR_NO_SEGMENT.
  const r = spawnSync(nodeOf(20), [binPath, 'strategies', '--segment', segName('ts20'), '--workers', '1', '--strategy', 'book-counter.ts', '--timeout', '30'], { cwd: dir, encoding: 'utf8' });
  assert.is(r.status, 2, `exit ${r.status}: ${r.stderr}`);
  assert.match(r.stderr, /^mdfan strategies: MDFAN_ERR_OPTIONS: --strategy \S+book-counter\.ts: Node v20\.\d+\.\d+ cannot import a TypeScript strategy: /);
  for (const remedy of ['Node >=22.18', 'compile the strategy with tsc']) assert.ok(r.stderr.includes(remedy), `says: ${remedy}`);
  assert.not.match(r.stderr, /^\s+at /m, 'no stack trace');
  assert.is(r.stdout, '', 'no pool ran');
});

test("Node 20 under tsx still refuses a .ts strategy at once: tsx's loader reaches the main thread there, not the pool's workers", () => {
  const dir = mkdtempSync(join(work, 'tsx20-'));
  writeFileSync(join(dir, 'book-counter.ts'), TS_STRATEGY);
  const tsx = join(cachedPackage('tsx', '4').dir, 'dist', 'cli.mjs');
  // The same segment that never appears: a check passing in the main thread alone would let the workers wait 30 s for it, then fail.
  const r = spawnSync(nodeOf(20), [tsx, binPath, 'strategies', '--segment', segName('tsx20'), '--workers', '1', '--strategy', 'book-counter.ts', '--timeout', '30'], { cwd: dir, encoding: 'utf8' });
  assert.is(r.status, 2, `exit ${r.status}: ${r.stderr}${r.stdout}`);
  assert.match(r.stderr, /MDFAN_ERR_OPTIONS: --strategy \S+book-counter\.ts: Node v20\.\d+\.\d+ cannot import a TypeScript strategy: /);
  assert.is(r.stdout, '', 'no pool ran');
});

test.run();
