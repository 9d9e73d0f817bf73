import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { abi, isMdfanError, SlotWriter } from '../native/segment/index.js';
import { native, abiDifferences, abiMismatchError, abiMismatches } from '../native/segment/binding.js';
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
  assert.ok(m.some((l) => l.startsWith('constants.ABI_MAJOR')), m.join('\n'));
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

test('a mismatch is MDFAN_ERR_ABI_VERSION with expected (generated) and found (addon) per differing field', () => {
  assert.is(abiMismatchError(abiDifferences()), null, 'no error when they agree');
  const dump = native.abi();
  const header = { ...dump.structs.header, state: { offset: 132, size: 4 } };
  const tampered: AbiDump = { ...dump, structs: { ...dump.structs, header }, constants: { ...dump.constants, ABI_MAJOR: 9 } };
  const err = abiMismatchError(abiDifferences(tampered), '/x/mdfan.node');
  assert.ok(isMdfanError(err, 'MDFAN_ERR_ABI_VERSION'), String(err));
  assert.is(err!.details.fields, 'header.state,constants.ABI_MAJOR');
  assert.is(err!.details['header.state.expected'], JSON.stringify(abi.HDR.state));
  assert.is(err!.details['header.state.found'], '{"offset":132,"size":4}');
  assert.is(err!.details['constants.ABI_MAJOR.expected'], String(abi.ABI_MAJOR));
  assert.is(err!.details['constants.ABI_MAJOR.found'], '9');
  assert.is(err!.details.addon, '/x/mdfan.node');
  assert.match(err!.message, /header\.state: header \{"offset":132,"size":4\} vs generated/);
});

test('loading the binding against tables that disagree with the addon throws MDFAN_ERR_ABI_VERSION', () => {
  // A copy of dist/native beside the real addon, its generated tables edited: the binding's own load-time check.
  const dir = mkdtempSync(join(tmpdir(), 'mdfan-abi-load-'));
  try {
    cpSync(join(repoRoot, 'dist', 'native', 'segment'), join(dir, 'dist', 'native', 'segment'), { recursive: true });
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
    mkdirSync(join(dir, 'native'));
    symlinkSync(join(repoRoot, 'native', 'build'), join(dir, 'native', 'build'));
    symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'));
    const gen = join(dir, 'dist', 'native', 'segment', 'abi.generated.js');
    const text = readFileSync(gen, 'utf8');
    const edited = text.replace(/export const ABI_MINOR = (\d+);/, (_, v: string) => `export const ABI_MINOR = ${Number(v) + 1};`);
    assert.ok(edited !== text, 'the edit applied');
    writeFileSync(gen, edited);
    const probe = `import('./dist/native/segment/binding.js').then(() => console.log('loaded'), (e) => console.log(JSON.stringify({ code: e.code, details: e.details, name: e.name })));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', probe], { cwd: dir, encoding: 'utf8' });
    const out = JSON.parse(r.stdout.trim()) as { code: string; name: string; details: Record<string, string> };
    assert.is(out.name, 'MdfanError');
    assert.is(out.code, 'MDFAN_ERR_ABI_VERSION');
    assert.is(out.details.fields, 'constants.ABI_MINOR');
    assert.is(out.details['constants.ABI_MINOR.expected'], String(abi.ABI_MINOR + 1));
    assert.is(out.details['constants.ABI_MINOR.found'], String(abi.ABI_MINOR));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the commit stage is declared in the header: fields tile it, levels follow at its size, the addon reads what TypeScript stages', () => {
  const d = native.abi();
  assert.equal(d.structs.commit_stage, abi.COMMIT_STAGE as unknown as Record<string, FieldInfo>);
  assert.is(d.sizeof.commit_stage, abi.SIZEOF.commit_stage);
  assert.is(abi.SIZEOF.commit_stage % 8, 0, 'the levels start 8-aligned');
  assert.is(abi.commitStageBytes(10), abi.SIZEOF.commit_stage + 2 * 10 * abi.STAGE_LEVEL_BYTES);
  // Every staged field reaches the slot: a field read at another offset than TypeScript wrote it shows here.
  const levels = 3;
  const layout = abi.computeLayout(2, levels);
  const map = new ArrayBuffer(layout.totalBytes);
  const tops = new ArrayBuffer(abi.TOPS_HEADER_BYTES + 2 * abi.TOP_STRIDE_BYTES);
  const w = new SlotWriter(map, layout, tops);
  try {
    const s = w.stage;
    // Prices and sizes past 2^32 and 2^53-ish, a negative price: every half of the slot's 64-bit fields.
    const big = 2 ** 52 + 3;
    s.bids.set([101, 5, 1, -7 * 2 ** 40, big, 2]);
    s.asks.set([102, 7 * 2 ** 33, 3]);
    s.bidCount = 2;
    s.askCount = 1;
    // An epoch time in ms times 1e6 ns: above 2^53, exact only if the addon multiplies in integers.
    const ms = 1723161257465;
    const ts = w.commit(1, s, 123456789, ms, abi.SLOT_STALE, 1e6);
    const base = layout.slotsOffset + layout.slotStride;
    const u32 = new Uint32Array(map, base, abi.slotPayloadBytes(levels) / 4);
    const dv = new DataView(map, base);
    assert.is(u32[abi.W.slotMsgIndexLo], 123456789);
    assert.is(dv.getBigUint64(abi.SLOT.exchange_ts_ns.offset, true), BigInt(ms) * 1000000n);
    assert.is(u32[abi.W.slotFlags], abi.SLOT_STALE);
    assert.is(u32[abi.W.slotBidCount], 2);
    assert.is(u32[abi.W.slotAskCount], 1);
    const level = (at: number): [bigint, bigint, number] => [dv.getBigInt64(at + abi.LEVEL.price.offset, true), dv.getBigUint64(at + abi.LEVEL.size.offset, true), dv.getUint32(at + abi.LEVEL.orders.offset, true)];
    assert.equal(level(abi.SLOT_HEADER_BYTES), [101n, 5n, 1]);
    assert.equal(level(abi.SLOT_HEADER_BYTES + abi.LEVEL_BYTES), [-7n * 2n ** 40n, BigInt(big), 2]);
    assert.equal(level(abi.asksOffset(levels)), [102n, 7n * 2n ** 33n, 3]);
    assert.is(Number(new BigUint64Array(map, layout.slotsOffset + layout.slotStride + abi.SLOT.publish_ts_ns.offset, 1)[0]), ts);
    assert.is(w.topCommits, 1, 'the addon counts its top commits where TypeScript reads them');
    // A venue time past 2^64 ns is stored as 0 ("unknown"), never wrapped.
    w.commit(1, s, 123456790, 2 ** 53 - 1, 0, 1e9);
    assert.is(dv.getBigUint64(abi.SLOT.exchange_ts_ns.offset, true), 0n);
    // A time origin (DBN: a UTC midnight in epoch ns, exact in a double) plus ns after it: exact.
    const midnight = 1622505600000000000;
    w.commit(1, s, 123456791, 86_399_999_999_999, 0, 1, abi.COMMIT_BOOK_AND_TOP, midnight);
    assert.is(dv.getBigUint64(abi.SLOT.exchange_ts_ns.offset, true), 1622505600000000000n + 86_399_999_999_999n);
    // Unknown (NaN) is 0, never the origin; an origin plus a time past 2^64 is 0.
    w.commit(1, s, 123456792, Number.NaN, 0, 1, abi.COMMIT_BOOK_AND_TOP, midnight);
    assert.is(dv.getBigUint64(abi.SLOT.exchange_ts_ns.offset, true), 0n);
    w.commit(1, s, 123456793, 18_000_000_000_000_000_000 / 1e9, 0, 1e9, abi.COMMIT_BOOK_AND_TOP, midnight);
    assert.is(dv.getBigUint64(abi.SLOT.exchange_ts_ns.offset, true), 0n);
  } finally {
    w.unbind();
  }
});

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
      'uint8_t line1_reserved[84];',
      'uint32_t probe_field_a; uint64_t probe_field_b; uint8_t line1_reserved[72];',
    );
    assert.ok(edited.includes('probe_field_b'), 'the edit applied');
    const h = join(dir, 'mdfan_abi.h');
    writeFileSync(h, edited);
    const tsOut = join(dir, 'abi.generated.ts');
    execFileSync(process.execPath, [generator, '--header', h, '--ts-out', tsOut, '--h-out', join(dir, 'fields.h')]);
    const ts = readFileSync(tsOut, 'utf8');
    // 172 is the first free byte of line 1; the u64 is aligned by the compiler to 176, and the
    // reserved bytes that follow end the line at 256 (the header's own static asserts passed).
    assert.match(ts, /probe_field_a: \{ offset: 172, size: 4 \}/);
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
    writeFileSync(h, readFileSync(headerPath, 'utf8').replace('uint8_t line1_reserved[84];', 'uint8_t line1_reserved[88];'));
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
