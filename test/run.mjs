#!/usr/bin/env node
// Runs the uvu suite over the compiled tests (dist/test), restates uvu's totals as
// "N passed, N failed", and fails the run if any test left a segment in /dev/shm.
// Usage: node test/run.mjs [pattern]   (pattern: a regex on test file names)
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const only = process.argv[2];
const pattern = only ? `^(?=.*(${only})).*\\.test\\.js$` : '\\.test\\.js$';
const uvu = join(root, 'node_modules', 'uvu', 'bin.js');
// Every test segment is named mdfan-test-<pid of the uvu process>-...: only this run's count, so
// a second suite running at the same time (another checkout, CI) is not mistaken for a leak.
const leftovers = (pid) => {
  try {
    return readdirSync('/dev/shm').filter((f) => f.startsWith(`mdfan-test-${pid}-`));
  } catch {
    return [];
  }
};

const child = spawn(process.execPath, ['--import', join(root, 'test', 'uvu-details.mjs'), uvu, join(root, 'dist', 'test'), pattern], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
let out = '';
child.stdout.on('data', (d) => {
  out += d;
  process.stdout.write(d);
});
child.on('close', (code, signal) => {
  const plain = out.replace(/\x1b\[[0-9;]*m/g, '');
  const total = Number(/Total:\s+(\d+)/.exec(plain)?.[1] ?? 0);
  let passed = Number(/Passed:\s+(\d+)/.exec(plain)?.[1] ?? 0);
  const uvuSkipped = Number(/Skipped:\s+(\d+)/.exec(plain)?.[1] ?? 0);
  let failed = Math.max(0, total - passed - uvuSkipped);
  // A test that could not run here (not root, a tool missing) says "(skipped" in its output: it
  // is counted as skipped, not as passed.
  const skippedInside = (plain.match(/^\s*\(skipped/gm) ?? []).length;
  const skipped = uvuSkipped + skippedInside;
  passed = Math.max(0, passed - skippedInside);
  if (code !== 0 && failed === 0) failed = 1; // a crash before uvu's summary is a failure
  const stray = leftovers(child.pid);
  if (stray.length > 0) {
    console.error(`\nleft in /dev/shm by the tests: ${stray.join(', ')}`);
    failed += 1;
  }
  if (signal) console.error(`uvu died by ${signal}`);
  console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
  process.exit(failed > 0 || code !== 0 ? 1 : 0);
});
