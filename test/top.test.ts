/**
 * `mdfan top` in a real terminal: tmux runs it in a 120x20 pane, and the tests read the screen
 * (capture-pane). It waits for a missing segment, shows books, spread, the last trade, the trading
 * state and the readers, redraws in place, shows a dead writer, and quits on q and on Ctrl-C with
 * exit 0, giving the screen back. --once prints one plain frame.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { binPath } from './helpers/paths.js';
import { killAll, startNode } from './helpers/procs.js';
import { cleanupSegments, segName } from './helpers/segments.js';
import { waitUntil } from './helpers/wait.js';

const writerProc = new URL('./helpers/writer-proc.js', import.meta.url);
const dir = mkdtempSync(join(tmpdir(), 'mdfan-top-test-'));
const SOCKET = join(dir, 'tmux'); // a tmux server of this run only, its socket removed with dir
const EXIT_FILE = join(dir, 'top-exit');
const SCREEN_TIMEOUT_MS = 20_000;
const hasTmux = spawnSync('tmux', ['-V']).status === 0;

const tmux = (...args: string[]): string => execFileSync('tmux', ['-S', SOCKET, '-f', '/dev/null', ...args], { encoding: 'utf8' });
const killServer = (): void => {
  spawnSync('tmux', ['-S', SOCKET, 'kill-server']);
  rmSync(EXIT_FILE, { force: true });
};

test.after.each(() => {
  killServer();
  killAll();
  cleanupSegments();
});
test.after(() => rmSync(dir, { recursive: true, force: true }));
process.on('exit', () => {
  killServer();
  rmSync(dir, { recursive: true, force: true });
});

/** Starts `mdfan top ARGS` in a detached 120x20 tmux pane, through a shell that writes its exit code to EXIT_FILE. */
function startTop(args: string[]): void {
  tmux('new-session', '-d', '-s', 'boot');
  tmux('set-option', '-g', 'remain-on-exit', 'on');
  const cmd = [process.execPath, binPath, 'top', ...args].map((a) => `'${a}'`).join(' ');
  tmux('new-session', '-d', '-s', 'top', '-x', '120', '-y', '20', `${cmd}; echo $? > '${EXIT_FILE}'`);
}
const screen = (): string => tmux('capture-pane', '-p', '-t', 'top');
const untilScreen = (re: RegExp, what: string): Promise<string> =>
  waitUntil(() => (re.test(screen()) ? screen() : null), SCREEN_TIMEOUT_MS, { what: `${what} on the screen (${re}); last screen:\n${screen()}` });
/** Waits for top to end; returns its exit code and the screen it left. */
async function topExit(how: string): Promise<{ code: number; screen: string }> {
  const whole = (t: string): string | null => (/^\d+\n$/.test(t) ? t : null); // not a file the shell is still writing
  const text = await waitUntil(() => (existsSync(EXIT_FILE) ? whole(readFileSync(EXIT_FILE, 'utf8')) : null), SCREEN_TIMEOUT_MS, { what: `top to quit on ${how}` });
  return { code: Number(text.trim()), screen: screen() };
}

test('waits for the segment, then shows books, spread, last trade, trading state and readers; redraws in place; a dead writer; q quits, exit 0', async () => {
  if (!hasTmux) return console.log('  (skipped: tmux is not installed; .ci/ensure-packages installs it)');
  const name = segName('top');
  startTop(['--segment', name, '--interval-ms', '100']);
  await untilScreen(/waiting for the segment: MDFAN_ERR_NO_SEGMENT/, 'the wait');

  const w = startNode(writerProc, ['market', name]);
  await w.line(/^ready$/);
  let s = await untilScreen(/^GOOG\s/m, 'the GOOG row');
  assert.match(s, new RegExp(`^mdfan top  ${name}  READY  generation 1  writer pid ${w.child.pid} alive`, 'm'));
  assert.match(s, /^SYMBOL\s+BID SIZE\s+BID\s+ASK\s+ASK SIZE\s+SPREAD\s+UPD\/S\s+TRD\/S\s+LAST TRADE\s+STATE$/m);
  assert.match(s, /^GOOG\s+100\s+585\.3300\s+585\.5000\s+300\s+0\.1700\s+\S+\s+\S+\s+200 @ 585\.4000\s*$/m);
  assert.match(s, /^BRK\.B\s+–\s+–\s+412\.50\s+5\s+–\s+\S+\s+\S+\s+–\s+halted\s*$/m);
  // Sizes at the instrument's decimals (a crypto venue's 8), not the slot's integers.
  assert.match(s, /^BTCUSDT\s+554\.63987\s+61837\.63\s+61837\.64\s+0\.0154698\s+0\.01\s/m);
  // The readers line comes from the control plane, which a loaded machine may answer a sample late
  // ("readers unknown"): wait for the line rather than take the first screen's.
  await untilScreen(/readers 0/, 'no reader yet, once the control plane answers');

  const r = startNode(binPath, ['read', '--segment', name, '--wait', 'block']);
  await untilScreen(new RegExp(`readers 1: ${r.child.pid} block`), 'the reader');

  w.child.kill('SIGUSR2'); // GOOG's best bid moves
  await w.line(/^moved$/);
  s = await untilScreen(/^GOOG\s+100\s+585\.3500\s+585\.5000\s+300\s+0\.1500/m, 'the new bid');
  assert.is(s.split('\n')[0]?.startsWith('mdfan top'), true, 'drawn from the top of the screen');
  assert.is(s.match(/^GOOG\s/gm)?.length, 1, 'redrawn in place, not scrolled');

  w.child.kill('SIGKILL');
  await untilScreen(new RegExp(`writer pid ${w.child.pid} DEAD`), 'the dead writer');

  tmux('send-keys', '-t', 'top', 'q');
  const end = await topExit('q');
  assert.is(end.code, 0);
  assert.not.match(end.screen, /SYMBOL/, 'the alternate screen was left: the terminal shows what it showed before');
});

test('Ctrl-C quits with exit 0; --once prints one plain frame', async () => {
  if (!hasTmux) return console.log('  (skipped: tmux is not installed; .ci/ensure-packages installs it)');
  const name = segName('top-c');
  const w = startNode(writerProc, ['market', name]);
  await w.line(/^ready$/);
  startTop(['--segment', name]);
  await untilScreen(/^GOOG\s/m, 'the GOOG row');
  tmux('send-keys', '-t', 'top', 'C-c');
  assert.is((await topExit('Ctrl-C')).code, 0);

  const once = execFileSync(process.execPath, [binPath, 'top', '--segment', name, '--once', '--interval-ms', '50'], { encoding: 'utf8' });
  assert.not.ok(once.includes('\u001b'), 'no escapes outside a terminal');
  assert.match(once, /^GOOG\s+100\s+585\.3300\s+585\.5000\s+300\s+0\.1700/m);
});

test.run();
