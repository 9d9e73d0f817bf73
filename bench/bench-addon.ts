/**
 * The benchmarks' addon (mdfan_bench: cache-line ping-pong, the native read's own cost, NUMA
 * placement, the reaction benchmark's writer and reply spinner), kept out of the product's addon. A
 * clone's build (node-gyp, `npm ci`) makes it beside the main addon in native/build/Release; an
 * installed package ships no prebuild of it, so it is compiled here on first use (into
 * native/build/bench, else the user's cache), as the C peers are, and rebuilt when a source or
 * header is newer. No compiler: MDFAN_ERR_BUILD; no Node headers: MDFAN_ERR_MISSING_DEPENDENCY,
 * each saying what to install.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { ErrorCode, MdfanError, isSyscallError, syscallError } from '../native/segment/errors.js';
import { newestInput, outputDir, root } from './peers/c-program.js';

export interface BenchAddon {
  /** Cache-line ping-pong between two pinned threads: sorted one-way latencies (ns). */
  c2cPingPong(cpuA: number, cpuB: number, roundTrips: number): { oneWayNs: Float64Array; nsPerTick: number; pinned: boolean };
  /** The native seqlock read of one slot, `iterations` times, timed in C. */
  benchReadSlot(buffer: ArrayBuffer, slotOffset: number, bytes: number, iterations: number): { nsPerRead: number; retries: number };
  /** Binds a mapping's pages to one NUMA node (mbind MPOL_BIND, moving pages already placed). */
  mbind(buffer: ArrayBuffer, node: number): void;
  /** The NUMA node holding the page at byteOffset of a mapping (get_mempolicy). */
  memNode(buffer: ArrayBuffer, byteOffset: number): number;
  /**
   * `mdfan bench reaction`'s writer and reply spinner, on this thread: commits a book to slot 0 of
   * `map` (its top line in `tops`), spins on the reply line in `reply` for the strategy's order,
   * records order - commit, paces, and goes again (native/bench/reaction.cc).
   */
  reactionRun(map: ArrayBuffer, tops: ArrayBuffer, reply: ArrayBuffer, o: ReactionRunOptions): ReactionRunResult;
}

export interface ReactionRunOptions {
  slotsOffset: number;
  slotStride: number;
  levels: number;
  maxRounds: number;
  /** The first rounds are not recorded (the strategy's JIT, caches). */
  warmupRounds: number;
  /** Measured time, from the end of the warm-up. */
  durationNs: number;
  paceMinNs: number;
  paceMaxNs: number;
  /** A round with no reply after this long ends the run (timedOutRound). */
  roundTimeoutNs: number;
  seed: number;
}

export interface ReactionRunResult {
  /** Sorted reactions (ns) of the matching orders after the warm-up. */
  reactionNs: Float64Array;
  /** Rounds answered (a mismatched order included). */
  rounds: number;
  /** Orders that named another book or another best bid than the one just committed. */
  mismatches: number;
  /** The round no order came for within roundTimeoutNs (0: none). */
  timedOutRound: number;
}

const require = createRequire(import.meta.url);
const SOURCES = ['bench_addon.cc', 'c2c.cc', 'read_cost.cc', 'numa.cc', 'reaction.cc'].map((f) => `native/bench/${f}`);
const INCLUDE_DIRS = ['native/bench', 'native/src', 'native/include'];
/** As binding.gyp's target_defaults. */
const FLAGS = ['-std=c++17', '-O2', '-Wall', '-Wextra', '-Wno-unused-parameter', '-pthread', '-shared', '-fPIC', '-DNAPI_VERSION=8', '-DNAPI_DISABLE_CPP_EXCEPTIONS', '-D_GNU_SOURCE'];

/** Node's own headers (node_api.h): npm's nodedir, the installation beside this node, node-gyp's download. */
function nodeHeaders(): string {
  const candidates = [
    process.env.npm_config_nodedir ? join(process.env.npm_config_nodedir, 'include', 'node') : '',
    join(dirname(process.execPath), '..', 'include', 'node'),
    join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'node-gyp', process.versions.node, 'include', 'node'),
  ].filter((d) => d !== '');
  const found = candidates.find((d) => existsSync(join(d, 'node_api.h')));
  if (found) return found;
  throw new MdfanError(
    ErrorCode.MISSING_DEPENDENCY,
    `the benchmarks' addon must be compiled, and Node's headers (node_api.h) are not in ${candidates.join(', ')}: install them (e.g. \`npx node-gyp install\`) or set npm_config_nodedir`,
    { dependency: 'node headers', dir: candidates.join(',') },
  );
}

/** Compiles mdfan_bench.node into `dir` (a private file renamed into place: two compilers at once are safe). */
function compile(out: string): void {
  const cxx = process.env.CXX || 'c++';
  const includes = [nodeHeaders(), (require('node-addon-api') as { include_dir: string }).include_dir, ...INCLUDE_DIRS.map((d) => join(root, d))];
  const tmp = `${out}.${process.pid}.tmp`;
  try {
    execFileSync(cxx, [...FLAGS, ...includes.flatMap((d) => ['-I', d]), '-o', tmp, ...SOURCES.map((s) => join(root, s))], { stdio: 'pipe' });
    renameSync(tmp, out);
  } catch (e) {
    rmSync(tmp, { force: true });
    const err = e as { code?: string; stderr?: Buffer };
    const why = err.code === 'ENOENT' ? `the C++ compiler \`${cxx}\` is not installed (set CXX or install g++)` : String(err.stderr ?? e).trim();
    throw new MdfanError(ErrorCode.BUILD, `compiling the benchmarks' addon (native/bench) failed: ${why}`, { program: 'mdfan_bench', compiler: cxx });
  }
}

/** The path of a current mdfan_bench.node: node-gyp's build if it is as new as the sources, else one compiled here. */
export function benchAddonPath(opts: { outDir?: string } = {}): string {
  const newest = newestInput(SOURCES, INCLUDE_DIRS);
  const current = (p: string) => existsSync(p) && statSync(p).mtimeMs >= newest;
  const gyp = join(root, 'native', 'build', 'Release', 'mdfan_bench.node');
  if (opts.outDir === undefined && current(gyp)) return gyp;
  const out = join(opts.outDir ?? outputDir('bench'), 'mdfan_bench.node');
  if (!current(out)) compile(out);
  return out;
}

/** A syscall failure of the NUMA calls becomes an MdfanError, as the product addon's cold calls do. */
function guarded<A extends unknown[], R>(f: (...a: A) => R): (...a: A) => R {
  return (...a: A) => {
    try {
      return f(...a);
    } catch (e) {
      if (!isSyscallError(e)) throw e;
      throw syscallError(e, null);
    }
  };
}

let loaded: BenchAddon | null = null;

/** The benchmarks' addon, loaded (and compiled if need be) on the first call. */
export function benchNative(): BenchAddon {
  if (loaded) return loaded;
  const raw = require(benchAddonPath()) as BenchAddon;
  loaded = Object.freeze({ ...raw, mbind: guarded(raw.mbind), memNode: guarded(raw.memNode) });
  return loaded;
}
