/**
 * The docs hold to the code where they quote it. The numbers come from the generated ABI tables
 * (native/segment/abi.generated.ts: what the C compiler made of native/include/mdfan_abi.h), never
 * from this file:
 *  - every row of every field table of docs/ABI.md names a field of its struct, at its offset, of
 *    its size and of a type of that size; a header line's fields lie inside that line; every
 *    field of a documented struct has its row; sizes in section headings are the structs' sizes;
 *  - fields quoted inline with their place (`name` (u32 at 132), `events` (offset 536)) are there;
 *  - every constant quoted with a value, in docs/*.md and README.md (`MDFAN_X` = 2, `MDFAN_X` (1),
 *    bit 0 `MDFAN_X`, a table row naming it beside a number, 'T' for a kind, "MDEV" for a magic),
 *    has that value, and docs/ABI.md quotes the value of every constant that readers need;
 *  - the layout examples are computeLayout's;
 *  - every statement of the ABI version (docs/*.md, README.md, the header's opening comment) says
 *    MDFAN_ABI_MAJOR.MDFAN_ABI_MINOR.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { abi } from '../native/segment/index.js';
import { repoRoot } from './helpers/paths.js';

type StructKey = keyof typeof abi.STRUCTS;
interface FieldPlace {
  offset: number;
  size: number;
}
const structs = abi.STRUCTS as unknown as Record<StructKey, Record<string, FieldPlace>>;
const sizeOf = abi.SIZEOF as Record<StructKey, number>;

const docsDir = join(repoRoot, 'docs');
const read = (path: string): string => readFileSync(path, 'utf8');
const abiDoc = read(join(docsDir, 'ABI.md'));
/** Every Markdown file that may quote the ABI: docs/*.md and README.md. */
const allDocs = (): Array<{ file: string; text: string }> => [
  ...readdirSync(docsDir)
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => ({ file: `docs/${f}`, text: read(join(docsDir, f)) })),
  { file: 'README.md', text: read(join(repoRoot, 'README.md')) },
];

// ---- Markdown: headings and tables (outside code fences) ----------------------------------------

interface Table {
  heading: string;
  /** 1-based line of the header row. */
  line: number;
  columns: string[];
  rows: Array<{ line: number; cells: string[] }>;
}

/** The cells of a table row; `\|` inside a cell is text, not a border. */
const cellsOf = (row: string): string[] =>
  row
    .trim()
    .replace(/^\|/, '')
    .replace(/\|$/, '')
    .split(/(?<!\\)\|/)
    .map((c) => c.trim());

function tablesOf(text: string): Table[] {
  const out: Table[] = [];
  let heading = '';
  let fence = false;
  let table: Table | null = null;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trimEnd();
    if (/^\s*```/.test(line)) fence = !fence;
    const isRow = !fence && /^\s*\|/.test(line);
    if (!isRow) table = null;
    if (fence) return;
    if (/^#{1,6} /.test(line)) heading = line;
    if (!isRow) return;
    if (table === null) {
      table = { heading, line: i + 1, columns: cellsOf(line).map((c) => c.toLowerCase()), rows: [] };
      out.push(table);
    } else if (!/^\s*\|[\s|:-]+\|?$/.test(line)) table.rows.push({ line: i + 1, cells: cellsOf(line) });
  });
  return out;
}

/** Which struct a field table of docs/ABI.md describes, from the heading above it. */
const TABLE_STRUCTS: Array<[RegExp, StructKey]> = [
  [/^### Lines? [0-9–-]+ \[/, 'header'],
  [/^## Instrument directory$/, 'dir_entry'],
  [/^### Slot header\b/, 'slot_header'],
  [/^### Levels$/, 'level'],
  [/^### mdfan_registry_header_t\b/, 'registry_header'],
  [/^### mdfan_reader_line_t\b/, 'reader_line'],
  [/^### mdfan_events_header_t\b/, 'events_header'],
  [/^### mdfan_event_t\b/, 'event'],
  [/^### mdfan_top_t\b/, 'top'],
  [/^## The commit stage\b/, 'commit_stage'],
];
/** Headings that state a struct's size: "(N bytes". */
const HEADING_SIZES: Array<[RegExp, StructKey]> = [
  [/^## Header \((\d+) bytes/, 'header'],
  [/^### Slot header \((\d+) bytes/, 'slot_header'],
  [/^### mdfan_registry_header_t \((\d+) bytes/, 'registry_header'],
  [/^### mdfan_reader_line_t \((\d+) bytes/, 'reader_line'],
  [/^### mdfan_events_header_t \((\d+) bytes/, 'events_header'],
  [/^### mdfan_event_t \((\d+) bytes/, 'event'],
  [/^### mdfan_top_t \((\d+) bytes/, 'top'],
];
/** Rows of a field table that are no field of the struct, each with where it must be. */
const NOT_FIELDS: Partial<Record<StructKey, Record<string, () => number>>> = {
  commit_stage: { levels: () => sizeOf.commit_stage }, // the levels follow the struct
};
/** Bytes of a type as the tables write it; null: none given (reserved bytes, "—"). */
function typeBytes(type: string): number | null {
  const t = type.replace(/`/g, '').trim();
  if (t === '' || t === '—') return null;
  const arr = /^char\[(\d+)\]$/.exec(t);
  if (arr) return Number(arr[1]);
  const sizes: Record<string, number> = { u8: 1, u16: 2, u32: 4, u64: 8, i64: 8, f64: 8 };
  const n = sizes[t];
  if (n === undefined) throw new Error(`unknown type ${JSON.stringify(type)}`);
  return n;
}
const fieldName = (cell: string): string | null => /^`(\w+)`$/.exec(cell.trim())?.[1] ?? null;
const num = (cell: string): number | null => (/^\d+$/.test(cell.trim()) ? Number(cell.trim()) : null);

/** Checks the field tables of an ABI document; returns the problems, and the fields each struct's tables named. */
function checkFieldTables(text: string): { problems: string[]; named: Map<StructKey, Set<string>>; rows: number } {
  const problems: string[] = [];
  const named = new Map<StructKey, Set<string>>();
  let rows = 0;
  for (const t of tablesOf(text)) {
    if (!t.columns.includes('offset') || !t.columns.includes('field')) continue;
    const key = TABLE_STRUCTS.find(([re]) => re.test(t.heading))?.[1];
    if (key === undefined) {
      problems.push(`line ${t.line}: a field table under "${t.heading}" names no struct this test knows`);
      continue;
    }
    const col = (name: string): number => t.columns.indexOf(name);
    const [cOff, cSize, cType, cField] = [col('offset'), col('size'), col('type'), col('field')];
    const range = /\[(\d+), (\d+)\)/.exec(t.heading);
    const set = named.get(key) ?? new Set<string>();
    named.set(key, set);
    for (const r of t.rows) {
      rows++;
      const at = `line ${r.line} (${key})`;
      const name = fieldName(r.cells[cField] ?? '');
      const offset = num(r.cells[cOff] ?? '');
      if (name === null || offset === null) {
        problems.push(`${at}: a row without a field or an offset: ${r.cells.join(' | ')}`);
        continue;
      }
      const special = NOT_FIELDS[key]?.[name];
      if (special) {
        if (offset !== special()) problems.push(`${at}: ${name} at ${offset}, the code has ${special()}`);
        continue;
      }
      const f = structs[key][name];
      if (f === undefined) {
        problems.push(`${at}: ${name} is no field of ${key}`);
        continue;
      }
      set.add(name);
      if (offset !== f.offset) problems.push(`${at}: ${name} at offset ${offset}, the code has ${f.offset}`);
      const size = cSize >= 0 ? (r.cells[cSize] ?? '') : '';
      if (size.trim() !== '' && num(size) !== f.size) problems.push(`${at}: ${name} of size ${size}, the code has ${f.size}`);
      const tb = cType >= 0 ? typeBytes(r.cells[cType] ?? '') : null;
      if (tb !== null && tb !== f.size) problems.push(`${at}: ${name} typed ${r.cells[cType]} (${tb} bytes), the code's field is ${f.size}`);
      if (range && (f.offset < Number(range[1]) || f.offset + f.size > Number(range[2])))
        problems.push(`${at}: ${name} [${f.offset}, ${f.offset + f.size}) lies outside its line ${range[0]}`);
    }
  }
  let fence = false;
  text.split('\n').forEach((line, i) => {
    if (/^\s*```/.test(line)) fence = !fence;
    if (fence) return;
    for (const [re, key] of HEADING_SIZES) {
      const m = re.exec(line);
      if (m && Number(m[1]) !== sizeOf[key]) problems.push(`line ${i + 1}: "${line}" says ${m[1]} bytes, sizeof is ${sizeOf[key]}`);
    }
  });
  return { problems, named, rows };
}

// ---- fields quoted inline: `name` (u32 at 132), `a`/`b` (u16 at 4, 6), `events` (offset 536) ----

/** The magic constant of each struct that has one (a magic quoted as its bytes is checked too). */
const MAGICS: Partial<Record<StructKey, string>> = { header: 'MAGIC', registry_header: 'REGISTRY_MAGIC', events_header: 'EVENTS_MAGIC', tops_header: 'TOPS_MAGIC' };
const INLINE = /`(\w+)`(?:(?:\/|, )`(\w+)`)?(?: "([^"]*)")? \((?:(u8|u16|u32|u64|i64|f64) at (\d+)(?:, (\d+))?|offset (\d+))/g;

function checkInlineFields(text: string, where: string): { problems: string[]; seen: Map<StructKey, Set<string>>; count: number } {
  const problems: string[] = [];
  const seen = new Map<StructKey, Set<string>>();
  let count = 0;
  text.split('\n').forEach((line, i) => {
    // A line that names its struct is held to that struct alone (the tops header's row).
    const owner = (Object.keys(structs) as StructKey[]).find((k) => line.includes(`mdfan_${k}_t`));
    for (const m of line.matchAll(INLINE)) {
      const names = [m[1]!, m[2]].filter((n): n is string => n !== undefined);
      const offsets = m[7] !== undefined ? [Number(m[7])] : [Number(m[5]), ...(m[6] !== undefined ? [Number(m[6])] : [])];
      const bytes = m[4] !== undefined ? typeBytes(m[4]) : null;
      names.forEach((name, k) => {
        count++;
        const offset = offsets[k] ?? offsets[0]!;
        const candidates = (owner ? [owner] : (Object.keys(structs) as StructKey[])).filter((s) => structs[s][name] !== undefined);
        const hit = candidates.find((s) => structs[s][name]!.offset === offset && (bytes === null || structs[s][name]!.size === bytes));
        if (hit === undefined) {
          const code = candidates.map((s) => `${s}.${name} at ${structs[s][name]!.offset} (${structs[s][name]!.size} bytes)`).join(', ') || 'no such field';
          problems.push(`${where}:${i + 1}: \`${name}\` ${m[4] ?? ''} at ${offset}; the code: ${code}`);
          return;
        }
        const set = seen.get(hit) ?? new Set<string>();
        set.add(name);
        seen.set(hit, set);
        const magic = MAGICS[hit];
        if (name === 'magic' && m[3] !== undefined && magic && ascii(m[3]) !== BigInt(constant(magic)!))
          problems.push(`${where}:${i + 1}: ${hit}.magic quoted as "${m[3]}", the code's ${magic} is ${hexOf(constant(magic)!)}`);
      });
    }
  });
  return { problems, seen, count };
}

// ---- constants quoted with a value --------------------------------------------------------------

/**
 * The header's macros that only rename another (`#define MDFAN_DIRECTORY_OFFSET MDFAN_HEADER_BYTES`):
 * the generator tables integer literals only, so such a name takes the value of the one it names.
 */
const RENAMES = new Map([...read(join(repoRoot, 'native', 'include', 'mdfan_abi.h')).matchAll(/^#define (MDFAN_\w+) (MDFAN_\w+)\s*$/gm)].map((m) => [m[1]!, m[2]!]));
/** A generated constant by its C name (MDFAN_X), or undefined. A u64 beyond 2^53 is a BigInt. */
function constant(cName: string): number | bigint | undefined {
  const key = (RENAMES.get(cName) ?? cName).replace(/^MDFAN_/, '');
  const t = abi as unknown as Record<string, number | bigint | undefined>;
  return typeof t[key] === 'number' ? t[key] : t[`${key}_U64`];
}
/** The states' names, as the docs write them without the prefix beside their numbers. */
const ALIASES: Record<string, string> = {
  INITIALIZING: 'MDFAN_STATE_INITIALIZING',
  READY: 'MDFAN_STATE_READY',
  BROKEN: 'MDFAN_STATE_BROKEN',
  CLOSED: 'MDFAN_STATE_CLOSED',
};
const hexOf = (v: number | bigint): string => `0x${v.toString(16).toUpperCase()}`;
/** Little-endian: the first character is the lowest byte ("MDEV" -> 0x5645444D). */
const ascii = (s: string): bigint => [...s].reduceRight((acc, ch) => (acc << 8n) | BigInt(ch.charCodeAt(0)), 0n);
const NAMED_VALUES: Record<string, bigint> = { INT64_MAX: 2n ** 63n - 1n, UINT32_MAX: 2n ** 32n - 1n };
/** A number as the docs write it (123, 1,000,000, 0x4D48...), or null. */
function parseValue(text: string): bigint | null {
  const t = text.replace(/`/g, '').trim();
  if (/^0x[0-9a-f]+$/i.test(t)) return BigInt(t);
  if (/^-?\d{1,3}(,\d{3})+$|^-?\d+$/.test(t)) return BigInt(t.replace(/,/g, ''));
  return NAMED_VALUES[t] ?? null;
}

interface Quote {
  where: string;
  name: string;
  said: string;
  ok: boolean;
}

const NAME = '`(MDFAN_[A-Z0-9_]+)`';
/** A name as a table cell may hold it: a constant, or a state's bare name. */
const CELL_NAME = /^`(MDFAN_[A-Z0-9_]+|INITIALIZING|READY|BROKEN|CLOSED)`$/;
const VALUE = '(0x[0-9A-Fa-f]+|\\d{1,3}(?:,\\d{3})+|\\d+(?:\\.\\d+)?(?:e-?\\d+)?|INT64_MAX|UINT32_MAX)';
const PATTERNS: Array<{ re: RegExp; value: (m: RegExpMatchArray) => { name: string; expect: (v: bigint) => boolean; said: string } | null }> = [
  // `MDFAN_X` = 2, `MDFAN_X` = `0x4D48...`
  { re: new RegExp(`${NAME}\\s*=\\s*\`?${VALUE}\`?(?!\\w|\\.\\d)`, 'g'), value: (m) => equal(m[1]!, m[2]!) },
  // `MDFAN_X` (1), (1: ...), (10 ms); 1/`MDFAN_EVENT_PRICE_SCALE` (1e-9) is the reciprocal
  {
    re: new RegExp(`(1/)?${NAME}\\s*\\(${VALUE}(?=[\\s):,;])`, 'g'),
    value: (m) => {
      if (m[1] === undefined) return equal(m[2]!, m[3]!);
      const said = Number(m[3]);
      return { name: m[2]!, said: `1/${m[2]} = ${m[3]}`, expect: (v) => Math.abs(said * Number(v) - 1) < 1e-12 };
    },
  },
  // `MDFAN_EVENTS_MAGIC` ("MDEV"): a magic as its bytes
  { re: new RegExp(`${NAME}\\s*\\("([^"]+)"\\)`, 'g'), value: (m) => ({ name: m[1]!, said: `"${m[2]}"`, expect: (v) => v === ascii(m[2]!) }) },
  // the bytes `4D 44 46 41` = `"MDFANSHM"` after `MDFAN_MAGIC` = ...: both spellings of one value
  {
    re: new RegExp(`${NAME}\\s*=\\s*\`0x[0-9A-Fa-f]+\`: the bytes \`([0-9A-F ]+)\` = \`"([^"]+)"\``, 'g'),
    value: (m) => ({ name: m[1]!, said: `bytes ${m[2]} = "${m[3]}"`, expect: (v) => v === ascii(m[3]!) && v === BigInt(`0x${m[2]!.split(' ').reverse().join('')}`) }),
  },
  // `MDFAN_EVENT_KIND_TRADE` 'T', and the shorthand `_STATUS` 'H' after it (the same prefix)
  { re: new RegExp(`${NAME} '(.)'`, 'g'), value: (m) => ({ name: m[1]!, said: `'${m[2]}'`, expect: (v) => v === BigInt(m[2]!.charCodeAt(0)) }) },
  // bit 1 `MDFAN_LAYOUT_HUGE_PAGES`
  { re: new RegExp(`bit (\\d+) ${NAME}`, 'g'), value: (m) => ({ name: m[2]!, said: `bit ${m[1]}`, expect: (v) => v === 1n << BigInt(m[1]!) }) },
  // 1024 (`MDFAN_HEADER_BYTES`), 24 bytes (`MDFAN_LEVEL_BYTES`), 1..50 (`MDFAN_MAX_LEVELS`)
  { re: new RegExp(`(?<![\\w^])(?<!\\d\\.)${VALUE}(?: bytes)? \\(${NAME}\\)`, 'g'), value: (m) => equal(m[2]!, m[1]!) },
  // (`MDFAN_STAGE_LEVEL_BYTES`, 24), (at most `MDFAN_MAX_LEVELS`, 50)
  { re: new RegExp(`${NAME}, ${VALUE}\\)`, 'g'), value: (m) => equal(m[1]!, m[2]!) },
  // `MDFAN_READER_FREE` 0, `MDFAN_ABI_MAJOR` 2
  { re: new RegExp(`${NAME} ${VALUE}(?=[,;:.)]|$| \\(| and)`, 'g'), value: (m) => equal(m[1]!, m[2]!) },
  // 1 `INITIALIZING`, 2 `READY` (a state's number before its name; not "bit N")
  { re: /(?<!bit )(?<![\w.^])(\d+) `(INITIALIZING|READY|BROKEN|CLOSED)`/g, value: (m) => equal(m[2]!, m[1]!) },
];
function equal(name: string, text: string): { name: string; expect: (v: bigint) => boolean; said: string } | null {
  const want = parseValue(text);
  if (want === null) return { name, said: text, expect: () => false };
  return { name, said: text, expect: (v) => v === want };
}
const resolve = (name: string): string => ALIASES[name] ?? name;

/** Every constant a document quotes with a value, each checked against the generated tables. */
function constantQuotes(text: string, file: string): Quote[] {
  const out: Quote[] = [];
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    const where = `${file}:${i + 1}`;
    const add = (name: string, said: string, expect: (v: bigint) => boolean): void => {
      const c = constant(resolve(name));
      if (c === undefined) {
        // A name of the MDFAN_ERR_* family or a function-like macro is no constant; a name the
        // header lacks but a value is quoted for is a problem.
        if (/^MDFAN_ERR_/.test(name)) return;
        out.push({ where, name, said, ok: false });
        return;
      }
      out.push({ where, name: resolve(name), said, ok: expect(BigInt(c)) });
    };
    for (const p of PATTERNS)
      for (const m of line.matchAll(p.re)) {
        const v = p.value(m);
        if (v) add(v.name, v.said, v.expect);
      }
    // Shorthand after a full name on the same line: `MDFAN_EVENT_KIND_TRADE` 'T', `_STATUS` 'H'.
    const full = /`(MDFAN_[A-Z0-9_]+)_[A-Z0-9]+` '.'/.exec(line);
    if (full) for (const s of line.matchAll(/`(_[A-Z0-9_]+)` '(.)'/g)) add(`${full[1]}${s[1]}`, `'${s[2]}'`, (v) => v === BigInt(s[2]!.charCodeAt(0)));
    // A table row: a cell that is only a constant's name, beside exactly one cell that is only a number.
    if (/^\s*\|/.test(line)) {
      const cells = cellsOf(line);
      const values = cells.map(parseValue).filter((v): v is bigint => v !== null);
      if (values.length === 1)
        for (const c of cells) {
          const n = CELL_NAME.exec(c)?.[1];
          if (n !== undefined) add(n, `table row: ${values[0]}`, (v) => v === values[0]);
        }
    }
  });
  return out;
}

// ---- the ABI version --------------------------------------------------------------------------

const VERSION = `${abi.ABI_MAJOR}.${abi.ABI_MINOR}`;

/** Every statement of the ABI version in a document, each with whether it says the header's. */
function versionStatements(text: string, file: string): Quote[] {
  const out: Quote[] = [];
  text.split('\n').forEach((line, i) => {
    const where = `${file}:${i + 1}`;
    const add = (said: string, ok: boolean): void => void out.push({ where, name: 'ABI version', said, ok });
    for (const m of line.matchAll(/^# mdfan segment ABI, version (\S+)/g)) add(m[0], m[1] === VERSION);
    for (const m of line.matchAll(/^## (\S+) versus 1\.x/g)) add(m[0], m[1] === VERSION);
    for (const m of line.matchAll(/\[(\d+\.\d+) versus 1\.x\]\(#(\w+)\)/g)) add(m[0], m[1] === VERSION && m[2] === `${VERSION.replace('.', '')}-versus-1x`);
    for (const m of line.matchAll(/`abi_(major|minor) ?[!=]= ?(\d+)`/g)) add(m[0], Number(m[2]) === (m[1] === 'major' ? abi.ABI_MAJOR : abi.ABI_MINOR));
    for (const m of line.matchAll(/\(`abi_(major|minor)`, (\d+)\)/g)) add(m[0], Number(m[2]) === (m[1] === 'major' ? abi.ABI_MAJOR : abi.ABI_MINOR));
    for (const m of line.matchAll(/\bABI v?(\d+)(?:\.(\d+|x))?(?![\w.])/g)) {
      if (m[2] === 'x') {
        add(m[0], Number(m[1]) <= abi.ABI_MAJOR); // a family named as such ("1.x", "2.x")
        continue;
      }
      const major = Number(m[1]);
      const minorOk = m[2] === undefined || Number(m[2]) === abi.ABI_MINOR || major !== abi.ABI_MAJOR;
      // The version-mismatch fault claims the next major: there, and only there, it may be named.
      const fault = /version-mismatch/.test(line) && major === abi.ABI_MAJOR + 1;
      add(m[0], (major === abi.ABI_MAJOR && minorOk) || fault);
    }
  });
  return out;
}

// ---- the tests --------------------------------------------------------------------------------

test('docs/ABI.md field tables: every row is its struct field, at its offset, of its size and type; every field has a row', () => {
  const { problems, named, rows } = checkFieldTables(abiDoc);
  assert.equal(problems, []);
  assert.ok(rows > 100, `${rows} rows checked`);
  const inline = checkInlineFields(abiDoc, 'docs/ABI.md');
  assert.equal(inline.problems, []);
  assert.ok(inline.count >= 10, `${inline.count} fields quoted inline`);
  // Every field of every documented struct is documented; the tops header in its inline row.
  const missing: string[] = [];
  for (const [key, set] of named) for (const f of Object.keys(structs[key])) if (!set.has(f)) missing.push(`${key}.${f}`);
  const tops = inline.seen.get('tops_header') ?? new Set<string>();
  for (const f of Object.keys(structs.tops_header)) if (!f.endsWith('reserved') && !tops.has(f)) missing.push(`tops_header.${f}`);
  assert.equal(missing, [], 'fields of the header with no row in docs/ABI.md');
  assert.equal([...named.keys()].sort(), (Object.keys(structs) as StructKey[]).filter((k) => k !== 'tops_header').sort(), 'a table for every struct');
});

test('fields quoted inline with their place in any doc are at that place', () => {
  const problems = allDocs().flatMap(({ file, text }) => checkInlineFields(text, file).problems);
  assert.equal(problems, []);
});

test('every constant quoted with a value (docs/*.md, README.md) has that value, and docs/ABI.md quotes those readers need', () => {
  const quotes = allDocs().flatMap(({ file, text }) => constantQuotes(text, file));
  assert.equal(
    quotes.filter((q) => !q.ok).map((q) => `${q.where}: ${q.name} quoted as ${q.said}, the header has ${(() => {
      const c = constant(q.name);
      return c === undefined ? 'no such constant' : `${c} (${hexOf(c)})`;
    })()}`),
    [],
  );
  // Every constant a reader in another language needs has its value in docs/ABI.md.
  const quoted = new Set(constantQuotes(abiDoc, 'docs/ABI.md').map((q) => q.name));
  const needed = Object.keys(abi)
    .filter((k) => /^[A-Z][A-Z0-9_]*$/.test(k) && !/_(LO|HI)$/.test(k) && (typeof (abi as Record<string, unknown>)[k] === 'number' || k.endsWith('_U64')))
    .map((k) => `MDFAN_${k.replace(/_U64$/, '')}`)
    .filter((c) => constant(c) !== undefined && !NOT_QUOTED.has(c));
  assert.equal(needed.filter((c) => !quoted.has(c)), [], 'constants docs/ABI.md names without their value');
});

/** Constants docs/ABI.md need not quote with a value, each for its reason. */
const NOT_QUOTED = new Set([
  'MDFAN_STATE_UNINITIALIZED', // the states table gives 0 as "(none)": no name to quote
  'MDFAN_EVENTS_DEFAULT_CAPACITY', // the writer's choice, not the format's (READERS.md, FEED.md give it)
]);

test('the layout examples of docs/ABI.md are computeLayout\'s', () => {
  const t = tablesOf(abiDoc).find((x) => x.columns.join() === 'max_instruments,levels,packed,stride,slots_offset,total_bytes');
  assert.ok(t, 'the examples table');
  assert.ok(t.rows.length >= 5);
  for (const r of t.rows) {
    const [max, levels, packed, stride, slots, total] = r.cells;
    const l = abi.computeLayout(Number(max), Number(levels), packed === 'yes');
    assert.equal([Number(stride), Number(slots), Number(total)], [l.slotStride, l.slotsOffset, l.totalBytes], `line ${r.line}`);
  }
});

test('the size formulas of docs/ABI.md are the header\'s', () => {
  const reg = /`MDFAN_REGISTRY_BYTES\(capacity\)` = (\d+) \+ capacity × (\d+)[^;]*; with\s+`MDFAN_REGISTRY_CAPACITY` \((\d+)\)\s+lines, (\d+) bytes/.exec(abiDoc);
  assert.ok(reg, 'the registry size');
  assert.equal(reg.slice(1).map(Number), [abi.SIZEOF.registry_header, abi.SIZEOF.reader_line, abi.REGISTRY_CAPACITY, abi.registryBytes()]);
  const stage = /`MDFAN_COMMIT_STAGE_BYTES\(levels\)` = (\d+) \+ 2 × levels × (\d+)/.exec(abiDoc);
  assert.ok(stage, 'the commit stage size');
  assert.equal(stage.slice(1).map(Number), [abi.SIZEOF.commit_stage, abi.STAGE_LEVEL_BYTES]);
  const payload = /\| slot payload \| `(\d+) \+ 2 × levels × (\d+)` \|/.exec(abiDoc);
  assert.ok(payload, 'the slot payload');
  assert.equal(payload.slice(1).map(Number), [abi.SLOT_HEADER_BYTES, abi.LEVEL_BYTES]);
});

test('every statement of the ABI version says MDFAN_ABI_MAJOR.MDFAN_ABI_MINOR of the header', () => {
  const header = read(join(repoRoot, 'native', 'include', 'mdfan_abi.h'));
  const opening = header.slice(0, header.indexOf('*/'));
  const statements = [...allDocs().flatMap(({ file, text }) => versionStatements(text, file)), ...versionStatements(opening, 'native/include/mdfan_abi.h')];
  assert.equal(statements.filter((s) => !s.ok).map((s) => `${s.where}: "${s.said}" (the header: ${VERSION})`), []);
  for (const file of ['docs/ABI.md', 'README.md', 'native/include/mdfan_abi.h'])
    assert.ok(statements.some((s) => s.where.startsWith(`${file}:`) && s.said.includes(VERSION)), `${file} states the version ${VERSION}`);
});

test('the checks can fail: a moved offset, a wrong type, a changed constant, another version', () => {
  const moved = abiDoc.replace('| 536 | 8 | u64 | `events` |', '| 544 | 8 | u64 | `events` |');
  assert.not.equal(moved, abiDoc);
  assert.ok(checkFieldTables(moved).problems.some((p) => p.includes('events at offset 544')));
  const typed = abiDoc.replace('| 132 | 4 | u32 | `generation` |', '| 132 | 4 | u64 | `generation` |');
  assert.ok(checkFieldTables(typed).problems.some((p) => p.includes('generation typed u64')));
  const dropped = abiDoc.replace(/^\| 536 \| 8 \| u64 \| `events` \|.*\n/m, '');
  assert.not.ok(checkFieldTables(dropped).named.get('header')?.has('events'));
  assert.equal(checkInlineFields('the registry\'s `top_sleepers` (u32 at 136)', 'x').problems.length, 1);
  const changed = 'the bit `MDFAN_SLOT_STALE` (2) and `MDFAN_EVENT_KIND_TRADE` \'X\'';
  assert.equal(constantQuotes(changed, 'x').map((q) => q.ok), [false, false]);
  assert.equal(versionStatements('The segment and ABI v1 (docs/ABI.md)', 'x').map((q) => q.ok), [false]);
  assert.equal(versionStatements('# mdfan segment ABI, version 1.2', 'x').map((q) => q.ok), [false]);
});

test.run();
