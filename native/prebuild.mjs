#!/usr/bin/env node
// Before packing: the prebuilt addons the package ships, one per architecture, built with
// prebuildify into native/prebuilds/linux-<arch>/ (Node-API, so one build serves every Node
// version from 20 on). linux-x64 and linux-arm64, both glibc: the architecture that is not this
// machine's is cross-compiled with Debian's toolchain (g++-aarch64-linux-gnu on an x86-64 host).
// musl is not shipped: Debian has no C++ library for musl to build against and the npm registry
// no musl Node to test with (docs/ABI.md "Platforms").
//
// Each build runs in a scratch copy of native/, so packing never touches a build from source in
// native/build (prebuildify rebuilds its folder and moves the addon out of it). Targeted at the
// running Node with its own headers (npm_config_nodedir, else this Node's prefix) so that node-gyp
// downloads nothing. Only the product's addon: the benchmarks' (mdfan_bench) is left out
// (binding.gyp's mdfan_bench variable), so each prebuild folder holds one .node, the one
// node-gyp-build must find.
//
// Usage: node native/prebuild.mjs [--arch x64|arm64]... [--out DIR]
//   (default: every shipped architecture, into native/prebuilds; --out DIR: into DIR/prebuilds)
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { arch as hostArch, tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const nativeDir = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

/** The shipped architectures: GNU triple of the toolchain, and the Debian package that has it. */
const TARGETS = {
  x64: { triple: 'x86_64-linux-gnu', debian: 'g++-x86-64-linux-gnu' },
  arm64: { triple: 'aarch64-linux-gnu', debian: 'g++-aarch64-linux-gnu' },
};

const { values } = parseArgs({ options: { arch: { type: 'string', multiple: true }, out: { type: 'string' } } });
const archs = values.arch ?? Object.keys(TARGETS);
const outDir = values.out ?? nativeDir;
for (const a of archs) {
  if (!(a in TARGETS)) fail(`no prebuild for architecture ${a} (shipped: ${Object.keys(TARGETS).join(', ')})`);
}

function fail(message) {
  console.error(`mdfan prebuild: ${message}`);
  process.exit(1);
}

/** The compilers for `arch`: the machine's own for its architecture, the cross toolchain's (checked) for another. */
function toolchain(arch) {
  if (arch === hostArch()) return { env: {}, strip: 'strip' };
  const { triple, debian } = TARGETS[arch];
  const probe = spawnSync(`${triple}-g++`, ['--version'], { stdio: 'ignore' });
  if (probe.status !== 0) fail(`the linux-${arch} prebuild is cross-compiled with ${triple}-g++, which is not installed (Debian: apt-get install ${debian})`);
  const tool = (name) => `${triple}-${name}`;
  return { env: { CC: tool('gcc'), CXX: tool('g++'), LINK: tool('g++'), AR: tool('ar') }, strip: tool('strip') };
}

// npm gives lifecycle scripts its own node-gyp; run by hand, the one npm bundles beside node, else PATH's.
const bundledGyp = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
const nodeGyp = process.env.npm_config_node_gyp || (existsSync(bundledGyp) ? bundledGyp : 'node-gyp');
// This Node's headers, when it has them beside it (a distribution's /usr, an official tarball).
const ownPrefix = join(dirname(process.execPath), '..');
const nodedir = process.env.npm_config_nodedir || (existsSync(join(ownPrefix, 'include', 'node', 'node_api.h')) ? ownPrefix : undefined);
// binding.gyp asks node for node-addon-api's headers from the scratch copy: it must find the package there too.
const addonApiModules = dirname(dirname(require.resolve('node-addon-api/package.json')));
const prebuildify = require.resolve('prebuildify/bin.js');

for (const arch of archs) {
  const tools = toolchain(arch);
  const scratch = mkdtempSync(join(tmpdir(), `mdfan-prebuild-${arch}-`));
  try {
    const src = join(scratch, 'native');
    cpSync(nativeDir, src, { recursive: true, filter: (f) => !['build', 'prebuilds'].includes(relative(nativeDir, f)) });
    const env = {
      ...process.env,
      ...tools.env,
      npm_config_mdfan_bench: '0',
      JOBS: process.env.JOBS ?? 'max',
      NODE_PATH: [addonApiModules, process.env.NODE_PATH].filter(Boolean).join(':'),
      ...(nodedir ? { npm_config_nodedir: nodedir } : {}),
    };
    const args = [prebuildify, '--napi', '--strip', '--strip-bin', tools.strip, '--arch', arch, '--node-gyp', nodeGyp, '--cwd', src, '--target', process.version.slice(1)];
    const r = spawnSync(process.execPath, args, { stdio: 'inherit', env });
    if (r.status !== 0) fail(`the linux-${arch} build failed (prebuildify exit ${r.status ?? r.signal})`);
    // Copied, not renamed: the scratch folder may be on another file system.
    const built = join(src, 'prebuilds', `linux-${arch}`);
    const dest = join(outDir, 'prebuilds', `linux-${arch}`);
    rmSync(dest, { recursive: true, force: true });
    mkdirSync(dest, { recursive: true });
    for (const f of readdirSync(built)) cpSync(join(built, f), join(dest, f));
    console.error(`mdfan prebuild: linux-${arch} -> ${dest}`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
