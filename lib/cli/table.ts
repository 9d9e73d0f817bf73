/** Plain-text tables for the commands' human output (`mdfan ls`, `mdfan top`): columns padded to their widest cell. */

/** `head` and `rows` as lines, columns two spaces apart; columns in `right` are right-aligned (numbers). */
export function formatTable(head: readonly string[], rows: readonly (readonly string[])[], right: ReadonlySet<number> = new Set()): string[] {
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (r: readonly string[]): string =>
    r
      .map((v, c) => (right.has(c) ? v.padStart(widths[c] ?? 0) : v.padEnd(widths[c] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(head), ...rows.map(line)];
}
