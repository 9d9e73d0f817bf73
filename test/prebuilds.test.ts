/**
 * The prebuilt addons beyond this machine's own: native/prebuild.mjs cross-compiles the
 * linux-arm64 one, the official arm64 Node under qemu-user loads it and round-trips a book
 * through it; and a prebuild that is there but does not load (another architecture, a corrupt
 * file, a glibc too old, a missing symbol) is MDFAN_ERR_NO_ADDON with dlopen's reason, the file
 * and the fix. Every addon file is planted in a copy of the package in a folder of this test's
 * own, never in this tree's build. qemu-user and the aarch64 toolchain come from Debian
 * (.ci/ensure-packages installs them); the arm64 Node from the npm registry (cached).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PREBUILT_MIN_GLIBC, PREBUILT_PLATFORMS } from '../native/segment/addon-load.js';
import { arm64Node, missingArm64Tools, underQemu } from './helpers/arm64-node.js';
import { copyPackage, plantPrebuild } from './helpers/package-copy.js';
import { repoRoot } from './helpers/paths.js';
import type { RoundTripBook } from './helpers/roundtrip-proc.js';
import { cleanupSegments, segName } from './helpers/segments.js';

const work = mkdtempSync(join(tmpdir(), 'mdfan-prebuilds-test-'));
const BUILD_TIMEOUT_MS = 600_000;
const RUN_TIMEOUT_MS = 180_000;

test.after.each(() => cleanupSegments());
test.after(() => rmSync(work, { recursive: true, force: true }));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));

function run(cmd: string, args: string[], cwd: string, timeout = RUN_TIMEOUT_MS): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout, maxBuffer: 64 << 20 });
  return { status: r.status, stdout: r.stdout ?? '', stderr: `${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

function mustRun(cmd: string, args: string[], cwd: string, timeout = RUN_TIMEOUT_MS): string {
  const r = run(cmd, args, cwd, timeout);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${(r.stderr + r.stdout).slice(-4000)}`);
  return r.stdout;
}

/** Missing Debian tools skip a test on a developer's machine; on CI (.ci/ensure-packages ran) they fail it. */
function arm64Ready(): boolean {
  const missing = missingArm64Tools();
  if (missing.length === 0) return true;
  assert.not.ok(process.env.CI, `CI must have ${missing.join(', ')} (.ci/ensure-packages installs them)`);
  console.log(`  (skipped: needs Debian's ${missing.join(' and ')}; .ci/ensure-packages installs them)`);
  return false;
}

let arm64File = '';
/** The linux-arm64 prebuild, built once by native/prebuild.mjs into this test's folder. */
function arm64Prebuild(): string {
  if (arm64File) return arm64File;
  const out = join(work, 'prebuild-out');
  mustRun(process.execPath, [join(repoRoot, 'native', 'prebuild.mjs'), '--arch', 'arm64', '--out', out], repoRoot, BUILD_TIMEOUT_MS);
  arm64File = join(out, 'prebuilds', 'linux-arm64', 'node.node');
  return arm64File;
}

let copies = 0;
/** A fresh copy of the package with `file` planted as the prebuild of `platform`; returns the copy and where the file went. */
function packageWith(platform: string, file: string): { dir: string; planted: string } {
  const dir = copyPackage(join(work, `package-${++copies}`));
  return { dir, planted: plantPrebuild(dir, platform, file) };
}

/** The ELF machine readelf names (e.g. AArch64, Advanced Micro Devices X86-64). */
const elfMachine = (file: string): string => /Machine:\s+(.*)/.exec(mustRun('readelf', ['-h', file], work))?.[1]?.trim() ?? '';

/** The newest GLIBC_x.y version a shared object needs (readelf's version needs), as [x, y]. */
function newestGlibc(file: string): number[] {
  const versions = [...mustRun('readelf', ['-V', file], work).matchAll(/Name: GLIBC_(\d+)\.(\d+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
  assert.ok(versions.length > 0, `${file} needs some GLIBC_ version`);
  return versions.reduce((a, b) => (a[0]! * 1000 + a[1]! > b[0]! * 1000 + b[1]! ? a : b));
}

test('native/prebuild.mjs cross-compiles the linux-arm64 prebuild: one stripped aarch64 object needing no newer glibc than documented, this tree\'s build untouched', () => {
  if (!arm64Ready()) return;
  const own = join(repoRoot, 'native', 'build', 'Release', 'mdfan.node');
  const before = existsSync(own) ? statSync(own).mtimeMs : null;
  const file = arm64Prebuild();
  assert.equal(readdirSync(join(work, 'prebuild-out', 'prebuilds')), ['linux-arm64'], 'only the architecture asked for');
  assert.equal(readdirSync(join(work, 'prebuild-out', 'prebuilds', 'linux-arm64')), ['node.node'], 'one addon: the product\'s, not the benchmarks\'');
  assert.is(elfMachine(file), 'AArch64');
  assert.not.match(mustRun('readelf', ['-S', file], work), /\.symtab/, 'stripped');
  const [major, minor] = newestGlibc(file);
  const [docMajor, docMinor] = PREBUILT_MIN_GLIBC.split('.').map(Number);
  assert.ok(major! * 1000 + minor! <= docMajor! * 1000 + docMinor!, `needs GLIBC_${major}.${minor}, and the package says ${PREBUILT_MIN_GLIBC} or later`);
  assert.is(existsSync(own) ? statSync(own).mtimeMs : null, before, "the tree's own build (native/build) is left as it was");
});

test('the arm64 Node under qemu loads the arm64 prebuild and round-trips a book: a SegmentWriter publishes it, a BookReader reads it back equal', () => {
  if (!arm64Ready()) return;
  const { dir, planted } = packageWith('linux-arm64', arm64Prebuild());
  const node = arm64Node();
  // Every field distinct, prices and sizes past 2^32 (both halves of the 64-bit words), fewer
  // levels in use than the slot holds (the rest must read as absent, not as another book's).
  const sent: RoundTripBook = {
    symbol: 'ARM.TEST',
    levels: 4,
    msgIndex: 5_000_000_123,
    exchangeTsNs: 34_200_123_456_789,
    bids: [
      [6_183_763_000_000, 55_463_987_001, 7],
      [6_183_762_500_000, 12_000_000_002, 3],
      [6_183_700_000_000, 4_294_967_299, 1],
    ],
    asks: [
      [6_183_764_000_000, 98_765_432_101, 11],
      [6_183_800_000_000, 4_294_967_301, 2],
    ],
  };
  const [cmd, args] = underQemu(node, [join('dist', 'test', 'helpers', 'roundtrip-proc.js'), segName('arm64'), JSON.stringify(sent)]);
  const out = mustRun(cmd, args, dir);
  const got = JSON.parse(out.trim().split('\n').pop()!) as { arch: string; addon: string; nativeReads: boolean; read: RoundTripBook; event: unknown };
  assert.is(got.arch, 'arm64', 'run by the arm64 Node');
  assert.is(got.addon, planted, 'through the arm64 prebuild');
  assert.is(got.nativeReads, true, 'reads go through the native seqlock (the JavaScript one is for x86-64 only)');
  assert.equal(got.read, sent);
  // The event ring's ordered paths (every word an Atomics store and load) on arm64: a trade back whole.
  const best = sent.bids[0]!;
  assert.equal(got.event, { type: 'trade', side: 'buy', price: -585_330_000_123, size: best[1]!, orderRef: 2 ** 40 + 1, msgIndex: sent.msgIndex, exchangeTsNs: sent.exchangeTsNs });
});

/** The seqlock's calls wrapped in functions of their own, so each one's arm64 code can be read alone. */
const SEQLOCK_PROBE = `#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "mdfan_seqlock.h"
#ifdef __cplusplus
extern "C" {
#endif
int64_t probe_read(const void *slot, void *dst, size_t bytes) { return mdfan_seqlock_read(slot, dst, bytes, 1000000, 0); }
uint32_t probe_begin(uint32_t *seq) { return mdfan_seqlock_write_begin(seq); }
void probe_end(uint32_t *seq, uint32_t odd) { mdfan_seqlock_write_end(seq, odd); }
#ifdef __cplusplus
}
#endif
`;

test('on arm64 the seqlock compiles to the barriers mdfan_seqlock.h names, in C and C++: R1 an acquire load, the copy, F2 dmb ishld, R2; W1, F1 dmb ish; W2 stlr', () => {
  if (!arm64Ready()) return;
  const src = join(work, 'seqlock-probe.c');
  writeFileSync(src, SEQLOCK_PROBE);
  const include = join(repoRoot, 'native', 'include');
  // qemu on an x86-64 host runs arm64 code with the host's (stronger) ordering, so no run here can
  // show a missing barrier: the code the compiler makes is what is checked.
  for (const [compiler, lang] of [
    ['aarch64-linux-gnu-gcc', ['-x', 'c', '-std=c11']],
    ['aarch64-linux-gnu-g++', ['-x', 'c++', '-std=c++17']],
  ] as const) {
    const obj = join(work, `seqlock-probe-${lang[1]}.o`);
    mustRun(compiler, [...lang, '-O2', '-Wall', '-Werror', '-I', include, '-c', src, '-o', obj], work);
    const asm = mustRun('aarch64-linux-gnu-objdump', ['-d', '--no-show-raw-insn', obj], work);
    const body = (fn: string): string => {
      const m = new RegExp(`<${fn}>:\\n([\\s\\S]*?)(?:\\n\\n|$)`).exec(asm);
      assert.ok(m, `${compiler}: ${fn} in the object`);
      return m![1]!;
    };
    const read = body('probe_read');
    assert.match(read, /\b(ldar|ldapr)\s+(w\d+), \[(x\d+)\][\s\S]*\bbl\s+[^\n]*<memcpy[\s\S]*\bdmb\s+ishld\n[\s\S]*?\bldr\s+w\d+, \[\3\]/, `${compiler}: the reader is R1 (acquire), copy, F2 (dmb ishld), R2:\n${read}`);
    const begin = body('probe_begin');
    assert.match(begin, /\bstr\s+w\d+, \[x\d+\]\n[\s\S]*?\bdmb\s+ish\n/, `${compiler}: write_begin is W1, then F1 (dmb ish):\n${begin}`);
    assert.match(body('probe_end'), /\bstlr\s+w\d+, \[x\d+\]/, `${compiler}: write_end is W2, a release store (stlr)`);
  }
});

/** What importing the copy's mdfan throws, as the x64 Node sees it. */
function importError(dir: string): { name: string; code: string; message: string; details: Record<string, unknown> } {
  const probe = `try { await import('./dist/workers/index.js'); console.log('null'); } catch (e) { console.log(JSON.stringify({ name: e.name, code: e.code, message: e.message, details: e.details })); }`;
  return JSON.parse(mustRun(process.execPath, ['--input-type=module', '-e', probe], dir).trim()) as ReturnType<typeof importError>;
}

/** A C file compiled here into a shared object (cc), with `flags`. */
function sharedObject(name: string, source: string, flags: string[] = []): string {
  const c = join(work, `${name}.c`);
  writeFileSync(c, source);
  const out = join(work, `${name}.so`);
  mustRun('cc', ['-shared', '-fPIC', '-o', out, c, ...flags], work);
  return out;
}

/**
 * A shared object built against a glibc newer than this one: it needs GLIBC_2.99 of libc.so.6,
 * as an addon linked on a newer system would. The version comes from a stand-in libc.so.6 used
 * at link time only; at load time the real libc.so.6 lacks it.
 */
function newerGlibcObject(): string {
  const map = join(work, 'future.map');
  writeFileSync(map, 'GLIBC_2.99 { global: mdfan_from_the_future; local: *; };\n');
  const stub = sharedObject('future-libc', 'int mdfan_from_the_future(void) { return 0; }\n', [`-Wl,--version-script=${map}`, '-Wl,-soname,libc.so.6']);
  const dir = join(work, 'future-lib');
  mkdirSync(dir, { recursive: true });
  cpSync(stub, join(dir, 'libc.so.6'));
  return sharedObject('needs-future-glibc', 'int mdfan_from_the_future(void);\nint mdfan_plug(void) { return mdfan_from_the_future(); }\n', [`-L${dir}`, '-l:libc.so.6']);
}

const FIX = 'npm rebuild mdfan --build-from-source';

test('a prebuild that is there but does not load is MDFAN_ERR_NO_ADDON with dlopen\'s reason, the file, what it means and the fix, never a raw ERR_DLOPEN_FAILED', () => {
  if (!arm64Ready()) return;
  const corrupt = join(work, 'corrupt.node');
  writeFileSync(corrupt, Buffer.concat([Buffer.from('\x7fELF'), Buffer.alloc(4096, 0xa5)])); // an ELF's first bytes, then garbage
  const whole = readFileSync(sharedObject('plain', 'int mdfan_plug(void) { return 1; }\n'));
  const truncated = join(work, 'truncated.node');
  writeFileSync(truncated, whole.subarray(0, whole.length >> 1)); // the first half of a good object: an interrupted download
  const cases = [
    { what: 'another architecture', file: arm64Prebuild(), reason: 'cannot open shared object file', why: 'built for arm64, and this process is x64' },
    { what: 'a corrupt file', file: corrupt, reason: 'wrong ELF class', why: 'not a shared object: it is corrupt' },
    { what: 'a truncated file', file: truncated, reason: 'not opened, since dlopen would crash on a file cut short', loadCode: undefined, why: `the file is truncated: its ELF header says at least ${whole.length} bytes, and it has ${whole.length >> 1}` },
    { what: 'a glibc too old', file: newerGlibcObject(), reason: "version `GLIBC_2.99' not found", why: "it needs GLIBC_2.99, and this system's glibc is 2." },
    {
      what: 'a missing symbol',
      file: sharedObject('missing-symbol', 'extern int mdfan_test_missing_symbol;\nint mdfan_plug(void) { return mdfan_test_missing_symbol; }\n'),
      reason: 'undefined symbol: mdfan_test_missing_symbol',
      why: 'it needs mdfan_test_missing_symbol, which the libraries here lack',
    },
  ];
  for (const c of cases) {
    const { dir, planted } = packageWith(`linux-${process.arch}`, c.file);
    const e = importError(dir);
    assert.is(e.code, 'MDFAN_ERR_NO_ADDON', `${c.what}: ${e.message}`);
    assert.is(e.name, 'MdfanError', c.what);
    assert.ok(e.message.includes(planted), `${c.what}: names the file tried: ${e.message}`);
    assert.ok(e.message.includes(c.reason), `${c.what}: dlopen's reason: ${e.message}`);
    assert.ok(e.message.includes(c.why), `${c.what}: what it means: ${e.message}`);
    assert.ok(e.message.includes(FIX), `${c.what}: the fix: ${e.message}`);
    assert.ok(e.message.includes(PREBUILT_PLATFORMS.join(' and ')), `${c.what}: the platforms shipped: ${e.message}`);
    assert.is(e.details.file, planted, c.what);
    assert.ok(String(e.details.reason).includes(c.reason), `${c.what}: the reason in the details`);
    assert.is(e.details.loadCode, 'loadCode' in c ? c.loadCode : 'ERR_DLOPEN_FAILED', `${c.what}: Node's code kept as a fact, not as the error's code`);
  }
});

test('the CLI says it in one line: mdfan <command>: MDFAN_ERR_NO_ADDON and why, exit 1, no stack', () => {
  if (!arm64Ready()) return;
  const { dir, planted } = packageWith(`linux-${process.arch}`, arm64Prebuild());
  const r = run(process.execPath, [join('bin', 'mdfan.js'), 'ls'], dir);
  assert.is(r.status, 1, r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.is(lines.length, 1, r.stderr);
  assert.ok(lines[0]!.startsWith(`mdfan ls: MDFAN_ERR_NO_ADDON: the native addon ${planted} does not load`), lines[0]);
  assert.ok(lines[0]!.includes('built for arm64'), lines[0]);
});

/** A folder whose cc, c++, gcc, g++ and make fail, first on PATH (and as CC/CXX): a machine with no compiler. */
function noCompilerEnv(): NodeJS.ProcessEnv {
  const shims = join(work, 'no-compiler');
  mkdirSync(shims, { recursive: true });
  for (const tool of ['cc', 'c++', 'gcc', 'g++', 'make']) {
    writeFileSync(join(shims, tool), `#!/bin/sh\necho "${tool} called: this machine has no compiler" >&2\nexit 127\n`);
    chmodSync(join(shims, tool), 0o755);
  }
  return { ...process.env, PATH: `${shims}:${process.env.PATH}`, CC: join(shims, 'cc'), CXX: join(shims, 'c++') };
}

test('the install step, given a prebuild cut short and no compiler, fails saying both: the prebuild\'s reason (never opened: dlopen would crash) and what a build needs', () => {
  const whole = readFileSync(sharedObject('plain-install', 'int mdfan_plug(void) { return 1; }\n'));
  const truncated = join(work, 'truncated-install.node');
  writeFileSync(truncated, whole.subarray(0, whole.length >> 1));
  const dir = copyPackage(join(work, `package-${++copies}`), true);
  const planted = plantPrebuild(dir, `linux-${process.arch}`, truncated);
  const r = spawnSync(process.execPath, [join('native', 'install.mjs')], { cwd: dir, env: noCompilerEnv(), encoding: 'utf8', timeout: RUN_TIMEOUT_MS });
  assert.is(r.signal, null, `no crash: ${r.stderr}`);
  assert.is(r.status, 1, r.stderr);
  assert.ok(r.stderr.includes(`mdfan: the prebuilt addon does not load here, so it is built from source: MDFAN_ERR_NO_ADDON: the native addon ${planted} does not load`), r.stderr);
  assert.ok(r.stderr.includes('the file is truncated'), r.stderr);
  assert.match(r.stderr, /mdfan: building the addon from source failed \((gen-abi|node-gyp) exit \d+\): it needs a C\+\+ compiler, make and python3; the prebuilt addon did not load either \(MDFAN_ERR_NO_ADDON: /);
  assert.not.ok(existsSync(join(dir, 'native', 'build', 'Release', 'mdfan.node')), 'nothing was built');
});

test('no prebuild for this platform at all: MDFAN_ERR_NO_ADDON naming the platform, the ones shipped and the fix', () => {
  // Only another architecture's prebuild in the package (its content does not matter: it is never opened).
  const other = process.arch === 'arm64' ? 'linux-x64' : 'linux-arm64';
  const placeholder = join(work, 'other-arch.node');
  writeFileSync(placeholder, '');
  const { dir } = packageWith(other, placeholder);
  const e = importError(dir);
  assert.is(e.code, 'MDFAN_ERR_NO_ADDON', e.message);
  assert.ok(e.message.includes(`no native addon for linux-${process.arch}`), e.message);
  assert.ok(e.message.includes(PREBUILT_PLATFORMS.join(' and ')), e.message);
  assert.ok(e.message.includes(FIX), e.message);
});

test.run();
