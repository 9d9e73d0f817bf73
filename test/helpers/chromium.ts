/**
 * Debian's chromium, headless, for the tests that check a generated HTML report in a real browser.
 *
 * A missing browser is an error, not a skip: a test that silently does not run proves nothing.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const TIMEOUT_MS = 60_000;

const executable = (p: string): boolean => {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/** MDFAN_CHROMIUM, else /usr/bin/chromium, else `chromium` on PATH; throws naming what to install. */
export function chromiumPath(): string {
  const env = process.env.MDFAN_CHROMIUM;
  if (env) {
    if (executable(env)) return env;
    throw new Error(`MDFAN_CHROMIUM=${env} is not an executable file`);
  }
  if (executable('/usr/bin/chromium')) return '/usr/bin/chromium';
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && executable(join(dir, 'chromium'))) return join(dir, 'chromium');
  }
  throw new Error('chromium not found: install Debian\'s chromium (apt-get install --no-install-recommends chromium) or set MDFAN_CHROMIUM to a chromium binary');
}

// Headless, and quiet on the network: no update checks, sync or QUIC probes while a test runs.
const BASE_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Runs chromium with a fresh profile dir (always removed); resolves with stdout, rejects on failure. */
async function runChromium(args: string[], timeoutMs = TIMEOUT_MS): Promise<string> {
  const bin = chromiumPath();
  const profile = mkdtempSync(join(tmpdir(), 'mdfan-chromium-'));
  try {
    return await new Promise<string>((resolvePromise, reject) => {
      // Own process group, so a timeout kills the renderer and zygote children too, not just the launcher.
      const child = spawn(bin, [...BASE_FLAGS, `--user-data-dir=${profile}`, ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      let out = '';
      let err = '';
      let timedOut = false;
      child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-4000)));
      const timer = setTimeout(() => {
        timedOut = true;
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          child.kill('SIGKILL');
        }
      }, timeoutMs);
      child.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        if (timedOut) reject(new Error(`chromium timed out after ${timeoutMs} ms: ${args.join(' ')}`));
        else if (code !== 0) reject(new Error(`chromium exited with ${code ?? signal}: ${args.join(' ')}\n${err}`));
        else resolvePromise(out);
      });
    });
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

const fileUrl = (file: string): string => pathToFileURL(resolve(file)).href;

/** The DOM chromium builds from `htmlFile` (after parsing, as serialised HTML). */
export function dumpDom(htmlFile: string): Promise<string> {
  return runChromium(['--dump-dom', fileUrl(htmlFile)]);
}

/** A PNG screenshot of `htmlFile` rendered in a `width` x `height` window. */
export async function screenshot(htmlFile: string, pngFile: string, size: { width: number; height: number }): Promise<void> {
  await runChromium([`--screenshot=${resolve(pngFile)}`, `--window-size=${size.width},${size.height}`, '--hide-scrollbars', fileUrl(htmlFile)]);
}
