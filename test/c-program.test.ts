/**
 * The benchmarks' C programs are compiled on first use, not at install: built when missing,
 * reused while fresh, rebuilt when a header is newer, and a missing compiler is MDFAN_ERR_BUILD
 * naming it.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { C_PROGRAMS, cProgram } from '../bench/peers/c-program.js';
import { isMdfanError } from '../native/segment/errors.js';
import { repoRoot } from './helpers/paths.js';

const dir = mkdtempSync(join(tmpdir(), 'mdfan-cprog-test-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('compiled when missing, reused while fresh, rebuilt when older than its sources', () => {
  const path = cProgram('c_floor', { outDir: dir });
  assert.is(path, join(dir, 'c_floor'));
  const built = statSync(path).mtimeMs;
  assert.is(cProgram('c_floor', { outDir: dir, cc: '/nonexistent/cc' }), path, 'fresh: not compiled again (the missing compiler is never called)');
  utimesSync(path, new Date(0), new Date(0)); // now older than every source
  assert.throws(() => cProgram('c_floor', { outDir: dir, cc: '/nonexistent/cc' }), (e: unknown) => isMdfanError(e) && e.code === 'MDFAN_ERR_BUILD' && /\/nonexistent\/cc` is not installed/.test(e.message));
  assert.is(statSync(path).mtimeMs, 0, 'a failed build leaves the old binary as it was');
  cProgram('c_floor', { outDir: dir });
  assert.ok(statSync(path).mtimeMs >= built, 'rebuilt');
});

test('a compiler error is MDFAN_ERR_BUILD with the compiler\'s message', () => {
  assert.throws(
    () => cProgram('c_latency_reader', { outDir: join(dir, 'x'), cc: 'false' }),
    (e: unknown) => isMdfanError(e) && e.code === 'MDFAN_ERR_BUILD' && /c_latency_reader/.test(e.message),
  );
});

test('every benchmark C program compiles with -Wall -Wextra -Werror against its include dirs (native/include, and native/bench for the reply line)', () => {
  for (const [name, p] of Object.entries(C_PROGRAMS)) {
    const args = [...p.flags, '-Werror', ...p.includeDirs.flatMap((d) => ['-I', join(repoRoot, d)]), '-o', join(dir, `${name}-werror`), join(repoRoot, p.source)];
    try {
      execFileSync('cc', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      assert.unreachable(`${name}: cc failed:\n${(e as { stderr?: Buffer }).stderr?.toString() ?? String(e)}`);
    }
  }
});

test.run();
