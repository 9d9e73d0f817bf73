// The seqlock's prose is held to its code: every atomic call in native/include/mdfan_seqlock.h
// carries a tag naming its order ("[ID] order: ORDER KIND; pairs with: IDS."), the header's summary
// table lists the same accesses, docs/ABI.md copies that table, and no prose there or in
// docs/READERS.md gives an access another order. Outside implementers copy these two documents.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './helpers/paths.js';

const read = (...p: string[]): string => readFileSync(join(repoRoot, ...p), 'utf8');
const headerText = read('native', 'include', 'mdfan_seqlock.h');
const abiText = read('docs', 'ABI.md');
const readersText = read('docs', 'READERS.md');

const ORDERS = ['relaxed', 'consume', 'acquire', 'release', 'acq_rel', 'seq_cst'];
const ORDER = `(${ORDERS.join('|')})`;

/** One access as the table (or a tag and its call) states it. */
interface Access {
  id: string;
  fn: string;
  kind: string;
  order: string;
  pairs: string[];
}
const show = (a: Access): string => `${a.id} ${a.fn} ${a.kind} ${a.order} pairs with ${a.pairs.join(',') || 'none'}`;

interface Comment {
  text: string;
  startLine: number;
  endLine: number;
}

/** C source split into code (comments and strings blanked, lines kept) and its comments. */
function splitC(src: string): { code: string; comments: Comment[] } {
  let code = '';
  const comments: Comment[] = [];
  let line = 1;
  let i = 0;
  while (i < src.length) {
    const two = src.slice(i, i + 2);
    if (two === '/*' || two === '//') {
      const end = two === '/*' ? src.indexOf('*/', i + 2) + 2 : src.indexOf('\n', i);
      const stop = end <= 1 || end === -1 ? src.length : end;
      const text = src.slice(i, stop);
      const lines = text.split('\n').length - 1;
      comments.push({ text, startLine: line, endLine: line + lines });
      code += text.replace(/[^\n]/g, ' ');
      line += lines;
      i = stop;
    } else if (src[i] === '"' || src[i] === "'") {
      let j = i + 1;
      while (j < src.length && src[j] !== src[i]) j += src[j] === '\\' ? 2 : 1;
      code += ' '.repeat(j + 1 - i);
      i = j + 1;
    } else {
      if (src[i] === '\n') line++;
      code += src[i];
      i++;
    }
  }
  return { code, comments };
}

/** An atomic call in code: kind and order(s) from the builtin and its __ATOMIC_* arguments. */
interface Call {
  line: number;
  fn: string;
  builtin: string;
  kind: string;
  order: string;
}

function atomicCalls(code: string): Call[] {
  const calls: Call[] = [];
  const lines = code.split('\n');
  let fn = '(file scope)';
  lines.forEach((text, k) => {
    const def = /\bstatic\s+inline\s+[^(]*?\b(\w+)\s*\(/.exec(text);
    if (def) fn = def[1];
    for (const m of text.matchAll(/\b(__atomic_\w+|__sync_\w+|atomic_\w+|std::atomic_ref)\s*[(<]/g)) {
      const builtin = m[1];
      // The call's arguments: up to the end of its statement (read on over wrapped lines).
      let rest = text.slice(m.index! + m[0].length);
      for (let n = k + 1; n < lines.length && !rest.includes(';'); n++) rest += ` ${lines[n]}`;
      const args = rest.split(';')[0];
      const orders = [...args.matchAll(/\b(?:__ATOMIC_|memory_order_)(\w+)/g)].map((o) => o[1].toLowerCase());
      const kind = /load/.test(builtin) ? 'load' : /fence/.test(builtin) ? 'fence' : /store/.test(builtin) ? 'store' : 'rmw';
      // No explicit order (atomic_load, __sync_*): sequentially consistent.
      calls.push({ line: k + 1, fn, builtin, kind, order: orders.length ? orders.join('/') : 'seq_cst' });
    }
  });
  return calls;
}

const TAG = new RegExp(`\\[(\\w+)\\] order: ${ORDER} (load|store|fence|rmw); pairs with: ([^.]*)\\.`, 'g');
const pairsOf = (s: string): string[] => (/^\s*none\b/.test(s) ? [] : s.split(/,|\band\b/).map((x) => x.trim()).filter(Boolean));

/** The summary table of the header: "ID  function  kind  order  pairs". */
function headerTable(comments: Comment[]): Access[] {
  const rows: Access[] = [];
  for (const c of comments)
    for (const m of c.text.matchAll(new RegExp(`^\\s*\\*\\s+([A-Z]\\d)\\s+(\\w+)\\s+(load|store|fence|rmw)\\s+${ORDER}\\s+(.+)$`, 'gm')))
      rows.push({ id: m[1], fn: m[2], kind: m[3], order: m[4], pairs: pairsOf(m[5]) });
  return rows;
}

/** docs/ABI.md's copy: the Markdown table whose head is "access | function | kind | order | pairs with". */
function markdownTable(md: string): Access[] {
  const lines = md.split('\n');
  const head = lines.findIndex((l) => /^\|\s*access\s*\|\s*function\s*\|\s*kind\s*\|\s*order\s*\|\s*pairs with\s*\|/.test(l));
  if (head < 0) return [];
  const rows: Access[] = [];
  for (const l of lines.slice(head + 2)) {
    if (!l.startsWith('|')) break;
    const [id, fn, kind, order, pairs] = l.split('|').slice(1, 6).map((c) => c.replace(/`/g, '').trim());
    rows.push({ id, fn, kind, order, pairs: pairsOf(pairs) });
  }
  return rows;
}

/**
 * Prose that gives one of the accesses an order ("W2 (seq_cst)", "W2, release store", "W2 is a
 * seq_cst store", "the W2 (seq_cst store)", "W2 seq = s+2 (seq_cst)", "release store W2") must
 * give it its own. `orders` maps each access id to its order.
 */
function proseMismatches(where: string, text: string, orders: Map<string, string>): string[] {
  const out: string[] = [];
  const flat = text.replace(/\s*\n\s*(?:\*(?!\/)\s*)?/g, ' ');
  const ids = [...orders.keys()].join('|');
  const patterns = [
    new RegExp(`\\b(${ids})\\b\\s*(?:[,:]|\\bis\\b)?\\s*\\(?\\s*(?:an?\\s+|the\\s+)?${ORDER}\\b`, 'g'),
    new RegExp(`\\b(${ids})\\b(?:(?!\\b(?:${ids})\\b)[^().;\\n]){0,24}\\(([^()]*)\\)`, 'g'),
    new RegExp(`${ORDER}\\s+(?:load|store|fence)\\s+\\(?(${ids})\\b`, 'g'),
  ];
  patterns.forEach((re, p) => {
    for (const m of flat.matchAll(re)) {
      const [id, said] = p === 2 ? [m[2], m[1]] : p === 1 ? [m[1], new RegExp(ORDER).exec(m[2])?.[1]] : [m[1], m[2]];
      if (said && said !== orders.get(id)) out.push(`${where}: "${m[0].trim()}" gives ${id} ${said}; the code makes it ${orders.get(id)}`);
    }
  });
  return out;
}

/** Every disagreement between the header's comments and its atomic calls (empty: they agree). */
function headerMismatches(src: string): { problems: string[]; table: Access[] } {
  const { code, comments } = splitC(src);
  const problems: string[] = [];
  const calls = atomicCalls(code);
  const tagged: Access[] = [];
  const used = new Set<string>();
  for (const call of calls) {
    const what = `line ${call.line}: ${call.builtin} in ${call.fn} (${call.order} ${call.kind})`;
    const c = comments.find((x) => x.endLine === call.line - 1 || (x.startLine === call.line && x.endLine === call.line));
    const tags = c ? [...c.text.matchAll(TAG)] : [];
    if (tags.length !== 1) {
      problems.push(`${what} has ${tags.length ? 'more than one tag' : 'no "[ID] order: ...; pairs with: ..." tag'} in the comment above it`);
      continue;
    }
    const t = tags[0];
    used.add(`${c!.startLine}:${t.index}`);
    if (t[2] !== call.order || t[3] !== call.kind) problems.push(`${what}: its tag [${t[1]}] says ${t[2]} ${t[3]}`);
    tagged.push({ id: t[1], fn: call.fn, kind: call.kind, order: call.order, pairs: pairsOf(t[4]) });
  }
  for (const c of comments)
    for (const t of c.text.matchAll(TAG))
      if (!used.has(`${c.startLine}:${t.index}`)) problems.push(`line ${c.startLine}: tag [${t[1]}] (${t[2]} ${t[3]}) is above no atomic call`);

  const table = headerTable(comments);
  const want = tagged.map(show);
  const have = table.map(show);
  if (want.join('\n') !== have.join('\n'))
    problems.push(`the summary table does not list the calls' accesses in order:\n  table: ${have.join('\n         ')}\n  calls: ${want.join('\n         ')}`);

  const orders = new Map<string, string>();
  for (const a of tagged) {
    if (orders.has(a.id) && orders.get(a.id) !== a.order) problems.push(`${a.id} is tagged both ${orders.get(a.id)} and ${a.order}`);
    orders.set(a.id, a.order);
  }
  for (const a of tagged)
    for (const p of a.pairs) {
      if (!orders.has(p)) problems.push(`${a.id} pairs with ${p}, which no call is tagged`);
      else if (!tagged.some((b) => b.id === p && b.pairs.includes(a.id))) problems.push(`${a.id} pairs with ${p}, but ${p} does not pair with ${a.id}`);
    }
  if (orders.size) {
    // The prose: every comment, the tags and the table rows taken out (they were checked above).
    const prose = comments.map((c) => c.text.replace(TAG, '').replace(/^\s*\*\s+[A-Z]\d\s+\w+\s+(?:load|store|fence|rmw)\s+\w+\s+.*$/gm, '')).join('\n');
    problems.push(...proseMismatches('header comment', prose, orders));
  }
  return { problems, table };
}

/** docs/ABI.md against the header's table: the same rows, prose giving no access another order. */
function abiDocMismatches(md: string, table: Access[]): string[] {
  const problems: string[] = [];
  const rows = markdownTable(md);
  if (!rows.length) problems.push('docs/ABI.md has no "| access | function | kind | order | pairs with |" table');
  else if (rows.map(show).join('\n') !== table.map(show).join('\n'))
    problems.push(`docs/ABI.md's access table differs from the header's:\n  ABI.md: ${rows.map(show).join('\n          ')}\n  header: ${table.map(show).join('\n          ')}`);
  problems.push(...proseMismatches('docs/ABI.md', md, new Map(table.map((a) => [a.id, a.order]))));
  return problems;
}

/** Source files whose identifiers docs/ABI.md may name: the C side and the TypeScript that drives it. */
function sources(): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const e of readdirSync(join(repoRoot, dir), { withFileTypes: true })) {
      const rel = `${dir}/${e.name}`;
      if (e.isDirectory()) {
        if (e.name !== 'node_modules' && e.name !== 'build' && e.name !== 'prebuilds') walk(rel);
      } else if (/\.(h|c|cc|ts)$/.test(e.name) && !e.name.endsWith('.d.ts')) out.set(rel, read(rel));
    }
  };
  for (const d of ['native', 'workers', 'feed', 'lib', 'bench']) walk(d);
  return out;
}

/** Functions docs/ABI.md names (in code spans) that the sources do not define or export. */
function unknownFunctions(md: string, files: Map<string, string>): string[] {
  const all = [...files.values()].join('\n');
  const cSide = [...files].filter(([f]) => /\.(h|c|cc)$/.test(f)).map(([, t]) => t).join('\n');
  const word = (w: string, text: string): boolean => new RegExp(`(?<![\\w.])${w}(?!\\w)`).test(text);
  const missing = new Set<string>();
  for (const [, span] of md.matchAll(/`([^`\n]+)`/g)) {
    for (const [, name] of span.matchAll(/\b(mdfan_[a-z0-9_]+)\b(?!\.[ch]\b)/g))
      if (!name.endsWith('_t') && !word(name, cSide)) missing.add(name);
    // A camelCase name: an addon export ("readSlot" in native/src) or a TypeScript function.
    const camel = /^([a-z][a-z0-9]*[A-Z]\w*)(?:\(.*\))?$/.exec(span);
    if (camel && !word(`"${camel[1]}"`, cSide) && !new RegExp(`\\b(?:function|const|let)\\s+${camel[1]}\\b|^\\s*(?:static\\s+)?${camel[1]}\\s*\\(`, 'm').test(all))
      missing.add(camel[1]);
    // Class.method (not NAME.readers): the method must be in the file that declares the class
    // (Atomics is JavaScript's).
    const member = /^([A-Z][a-z]\w*)\.([a-z]\w*)(?:\(.*\))?$/.exec(span);
    if (member && member[1] !== 'Atomics') {
      const file = [...files.values()].find((t) => new RegExp(`\\bclass\\s+${member[1]}\\b`).test(t));
      if (!file || !new RegExp(`^\\s*(?:(?:private|static|readonly|async)\\s+)*${member[2]}\\s*[(<]`, 'm').test(file)) missing.add(span);
    }
  }
  return [...missing];
}

test('every atomic call in mdfan_seqlock.h has its order stated, and the summary table lists them', () => {
  const { problems, table } = headerMismatches(headerText);
  assert.equal(problems, []);
  // The header's accesses, as the code makes them: nothing seq_cst, one fence each side.
  assert.equal(
    table.map((a) => `${a.id} ${a.kind} ${a.order}`),
    ['R1 load acquire', 'F2 fence acquire', 'R2 load relaxed', 'W0 load relaxed', 'W1 store relaxed', 'F1 fence release', 'W0 load relaxed', 'W2 store release'],
  );
});

test("docs/ABI.md's access table and prose agree with the header", () => {
  const { table } = headerMismatches(headerText);
  assert.equal(abiDocMismatches(abiText, table), []);
});

test('docs/READERS.md gives no access of the seqlock another order', () => {
  const { table } = headerMismatches(headerText);
  assert.equal(proseMismatches('docs/READERS.md', readersText, new Map(table.map((a) => [a.id, a.order]))), []);
});

test('docs/ABI.md names only functions that exist', () => {
  assert.equal(unknownFunctions(abiText, sources()), []);
});

// The checks can fail: doctored copies of the real texts.
const doctor = (text: string, from: string | RegExp, to: string): string => {
  const out = text.replace(from, to);
  assert.is.not(out, text, `the doctoring of ${String(from)} changed nothing`);
  return out;
};

test('a tag that says seq_cst on the release store W2 is reported', () => {
  const bad = doctor(headerText, '[W2] order: release store', '[W2] order: seq_cst store');
  const p = headerMismatches(bad).problems;
  assert.ok(p.some((l) => /__atomic_store_n in mdfan_seqlock_write_end \(release store\): its tag \[W2\] says seq_cst store/.test(l)), p.join('\n'));
});

test('a call whose order changes under its comment is reported', () => {
  const bad = doctor(headerText, '__atomic_store_n(seqp, odd + 1u, __ATOMIC_RELEASE)', '__atomic_store_n(seqp, odd + 1u, __ATOMIC_SEQ_CST)');
  const p = headerMismatches(bad).problems;
  assert.ok(p.some((l) => /\(seq_cst store\): its tag \[W2\] says release store/.test(l)), p.join('\n'));
});

test('a call with no tag, and a tag with no call, are reported', () => {
  const untagged = doctor(headerText, /\/\* \[F2\] order:[\s\S]*?\*\/\n/, '');
  const p1 = headerMismatches(untagged).problems;
  assert.ok(p1.some((l) => /__atomic_thread_fence in mdfan_seqlock_read \(acquire fence\) has no "\[ID\] order/.test(l)), p1.join('\n'));
  assert.ok(p1.some((l) => l.startsWith('the summary table does not list')), p1.join('\n'));

  const orphan = doctor(headerText, '  uint32_t s = __atomic_load_n(seqp, __ATOMIC_RELAXED);\n', '  uint32_t s = *seqp;\n');
  const p2 = headerMismatches(orphan).problems;
  assert.ok(p2.some((l) => /tag \[W0\] \(relaxed load\) is above no atomic call/.test(l)), p2.join('\n'));

  const extra = doctor(headerText, '  return s;\n}', '  __atomic_thread_fence(__ATOMIC_SEQ_CST);\n  return s;\n}');
  const p3 = headerMismatches(extra).problems;
  assert.ok(p3.some((l) => /__atomic_thread_fence in mdfan_seqlock_write_begin \(seq_cst fence\) has no/.test(l)), p3.join('\n'));
});

test('a summary table row out of step with the calls is reported', () => {
  const bad = doctor(headerText, /(\*\s+W2\s+mdfan_seqlock_write_end\s+store\s+)release/, '$1seq_cst');
  const p = headerMismatches(bad).problems;
  assert.ok(p.some((l) => l.startsWith('the summary table does not list')), p.join('\n'));
});

test('a one-sided pairing is reported', () => {
  const bad = doctor(headerText, '[R2] order: relaxed load; pairs with: W1.', '[R2] order: relaxed load; pairs with: none.');
  const p = headerMismatches(bad).problems;
  assert.ok(p.some((l) => l === 'W1 pairs with R2, but R2 does not pair with W1'), p.join('\n'));
});

test('prose that gives an access another order is reported (the text this test was written against)', () => {
  // The header's summary and R1 comment before they were corrected, in the header and in ABI.md.
  const old = doctor(headerText, ' * R1 (acquire) reading the W2 (release)', ' *   writer: W2 seq = s+2 (seq_cst)\n * R1 reading the W2 (seq_cst store)');
  const p = headerMismatches(old).problems;
  assert.ok(p.some((l) => /"W2 seq = s\+2 \(seq_cst\)" gives W2 seq_cst; the code makes it release/.test(l)), p.join('\n'));
  assert.ok(p.some((l) => /"W2 \(seq_cst" gives W2 seq_cst/.test(l)), p.join('\n'));
  const { table } = headerMismatches(headerText);
  const doc = `${abiText}\n| \`void mdfan_seqlock_write_end(seqp, odd)\` | W2: seq_cst store of odd + 1 |\nThe writer, after committing (its W2 is a seq_cst store), loads it.\n`;
  const q = abiDocMismatches(doc, table);
  assert.ok(q.some((l) => /"W2: seq_cst" gives W2 seq_cst/.test(l)), q.join('\n'));
  assert.ok(q.some((l) => /"W2 is a seq_cst" gives W2 seq_cst/.test(l)), q.join('\n'));
});

test("a row of docs/ABI.md's table that disagrees with the header is reported", () => {
  const { table } = headerMismatches(headerText);
  const bad = doctor(abiText, /(\|\s*W2\s*\|[^|\n]*\|\s*store\s*\|\s*)release/, '$1seq_cst');
  const p = abiDocMismatches(bad, table);
  assert.ok(p.some((l) => l.startsWith("docs/ABI.md's access table differs")), p.join('\n'));
  const gone = abiDocMismatches(bad.replace(/\|\s*access\s*\|\s*function\s*\|/, '| step | function |'), table);
  assert.ok(gone.some((l) => l.includes('has no "| access')), gone.join('\n'));
});

test('docs/ABI.md naming a function that does not exist is reported', () => {
  const doc = `${abiText}\nthe addon's \`readSlot\`, \`benchReadSlot\` and \`writeBegin\` (\`native/src/seqlock_read.cc\`), \`mdfan_seqlock_write_finish\`, \`SegmentWriter.wakeIfSleeping\`.\n`;
  assert.equal(unknownFunctions(doc, sources()).sort(), ['SegmentWriter.wakeIfSleeping', 'mdfan_seqlock_write_finish', 'writeBegin']);
});

test.run();
