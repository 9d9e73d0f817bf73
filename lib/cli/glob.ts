/**
 * Shell-style name patterns for options such as `mdfan gc --match GLOB`: `*` any characters, `?`
 * one, `[abc]` / `[a-z]` one of, `[!abc]` / `[^abc]` none of; the pattern matches the whole name.
 * Everything else is literal (a `[` without its `]` too). Segment names hold no `/`, so `*` needs no
 * path rule.
 */

const literal = (c: string): string => c.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');

/** The anchored regular expression of `glob`. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      // A ']' right after '[' or '[!' is a member, as in the shell.
      let j = i + 1;
      if (glob[j] === '!' || glob[j] === '^') j++;
      if (glob[j] === ']') j++;
      const end = glob.indexOf(']', j);
      if (end < 0) {
        re += '\\[';
        continue;
      }
      let body = glob.slice(i + 1, end);
      const negate = body.startsWith('!') || body.startsWith('^');
      if (negate) body = body.slice(1);
      // Members literal, except a '-' between two of them (a range).
      const members = body.replace(/[\\^\]\[]/g, '\\$&');
      re += `[${negate ? '^' : ''}${members}]`;
      i = end;
    } else re += literal(c);
  }
  return new RegExp(`^${re}$`, 's');
}

/** Whether `name` matches `glob` as a whole. */
export const matchesGlob = (glob: string, name: string): boolean => globToRegExp(glob).test(name);
