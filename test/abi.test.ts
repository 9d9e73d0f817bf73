import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { native, abiMismatches, abi } from '../native/ts/index.js';
import type { AbiDump, FieldInfo } from '../native/ts/addon.js';
import { repoRoot } from './helpers/paths.js';

test('abi.ts agrees with the compiled header (addon dump)', () => {
  assert.equal(abiMismatches(), []);
});

test('a changed offset is detected (the check can fail)', () => {
  const dump = native.abi();
  const tampered: AbiDump = { ...dump, header: { ...dump.header, state: { offset: 132, size: 4 } } };
  const m = abiMismatches(tampered);
  assert.ok(m.some((l) => l.startsWith('header.state')), m.join('\n'));
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

test('fields tile each struct with no gap (no field missing from the list)', () => {
  const d = native.abi();
  assert.is(tiles(d.header, d.constants.SIZEOF_HEADER), null);
  assert.is(tiles(d.dir, d.constants.SIZEOF_DIR_ENTRY), null);
  assert.is(tiles(d.level, d.constants.SIZEOF_LEVEL), null);
  assert.is(tiles(d.slot, d.constants.SIZEOF_SLOT_HEADER), null);
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
