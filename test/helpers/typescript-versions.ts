/**
 * TypeScript compilers a user may have, from the registry: each spec (`7`, `5.9`) installed once
 * into its own folder under os.tmpdir() (mdfan-typescript/<spec>) and reused by later runs. They
 * stay out of the user's project under test, so that what it type-checks against is only what
 * the mdfan package brings.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const cacheDir = join(tmpdir(), 'mdfan-typescript');
const INSTALL_TIMEOUT_MS = 300_000;

export interface Compiler {
  /** The installed version, e.g. 7.0.2. */
  version: string;
  /** Its tsc, a script for node. */
  tsc: string;
}

/** TypeScript `spec` (a major or major.minor), installed once and kept. */
export function typescriptCompiler(spec: string): Compiler {
  const dir = join(cacheDir, spec);
  const pkg = join(dir, 'node_modules', 'typescript', 'package.json');
  if (!existsSync(pkg)) {
    mkdirSync(cacheDir, { recursive: true });
    const scratch = mkdtempSync(join(cacheDir, `.install-${spec}-`));
    try {
      writeFileSync(join(scratch, 'package.json'), JSON.stringify({ name: `typescript-${spec.replace(/\W/g, '-')}`, private: true }));
      const r = spawnSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', `typescript@${spec}`], { cwd: scratch, encoding: 'utf8', timeout: INSTALL_TIMEOUT_MS });
      if (r.status !== 0) throw new Error(`npm install typescript@${spec} exited ${r.status ?? r.signal}: ${r.stderr.slice(-2000)}`);
      try {
        renameSync(scratch, dir); // whole into place: a concurrent run finds nothing or all of it
      } catch (e) {
        if (!existsSync(pkg)) throw e;
      }
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }
  const version = (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
  if (!version.startsWith(`${spec}.`)) throw new Error(`${dir} holds typescript ${version}, not ${spec}`);
  return { version, tsc: join(dir, 'node_modules', 'typescript', 'bin', 'tsc') };
}
