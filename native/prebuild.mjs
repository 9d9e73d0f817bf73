#!/usr/bin/env node
// Before packing: the prebuilt addon for this platform (Node-API, so one build serves every Node
// version from 20 on), built with prebuildify into native/prebuilds/<platform>-<arch>/. Targeted at
// the running Node so that node-gyp uses its headers and needs no download.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const nativeDir = dirname(fileURLToPath(import.meta.url));
const bin = createRequire(import.meta.url).resolve('prebuildify/bin.js');
const r = spawnSync(process.execPath, [bin, '--napi', '--strip', '--cwd', nativeDir, '--target', process.version.slice(1)], { stdio: 'inherit' });
process.exit(r.status ?? 1);
