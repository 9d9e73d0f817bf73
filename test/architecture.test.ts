import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { areaOf, loadSources, violations } from './helpers/layers.js';
import { repoRoot } from './helpers/paths.js';

test('the import rule holds: no lower layer imports a higher one; bench and scenarios use only the public modules of feed and workers', () => {
  const sources = loadSources(repoRoot);
  assert.ok(sources.size > 100, `read ${sources.size} sources`);
  assert.equal(violations(sources), []);
});

test('the rule can fail: the segment importing the CLI plumbing, feed importing workers, a benchmark reaching into the feed', () => {
  const v = violations(
    new Map([
      ['native/segment/x.ts', "import { parse } from '../../bin/lib/args.js';"],
      ['feed/publish/y.ts', "import { BookReader } from '../../workers/sdk/book-reader.js';"],
      ['bench/z.ts', "import { Publisher } from '../feed/publish/publisher.js';\nimport { Publisher as P } from '../feed/index.js';"],
      ['workers/w.ts', "export { x } from '../native/segment/index.js';\nconst m = await import('../scenarios/replay/run.js');"],
    ]),
  );
  assert.is(v.length, 4, v.join('\n'));
  assert.ok(v[0]!.startsWith('native/segment/x.ts (segment) imports bin/lib/args.ts (lib)'), v[0]);
  assert.ok(v[1]!.includes('(feed) imports workers/sdk/book-reader.ts (workers)'), v[1]);
  assert.ok(v[2]!.includes('reaches into feed/publish/publisher.ts'), v[2]);
  assert.ok(v[3]!.includes('imports scenarios/replay/run.ts'), v[3]);
});

test('every layered folder has an area (nothing new escapes the rule)', () => {
  for (const f of loadSources(repoRoot).keys()) if (!f.startsWith('native/abi/')) assert.ok(areaOf(f) !== null || f.startsWith('native/'), f);
});

test.run();
