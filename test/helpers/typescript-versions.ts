/** TypeScript compilers a user may have (7, 5.9), from the registry, kept (see registry-packages.ts). */
import { join } from 'node:path';
import { cachedPackage } from './registry-packages.js';

export interface Compiler {
  /** The installed version, e.g. 7.0.2. */
  version: string;
  /** Its tsc, a script for node. */
  tsc: string;
}

/** TypeScript `spec` (a major or major.minor). */
export function typescriptCompiler(spec: string): Compiler {
  const { version, dir } = cachedPackage('typescript', spec);
  if (!version.startsWith(`${spec}.`)) throw new Error(`${dir} holds typescript ${version}, not ${spec}`);
  return { version, tsc: join(dir, 'bin', 'tsc') };
}
