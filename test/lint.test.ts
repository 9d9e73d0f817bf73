import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './helpers/paths.js';

// The compiler's own checks (strict, noUnusedLocals, noUnusedParameters, noImplicitReturns,
// noFallthroughCasesInSwitch) run in `npm run build`; the linter's here, so that a finding fails
// the test command like any other test.
test('biome lint finds nothing (biome.json: recommended rules)', () => {
  const biome = join(repoRoot, 'node_modules', '@biomejs', 'biome', 'bin', 'biome');
  const r = spawnSync(process.execPath, [biome, 'lint', '--max-diagnostics=50', '--colors=off'], { cwd: repoRoot, encoding: 'utf8' });
  assert.is(r.status, 0, `${r.stdout}\n${r.stderr}`);
});

test.run();
