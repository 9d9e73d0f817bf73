/**
 * The latency percentile plot of the HTML report, drawn as inline SVG (no script, no library).
 *
 * It follows HdrHistogram's plotter: the x axis is the percentile on a log scale of 1/(1-p), so
 * 90%, 99%, 99.9%... are evenly spaced and the tail gets as much room as the median; the y axis is
 * the latency, also on a log scale so a 200 ns median and a 2 ms outlier both stay readable.
 */
import type { Curve } from './types.js';

/** Distinct colours (Tableau 10), in legend order. */
export const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

/** The deepest tick drawn: 99.999%. */
const MAX_NINES = 5;
/** Points per curve, evenly spaced in log10(1/(1-p)). */
const SAMPLES = 240;

export interface RefLine {
  /** Latency in ns. */
  value: number;
  label: string;
}

export interface PlotOptions {
  width?: number;
  height?: number;
  /** Dashed horizontal reference lines (e.g. the core-to-core one-way latency). */
  refs?: RefLine[];
}

/** Escapes text for HTML and SVG (element content and quoted attributes alike). */
export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/** Latency as a short label with a readable unit: 250 ns, 1.5 µs, 20 ms, 2 s. */
export function formatNs(ns: number): string {
  const units: Array<[number, string]> = [[1e9, 's'], [1e6, 'ms'], [1e3, 'µs']];
  for (const [scale, unit] of units) if (ns >= scale) return `${trim(ns / scale)} ${unit}`;
  return `${trim(ns)} ns`;
}

const trim = (x: number): string => String(Number(x.toPrecision(3)));

/** The x label of a tick k nines deep: 0 → "0%", 1 → "90%", 3 → "99.9%". */
export function percentileLabel(nines: number): string {
  return nines === 0 ? '0%' : `${(100 - 100 / 10 ** nines).toFixed(Math.max(0, nines - 2))}%`;
}

/**
 * How many nines a histogram's counts resolve: with N samples the percentile 1 - 1/N is the
 * last one that is not just the maximum, so the x axis stops at log10(N) (capped at 99.999%).
 */
export function ninesResolved(totalCount: number): number {
  return totalCount <= 1 ? 0 : Math.min(MAX_NINES, Math.log10(totalCount));
}

/** [x = log10(1/(1-p)), latency ns] pairs, evenly spaced in x up to what the counts resolve. */
export function sampleCurve(h: Curve['histogram'], samples = SAMPLES): Array<[number, number]> {
  if (h.totalCount === 0) return [];
  const xMax = ninesResolved(h.totalCount);
  const points: Array<[number, number]> = [];
  for (let i = 0; i <= samples; i++) {
    const x = (xMax * i) / samples;
    const p = 1 - 10 ** -x;
    points.push([x, h.getValueAtPercentile(p * 100)]);
  }
  return points;
}

/** Log-scale y ticks covering [lo, hi]: 1-2-5 steps over a short range, decades over a long one. */
export function yTicks(lo: number, hi: number): number[] {
  const d0 = Math.floor(Math.log10(lo));
  const d1 = Math.ceil(Math.log10(hi));
  const steps = d1 - d0 <= 3 ? [1, 2, 5] : [1];
  const ticks: number[] = [];
  for (let d = d0; d <= d1; d++) for (const s of steps) ticks.push(s * 10 ** d);
  return ticks.filter((t) => t >= lo * 0.999 && t <= hi * 1.001);
}

/** The y range: whole decades around every value drawn, never zero (log scale). */
function yRange(values: number[]): [number, number] {
  const pos = values.filter((v) => v > 0 && Number.isFinite(v));
  if (pos.length === 0) return [1, 10];
  const lo = 10 ** Math.floor(Math.log10(Math.min(...pos)));
  const hi = 10 ** Math.ceil(Math.log10(Math.max(...pos)));
  return [lo, hi > lo ? hi : lo * 10];
}

const fmt = (x: number): string => x.toFixed(1);

/** The whole plot as one `<svg>` element: axes, grid, one polyline per curve, refs, legend. */
export function percentilePlot(curves: Curve[], opts: PlotOptions = {}): string {
  const width = opts.width ?? 760;
  const height = opts.height ?? 400;
  const m = { left: 70, right: 20, top: 16, bottom: 48 };
  const pw = width - m.left - m.right;
  const ph = height - m.top - m.bottom;

  const series = curves.map((c, i) => ({ label: c.label, colour: PALETTE[i % PALETTE.length], points: sampleCurve(c.histogram) }));
  const refs = (opts.refs ?? []).filter((r) => r.value > 0 && Number.isFinite(r.value));
  const xMax = Math.max(1, ...curves.map((c) => ninesResolved(c.histogram.totalCount)));
  const [lo, hi] = yRange([...series.flatMap((s) => s.points.map((p) => p[1])), ...refs.map((r) => r.value)]);

  const sx = (x: number): number => m.left + (x / xMax) * pw;
  // A value of 0 ns (possible in a histogram) sits on the bottom edge instead of at -infinity.
  const sy = (v: number): number => m.top + ph - ((Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * ph;

  const out: string[] = [];
  out.push(`<svg class="plot" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" font-family="sans-serif" font-size="11">`);
  out.push(`<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="#fff" stroke="#888"/>`);

  for (let k = 0; k <= Math.floor(xMax + 1e-9); k++) {
    const x = fmt(sx(k));
    out.push(`<line class="xtick" x1="${x}" y1="${m.top}" x2="${x}" y2="${m.top + ph}" stroke="#e4e4e4"/>`);
    out.push(`<text x="${x}" y="${m.top + ph + 14}" text-anchor="middle">${escapeXml(percentileLabel(k))}</text>`);
  }
  for (const t of yTicks(lo, hi)) {
    const y = fmt(sy(t));
    out.push(`<line class="ytick" x1="${m.left}" y1="${y}" x2="${m.left + pw}" y2="${y}" stroke="#e4e4e4"/>`);
    out.push(`<text x="${m.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${escapeXml(formatNs(t))}</text>`);
  }
  out.push(`<text x="${m.left + pw / 2}" y="${height - 8}" text-anchor="middle">percentile</text>`);
  out.push(`<text transform="translate(14 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle">latency</text>`);

  for (const r of refs) {
    const y = fmt(sy(r.value));
    out.push(`<line class="ref" x1="${m.left}" y1="${y}" x2="${m.left + pw}" y2="${y}" stroke="#444" stroke-width="1.2" stroke-dasharray="6 4"/>`);
    out.push(`<text class="ref-label" x="${m.left + pw - 4}" y="${Number(y) - 4}" text-anchor="end" fill="#444">${escapeXml(`${r.label} ${formatNs(r.value)}`)}</text>`);
  }

  for (const s of series) {
    if (s.points.length === 0) continue; // an empty histogram has no curve, only its legend entry
    const pts = s.points.map(([x, v]) => `${fmt(sx(x))},${fmt(sy(v))}`).join(' ');
    out.push(`<polyline class="curve" data-label="${escapeXml(s.label)}" fill="none" stroke="${s.colour}" stroke-width="2" points="${pts}"/>`);
  }

  // Legend in the top-left corner, where the curves (rising to the right) leave room.
  series.forEach((s, i) => {
    const y = m.top + 12 + i * 16;
    const empty = s.points.length === 0 ? ' (no samples)' : '';
    out.push(`<rect class="swatch" x="${m.left + 10}" y="${y - 5}" width="16" height="10" fill="${s.colour}"/>`);
    out.push(`<text class="legend" x="${m.left + 32}" y="${y}" dominant-baseline="middle">${escapeXml(s.label + empty)}</text>`);
  });

  out.push('</svg>');
  return out.join('\n');
}
