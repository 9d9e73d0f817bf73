/**
 * The benchmarks' C programs (the C reader peer, the floor, the reaction benchmark's C strategy),
 * compiled when a benchmark first needs one rather than at every install: into native/build/peers/
 * beside the addon's build, or, where the package's folder is not writable (a global install), into
 * $XDG_CACHE_HOME/mdfan/peers (~/.cache/mdfan/peers). A binary older than its source or any header
 * it may include is rebuilt. Two benchmarks compiling at once each write a private file and rename
 * it into place.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ErrorCode, MdfanError } from '../../native/segment/errors.js';

/** The package's root (this file runs from dist/bench/peers/). */
export const root = fileURLToPath(new URL('../../../', import.meta.url));

interface CProgram {
  source: string;
  includeDirs: readonly string[];
  flags: readonly string[];
}

export const C_PROGRAMS = Object.freeze({
  c_latency_reader: { source: 'bench/peers/c_latency_reader.c', includeDirs: ['native/include', 'bench/peers'], flags: ['-std=gnu11', '-O2', '-Wall', '-Wextra'] },
  c_floor: { source: 'bench/peers/c_floor.c', includeDirs: ['native/include'], flags: ['-std=gnu11', '-O2', '-Wall', '-Wextra', '-pthread'] },
  // `mdfan bench reaction`'s C strategy: the ABI headers and the benchmark's reply line (native/bench/reaction_reply.h).
  c_reaction_strategy: { source: 'bench/peers/c_reaction_strategy.c', includeDirs: ['native/include', 'native/bench', 'bench/peers'], flags: ['-std=gnu11', '-O2', '-Wall', '-Wextra'] },
} satisfies Record<string, CProgram>);
export type CProgramName = keyof typeof C_PROGRAMS;

function writable(dir: string): boolean {
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** Where compiled benchmark parts go: native/build/SUB in the package, else $XDG_CACHE_HOME/mdfan/SUB. */
export function outputDir(sub: string): string {
  const inPackage = join(root, 'native', 'build', sub);
  if (writable(inPackage)) return inPackage;
  const cache = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'mdfan', sub);
  if (writable(cache)) return cache;
  throw new MdfanError(ErrorCode.BUILD, `no writable folder for the benchmark's compiled parts (tried ${inPackage} and ${cache})`, { dir: cache });
}

/** The newest modification time among `sources` and the headers of `includeDirs` (paths from the package root). */
export function newestInput(sources: readonly string[], includeDirs: readonly string[]): number {
  let t = 0;
  for (const s of sources) t = Math.max(t, statSync(join(root, s)).mtimeMs);
  for (const d of includeDirs)
    for (const f of readdirSync(join(root, d))) if (f.endsWith('.h')) t = Math.max(t, statSync(join(root, d, f)).mtimeMs);
  return t;
}

export interface CProgramOptions {
  /** Where the binary goes (default: native/build/peers, else the user's cache). */
  outDir?: string;
  /** The C compiler (default: $CC, else cc). */
  cc?: string;
}

/** The path of the compiled program `name`, compiling it first if it is missing or stale. */
export function cProgram(name: CProgramName, opts: CProgramOptions = {}): string {
  const p: CProgram = C_PROGRAMS[name];
  const out = join(opts.outDir ?? outputDir('peers'), name);
  if (existsSync(out) && statSync(out).mtimeMs >= newestInput([p.source], p.includeDirs)) return out;
  const cc = opts.cc ?? (process.env.CC || 'cc');
  const tmp = `${out}.${process.pid}.tmp`;
  try {
    execFileSync(cc, [...p.flags, ...p.includeDirs.flatMap((d) => ['-I', join(root, d)]), '-o', tmp, join(root, p.source)], { stdio: 'pipe' });
    renameSync(tmp, out);
  } catch (e) {
    rmSync(tmp, { force: true });
    const err = e as { code?: string; stderr?: Buffer };
    const why = err.code === 'ENOENT' ? `the C compiler \`${cc}\` is not installed (set CC or install gcc)` : String(err.stderr ?? e).trim();
    throw new MdfanError(ErrorCode.BUILD, `compiling the benchmark's ${name} (${p.source}) failed: ${why}`, { program: name, compiler: cc });
  }
  return out;
}
