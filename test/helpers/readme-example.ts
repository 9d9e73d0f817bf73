/** The README's TypeScript example: the ```ts block after the `<!-- example: strategy.ts -->` marker. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './paths.js';

export function readmeExample(): string {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const m = /<!-- example: strategy\.ts -->\n```ts\n([\s\S]*?)```/.exec(readme);
  if (!m) throw new Error('README.md has no ```ts block after <!-- example: strategy.ts -->');
  return m[1]!;
}
