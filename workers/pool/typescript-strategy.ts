/**
 * A strategy written in TypeScript (`--strategy x.ts`) is imported as it is: Node strips its types
 * (unflagged from 22.18 and 23.6, with --experimental-strip-types from 22.6). The pool's workers
 * inherit the command's flags (piscina leaves execArgv to the default), so where this Node strips
 * they do too. Otherwise a worker thread started here tries: a loader registered for the main
 * thread alone (tsx on Node 20) does not count. Checked once, before any pool worker starts, so
 * that a Node that cannot says so at once and in one line, not once per worker after attaching.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ErrorCode, MdfanError } from '../../native/segment/errors.js';

/** The extensions Node's type stripping takes. */
const TYPESCRIPT_FILE = /\.(ts|mts|cts)$/;

export const isTypeScriptPath = (path: string): boolean => TYPESCRIPT_FILE.test(path);

/** What to do, for the message. */
const REMEDY =
  'run mdfan on Node >=22.18 (types stripped by default; on 22.6-22.17 add --experimental-strip-types, e.g. NODE_OPTIONS=--experimental-strip-types), or compile the strategy with tsc and pass the .js';

/** True when a worker thread of this process, as the pool starts them, imports a TypeScript module. */
async function workersImportTypeScript(): Promise<boolean> {
  // Node >=22.10 says whether it strips ('strip' or 'transform'), and false when turned off.
  if ((process.features as { typescript?: string | false }).typescript) return true;
  const dir = mkdtempSync(join(tmpdir(), 'mdfan-ts-probe-'));
  try {
    const probe = join(dir, 'probe.ts');
    writeFileSync(probe, 'export const probe: number = 1;\n');
    const code = `import(${JSON.stringify(pathToFileURL(probe).href)}).then((m) => m.probe === 1, () => false).then((ok) => require('node:worker_threads').parentPort.postMessage(ok));`;
    return await new Promise<boolean>((resolve) => {
      const worker = new Worker(code, { eval: true });
      worker.once('message', (ok: unknown) => resolve(ok === true));
      worker.once('error', () => resolve(false));
      worker.once('exit', () => resolve(false)); // after a message, a no-op
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The refusal of a TypeScript strategy this Node cannot import: what to do, with the stable code. */
export function typeScriptRefusal(path: string): MdfanError {
  // A Node that strips but was told not to (--no-experimental-strip-types) says false, not undefined.
  const off = (process.features as { typescript?: string | false }).typescript === false ? ' (type stripping is turned off in this process)' : '';
  return new MdfanError(ErrorCode.OPTIONS, `--strategy ${path}: Node ${process.version} cannot import a TypeScript strategy${off}: ${REMEDY}`, { path, node: process.version });
}

/** Refuses a TypeScript strategy when this Node cannot import it; a .js one passes untouched. */
export async function assertStrategyLoadable(path: string): Promise<void> {
  if (!isTypeScriptPath(path) || (await workersImportTypeScript())) return;
  throw typeScriptRefusal(path);
}
