/**
 * `--html FILE`: one self-contained HTML report (inline CSS, inline SVG, no script, nothing
 * fetched), so a browser opens it from disk with no server and it still reads in ten years.
 *
 * Cells carry `data-row` / `data-key` so a test (or a reader's script) can map every figure back
 * to the JSON row and column it came from.
 */
import type { Column, FullReport, Section } from './types.js';
import { escapeXml, formatNs, percentilePlot, type RefLine } from './svg-plot.js';

const DASH = '–';

/** The value at a dotted path ("latency_ns.p50") in a result row, or undefined. */
export function getPath(row: unknown, key: string): unknown {
  let v: unknown = row;
  for (const part of key.split('.')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

/**
 * A table cell's text: numbers with the column's decimal places (default: integers as they are,
 * others 2), missing or non-finite values as a dash, anything else as text.
 */
export function formatCell(v: unknown, digits?: number): string {
  if (v === undefined || v === null) return DASH;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return DASH;
    if (digits !== undefined) return v.toFixed(digits);
    return Number.isInteger(v) ? String(v) : v.toFixed(2);
  }
  if (typeof v === 'string' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return JSON.stringify(v);
}

/** Nested baseline objects flattened to dotted keys, so { c2c: { p50 } } reads "c2c.p50". */
function flatten(obj: Record<string, unknown>, prefix = ''): Array<[string, unknown]> {
  const out: Array<[string, unknown]> = [];
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) out.push(...flatten(v as Record<string, unknown>, key));
    else out.push([key, v]);
  }
  return out;
}

/** The c2c one-way p50 from a latency section's baseline, when it is there, as a plot reference. */
function c2cRef(baseline: Record<string, unknown>): RefLine[] {
  const p50 = getPath(baseline, 'c2c_one_way_ns.p50');
  return typeof p50 === 'number' && Number.isFinite(p50) && p50 > 0 ? [{ value: p50, label: 'c2c p50' }] : [];
}

function table(columns: Column[], results: Array<Record<string, unknown>>): string {
  const head = columns.map((c) => `<th data-key="${escapeXml(c.key)}">${escapeXml(c.label)}</th>`).join('');
  const rows = results.map((row, i) => {
    const cells = columns.map((c) => {
      const v = getPath(row, c.key);
      const cls = typeof v === 'number' ? ' class="num"' : '';
      return `<td data-key="${escapeXml(c.key)}"${cls}>${escapeXml(formatCell(v, c.digits))}</td>`;
    });
    return `<tr data-row="${i}">${cells.join('')}</tr>`;
  });
  return `<table class="results"><thead><tr>${head}</tr></thead>\n<tbody>\n${rows.join('\n')}\n</tbody></table>`;
}

function baselineList(baseline: Record<string, unknown>): string {
  const items = flatten(baseline);
  if (items.length === 0) return '';
  const dl = items.map(([k, v]) => `<dt>${escapeXml(k)}</dt><dd data-key="${escapeXml(k)}">${escapeXml(formatCell(v))}</dd>`).join('');
  return `<div class="baseline"><h3>Baseline</h3><dl>${dl}</dl></div>`;
}

function section(s: Section): string {
  const parts = [`<section data-benchmark="${escapeXml(s.benchmark)}">`, `<h2>${escapeXml(s.title)}</h2>`];
  if (s.note) parts.push(`<p class="note">${escapeXml(s.note)}</p>`);
  parts.push(baselineList(s.baseline));
  const plotted = s.curves.filter((c) => c.plot !== false); // the rest are in the .hgrm files only
  if (plotted.length > 0) {
    const refs = c2cRef(s.baseline);
    parts.push(`<figure>${percentilePlot(plotted, { refs })}<figcaption>Latency by percentile (log scales, as HdrHistogram plots it)${refs.length ? `; dashed: c2c p50 = ${escapeXml(formatNs(refs[0].value))}` : ''}.</figcaption></figure>`);
  }
  parts.push(table(s.columns, s.results), '</section>');
  return parts.filter((p) => p !== '').join('\n');
}

function header(r: FullReport): string {
  const m = r.machine;
  const rows: Array<[string, unknown]> = [
    ['CPU', m.cpu_model],
    ['cores', m.cores],
    ['NUMA nodes', m.numa_nodes],
    ['L3 groups', m.l3_groups],
    ['node', m.node_version],
    ['kernel', m.kernel],
    ['arch', m.arch],
    ['started', r.started],
    ['runs', r.runs],
  ];
  const dl = rows.map(([k, v]) => `<dt>${escapeXml(k)}</dt><dd>${escapeXml(formatCell(v))}</dd>`).join('');
  return `<header><h1>mdfan benchmark report</h1><dl class="machine">${dl}</dl></header>`;
}

// Small and plain: the report is read, printed and diffed, not browsed.
const CSS = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px auto; max-width: 1000px; color: #222; padding: 0 16px; }
h1 { font-size: 22px; } h2 { font-size: 18px; margin-top: 32px; border-bottom: 1px solid #ccc; } h3 { font-size: 14px; margin: 8px 0 4px; }
dl { display: grid; grid-template-columns: max-content auto; gap: 2px 16px; margin: 0; }
dt { color: #666; } dd { margin: 0; font-variant-numeric: tabular-nums; }
.note { color: #444; font-style: italic; }
figure { margin: 12px 0; } figcaption { color: #666; font-size: 12px; }
table { border-collapse: collapse; margin: 12px 0; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #ddd; padding: 3px 8px; } th { background: #f4f4f4; text-align: left; }
td.num { text-align: right; }
`;

/** The whole report as one HTML document. */
export function renderHtml(report: FullReport): string {
  // The CSP makes "no external resources" a property the browser enforces, not just a habit:
  // nothing can be fetched and no script runs, even one smuggled in through a label.
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>mdfan benchmark report ${escapeXml(report.started)}</title>
<style>${CSS}</style>
</head>
<body>
${header(report)}
${report.sections.map(section).join('\n')}
</body>
</html>
`;
}
