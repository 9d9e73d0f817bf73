import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FEED_RANKS, areaOf, feedFolderOf, loadSources, violations } from './helpers/layers.js';
import { repoRoot } from './helpers/paths.js';

test('the import rule holds: no lower layer imports a higher one; bench and scenarios use only the public modules of feed and workers', () => {
  const sources = loadSources(repoRoot);
  assert.ok(sources.size > 100, `read ${sources.size} sources`);
  assert.equal(violations(sources), []);
});

test('the rule can fail: the segment importing the CLI plumbing, feed importing workers, a benchmark reaching into the feed', () => {
  const v = violations(
    new Map([
      ['native/segment/x.ts', "import { parse } from '../../lib/cli/args.js';"],
      ['feed/publish/y.ts', "import { BookReader } from '../../workers/sdk/book-reader.js';"],
      ['bench/z.ts', "import { Publisher } from '../feed/publish/publisher.js';\nimport { Publisher as P } from '../feed/index.js';"],
      ['workers/w.ts', "export { x } from '../native/segment/index.js';\nconst m = await import('../scenarios/replay/run.js');"],
    ]),
  );
  assert.is(v.length, 4, v.join('\n'));
  assert.ok(v[0]!.startsWith('native/segment/x.ts (segment) imports lib/cli/args.ts (lib)'), v[0]);
  assert.ok(v[1]!.includes('(feed) imports workers/sdk/book-reader.ts (workers)'), v[1]);
  assert.ok(v[2]!.includes('reaches into feed/publish/publisher.ts'), v[2]);
  assert.ok(v[3]!.includes('imports scenarios/replay/run.ts'), v[3]);
});

test('feed/ has an inner order: the book imports no codec, a codec no venue or other codec, the sink contract nothing above it', () => {
  const v = violations(
    new Map([
      ['feed/book/top.ts', "import type { InstrumentBook } from '../itch/books.js';"],
      ['feed/itch/engine.ts', "import { TopOfBook } from '../publish/top.js';\nimport { MoldReceiver } from '../moldudp64/receiver.js';"],
      ['feed/sink.ts', "import type { Publisher } from './publish/publisher.js';"],
      ['feed/publish/publisher.ts', "import { itchFile } from '../sources/itch-file/index.js';"],
      ['feed/sources/lobster/index.ts', "import { TopOfBook } from '../../book/top.js';\nimport type { BookSink } from '../../sink.js';\nimport { LobsterBook } from '../../lobster/lobster-book.js';"],
    ]),
  );
  assert.is(v.length, 5, v.join('\n'));
  assert.ok(v[0]!.startsWith('feed/book/top.ts (feed/book) imports feed/itch/books.ts (feed/itch)'), v[0]);
  assert.ok(v[1]!.includes('imports feed/publish/top.ts'), v[1]);
  assert.ok(v[2]!.includes('imports feed/moldudp64/receiver.ts'), v[2]);
  assert.ok(v[3]!.startsWith('feed/sink.ts (feed/.) imports feed/publish/publisher.ts'), v[3]);
  assert.ok(v[4]!.includes('imports feed/sources/itch-file/index.ts'), v[4]);
});

test('every feed/ folder has a rank', () => {
  for (const f of loadSources(repoRoot).keys()) {
    const folder = feedFolderOf(f);
    if (folder !== null) assert.ok(FEED_RANKS.some((r) => r.includes(folder)), `${f}: feed/${folder} is not in FEED_RANKS`);
  }
});

test('every layered folder has an area (nothing new escapes the rule)', () => {
  for (const f of loadSources(repoRoot).keys()) if (!f.startsWith('native/abi/')) assert.ok(areaOf(f) !== null || f.startsWith('native/'), f);
});

test.run();
