import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** The repository root (tests run from dist/test/...). */
export const repoRoot = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..');
/** The data the project carries (data/), with ../shared/data as the fallback source. */
export const dataDir = join(repoRoot, 'data');
export const binPath = join(repoRoot, 'bin', 'mdfan.js');
