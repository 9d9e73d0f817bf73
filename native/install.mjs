#!/usr/bin/env node
// The package's install step. A prebuilt addon that loads on this machine is used as it is (no
// compiler needed); otherwise, or with `npm install --build-from-source`, the addon is built from
// source with node-gyp, after generating the ABI tables from the header. A clone of the
// repository has no prebuild, so it always builds.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const nativeDir = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const fromSource = process.env.npm_config_build_from_source === 'true';

if (!fromSource && existsSync(join(nativeDir, 'prebuilds'))) {
  try {
    const path = require('node-gyp-build').resolve(nativeDir);
    require(path); // loads: the right platform, and a libc and kernel it links against
    process.exit(0);
  } catch (e) {
    console.error(`mdfan: the prebuilt addon does not load here (${e.message.split('\n')[0]}); building from source`);
  }
}

// The ABI tables are generated from the header before every build from source: a header edited
// since the last build would otherwise compile against stale tables (the addon's load-time check
// would then refuse it).
// An installed package has no TypeScript sources (its compiled tables came from the same header
// at packing): the TypeScript output then goes to a temporary file, only the C one is kept.
const scratch = existsSync(join(nativeDir, 'segment')) ? null : mkdtempSync(join(tmpdir(), 'mdfan-abi-'));
try {
  execFileSync(process.execPath, [join(nativeDir, 'abi', 'gen-abi.mjs'), ...(scratch ? ['--ts-out', join(scratch, 'abi.generated.ts')] : [])], { stdio: 'inherit' });
} finally {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
}
// npm gives lifecycle scripts its own node-gyp; run by hand, the one npm bundles beside node, else PATH's.
const bundled = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
const gyp = process.env.npm_config_node_gyp || (existsSync(bundled) ? bundled : null);
const [cmd, args] = gyp ? [process.execPath, [gyp]] : ['node-gyp', []];
const r = spawnSync(cmd, [...args, 'rebuild', '--directory', nativeDir], { stdio: 'inherit' });
if (r.status !== 0) {
  console.error(
    `mdfan: building the addon from source failed (${r.error ? r.error.message : `node-gyp exit ${r.status}`}): it needs a C++ compiler, make and python3`,
  );
  process.exit(1);
}
