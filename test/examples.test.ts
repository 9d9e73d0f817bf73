/**
 * docs/examples, run as a user runs them: copied into a fresh project whose node_modules/mdfan is
 * this repository (a symlink: what `npm install` of the tarball gives, without packing), the
 * TypeScript ones type-checked with strict and noUncheckedIndexedAccess and run compiled (or
 * directly where this Node strips types), the JavaScript ones run as they are. Each runs against
 * a real writer in another process (test/helpers/writer-proc.ts `market`: GOOG bid 100 @ 585.3300,
 * ask 300 @ 585.5000; BRK.B ask 5 @ 412.50; BTCUSDT at 2 price and 8 size decimals; a GOOG trade
 * of 200 @ 585.40; GOOG's bid moves to 585.3500 on SIGUSR2) and must print those prices and sizes
 * in currency and instrument units, never the feed's integers. The NATS subscriber reads them
 * through `mdfan bridge` and a real nats-server.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LogEvent } from '../lib/log.js';
import { NatsServer, hasNatsServer } from './helpers/nats-server.js';
import { binPath, repoRoot } from './helpers/paths.js';
import { killAll, type Proc, startNode } from './helpers/procs.js';
import { cleanupSegments, segName } from './helpers/segments.js';
import { waitUntil } from './helpers/wait.js';

const writerProc = new URL('./helpers/writer-proc.js', import.meta.url);
const examples = join(repoRoot, 'docs', 'examples');
const LINE_MS = 30_000;

let nats: NatsServer | null = null;
test.after.each(async () => {
  killAll();
  await nats?.stop();
  nats = null;
  cleanupSegments();
});

/** The user's project: package.json, node_modules/mdfan (this repository) and what the examples import beside it. */
const project = mkdtempSync(join(tmpdir(), 'mdfan-examples-'));
process.on('exit', () => rmSync(project, { recursive: true, force: true }));
const stripsTypes = Boolean((process.features as { typescript?: unknown }).typescript);

function setUp(): void {
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'mdfan-examples-user', private: true, type: 'module' }, null, 2));
  mkdirSync(join(project, 'node_modules'));
  symlinkSync(repoRoot, join(project, 'node_modules', 'mdfan'));
  for (const dep of ['@nats-io', '@types']) symlinkSync(join(repoRoot, 'node_modules', dep), join(project, 'node_modules', dep));
  const files = readdirSync(examples).filter((f) => f.endsWith('.ts') || f.endsWith('.mjs'));
  for (const f of files) copyFileSync(join(examples, f), join(project, f));
  writeFileSync(join(project, 'quick-start.mjs'), readmeQuickStart());
  const tsconfig = {
    compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noUncheckedIndexedAccess: true, types: ['node'], outDir: 'out', skipLibCheck: true },
    files: files.filter((f) => f.endsWith('.ts')),
  };
  writeFileSync(join(project, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
  const tsc = spawnSync(process.execPath, [join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: project, encoding: 'utf8' });
  assert.is(tsc.status, 0, `the TypeScript examples type-check with strict and noUncheckedIndexedAccess:\n${tsc.stdout}${tsc.stderr}`);
}

/** The README's quick start: the ```js block after the `<!-- example: quick-start.mjs -->` marker. */
function readmeQuickStart(): string {
  const m = /<!-- example: quick-start\.mjs -->\n```js\n([\s\S]*?)```/.exec(readFileSync(join(repoRoot, 'README.md'), 'utf8'));
  assert.ok(m, 'README.md has the quick start after <!-- example: quick-start.mjs -->');
  return m![1]!;
}

type Flavour = 'ts' | 'js';
const FLAVOURS: Flavour[] = ['ts', 'js'];

/** The file a user runs: the .mjs, or the .ts (directly where Node strips types, else as tsc compiled it). */
function script(name: string, flavour: Flavour): string {
  if (flavour === 'js') return join(project, `${name}.mjs`);
  return stripsTypes ? join(project, `${name}.ts`) : join(project, 'out', `${name}.js`);
}

function runExample(name: string, flavour: Flavour, args: string[]): Proc {
  return startNode(process.execPath, [script(name, flavour), ...args]);
}

/** Waits until `p` has printed exactly `line` (lines may come in any order); fails at once if it ends first. */
async function printed(p: Proc, line: string, label: string): Promise<void> {
  const seen = (): string => `${label} printed:\n${p.run.stdout.join('\n')}\n${p.run.describeExit()}`;
  try {
    await waitUntil(() => p.run.stdout.includes(line) || p.run.exit !== null, LINE_MS, { what: `"${line}"` });
  } catch (e) {
    throw new Error(`${(e as Error).message}; ${seen()}`);
  }
  assert.ok(p.run.stdout.includes(line), `"${line}" never printed; ${seen()}`);
}

/** The market writer, READY with its books, trade and trading action. */
async function market(tag: string): Promise<{ name: string; w: Proc }> {
  const name = segName(tag);
  const w = startNode(writerProc, ['market', name]);
  await w.line(/^ready$/, LINE_MS);
  return { name, w };
}

test('set up: a project with mdfan as a dependency; the TypeScript examples type-check', () => {
  setUp();
});

test("the README's quick start: best bids and asks in currency units, an empty side said so", async () => {
  const { name, w } = await market('ex-quick');
  const ex = startNode(process.execPath, [join(project, 'quick-start.mjs'), name]);
  await printed(ex, 'GOOG bid 585.33 ask 585.5', 'quick start');
  await printed(ex, 'BRK.B bid none ask 412.5', 'quick start');
  await printed(ex, 'BTCUSDT bid 61837.63 ask 61837.64', 'quick start');
  w.child.kill('SIGTERM');
  assert.is((await ex.exited).code, 0, ex.run.describeExit());
});

for (const flavour of FLAVOURS) {
  test(`top of book (${flavour}): every best bid and ask in currency and instrument units, a move, and the end of the session`, async () => {
    const { name, w } = await market(`ex-top-${flavour}`);
    const ex = runExample('top-of-book', flavour, [name]);
    const label = `top-of-book (${flavour})`;
    await printed(ex, 'GOOG bid 100 @ 585.33 ask 300 @ 585.5', label);
    await printed(ex, 'BRK.B bid none ask 5 @ 412.5', label);
    await printed(ex, 'BTCUSDT bid 554.63987 @ 61837.63 ask 0.0154698 @ 61837.64', label);
    w.child.kill('SIGUSR2'); // GOOG's best bid moves to 585.3500
    await w.line(/^moved$/, LINE_MS);
    await printed(ex, 'GOOG bid 100 @ 585.35 ask 300 @ 585.5', label);
    w.child.kill('SIGTERM'); // the writer closes the session: the loop ends
    const end = await ex.exited;
    assert.is(end.code, 0, ex.run.describeExit());
  });

  test(`trades (${flavour}): the ring's trade in currency and instrument units`, async () => {
    const { name, w } = await market(`ex-trades-${flavour}`);
    const ex = runExample('trades', flavour, [name]);
    await printed(ex, 'GOOG trade 200 @ 585.4 (message 3)', `trades (${flavour})`);
    w.child.kill('SIGTERM');
    assert.is((await ex.exited).code, 0, ex.run.describeExit());
    assert.equal(
      ex.run.stdout.filter((l) => l.includes(' trade ')),
      ['GOOG trade 200 @ 585.4 (message 3)'],
      'the one trade, once; the trading action is not a trade',
    );
  });

  test(`pool strategy (${flavour}): mdfan strategies runs it; quotes, spreads and the trade in units in its summary`, async () => {
    const { name, w } = await market(`ex-pool-${flavour}`);
    const pool = startNode(binPath, ['strategies', '--segment', name, '--workers', '1', '--strategy', script('pool-strategy', flavour), '--wait', 'block', '--timeout', '30']);
    const label = `pool-strategy (${flavour})`;
    await printed(pool, 'worker 0: GOOG bid 585.33 ask 585.5 spread 0.17', label);
    w.child.kill('SIGUSR2');
    await w.line(/^moved$/, LINE_MS);
    await printed(pool, 'worker 0: GOOG bid 585.35 ask 585.5 spread 0.15', label);
    w.child.kill('SIGTERM'); // the session ends: the pool's workers finish and report
    assert.is((await pool.exited).code, 0, pool.run.describeExit());
    const line = pool.run.stdout.find((l) => l.startsWith('worker 0 strategy summary: '));
    assert.ok(line, `a summary line in:\n${pool.run.stdout.join('\n')}`);
    const summary = JSON.parse(line!.slice('worker 0 strategy summary: '.length));
    assert.equal(summary.quotes, {
      GOOG: { bid: 585.35, ask: 585.5, spread: 0.15 },
      'BRK.B': { bid: null, ask: 412.5, spread: null },
      BTCUSDT: { bid: 61837.63, ask: 61837.64, spread: 0.01 },
    });
    assert.equal([summary.trades, summary.lastTrade], [1, { symbol: 'GOOG', px: 585.4, qty: 200 }]);
  });

  test(`NATS subscriber (${flavour}): the bridge's top and trade records decoded with mdfan's wire decoder, in units`, async () => {
    if (!hasNatsServer) return console.log('  (skipped: nats-server is not installed; .ci/ensure-packages installs it)');
    nats = await NatsServer.start();
    const { name, w } = await market(`ex-nats-${flavour}`);
    const label = `nats-subscriber (${flavour})`;
    const sub = runExample('nats-subscriber', flavour, [nats.url, 'GOOG', 'BTCUSDT']);
    await sub.line(/^subscribed to md\.GOOG\.>, md\.BTCUSDT\.> on /, LINE_MS); // the server has the subscriptions before anything is published
    const bridge = startNode(binPath, ['bridge', '--segment', name, '--nats', nats.url]);
    await bridge.event(LogEvent.BRIDGE_READY, LINE_MS);
    await printed(sub, 'GOOG trade 200 @ 585.4 (message 3)', label);
    // Sizes at the instrument's 8 decimals, prices at its 2: the book every bridge start sends.
    await printed(sub, 'BTCUSDT book 1x1 levels, best bid 554.63987 @ 61837.63 ask 0.0154698 @ 61837.64 (message 3)', label);
    w.child.kill('SIGUSR2');
    await w.line(/^moved$/, LINE_MS);
    await printed(sub, 'GOOG top bid 100 @ 585.35 ask 300 @ 585.5 (message 4)', label);
    assert.not.ok(
      sub.run.stdout.some((l) => l.includes('not a record') || l.includes('STALE')),
      sub.run.stdout.join('\n'),
    );
  });
}

test.run();
