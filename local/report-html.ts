import { Decimal } from '../shared/decimal.ts';
import type { Thresholds } from '../shared/risk/levels.ts';
import type { SeriesPoint, TimelineEntry } from './local-system.ts';

const escape = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const MARKER_COLOURS: Partial<Record<TimelineEntry['kind'], string>> = {
  alert: '#b58900',
  deleverage: '#cb4b16',
  liquidation: '#dc322f',
  'margin-call': '#6c0000',
  fill: '#268bd2',
};

/** Margin ratio over time on the account's threshold bands, with its actions marked. Plain SVG. */
export function ratioChart(
  accountId: string,
  points: readonly SeriesPoint[],
  t: Thresholds,
  actions: readonly TimelineEntry[],
): string {
  const width = 920;
  const height = 240;
  const pad = { left: 48, right: 16, top: 12, bottom: 28 };
  const top = Decimal.max(new Decimal(3), t.warning.times('1.5'));
  const x = (i: number) =>
    pad.left + (points.length <= 1 ? 0 : (i / (points.length - 1)) * (width - pad.left - pad.right));
  const y = (ratio: Decimal) => {
    const clamped = Decimal.min(top, Decimal.max(0, ratio));
    return pad.top + (1 - clamped.dividedBy(top).toNumber()) * (height - pad.top - pad.bottom); // a pixel position, not money
  };
  const band = (from: Decimal, to: Decimal, colour: string, label: string) =>
    `<rect x="${pad.left}" y="${y(to).toFixed(1)}" width="${width - pad.left - pad.right}" height="${(y(from) - y(to)).toFixed(1)}" fill="${colour}"><title>${label}</title></rect>`;
  const bands = [
    band(t.warning, top, '#e6f4ea', `SAFE above ${t.warning.toFixed()}`),
    band(t.critical, t.warning, '#fff4ce', `WARNING ${t.critical.toFixed()}–${t.warning.toFixed()}`),
    band(t.liquidation, t.critical, '#ffe0c2', `CRITICAL ${t.liquidation.toFixed()}–${t.critical.toFixed()}`),
    band(new Decimal(0), t.liquidation, '#fde0e0', `LIQUIDATION below ${t.liquidation.toFixed()}`),
  ].join('');
  const line = points
    .map((p, i) => `${x(i).toFixed(1)},${(p.ratio === null ? y(top) : y(new Decimal(p.ratio))).toFixed(1)}`)
    .join(' ');
  const index = new Map(points.map((p, i) => [p.date, i]));
  const perDay = new Map<string, number>();
  const markers = actions
    .filter((a) => a.accountId === accountId && MARKER_COLOURS[a.kind] && index.has(a.date))
    .map((a) => {
      const i = index.get(a.date)!;
      const p = points[i]!;
      // Several actions on one day stack upwards instead of hiding each other.
      const nth = perDay.get(a.date) ?? 0;
      perDay.set(a.date, nth + 1);
      const cy = Math.max(pad.top, (p.ratio === null ? y(top) : y(new Decimal(p.ratio))) - nth * 11);
      return `<circle cx="${x(i).toFixed(1)}" cy="${cy.toFixed(1)}" r="5" fill="${MARKER_COLOURS[a.kind]}" stroke="#fff"><title>${escape(`${a.date}: ${a.text}`)}</title></circle>`;
    })
    .join('');
  const ticks = [0, 1, 2, 3]
    .map((k) => top.times(k).dividedBy(3))
    .map(
      (v) =>
        `<text x="${pad.left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" font-size="11">${v.toDecimalPlaces(1).toFixed()}</text>`,
    )
    .join('');
  const dates = [0, Math.floor((points.length - 1) / 2), points.length - 1]
    .filter((i, k, all) => points[i] && all.indexOf(i) === k)
    .map(
      (i) =>
        `<text x="${x(i).toFixed(1)}" y="${height - 8}" text-anchor="${i === 0 ? 'start' : i === points.length - 1 ? 'end' : 'middle'}" font-size="11">${points[i]!.date}</text>`,
    )
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" role="img" aria-label="margin ratio of ${escape(accountId)}">${bands}<polyline fill="none" stroke="#073642" stroke-width="2" points="${line}"/>${markers}${ticks}${dates}</svg>`;
}

export function renderReport(input: {
  title: string;
  description?: string;
  series: Record<string, SeriesPoint[]>;
  thresholds: Record<string, Thresholds>;
  timeline: readonly TimelineEntry[];
  eventCounts: Record<string, number>;
}): string {
  const accounts = Object.keys(input.series);
  const sections = accounts
    .map((id) => {
      const points = input.series[id]!;
      const ratios = points.filter((p) => p.ratio !== null).map((p) => new Decimal(p.ratio!));
      const worst = ratios.length
        ? Decimal.min(...ratios)
            .toDecimalPlaces(3)
            .toFixed()
        : '—';
      const last = points[points.length - 1];
      return `<section><h2>${escape(id)}</h2><p>worst ratio ${worst} · final level ${last?.level ?? '—'} · final equity ${last?.equity ? new Decimal(last.equity).toDecimalPlaces(2).toFixed() : '—'}</p>${ratioChart(id, points, input.thresholds[id]!, input.timeline)}</section>`;
    })
    .join('\n');
  const rows = input.timeline
    .map(
      (e) =>
        `<tr class="${e.kind}"><td>${e.date}</td><td>${escape(e.accountId)}</td><td>${e.kind}</td><td>${escape(e.text)}</td></tr>`,
    )
    .join('\n');
  const counts = Object.entries(input.eventCounts)
    .map(([k, v]) => `${escape(k)}: ${v}`)
    .join(' · ');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(input.title)}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#073642;max-width:980px}
h1{font-size:22px}h2{font-size:17px;margin:24px 0 4px}
table{border-collapse:collapse;width:100%;font-size:13px}td{border-bottom:1px solid #eee;padding:3px 6px;vertical-align:top}
tr.liquidation td,tr.margin-call td{color:#b00}tr.deleverage td{color:#a04000}tr.page td{font-weight:600}
.legend span{display:inline-block;padding:1px 8px;margin-right:6px}
</style></head><body>
<h1>${escape(input.title)}</h1>
${input.description ? `<p>${escape(input.description)}</p>` : ''}
<p class="legend"><span style="background:#e6f4ea">SAFE</span><span style="background:#fff4ce">WARNING</span><span style="background:#ffe0c2">CRITICAL</span><span style="background:#fde0e0">LIQUIDATION</span>
<b style="color:#b58900">●</b> alert <b style="color:#cb4b16">●</b> deleverage <b style="color:#dc322f">●</b> liquidation <b style="color:#6c0000">●</b> margin call <b style="color:#268bd2">●</b> fill (hover for details; a flat account has no requirement and is drawn at the top)</p>
<p>Events: ${counts || 'none'}</p>
${sections}
<h2>Timeline</h2>
<table><tbody>
${rows}
</tbody></table>
</body></html>
`;
}
