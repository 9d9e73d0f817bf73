#!/usr/bin/env node
// Before packing: the prebuilt addon for this platform (Node-API, so one build serves every Node
// version from 20 on), built with prebuildify into native/prebuilds/<platform>-<arch>/. Targeted at
// the running Node so that node-gyp uses its headers and needs no download. Only the product's
// addon: the benchmarks' (mdfan_bench) is left out (binding.gyp's mdfan_bench variable), so the
// prebuild folder holds one .node, the one node-gyp-build must find.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const nativeDir = dirname(fileURLToPath(import.meta.url));
const bin = createRequire(import.meta.url).resolve('prebuildify/bin.js');
const env = { ...process.env, npm_config_mdfan_bench: '0' };
const r = spawnSync(process.execPath, [bin, '--napi', '--strip', '--cwd', nativeDir, '--target', process.version.slice(1)], { stdio: 'inherit', env });
process.exit(r.status ?? 1);
