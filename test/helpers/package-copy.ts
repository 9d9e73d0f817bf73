/**
 * A copy of the package as a user's project holds it, in a folder of the test's own: dist/,
 * bin/mdfan.js, package.json and node_modules (a link to this tree's), and a native/ with no
 * addon in it. The test plants the addon files it means (a prebuild of another architecture, a
 * corrupt one); the tree's own build is never touched or seen (the loader looks in the copy's
 * native/, three folders up from dist/native/segment).
 */
import { cpSync, mkdirSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { repoRoot } from './paths.js';

/** Copies the package into `dir` (created); returns `dir`. */
export function copyPackage(dir: string): string {
  mkdirSync(join(dir, 'bin'), { recursive: true });
  mkdirSync(join(dir, 'native'));
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
