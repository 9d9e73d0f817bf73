/**
 * A strategy written in TypeScript (`--strategy x.ts`) is imported as it is: Node strips its types
 * (unflagged from 22.18 and 23.6, with --experimental-strip-types from 22.6), or a loader such as
 * tsx does. The pool's workers inherit the command's flags and loaders (piscina leaves execArgv to
 * the default), so this process importing a .ts module proves that they can. Checked once, before
 * any worker starts, so that a Node that cannot says so at once and in one line, not once per
 * worker after attaching.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ErrorCode, MdfanError } from '../../native/segment/errors.js';

/** The extensions Node's type stripping takes (and tsx). */
const TYPESCRIPT_FILE = /\.(ts|mts|cts)$/;

export const isTypeScriptPath = (path: string): boolean => TYPESCRIPT_FILE.test(path);

/** What to do, for the message: the ways a .ts strategy runs. */
const REMEDY =
  'run mdfan on Node >=22.18 (types stripped by default; on 22.6-22.17 add --experimental-strip-types, e.g. NODE_OPTIONS=--experimental-strip-types), or compile the strategy with tsc and pass the .js, or run mdfan under tsx (npx tsx node_modules/.bin/mdfan ...)';

/** True when this process imports a TypeScript module: Node's own stripping, else a probe through whatever loader is registered. */
async function canImportTypeScript(): Promise<boolean> {
  // Node >=22.10 says whether it strips ('strip' or 'transform'), and false when disabled.
  const native = (process.features as { typescript?: string | false }).typescript;
  if (native) return true;
  // No stripping of its own (Node 20, or turned off): a loader such as tsx may still take .ts.
  const dir = mkdtempSync(join(tmpdir(), 'mdfan-ts-probe-'));
  try {
    const probe = join(dir, 'probe.ts');
    writeFileSync(probe, 'export const probe: number = 1;\n');
    const mod = (await import(pathToFileURL(probe).href)) as { probe?: unknown };
    return mod.probe === 1;
  } catch {
    return false; // ERR_UNKNOWN_FILE_EXTENSION: nothing here takes .ts
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The refusal of a TypeScript strategy this Node cannot import: what to do, with the stable code. */
export const typeScriptRefusal = (path: string): MdfanError =>
  new MdfanError(ErrorCode.OPTIONS, `--strategy ${path}: Node ${process.version} cannot import a TypeScript strategy: ${REMEDY}`, { path, node: process.version });

/** Refuses a TypeScript strategy when this Node cannot import it; a .js one passes untouched. */
export async function assertStrategyLoadable(path: string): Promise<void> {
  if (!isTypeScriptPath(path) || (await canImportTypeScript())) return;
  throw typeScriptRefusal(path);
}
