/**
 * Tools the tests take from the npm registry (TypeScript compilers, tsx): each name@spec installed
 * once into its own folder under os.tmpdir() (mdfan-registry/<name>@<spec>) and reused by later
 * runs. They stay out of the user's project under test, so that what it sees is only what the
 * mdfan package brings.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const cacheDir = join(tmpdir(), 'mdfan-registry');
const INSTALL_TIMEOUT_MS = 300_000;

export interface InstalledPackage {
  /** The installed version. */
  version: string;
  /** Its folder (node_modules/<name>). */
  dir: string;
}

/** `name` at `spec` (a major, major.minor or range), installed once and kept. */
export function cachedPackage(name: string, spec: string): InstalledPackage {
  const home = join(cacheDir, `${name}@${spec}`.replace(/[^\w.@-]/g, '_'));
  const dir = join(home, 'node_modules', name);
  if (!existsSync(join(dir, 'package.json'))) {
    mkdirSync(cacheDir, { recursive: true });
    const scratch = mkdtempSync(join(cacheDir, '.install-'));
    try {
      writeFileSync(join(scratch, 'package.json'), JSON.stringify({ name: 'mdfan-test-tools', private: true }));
      const r = spawnSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', `${name}@${spec}`], { cwd: scratch, encoding: 'utf8', timeout: INSTALL_TIMEOUT_MS });
      if (r.status !== 0) throw new Error(`npm install ${name}@${spec} exited ${r.status ?? r.signal}: ${r.stderr.slice(-2000)}`);
      try {
        renameSync(scratch, home); // whole into place: a concurrent run finds nothing or all of it
      } catch (e) {
        if (!existsSync(join(dir, 'package.json'))) throw e;
      }
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }
  return { version: (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version, dir };
}
