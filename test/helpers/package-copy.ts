/**
 * A copy of the package as a user's project holds it, in a folder of the test's own: dist/,
 * bin/mdfan.js, package.json and node_modules (a link to this tree's), and a native/ with no
 * addon in it (with the addon's sources and install step, or nothing else). The test plants the addon files it means (a prebuild of another architecture, a
 * corrupt one); the tree's own build is never touched or seen (the loader looks in the copy's
 * native/, three folders up from dist/native/segment).
 */
import { cpSync, mkdirSync, symlinkSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { repoRoot } from './paths.js';

/** Copies the package into `dir` (created), with the addon's sources and install step if `sources`; returns `dir`. */
export function copyPackage(dir: string, sources = false): string {
  mkdirSync(join(dir, 'bin'), { recursive: true });
  const native = join(repoRoot, 'native');
  if (sources) cpSync(native, join(dir, 'native'), { recursive: true, filter: (f) => !['build', 'prebuilds'].includes(relative(native, f)) });
  else mkdirSync(join(dir, 'native'));
  cpSync(join(repoRoot, 'dist'), join(dir, 'dist'), { recursive: true });
  cpSync(join(repoRoot, 'bin', 'mdfan.js'), join(dir, 'bin', 'mdfan.js'));
  cpSync(join(repoRoot, 'package.json'), join(dir, 'package.json'));
  symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

/** Puts `file` where the copy's loader looks for the prebuild of `platform` (e.g. linux-x64); returns where. */
export function plantPrebuild(dir: string, platform: string, file: string): string {
  const dest = join(dir, 'native', 'prebuilds', platform, 'node.node');
  mkdirSync(dirname(dest), { recursive: true });
  cpSync(file, dest);
  return dest;
}
