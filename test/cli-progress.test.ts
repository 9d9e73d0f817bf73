/**
 * Long jobs show their progress on a terminal and are quiet otherwise: `mdfan gen-market` and
 * `mdfan feed` of a file draw a cli-progress bar on stderr when it is a terminal (run under
 * script(1), which gives them a pseudo-terminal), and write no bar, no carriage return and no
 * escape sequence when stderr is a pipe; their summary on stdout is the same either way.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GOOG_ITCH } from './helpers/oracle.js';
import { binPath } from './helpers/paths.js';
import { cleanupSegments, segName } from './helpers/segments.js';

const dir = mkdtempSync(join(tmpdir(), 'mdfan-progress-'));
test.after.each(() => cleanupSegments());
test.after(() => rmSync(dir, { recursive: true, force: true }));

/** The bar's filled and empty cells (cli-progress's shades_classic preset). */
const BAR_CELLS = /[\u2588\u2591]/;
const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;
const quote = (a: string): string => `'${a.replace(/'/g, `'\\''`)}'`;

/** `mdfan ARGS` with stdout and stderr on a pseudo-terminal (script -q -e): everything it wrote, and its exit code. */
async function onTerminal(args: string[]): Promise<{ code: number | null; text: string }> {
  // A wide terminal: cli-progress cuts a line at the terminal's width (80 columns by default under script).
  const cmd = `stty cols 200 </dev/tty; ${[process.execPath, binPath, ...args].map(quote).join(' ')}`;
  const p = spawn('script', ['-q', '-e', '-c', cmd, '/dev/null'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  p.stdout.setEncoding('utf8').on('data', (d: string) => (text += d));
  p.stderr.setEncoding('utf8').on('data', (d: string) => (text += d));
  const code = await new Promise<number | null>((r) => p.on('exit', (c) => r(c)));
  return { code, text };
}

const genArgs = (out: string): string[] => ['gen-market', '--from', GOOG_ITCH, '--instruments', '3', '--messages', '100000', '--out', out];
const feedArgs = (name: string): string[] => ['feed', '--source', `itch:${GOOG_ITCH}`, '--segment', name, '--speed', 'max', '--ring-events', '0'];

test('without a terminal: no bar, no carriage return, no escape sequence on stderr; the summary on stdout', () => {
  const gen = spawnSync(process.execPath, [binPath, ...genArgs(join(dir, 'quiet.itch'))], { encoding: 'utf8' });
  assert.is(gen.status, 0, gen.stderr);
  assert.not.match(gen.stderr, BAR_CELLS, 'gen-market: no bar');
  assert.not.ok(gen.stderr.includes('\r') || gen.stderr.includes('\u001b'), 'gen-market: no redraws');
  assert.is(JSON.parse(gen.stdout).messages, 100_000);
  const feed = spawnSync(process.execPath, [binPath, ...feedArgs(segName('progress-quiet'))], { encoding: 'utf8', env: { ...process.env, MDFAN_LOG_LEVEL: 'silent' } });
  assert.is(feed.status, 0, feed.stderr);
  assert.is(feed.stderr, '', 'feed: nothing on stderr but the logs (silenced here)');
  assert.match(feed.stdout, /^mdfan feed: \d+ messages in /);
});

test('on a terminal: gen-market and a feed of a file draw their bar to 100%, then print their summary', async () => {
  if (!hasScript) {
    console.log('  (skipped: no script(1) to make a pseudo-terminal)');
    return;
  }
  const gen = await onTerminal(genArgs(join(dir, 'tty.itch')));
  assert.is(gen.code, 0, gen.text);
  assert.match(gen.text, BAR_CELLS, 'gen-market: a bar');
  assert.match(gen.text, /gen-market \S+ 100% \| 100000\/100000 msgs/);
  assert.match(gen.text, '"messages":100000');
  const feed = await onTerminal([...feedArgs(segName('progress-tty'))]);
  assert.is(feed.code, 0, feed.text);
  assert.match(feed.text, BAR_CELLS, 'feed: a bar');
  assert.match(feed.text, /feed \S+ 100% \| (\d+)\/\1 [a-z ]+ \| \d+ msgs/);
  assert.match(feed.text, /mdfan feed: \d+ messages in /);
});

test.run();
