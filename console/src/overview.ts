import type { Api } from './api.ts';
import { escapeHtml, levelBadge, LEVEL_COLOURS, money, move, ratio, stateBadges, when } from './format.ts';
import type { Live, LiveMessage } from './live.ts';

export interface AccountRow {
  accountId: string;
  level: string | null;
  marginRatio: string | null;
  equity: string | null;
  maintenanceRequirement: string | null;
  inMarginCall: boolean;
  callMove: string | null;
  zeroEquityMove: string | null;
  grossExposure: string | null;
  incidentId: string | null;
  hold: { reason: string; by: string } | null;
  dataProblem: { kind: string } | null;
  evaluatedAt: string;
}

const LEVELS = ['LIQUIDATION', 'CRITICAL', 'WARNING', 'SAFE', 'UNRATED'];

/** Distance-to-call buckets for the heatmap (|move| as a fraction). */
const BUCKETS: { label: string; max: number; colour: string }[] = [
  { label: 'in call', max: 0, colour: '#7f1d1d' },
  { label: '< 5 %', max: 0.05, colour: '#c62828' },
  { label: '< 10 %', max: 0.1, colour: '#d1550b' },
  { label: '< 20 %', max: 0.2, colour: '#b58100' },
  { label: '< 50 %', max: 0.5, colour: '#5a8f29' },
  { label: '≥ 50 %', max: Infinity, colour: '#1a7f37' },
];

const UNREACHABLE = { label: 'unreachable', max: Infinity, colour: '#57606a' };
const HEATMAP_ORDER = [...BUCKETS, UNREACHABLE];

function bucketOf(row: AccountRow) {
  if (row.inMarginCall) return BUCKETS[0]!;
  if (row.callMove === null) return UNREACHABLE;
  // Display only: the bucket of a distance, never money.
  const distance = Math.abs(Number(row.callMove));
  return BUCKETS.find((b) => distance < b.max) ?? BUCKETS.at(-1)!;
}

function rowHtml(r: AccountRow): string {
  return `<tr class="account-row" data-account="${escapeHtml(r.accountId)}">
    <td><a href="#/accounts/${encodeURIComponent(r.accountId)}">${escapeHtml(r.accountId)}</a></td>
    <td data-cell="level">${levelBadge(r.level)}${stateBadges(r)}</td>
    <td class="num" data-cell="ratio">${ratio(r.marginRatio)}</td>
    <td class="num" data-cell="equity">${money(r.equity)}</td>
    <td class="num" data-cell="maintenance">${money(r.maintenanceRequirement)}</td>
    <td class="num" data-cell="call">${r.inMarginCall ? 'in call' : move(r.callMove)}</td>
    <td class="num" data-cell="zero">${move(r.zeroEquityMove)}</td>
    <td>${r.incidentId ? escapeHtml(r.incidentId.slice(0, 12)) : ''}</td>
    <td class="muted" data-cell="at">${when(r.evaluatedAt)}</td>
  </tr>`;
}

/** Every account, worst first, with a heatmap of distance to the call; rows move live. */
export async function renderOverview(root: HTMLElement, api: Api, live: Live): Promise<() => void> {
  const state = {
    levels: [] as string[],
    sort: 'ratio',
    order: 'asc',
    rows: [] as AccountRow[],
    next: null as string | null,
  };
  root.innerHTML = `
    <h1>Risk overview</h1>
    <div class="cards" id="summary"></div>
    <div class="panel">
      <div class="filters">
        <strong>Level</strong>
        ${LEVELS.map((l) => `<label><input type="checkbox" name="level" value="${l}" /> ${l}</label>`).join('')}
        <label>Sort <select id="sort"><option value="ratio">margin ratio</option><option value="distance">distance to call</option></select></label>
        <label>Order <select id="order"><option value="asc">riskiest first</option><option value="desc">safest first</option></select></label>
      </div>
      <table id="accounts">
        <thead><tr><th>Account</th><th>Level</th><th class="num">Ratio</th><th class="num">Equity</th><th class="num">Maintenance</th>
        <th class="num">Call at</th><th class="num">Zero equity at</th><th>Incident</th><th>Evaluated</th></tr></thead>
        <tbody></tbody>
      </table>
      <p><button id="more" hidden>Load more</button> <span id="count" class="muted"></span></p>
    </div>
    <div class="panel">
      <h2>Distance to margin call</h2>
      <div class="heatmap" id="heatmap"></div>
      <div class="legend">${BUCKETS.map((b) => `<span style="--c:${b.colour}">${b.label}</span>`).join('')}<span style="--c:#57606a">unreachable</span></div>
    </div>`;
  const tbody = root.querySelector('#accounts tbody')!;
  const draw = () => {
    tbody.innerHTML = state.rows.map(rowHtml).join('');
    root.querySelector<HTMLButtonElement>('#more')!.hidden = state.next === null;
    root.querySelector('#count')!.textContent =
      `${state.rows.length} account(s)${state.next ? ' shown' : ''}`;
    root.querySelector('#heatmap')!.innerHTML = [...state.rows]
      .sort((a, b) => HEATMAP_ORDER.indexOf(bucketOf(a)) - HEATMAP_ORDER.indexOf(bucketOf(b)))
      .map((r) => {
        const b = bucketOf(r);
        return `<a class="tile" style="background:${b.colour}" href="#/accounts/${encodeURIComponent(r.accountId)}" data-tile="${escapeHtml(r.accountId)}" title="${escapeHtml(r.accountId)}: ${escapeHtml(b.label)}">
          <span class="id">${escapeHtml(r.accountId)}</span>${r.inMarginCall ? 'in call' : move(r.callMove)}</a>`;
      })
      .join('');
  };
  const load = async (append: boolean) => {
    const page = await api.get<{ items: AccountRow[]; next: string | null }>('/accounts', {
      level: state.levels.join(',') || undefined,
      sort: state.sort,
      order: state.order,
      limit: '200',
      next: append ? (state.next ?? undefined) : undefined,
    });
    state.rows = append ? [...state.rows, ...page.items] : page.items;
    state.next = page.next;
    live.watch(state.rows.map((r) => r.accountId));
    draw();
  };
  const loadSummary = async () => {
    const el = root.querySelector('#summary')!;
    try {
      const s = await api.get<{
        asOf: string;
        accounts: number;
        byLevel: Record<string, number>;
        totalEquity: string;
        totalGrossExposure: string;
        openIncidents: number;
        inMarginCall: number;
        actionsLast24h: { total: number };
      }>('/summary');
      el.innerHTML =
        [
          ['Accounts', String(s.accounts)],
          ...LEVELS.filter((l) => l !== 'UNRATED' || s.byLevel[l]).map((l) => [
            l,
            String(s.byLevel[l] ?? 0),
            l,
          ]),
          ['In margin call', String(s.inMarginCall)],
          ['Open incidents', String(s.openIncidents)],
          ['Total equity', money(s.totalEquity, 0)],
          ['Gross exposure', money(s.totalGrossExposure, 0)],
          ['Actions (24 h)', String(s.actionsLast24h.total)],
        ]
          .map(
            ([label, value, level]) =>
              `<div class="card" ${level ? `data-level="${level}" style="border-top:4px solid ${LEVEL_COLOURS[level]}"` : ''}><div class="label">${escapeHtml(label)}</div><div class="value">${escapeHtml(value)}</div></div>`,
          )
          .join('') +
        `<div class="card"><div class="label">Summary as of</div><div class="value" style="font-size:0.9rem">${when(s.asOf)}</div></div>`;
    } catch {
      el.innerHTML = '<p class="muted">No summary yet (the summary job has not run).</p>';
    }
  };
  root.querySelectorAll<HTMLInputElement>('input[name=level]').forEach((box) =>
    box.addEventListener('change', () => {
      state.levels = [...root.querySelectorAll<HTMLInputElement>('input[name=level]:checked')].map(
        (b) => b.value,
      );
      void load(false);
    }),
  );
  root.querySelector('#sort')!.addEventListener('change', (e) => {
    state.sort = (e.target as HTMLSelectElement).value;
    void load(false);
  });
  root.querySelector('#order')!.addEventListener('change', (e) => {
    state.order = (e.target as HTMLSelectElement).value;
    void load(false);
  });
  root.querySelector('#more')!.addEventListener('click', () => void load(true));
  tbody.addEventListener('click', (e) => {
    const tr = (e.target as HTMLElement).closest('tr');
    if (tr?.dataset.account && !(e.target as HTMLElement).closest('a'))
      location.hash = `#/accounts/${encodeURIComponent(tr.dataset.account)}`;
  });

  let summaryTimer: ReturnType<typeof setTimeout> | undefined;
  const onLive = (m: LiveMessage) => {
    const row = state.rows.find((r) => r.accountId === m.accountId);
    if (m.type === 'MarginUpdated' && row) {
      const d = m.detail as Record<string, string | boolean | null>;
      Object.assign(row, {
        level: d.level,
        marginRatio: d.marginRatio,
        equity: d.equity,
        maintenanceRequirement: d.maintenanceRequirement,
        inMarginCall: d.inMarginCall,
        callMove: d.callMove,
        zeroEquityMove: d.zeroEquityMove,
        evaluatedAt: d.evaluatedAt,
      });
      draw();
      tbody.querySelector(`tr[data-account="${CSS.escape(row.accountId)}"]`)?.classList.add('flash');
    } else if (m.type === 'MarginUpdated' || m.type === 'ActionRecorded') {
      if (!row && m.type === 'MarginUpdated') void load(false);
      else if (m.type === 'ActionRecorded' && ['hold', 'hold-released'].includes(String(m.detail.action)))
        void load(false);
    }
    if (m.channel === 'risk-status' || m.type === 'MarginUpdated') {
      clearTimeout(summaryTimer);
      summaryTimer = setTimeout(() => void loadSummary(), 1500);
    }
  };
  const off = live.on(onLive);
  await Promise.all([load(false), loadSummary()]);
  // Live messages cover the accounts on screen; a periodic reload brings in any other that got worse.
  const refresh = setInterval(() => void Promise.all([load(false), loadSummary()]), 30_000);
  return () => {
    off();
    clearTimeout(summaryTimer);
    clearInterval(refresh);
  };
}
