/** Plain-text tables for terminals: right-aligned numbers, left-aligned text. */
export function renderTable(headers: string[], rows: (string | null)[][]): string {
  const cells = rows.map((r) => r.map((c) => c ?? '—'));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const numeric = headers.map((_, i) => cells.every((r) => /^[-+]?[\d.,%]+$|^—$/.test(r[i] ?? '')));
  const line = (r: string[]) =>
    r
      .map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}

export function renderPairs(pairs: [string, string | null][]): string {
  const width = Math.max(...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${k.padEnd(width)}  ${v ?? '—'}`).join('\n');
}
