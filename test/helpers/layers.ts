/**
 * The import rule of docs/ARCHITECTURE.md as code: each file's area, the areas it may import,
 * and which modules of an area are public to the others.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

export type Area = 'segment' | 'lib' | 'feed' | 'workers' | 'bench' | 'scenarios' | 'cli';

/** The area of a repository-relative path, or null for files outside the layered code. */
export function areaOf(path: string): Area | null {
  if (path.startsWith('native/segment/')) return 'segment';
  if (path.startsWith('lib/')) return 'lib';
  if (path.startsWith('bin/')) return 'cli';
  for (const a of ['feed', 'workers', 'bench', 'scenarios'] as const) if (path.startsWith(`${a}/`)) return a;
  return null;
}

/** Areas each area may import, lowest first. */
export const ALLOWED: Readonly<Record<Area, readonly Area[]>> = {
  segment: ['segment'],
  lib: ['lib', 'segment'],
  feed: ['feed', 'lib', 'segment'],
  workers: ['workers', 'lib', 'segment'],
  bench: ['bench', 'feed', 'workers', 'lib', 'segment'],
  scenarios: ['scenarios', 'bench', 'feed', 'workers', 'lib', 'segment'],
  cli: ['cli', 'scenarios', 'bench', 'feed', 'workers', 'lib', 'segment'],
};

/** The one module other areas may import from an area that hides its internals (bench and scenarios see only these of feed and workers). */
export const PUBLIC: Partial<Record<Area, string>> = { feed: 'feed/index.ts', workers: 'workers/index.ts' };
/** Areas held to PUBLIC when they import feed or workers. */
const OUTSIDERS: readonly Area[] = ['bench', 'scenarios'];

const SPEC = /(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)'(\.{1,2}\/[^']+)'/g;

/** Relative import specifiers of a source text, resolved to repository-relative .ts paths. */
export function importsOf(file: string, text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(SPEC)) out.push(join(dirname(file), m[1]).replace(/\.js$/, '.ts'));
  return out;
}

/**
 * Inside feed/, lowest first: pacing; the root files (the sink contract, input files); order books;
 * the codecs, each on its own; the venues, the publisher and the market generator; the commands
 * and the public module. A file may import its own folder and any lower rank, never a folder of
 * its own rank or above: a codec never imports another codec or a venue, the book no codec.
 */
export const FEED_RANKS: ReadonlyArray<readonly string[]> = [
  ['pacing'],
  [''],
  ['book'],
  ['itch', 'lobster', 'moldudp64', 'binance', 'dbn'],
  ['sources', 'publish', 'market'],
  ['cmd', 'index.ts'],
];

/** The folder of a feed/ path that FEED_RANKS names ('' for a root file, 'index.ts' for the public module), or null outside feed/. */
export function feedFolderOf(path: string): string | null {
  if (!path.startsWith('feed/')) return null;
  const rest = path.slice('feed/'.length);
  if (rest === 'index.ts') return rest;
  const slash = rest.indexOf('/');
  return slash < 0 ? '' : rest.slice(0, slash);
}

const feedRankOf = (folder: string): number => FEED_RANKS.findIndex((r) => r.includes(folder));

/** A violation of feed/'s inner rule by an import of `target` from `file`, or null. */
function feedViolation(file: string, target: string): string | null {
  const from = feedFolderOf(file);
  const to = feedFolderOf(target);
  if (from === null || to === null || from === to) return null;
  const rf = feedRankOf(from);
  const rt = feedRankOf(to);
  if (rf < 0) return `${file}: feed/${from}/ has no rank in FEED_RANKS`;
  if (rt < 0) return `${file} imports ${target}: feed/${to}/ has no rank in FEED_RANKS`;
  if (rt < rf) return null;
  return `${file} (feed/${from || '.'}) imports ${target} (feed/${to || '.'}): inside feed/ a folder imports only lower ranks (${FEED_RANKS.map((r) => r.map((f) => f || '.').join(' ')).join(' < ')})`;
}

/** Every violation of the rule among `files` (repository-relative path -> source text). */
export function violations(files: ReadonlyMap<string, string>): string[] {
  const out: string[] = [];
  for (const [file, text] of files) {
    const from = areaOf(file);
    if (from === null) continue;
    for (const target of importsOf(file, text)) {
      const to = areaOf(target);
      if (to === null) {
        if (!target.startsWith('native/')) out.push(`${file} imports ${target}, outside the layered code`);
        continue;
      }
      const inner = feedViolation(file, target);
      if (inner !== null) out.push(inner);
      if (!ALLOWED[from].includes(to)) out.push(`${file} (${from}) imports ${target} (${to}): ${from} may import only ${ALLOWED[from].join(', ')}`);
      else if (OUTSIDERS.includes(from) && PUBLIC[to] !== undefined && target !== PUBLIC[to])
        out.push(`${file} (${from}) reaches into ${target}: ${from} may use only ${PUBLIC[to]} of ${to}`);
    }
  }
  return out;
}

/** The layered sources of the repository at `root`. */
export function loadSources(root: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) {
        if (name !== 'node_modules' && name !== 'build') walk(p);
      } else if (p.endsWith('.ts') && !p.endsWith('.d.ts')) files.set(relative(root, p), readFileSync(p, 'utf8'));
    }
  };
  for (const top of ['bin', 'lib', 'feed', 'native', 'workers', 'bench', 'scenarios']) walk(resolve(root, top));
  return files;
}
