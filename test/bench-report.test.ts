/**
 * The benchmark report writers: the HTML report checked in a real headless chromium (it parses,
 * draws one curve per histogram, and every table cell equals the JSON it came from), the
 * screenshot is a real non-blank image, and the .hgrm files agree with their histograms.
 * Histograms hold fixed recorded values, so nothing here depends on timing.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as hdr from 'hdr-histogram-js';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { renderHtml } from '../bench/report/html.js';
import { hgrmName, writeHgrm } from '../bench/report/hgrm.js';
import { PALETTE } from '../bench/report/svg-plot.js';
import type { Column, FullReport, Section } from '../bench/report/types.js';
import { dumpDom, screenshot } from './helpers/chromium.js';

const dir = mkdtempSync(join(tmpdir(), 'mdfan-report-test-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const newHistogram = (): hdr.Histogram => hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3.6e12, numberOfSignificantValueDigits: 3 });

/**
 * 10 000 values: 98% spread over [1, 3) µs, a plateau at 25 µs (so p99 sits on a flat stretch
 * whichever .hgrm tick lands near it), then a 80-120 µs and a 2-3 ms tail; `scale` shifts it.
 */
function latencies(scale: number): hdr.Histogram {
  const h = newHistogram();
  for (let i = 0; i < 10_000; i++) {
    const v = i < 9800 ? 1000 + ((i * 7919) % 2000) : i < 9950 ? 25_000 : i < 9990 ? 80_000 + (i - 9950) * 1000 : 2e6 + (i - 9990) * 1e5;
    h.recordValue(Math.round(v * scale));
  }
  return h;
}

const labels = ['1 reader', '4 readers', '8 readers'];
const curves = labels.map((label, i) => ({ label, histogram: latencies(1 + i * 0.7) }));

const latencyColumns: Column[] = [
  { key: 'readers', label: 'readers' },
  { key: 'latency_ns.p50', label: 'p50 ns' },
  { key: 'latency_ns.p99', label: 'p99 ns' },
  { key: 'latency_ns.mean', label: 'mean ns' },
  { key: 'throughput_mps', label: 'Mmsg/s', digits: 3 },
  { key: 'dropped', label: 'dropped' },
];
const latency: Section = {
  benchmark: 'readers',
  title: 'Reader fan-out latency',
  baseline: { c2c_one_way_ns: { p50: 1800, p99: 2600 }, cores: 2 },
  note: 'Bounded by the core-to-core cache-line transfer.',
  columns: latencyColumns,
  results: curves.map((c, i) => ({
    readers: Number(c.label.split(' ')[0]),
    latency_ns: { p50: c.histogram.getValueAtPercentile(50), p99: c.histogram.getValueAtPercentile(99), mean: c.histogram.mean },
    throughput_mps: 12.3456789 / (i + 1),
    // Row 1 has no "dropped": the cell must read as a dash.
    ...(i === 1 ? {} : { dropped: i * 3 }),
  })),
  curves,
};
const feed: Section = {
  benchmark: 'feed',
  title: 'Feed handler throughput',
  baseline: { source: 'synthetic' },
  columns: [
    { key: 'msgs_per_s', label: 'msg/s', digits: 0 },
    { key: 'bytes', label: 'bytes' },
    { key: 'ratio', label: 'ratio' },
    { key: 'mode', label: 'mode' },
  ],
  results: [
    { msgs_per_s: 1234567.891, bytes: 42, ratio: 0.123456, mode: 'copy' },
    { msgs_per_s: 987654.5, bytes: 4096, ratio: 2.5, mode: 'zero-copy' },
  ],
  curves: [],
};
const report: FullReport = {
  machine: { cpu_model: 'Test CPU @ 3.00GHz', cores: 2, numa_nodes: 1, l3_groups: 1, node_version: 'v20.19.0', kernel: '6.1.0-test', arch: 'x64' },
  started: '2025-01-02T03:04:05.000Z',
  runs: 5,
  sections: [latency, feed],
};

/** What a cell must read: the column's decimal places, else integers as-is and others 2. */
const expectedText = (v: unknown, digits?: number): string =>
  typeof v !== 'number' ? (v === undefined ? '–' : String(v)) : digits !== undefined ? v.toFixed(digits) : Number.isInteger(v) ? String(v) : v.toFixed(2);

const decode = (s: string): string => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&nbsp;/g, ' ').replace(/&amp;/g, '&');

/** The serialised DOM of one `<section data-benchmark>`. */
function sectionHtml(dom: string, benchmark: string): string {
  const start = dom.indexOf(`<section data-benchmark="${benchmark}"`);
  assert.ok(start >= 0, `section ${benchmark} missing from the DOM`);
  return dom.slice(start, dom.indexOf('</section>', start));
}

/** Cells of a section's table as rows[data-row][data-key] = text. */
function cells(html: string): Map<number, Map<string, string>> {
  const rows = new Map<number, Map<string, string>>();
  for (const tr of html.matchAll(/<tr data-row="(\d+)">([\s\S]*?)<\/tr>/g)) {
    const row = new Map<string, string>();
    for (const td of tr[2].matchAll(/<td data-key="([^"]*)"[^>]*>([\s\S]*?)<\/td>/g)) row.set(decode(td[1]), decode(td[2]));
    rows.set(Number(tr[1]), row);
  }
  return rows;
}

const htmlFile = join(dir, 'report.html');
writeFileSync(htmlFile, renderHtml(report));

test('the HTML is self-contained: no script, nothing fetched', () => {
  const html = readFileSync(htmlFile, 'utf8');
  for (const bad of ['<script', ' src=', ' href=', 'url(', '@import', '<link', 'http://', 'https://']) assert.not.ok(html.includes(bad), `HTML contains ${bad}`);
});

test('chromium renders every section, one curve per histogram, and the c2c reference', async () => {
  const dom = await dumpDom(htmlFile);
  assert.ok(dom.includes('Test CPU @ 3.00GHz') && dom.includes(report.started), 'machine header missing');
  const lat = sectionHtml(dom, 'readers');
  assert.ok(lat.includes(latency.title) && lat.includes(latency.note!), 'title or note missing');
  const polylines = [...lat.matchAll(/<polyline[^>]*data-label="([^"]*)"[^>]*points="([^"]*)"/g)];
  assert.equal(polylines.map((p) => decode(p[1])), labels);
  for (const p of polylines) assert.ok(p[2].trim().split(/\s+/).length > 50, 'a curve has too few points');
  assert.is((lat.match(/<svg/g) ?? []).length, 1);
  assert.match(lat, /<line class="ref"[^>]*stroke-dasharray/);
  assert.ok(lat.includes('c2c p50'), 'c2c reference label missing');
  // 10 000 samples resolve four nines: ticks 0% .. 99.99%, nothing deeper.
  for (const t of ['>0%<', '>90%<', '>99%<', '>99.9%<', '>99.99%<']) assert.ok(lat.includes(t), `x tick ${t} missing`);
  assert.not.ok(lat.includes('99.999%'), 'x axis claims more nines than the counts resolve');
  for (const l of labels) assert.ok(lat.includes(`>${l}<`), `legend ${l} missing`);

  const fd = sectionHtml(dom, 'feed');
  assert.ok(fd.includes(feed.title), 'feed title missing');
  assert.not.ok(fd.includes('<svg'), 'a section without curves has no plot');

  // Every cell equals the JSON value under the same rounding.
  for (const [name, s] of [['readers', latency], ['feed', feed]] as const) {
    const got = cells(sectionHtml(dom, name));
    assert.is(got.size, s.results.length, `${name}: row count`);
    s.results.forEach((row, i) => {
      const r = got.get(i);
      assert.ok(r, `${name}: row ${i} missing`);
      assert.equal([...r!.keys()], s.columns.map((c) => c.key), `${name}: columns of row ${i}`);
      for (const c of s.columns) {
        const v = c.key.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], row);
        const text = r!.get(c.key)!;
        assert.is(text, expectedText(v, c.digits), `${name} row ${i} ${c.key}`);
        if (typeof v === 'number') {
          const places = c.digits ?? (Number.isInteger(v) ? 0 : 2);
          assert.ok(Math.abs(Number(text) - v) <= 0.5 * 10 ** -places + 1e-9, `${name} row ${i} ${c.key}: ${text} vs ${v}`);
        }
      }
    });
  }
  assert.is(cells(lat).get(1)!.get('dropped'), '–');
});

/** A PNG's size and decoded RGB(A) pixels (8-bit, non-interlaced: what chromium writes). */
function decodePng(buf: Buffer): { width: number; height: number; pixels: Set<number>; colours: Set<string> } {
  assert.equal([...buf.subarray(0, 8)], [137, 80, 78, 71, 13, 10, 26, 10], 'not a PNG signature');
  let width = 0, height = 0, bpp = 0;
  const idat: Buffer[] = [];
  for (let at = 8; at < buf.length; ) {
    const len = buf.readUInt32BE(at);
    const type = buf.toString('latin1', at + 4, at + 8);
    const data = buf.subarray(at + 8, at + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      assert.is(data[8], 8, 'bit depth');
      assert.is(data[12], 0, 'interlaced');
      bpp = ({ 0: 1, 2: 3, 4: 2, 6: 4 } as Record<number, number>)[data[9]];
      assert.ok(bpp, `colour type ${data[9]}`);
    } else if (type === 'IDAT') idat.push(data);
    at += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * bpp;
  assert.is(raw.length, height * (stride + 1), 'IDAT size');
  const prev = Buffer.alloc(stride);
  const cur = Buffer.alloc(stride);
  const pixels = new Set<number>();
  const colours = new Set<string>();
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    // Undo the PNG row filters (None, Sub, Up, Average, Paeth).
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? cur[i - bpp] : 0, b = prev[i], c = i >= bpp ? prev[i - bpp] : 0;
      const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
      const pred = f === 0 ? 0 : f === 1 ? a : f === 2 ? b : f === 3 ? (a + b) >> 1 : pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      cur[i] = (line[i] + pred) & 0xff;
    }
    for (let x = 0; x < width; x++) {
      const px = cur.subarray(x * bpp, x * bpp + Math.min(3, bpp));
      pixels.add(px.readUIntBE(0, px.length));
      if (bpp >= 3) colours.add('#' + px.toString('hex'));
    }
    cur.copy(prev);
  }
  return { width, height, pixels, colours };
}

test('the screenshot is a real, non-blank PNG with the curve colours in it', async () => {
  const png = join(dir, 'report.png');
  await screenshot(htmlFile, png, { width: 1000, height: 1200 });
  const img = decodePng(readFileSync(png));
  assert.is(img.width, 1000);
  assert.is(img.height, 1200);
  assert.ok(img.pixels.size > 10, `only ${img.pixels.size} distinct pixel values`);
  // The legend swatches are solid rectangles of each curve's colour.
  for (const c of PALETTE.slice(0, labels.length)) assert.ok(img.colours.has(c), `colour ${c} not on screen`);
});

/** .hgrm rows as [value, percentile]. */
const hgrmRows = (text: string): Array<[number, number]> =>
  [...text.matchAll(/^\s*([\d.]+)\s+([\d.]+)\s+\d+/gm)].map((m) => [Number(m[1]), Number(m[2])]);

test('writeHgrm writes one parseable .hgrm per curve, matching its histogram', () => {
  const out = join(dir, 'hgrm', 'nested'); // does not exist yet
  const paths = writeHgrm(out, report);
  assert.equal(paths.map((p) => basename(p)), ['readers-1_reader.hgrm', 'readers-4_readers.hgrm', 'readers-8_readers.hgrm']);
  curves.forEach((c, i) => {
    assert.ok(existsSync(paths[i]), paths[i]);
    const text = readFileSync(paths[i], 'utf8');
    const rows = hgrmRows(text);
    assert.ok(rows.length > 20, `${paths[i]}: ${rows.length} rows`);
    for (const p of [0.5, 0.99]) {
      // The distribution at p is the first row at or past p.
      const row = rows.find(([, q]) => q >= p);
      const want = c.histogram.getValueAtPercentile(p * 100);
      const tol = want * 10 ** -c.histogram.numberOfSignificantValueDigits;
      assert.ok(row && Math.abs(row[0] - want) <= tol, `${paths[i]} at ${p}: ${row?.[0]} vs ${want}`);
    }
    assert.match(text, /^#\[Mean\s+=/m);
    assert.match(text, /^#\[Max\s+=/m);
    const max = Number(/^#\[Max\s+=\s+([\d.]+)/m.exec(text)![1]);
    assert.ok(Math.abs(max - c.histogram.maxValue) <= c.histogram.maxValue * 1e-3, `max ${max} vs ${c.histogram.maxValue}`);
  });
});

test('hgrmName keeps [A-Za-z0-9._-] and replaces the rest', () => {
  assert.is(hgrmName('readers', '8 readers'), 'readers-8_readers.hgrm');
  assert.is(hgrmName('c2c', '<script>&x/../y'), 'c2c-_script__x_.._y.hgrm');
  assert.match(hgrmName('a/b', 'é ü'), /^[A-Za-z0-9._-]+$/);
});

test('labels and text with <script> and & are escaped, not injected', async () => {
  const evil = '<script>alert(1)</script> & "q"';
  const h = latencies(1);
  const bad: FullReport = {
    ...report,
    started: evil,
    sections: [{
      benchmark: `x"><script>alert(2)</script>`,
      title: evil,
      note: evil,
      baseline: { [evil]: evil },
      columns: [{ key: 'v', label: evil }],
      results: [{ v: evil }],
      curves: [{ label: evil, histogram: h }],
    }],
  };
  const html = renderHtml(bad);
  assert.not.ok(/<script/i.test(html), 'raw <script> in the HTML');
  assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;q&quot;'), 'escaped label missing');
  const file = join(dir, 'evil.html');
  writeFileSync(file, html);
  const dom = await dumpDom(file);
  assert.not.ok(/<script/i.test(dom), 'chromium built a <script> element');
  const poly = /<polyline[^>]*data-label="([^"]*)"/.exec(dom);
  assert.is(decode(poly?.[1] ?? ''), evil, 'curve label does not survive the round trip');
  // Two labels that sanitise to one name get distinct files, never overwrite each other.
  const twin: FullReport = { ...report, sections: [{ ...feed, curves: [{ label: 'a b', histogram: h }, { label: 'a_b', histogram: h }] }] };
  const names = writeHgrm(join(dir, 'twins'), twin).map((p) => basename(p));
  assert.equal(names, ['feed-a_b.hgrm', 'feed-a_b-2.hgrm']);
});

test.run();
