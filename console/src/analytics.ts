import type { Api } from './api.ts';
import { duration, escapeHtml, LEVEL_COLOURS, ratio } from './format.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * Desk analytics: the level mix and the last 24 h of actions (from the summary), and protection
 * effectiveness over the riskiest accounts (their ratio before and after each deleverage, and how their
 * incidents ended).
 */
export async function renderAnalytics(root: HTMLElement, api: Api): Promise<() => void> {
  root.innerHTML =
    '<h1>Analytics</h1><div id="mix" class="panel"></div><div id="effect" class="panel"></div>';
  const summary = await api.get<Json>('/summary').catch(() => null);
  const mix = root.querySelector('#mix')!;
  if (summary) {
    const total = summary.accounts || 1;
    mix.innerHTML = `<h2>Accounts by level</h2>
      <div class="bar">${Object.entries(summary.byLevel as Record<string, number>)
        .filter(([, n]) => n > 0)
        .map(
          ([l, n]) =>
            `<div style="width:${(100 * n) / total}%;background:${LEVEL_COLOURS[l]}" title="${l}: ${n}"></div>`,
        )
        .join('')}</div>
      <p>${Object.entries(summary.byLevel as Record<string, number>)
        .map(([l, n]) => `${l} ${n}`)
        .join(' · ')}</p>
      <h2>Actions in the last 24 h (${summary.actionsLast24h.total})</h2>
      <table><tbody>${
        Object.entries(summary.actionsLast24h.byAction as Record<string, number>)
          .sort((a, b) => b[1] - a[1])
          .map(([a, n]) => `<tr><td>${escapeHtml(a)}</td><td class="num">${n}</td></tr>`)
          .join('') || '<tr><td class="muted">none</td></tr>'
      }</tbody></table>`;
  } else mix.innerHTML = '<p class="muted">No summary yet.</p>';

  const { items } = await api.get<{ items: Json[] }>('/accounts', { limit: '20' });
  const all = await Promise.all(
    items.map((a) => api.get<Json>(`/accounts/${encodeURIComponent(a.accountId)}/analytics`)),
  );
  const time: Record<string, number> = {};
  let resolved = 0;
  let liquidated = 0;
  let open = 0;
  const rows: Json[] = [];
  for (const a of all) {
    for (const [l, ms] of Object.entries(a.timeInLevelMs as Record<string, number>))
      time[l] = (time[l] ?? 0) + ms;
    resolved += a.incidents.resolvedWithoutLiquidation;
    liquidated += a.incidents.liquidated;
    open += a.incidents.open;
    rows.push(...(a.protection as Json[]).map((p) => ({ ...p, accountId: a.accountId })));
  }
  root.querySelector('#effect')!.innerHTML =
    `<h2>Protection effectiveness (the ${items.length} riskiest accounts)</h2>
    <p>Incidents resolved without liquidation: <strong>${resolved}</strong> · liquidated: <strong>${liquidated}</strong> · open: <strong>${open}</strong></p>
    <p class="muted">Time spent per level: ${
      Object.entries(time)
        .filter(([, ms]) => ms > 0)
        .map(([l, ms]) => `${l} ${duration(ms)}`)
        .join(' · ') || 'no history'
    }</p>
    <table><thead><tr><th>Account</th><th>When</th><th>Action</th><th class="num">Ratio before</th><th class="num">Ratio after</th></tr></thead><tbody>
    ${
      rows
        .sort((a, b) => (a.at < b.at ? 1 : -1))
        .map(
          (p) =>
            `<tr><td><a href="#/accounts/${encodeURIComponent(p.accountId)}">${escapeHtml(p.accountId)}</a></td><td>${escapeHtml(p.at)}</td><td>${escapeHtml(p.action)}</td><td class="num">${ratio(p.ratioBefore)}</td><td class="num">${p.ratioAfter === null ? 'pending' : ratio(p.ratioAfter)}</td></tr>`,
        )
        .join('') || '<tr><td colspan="5" class="muted">No deleverage or liquidation yet.</td></tr>'
    }</tbody></table>`;
  return () => {};
}
