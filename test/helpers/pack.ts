/**
 * The package as a user gets it: `npm pack` of a copy of this tree (so that packing, which builds
 * dist/ and the prebuild, never touches the dist/ the tests run from), made once per test process
 * and shared by the test files that install it; and fresh projects installing it, on a machine
 * whose compiler and make fail when asked for.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { repoRoot } from './paths.js';

export const INSTALL_TIMEOUT_MS = 300_000;
const packDir = mkdtempSync(join(tmpdir(), 'mdfan-pack-'));
process.on('exit', () => rmSync(packDir, { recursive: true, force: true }));

/** What is never copied for packing: build outputs, dependencies, recordings, results. */
const NOT_COPIED = ['node_modules', 'dist', '.git', 'tmp', 'native/build', 'native/prebuilds', 'scenarios/data', 'docs/bench'];

/** Runs a command to completion; throws with its output's tail when it fails. Returns stdout. */
export function runOrThrow(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): string {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout: INSTALL_TIMEOUT_MS, maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) exited ${r.status ?? r.signal}: ${(r.stderr + r.stdout).slice(-4000)}`);
  return r.stdout;
}

let tarball = '';
/** The tarball of this tree, packed once (prepack builds the prebuild, prepare compiles dist/). */
export function packedTarball(): string {
  if (tarball) return tarball;
  const src = join(packDir, 'src');
  cpSync(repoRoot, src, { recursive: true, filter: (f) => !NOT_COPIED.includes(relative(repoRoot, f)) });
  symlinkSync(join(repoRoot, 'node_modules'), join(src, 'node_modules'));
  const out = runOrThrow('npm', ['pack', '--pack-destination', packDir, '--json'], src);
  const [info] = JSON.parse(out.slice(out.indexOf('[\n'))) as Array<{ filename: string }>;
  tarball = join(packDir, info!.filename);
  return tarball;
}

/**
 * `env` with a folder whose cc, c++, gcc, g++ and make fail loudly first on PATH (and as CC/CXX):
 * a build attempted during an install fails it.
 */
export function noCompilerEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const shims = join(packDir, 'no-compiler');
  mkdirSync(shims, { recursive: true });
  for (const tool of ['cc', 'c++', 'gcc', 'g++', 'make']) {
    writeFileSync(join(shims, tool), `#!/bin/sh\necho "${tool} called: this machine has no compiler" >&2\nexit 127\n`);
    chmodSync(join(shims, tool), 0o755);
  }
  return { ...env, PATH: `${shims}:${env.PATH ?? ''}`, CC: join(shims, 'cc'), CXX: join(shims, 'c++') };
}

/**
 * A fresh project in `dir` with `installArgs` installed. npm runs a dependency's install script
 * only when the project approves it (allowScripts): approved here, so that mdfan's own install
 * step runs.
 */
export function freshProject(dir: string, installArgs: string[], env: NodeJS.ProcessEnv, allowScripts = true): string {
  mkdirSync(dir);
  const name = relative(join(dir, '..'), dir);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, private: true, type: 'module', ...(allowScripts ? { allowScripts: { mdfan: true } } : {}) }, null, 2));
  runOrThrow('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', ...installArgs], dir, env);
  return dir;
}
