/**
 * Databento's own DBN samples (v1-v3, every schema, fragments, multi-frame zstd, legacy DBZ),
 * read by DbnReader and decodeRecord: every metadata field and every record field equals
 * expected.json, the decode has no field the expectation lacks, and the file refused is refused.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeRecord } from '../lib/dbn/decode.js';
import { DbnReader, type RecordView } from '../feed/dbn/reader.js';
import { probeInputFile } from '../feed/input-stream.js';
import { ErrorCode, isMdfanError } from '../native/segment/errors.js';
import { DBN_SAMPLES, type Json, compareExact, leaves, loadExpectations, metadataJson, toJson, v1RecordCount } from './helpers/dbn-samples.js';

const expected = loadExpectations();
const names = Object.keys(expected).sort();
// What the expectations hold, counted before any decode: the last test checks all of it was compared.
const inRecords = names.reduce((n, f) => n + (expected[f]!.records ?? []).reduce((k, r) => k + leaves(r), 0), 0);
const inMetadata = names.reduce((n, f) => n + leaves(expected[f]!.metadata ?? {}), 0);
let comparedRecords = 0;
let comparedMetadata = 0;
let filesRead = 0;

test('samples/ holds exactly the 72 files expected.json describes (and its NOTICE, LICENSE)', () => {
  assert.is(names.length, 72);
  assert.equal(readdirSync(DBN_SAMPLES).sort(), [...names, 'LICENSE', 'NOTICE', 'expected.json'].sort());
});

for (const name of names) {
  const e = expected[name]!;
  test(`${name}: ${e.error !== undefined ? 'refused' : `${e.record_count} records, field by field`}`, async () => {
    const file = join(DBN_SAMPLES, name);
    // The data first: these bytes are what the expectations describe.
    const data = readFileSync(file);
    assert.is(data.length, e.bytes, `${name}: size`);
    assert.is(createHash('sha256').update(data).digest('hex'), e.sha256, `${name}: sha256`);
    const input = probeInputFile(file);
    // (DBZ starts with a zstd skippable frame: its "zstd" in expected.json is about DBN's own compression.)
    if (e.error === undefined) assert.is(input.compression === 'zstd', e.zstd, `${name}: zstd`);
    const reader = new DbnReader(input, e.fragment_version === undefined ? {} : { fragmentVersion: e.fragment_version });
    const view: RecordView = { buf: Buffer.alloc(0), at: 0, bytes: 0, rtype: 0 };
    try {
      if (e.error !== undefined) {
        const err = await reader.open().then(
          () => null,
          (x: unknown) => x,
        );
        assert.ok(isMdfanError(err, ErrorCode.FEED_CORRUPT), `${name}: open() must throw MDFAN_ERR_FEED_CORRUPT, got ${String(err)}`);
        assert.match(err.message, /legacy DBZ/);
        assert.match(err.message, /version 0/);
        assert.ok(err.message.includes(name), `${name}: the error names the file: ${err.message}`);
        assert.not.ok(reader.next(view), 'no record after the refusal');
        assert.not.ok(await reader.fill(), 'no chunk after the refusal');
        // The probe's descriptor, checked by number: closeSync is synchronous, so nothing reuses it in between.
        const fd = `/proc/self/fd/${input.opened?.fd}`;
        assert.ok(input.opened !== null && existsSync(fd), 'the probe holds a descriptor');
        reader.close();
        assert.not.ok(existsSync(fd), 'close() after the refusal closes the probed descriptor');
        filesRead++;
        return;
      }
      const metadata = await reader.open();
      if (e.fragment_version !== undefined) {
        assert.is(metadata, null, `${name}: a fragment has no metadata`);
        assert.is(reader.version, e.fragment_version);
      } else {
        assert.ok(metadata !== null && e.metadata, `${name}: metadata`);
        const got = metadataJson(metadata) as { [k: string]: Json };
        if (metadata.version === 1) got.record_count = v1RecordCount(data, e.zstd);
        comparedMetadata += compareExact(got, e.metadata, `${name} metadata`);
        assert.is(reader.version, metadata.version);
      }
      const records = e.records!;
      assert.is(records.length, e.record_count, `${name}: expected.json's own record_count`);
      let i = 0;
      let recordBytes = 0;
      for (;;) {
        while (reader.next(view)) {
          assert.ok(i < records.length, `${name}: record ${i} decoded, ${records.length} expected`);
          const d = decodeRecord(view.buf, view.at, reader.version);
          assert.ok(d !== null, `${name} record ${i}: rtype ${view.rtype} not decoded`);
          assert.is(d.rtype, view.rtype);
          comparedRecords += compareExact(toJson(d.fields), records[i]!, `${name} record ${i}`);
          recordBytes += view.bytes;
          i++;
        }
        if (!(await reader.fill())) break;
      }
      assert.ok(reader.done, `${name}: the stream is read to its end`);
      assert.is(i, e.record_count, `${name}: record count`);
      assert.is(reader.recordsOffset + recordBytes, e.decompressed_bytes, `${name}: metadata and record bytes add up to the decompressed size`);
      filesRead++;
    } finally {
      reader.close();
    }
  });
}

test(`all ${inRecords} record field values and ${inMetadata} metadata values of the 72 samples were compared`, () => {
  assert.is(filesRead, names.length, 'every sample was read to its end (or refused)');
  assert.is(comparedRecords, inRecords);
  assert.is(comparedMetadata, inMetadata);
  assert.ok(inRecords > 3000, `only ${inRecords} record field values in expected.json`);
});

test.run();
