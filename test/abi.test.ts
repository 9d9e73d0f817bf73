import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { abi } from '../native/segment/index.js';
import { native, abiMismatches } from '../native/segment/binding.js';
import type { AbiDump, FieldInfo } from '../native/segment/binding.js';
import { repoRoot } from './helpers/paths.js';

const headerPath = join(repoRoot, 'native', 'include', 'mdfan_abi.h');
const generator = join(repoRoot, 'native', 'abi', 'gen-abi.mjs');

test('the generated tables agree with the addon compiled from the same header', () => {
  assert.equal(abiMismatches(), []);
});

test('a changed offset, size or constant is detected (the check can fail)', () => {
  const dump = native.abi();
  const header = { ...dump.structs.header, state: { offset: 132, size: 4 } };
  const tampered: AbiDump = { ...dump, structs: { ...dump.structs, header }, constants: { ...dump.constants, ABI_MAJOR: 9 } };
  const m = abiMismatches(tampered);
  assert.ok(m.some((l) => l.startsWith('header.state')), m.join('\n'));
  assert.ok(m.some((l) => l.startsWith('constant ABI_MAJOR')), m.join('\n'));
});

const tiles = (fields: Record<string, FieldInfo>, size: number): string | null => {
  const list = Object.entries(fields).sort((a, b) => a[1].offset - b[1].offset);
  let at = 0;
  for (const [k, f] of list) {
    if (f.offset !== at) return `gap or overlap before ${k}: at ${at}, field at ${f.offset}`;
    at = f.offset + f.size;
  }
  return at === size ? null : `fields end at ${at}, struct is ${size}`;
};

test('fields tile every struct with no gap (padding is declared, not left to the compiler)', () => {
  const d = native.abi();
  assert.ok(Object.keys(d.structs).length >= 6, Object.keys(d.structs).join(','));
  for (const [name, fields] of Object.entries(d.structs)) assert.is(tiles(fields, d.sizeof[name]!), null, name);
});

test('the registry layout is declared in the header (magic, sleepers alone on a line, one line per reader)', () => {
  assert.is(abi.REGISTRY.sleepers.offset, abi.REGISTRY_LINE_BYTES);
  assert.is(abi.SIZEOF.reader_line, abi.REGISTRY_LINE_BYTES);
  assert.is(abi.registryBytes(), native.abi().registryBytes);
});

test('adding a field to the header is one edit: the generator picks it up with its compiled offset', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mdfan-abi-gen-'));
  try {
    const edited = readFileSync(headerPath, 'utf8').replace(
      'uint8_t line1_reserved[88];',
      'uint32_t probe_field_a; uint64_t probe_field_b; uint8_t line1_reserved[72];',
    );
    assert.ok(edited.includes('probe_field_b'), 'the edit applied');
    const h = join(dir, 'mdfan_abi.h');
    writeFileSync(h, edited);
    const tsOut = join(dir, 'abi.generated.ts');
    execFileSync(process.execPath, [generator, '--header', h, '--ts-out', tsOut, '--h-out', join(dir, 'fields.h')]);
    const ts = readFileSync(tsOut, 'utf8');
    // 168 is the first free byte of line 1; the u64 is aligned by the compiler to 176, and the
    // reserved bytes that follow end the line at 256 (the header's own static asserts passed).
    assert.match(ts, /probe_field_a: \{ offset: 168, size: 4 \}/);
    assert.match(ts, /probe_field_b: \{ offset: 176, size: 8 \}/);
    assert.match(ts, /line1_reserved: \{ offset: 184, size: 72 \}/);
    assert.match(readFileSync(join(dir, 'fields.h'), 'utf8'), /F\(mdfan_header_t, header, probe_field_b\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a header that breaks its own static asserts stops the generator with the compiler message', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mdfan-abi-gen-'));
  try {
    const h = join(dir, 'mdfan_abi.h');
    writeFileSync(h, readFileSync(headerPath, 'utf8').replace('uint8_t line1_reserved[88];', 'uint8_t line1_reserved[92];'));
    let err: { status?: number; stderr?: Buffer } | null = null;
    try {
      execFileSync(process.execPath, [generator, '--header', h, '--ts-out', join(dir, 'a.ts'), '--h-out', join(dir, 'f.h')], { stdio: 'pipe' });
    } catch (e) {
      err = e as { status?: number; stderr?: Buffer };
    }
    assert.ok(err, 'the generator failed');
    assert.is(err!.status, 1);
    assert.match(String(err!.stderr), /heartbeat owns line 2/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the header compiles as C11 (static asserts hold in C, not only C++)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mdfan-abi-'));
  try {
    const src = join(dir, 'abi.c');
    writeFileSync(src, '#include "mdfan_abi.h"\n#include <stdio.h>\nint main(void){printf("%zu %u\\n", sizeof(mdfan_header_t), MDFAN_SLOT_STRIDE(10));return 0;}\n');
    execFileSync('cc', ['-std=c11', '-Wall', '-Werror', '-I', join(repoRoot, 'native', 'include'), '-o', join(dir, 'abi'), src]);
    const out = execFileSync(join(dir, 'abi'), { encoding: 'utf8' }).trim();
    assert.is(out, `${abi.HEADER_BYTES} ${abi.computeLayout(1, 10).slotStride}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
