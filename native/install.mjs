#!/usr/bin/env node
// The package's install step. A prebuilt addon that loads on this machine is used as it is (no
// compiler needed); otherwise, or with `npm install --build-from-source`, the addon is built from
// source with node-gyp, after generating the ABI tables from the header. A clone of the
// repository has no prebuild, so it always builds.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const nativeDir = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const fromSource = process.env.npm_config_build_from_source === 'true';
/** Why the prebuild was not used, when it was there and did not load. */
let prebuildRefusal = null;

if (!fromSource && existsSync(join(nativeDir, 'prebuilds'))) {
  // The package's own loader when it is built (an installed package: dist/ came in the tarball):
  // its refusal names the file, dlopen's reason and what it means, and it never opens a file cut
  // short (dlopen would crash on it).
  const loader = join(nativeDir, '..', 'dist', 'native', 'segment', 'addon-load.js');
  try {
    if (existsSync(loader)) (await import(pathToFileURL(loader).href)).loadAddon(nativeDir);
    else require(require('node-gyp-build').resolve(nativeDir)); // loads: the right platform, and a libc and kernel it links against
    process.exit(0);
  } catch (e) {
    prebuildRefusal = e.message.split('\n')[0];
    console.error(`mdfan: the prebuilt addon does not load here, so it is built from source: ${prebuildRefusal}`);
  }
}

// The ABI tables are generated from the header before every build from source: a header edited
// since the last build would otherwise compile against stale tables (the addon's load-time check
// would then refuse it).
// An installed package has no TypeScript sources (its compiled tables came from the same header
// at packing): the TypeScript output then goes to a temporary file, only the C one is kept.
/** The end of a build from source that failed: what it needs, and why the prebuild was not used. */
function buildFailed(why) {
  console.error(
    `mdfan: building the addon from source failed (${why}): it needs a C++ compiler, make and python3` +
      (prebuildRefusal ? `; the prebuilt addon did not load either (${prebuildRefusal})` : ''),
  );
  process.exit(1);
}

const scratch = existsSync(join(nativeDir, 'segment')) ? null : mkdtempSync(join(tmpdir(), 'mdfan-abi-'));
const abi = spawnSync(process.execPath, [join(nativeDir, 'abi', 'gen-abi.mjs'), ...(scratch ? ['--ts-out', join(scratch, 'abi.generated.ts')] : [])], { stdio: 'inherit' });
if (scratch) rmSync(scratch, { recursive: true, force: true });
if (abi.status !== 0) buildFailed(abi.error ? abi.error.message : `gen-abi exit ${abi.status}`);
// npm gives lifecycle scripts its own node-gyp; run by hand, the one npm bundles beside node, else PATH's.
const bundled = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
const gyp = process.env.npm_config_node_gyp || (existsSync(bundled) ? bundled : null);
const [cmd, args] = gyp ? [process.execPath, [gyp]] : ['node-gyp', []];
const r = spawnSync(cmd, [...args, 'rebuild', '--directory', nativeDir], { stdio: 'inherit' });
if (r.status !== 0) buildFailed(r.error ? r.error.message : `node-gyp exit ${r.status}`);
