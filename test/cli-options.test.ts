/**
 * The option helpers the commands share, in process: `--match GLOB` patterns (lib/cli/glob.ts:
 * whole names, shell classes, everything else literal) and user and group names
 * (lib/cli/ids.ts: a name from /etc/passwd or /etc/group, or a number; an unknown name refused).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { globToRegExp, matchesGlob } from '../lib/cli/glob.js';
import { resolveGroup, resolveUser } from '../lib/cli/ids.js';
import { codeOf } from './helpers/segments.js';

test('a glob matches whole names: * any run, ? one, [..] one of, [!..] none of; the rest literal', () => {
  const cases: Array<[string, string, boolean]> = [
    ['books-*', 'books-1', true],
    ['books-*', 'xbooks-1', false],
    ['books', 'books-1', false],
    ['b?oks', 'books', true],
    ['b?oks', 'boks', false],
    ['seg-[ab]1', 'seg-b1', true],
    ['seg-[ab]1', 'seg-c1', false],
    ['seg-[a-c]', 'seg-b', true],
    ['seg-[!a]', 'seg-a', false],
    ['seg-[!a]', 'seg-b', true],
    ['seg-[^a]', 'seg-b', true],
    ['x[]]y', 'x]y', true],
    ['a.b', 'a.b', true],
    ['a.b', 'axb', false],
    ['a+b(c)|d$', 'a+b(c)|d$', true],
    ['a[b', 'a[b', true],
    ['a\\b', 'a\\b', true],
    ['*', '', true],
  ];
  for (const [glob, name, want] of cases) assert.is(matchesGlob(glob, name), want, `${glob} vs ${name}: ${globToRegExp(glob)}`);
});

test('users and groups: a name or a number; an unknown name or a number past the largest id is MDFAN_ERR_OPTIONS naming the option', () => {
  assert.is(resolveUser('root', '--writer-uid'), 0);
  assert.is(resolveUser('1234', '--writer-uid'), 1234);
  assert.is(resolveGroup('root'), 0);
  assert.is(codeOf(() => resolveUser('no-such-user-mdfan', '--writer-uid')), 'MDFAN_ERR_OPTIONS');
  assert.throws(() => resolveUser('no-such-user-mdfan', '--writer-uid'), /--writer-uid: no user named "no-such-user-mdfan"/);
  assert.throws(() => resolveUser('4294967295', '--writer-uid'), /--writer-uid must be a user name or a uid 0\.\.4294967294/);
  assert.throws(() => resolveGroup('no-such-group-x'), /--group: no group named "no-such-group-x" \(give a name from \/etc\/group or a numeric gid\)/);
});

test.run();
