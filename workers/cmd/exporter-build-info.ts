/**
 * What `mdfan_build_info` labels: the package version (its package.json, the one source
 * `mdfan --version` reads too), the segment ABI this build speaks and the Node.js running it.
 */
import { readFileSync } from 'node:fs';
import { ABI_MAJOR, ABI_MINOR } from '../../native/segment/abi.js';

export interface BuildInfo {
  version: string;
  abi_major: string;
  abi_minor: string;
  node: string;
}

export function buildInfo(): BuildInfo {
  // dist/workers/cmd/ -> the package root
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return { version: pkg.version, abi_major: String(ABI_MAJOR), abi_minor: String(ABI_MINOR), node: process.version };
}
