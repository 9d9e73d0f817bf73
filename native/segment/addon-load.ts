/**
 * Finding and loading the native addon, and saying why when it cannot be had. Where it is: a
 * build from source in native/build/Release, else the package's prebuild for this platform in
 * native/prebuilds/<platform>-<arch> (as node-gyp-build finds it). No file is MDFAN_ERR_NO_ADDON
 * with how to build one; a file that does not load (another architecture, a corrupt or truncated
 * file, a glibc older than the one it was linked against, a missing symbol) is MDFAN_ERR_NO_ADDON
 * too, with dlopen's reason, the file tried, what the reason means here and the fix. dlopen's
 * own words can mislead: glibc says "No such file or directory" for a file of another
 * architecture, so the file's ELF header is read to name the architecture it was built for.
 */
import { closeSync, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ErrorCode, MdfanError } from './errors.js';
import type { ErrorDetails } from './errors.js';

/** The platforms the package ships a prebuilt addon for (native/prebuild.mjs builds them; docs/ABI.md "Platforms"). */
export const PREBUILT_PLATFORMS: readonly string[] = ['linux-x64', 'linux-arm64'];
/** The oldest glibc the prebuilds load on: they link shm_open, which moved into libc.so.6 in 2.34. */
export const PREBUILT_MIN_GLIBC = '2.34';

/** The fix for every case (an addon built here fits here), after SHIPPED. */
const BUILD_FROM_SOURCE_FIX =
  'build it from source on this machine (needs a C++ compiler, make and python3): `npm install-scripts approve mdfan && npm rebuild mdfan --build-from-source --foreground-scripts`';

const SHIPPED = `The package ships prebuilt addons for ${PREBUILT_PLATFORMS.join(' and ')} (glibc ${PREBUILT_MIN_GLIBC} or later)`;

const require = createRequire(import.meta.url);

/** ELF e_machine values (elf.h EM_*), named as process.arch names the architectures. */
const ELF_MACHINES: Readonly<Record<number, string>> = { 3: 'ia32', 8: 'mips', 20: 'ppc', 21: 'ppc64', 22: 's390x', 40: 'arm', 62: 'x64', 183: 'arm64', 243: 'riscv64', 258: 'loong64' };
const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46];
/** An ELF64 header's bytes (an ELF32 one is shorter: its fields are read from the same buffer). */
const ELF_HEADER_BYTES = 64;

/** What an addon file's ELF header says: not an ELF file at all, or one for `arch` (`em-N` for an unnamed machine) that may be cut short. */
export type ElfFacts = { elf: false } | { elf: true; arch: string; fileBytes: number; sectionsEndOffset: number };

/**
 * Reads the file's ELF header: its identification (magic, class, byte order, version), machine and
 * where its section headers end, which a whole file reaches (a stripped addon keeps them).
 */
export function elfFacts(path: string): ElfFacts {
  const head = Buffer.alloc(ELF_HEADER_BYTES);
  let got = 0;
  let fileBytes = 0;
  try {
    const fd = openSync(path, 'r');
    try {
      got = readSync(fd, head, 0, head.length, 0);
      fileBytes = fstatSync(fd).size;
    } finally {
      closeSync(fd);
    }
  } catch {
    return { elf: false };
  }
  const cls = head[4]; // EI_CLASS: 1 ELF32, 2 ELF64
  const data = head[5]; // EI_DATA: 1 little-endian, 2 big-endian
  const headerBytes = cls === 2 ? 64 : 52;
  if (got < headerBytes || ELF_MAGIC.some((b, i) => head[i] !== b) || (cls !== 1 && cls !== 2) || (data !== 1 && data !== 2) || head[6] !== 1) return { elf: false };
  const le = data === 1;
  const u16 = (o: number) => (le ? head.readUInt16LE(o) : head.readUInt16BE(o));
  const u32 = (o: number) => (le ? head.readUInt32LE(o) : head.readUInt32BE(o));
  const machine = u16(18);
  // e_shoff, e_shentsize, e_shnum: at 0x28 / 0x3a / 0x3c in ELF64, 0x20 / 0x2e / 0x30 in ELF32.
  const shoff = cls === 2 ? Number(le ? head.readBigUInt64LE(0x28) : head.readBigUInt64BE(0x28)) : u32(0x20);
  const sectionsEndOffset = shoff + u16(cls === 2 ? 0x3a : 0x2e) * u16(cls === 2 ? 0x3c : 0x30);
  return { elf: true, arch: ELF_MACHINES[machine] ?? `em-${machine}`, fileBytes, sectionsEndOffset };
}

/** This process's glibc version, or null where the C library is not glibc (musl). Read only on a failure. */
function glibcRuntime(): string | null {
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  return report?.header?.glibcVersionRuntime ?? null;
}

/** What dlopen's reason means for the file on this machine, in a sentence (empty: nothing to add). */
function meaning(file: ElfFacts, reason: string): { text: string; facts: ErrorDetails } {
  if (!file.elf) return { text: 'the file is not a shared object: it is corrupt (an interrupted copy or download, or a file replaced)', facts: { fileArch: 'not ELF' } };
  if (file.arch !== process.arch) return { text: `the file was built for ${file.arch}, and this process is ${process.arch}`, facts: { fileArch: file.arch } };
  if (file.sectionsEndOffset > file.fileBytes)
    return { text: `the file is truncated: its ELF header says at least ${file.sectionsEndOffset} bytes, and it has ${file.fileBytes} (an interrupted copy or download)`, facts: { fileArch: file.arch, fileBytes: file.fileBytes } };
  const glibc = glibcRuntime();
  const needs = /version `(GLIBC_[\d.]+)' not found/.exec(reason);
  if (needs) return { text: `it needs ${needs[1]}, and this system's glibc is ${glibc ?? 'absent (another C library)'}`, facts: { fileArch: file.arch, needs: needs[1], glibc: glibc ?? 'none' } };
  if (glibc === null && process.platform === 'linux')
    return { text: `this system's C library is not glibc (musl?), and the prebuilt addons need glibc ${PREBUILT_MIN_GLIBC} or later`, facts: { fileArch: file.arch, glibc: 'none' } };
  const symbol = /undefined symbol: (\S+)/.exec(reason) ?? /version `(\S+)' not found/.exec(reason);
  if (symbol) return { text: `it needs ${symbol[1]}, which the libraries here lack: the file comes from another build, or this system's C or C++ library is older than the one it was built against`, facts: { fileArch: file.arch, missing: symbol[1] } };
  return { text: '', facts: { fileArch: file.arch } };
}

/** The refusal for an addon file that exists and does not load: `reason` is dlopen's (or why it was not tried), `loadCode` Node's code for it. */
function refusal(path: string, file: ElfFacts, reason: string, loadCode?: string): MdfanError {
  const platform = `${process.platform}-${process.arch}`;
  const m = meaning(file, reason);
  return new MdfanError(
    ErrorCode.NO_ADDON,
    `the native addon ${path} does not load on ${platform} (Node ${process.version}): ${reason}. ${m.text ? `Why: ${m.text}. ` : ''}${SHIPPED}; ${BUILD_FROM_SOURCE_FIX}`,
    { platform, file: path, reason, loadCode, ...m.facts },
  );
}

/** Where the addon is: a build from source when there is one, else the package's prebuild for this platform. */
export function resolveAddon(nativeDir: string): string {
  // Named, not searched for: build/Release also holds the benchmarks' addon (mdfan_bench.node).
  const fromSource = join(nativeDir, 'build', 'Release', 'mdfan.node');
  if (existsSync(fromSource)) return fromSource;
  const gypBuild = require('node-gyp-build') as { resolve(dir: string): string };
  try {
    return gypBuild.resolve(nativeDir);
  } catch (e) {
    // npm skips dependencies' install scripts unless they are approved, so a platform without a
    // prebuild has no build until the user asks for one.
    const platform = `${process.platform}-${process.arch}`;
    throw new MdfanError(ErrorCode.NO_ADDON, `no native addon for ${platform} (Node ${process.version}) in ${nativeDir}. ${SHIPPED}; ${BUILD_FROM_SOURCE_FIX}`, {
      platform,
      dir: nativeDir,
      reason: (e as Error).message,
    });
  }
}

/** Resolves and loads the addon: MDFAN_ERR_NO_ADDON, never a raw ERR_DLOPEN_FAILED, when it cannot be had. */
export function loadAddon<T>(nativeDir: string): { path: string; addon: T } {
  const path = resolveAddon(nativeDir);
  const file = elfFacts(path);
  // A file cut short is refused before dlopen: the loader maps its segments past the end of the
  // file, and the first touch there while relocating kills the process (SIGBUS) instead of failing.
  if (file.elf && file.sectionsEndOffset > file.fileBytes) throw refusal(path, file, 'not opened, since dlopen would crash on a file cut short');
  try {
    return { path, addon: require(path) as T };
  } catch (e) {
    const err = e as { message?: unknown; code?: unknown };
    throw refusal(path, file, String(err?.message ?? e).split('\n')[0]!, typeof err?.code === 'string' ? err.code : undefined);
  }
}
