import { ApiError, type Api } from './api.ts';
import type { Role } from './config.ts';
import {
  duration,
  escapeHtml,
  levelBadge,
  LEVEL_COLOURS,
  money,
  move,
  ratio,
  stateBadges,
  when,
} from './format.ts';
import type { Live, LiveMessage } from './live.ts';
import { RatioChart, type RatioPoint, type Thresholds } from './ratio-chart.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const STRATEGIES = ['proportional', 'risk-based', 'liquidity-aware', 'time-based'];
const PRIORITIES = ['risk', 'size', 'liquidity', 'time'];

const notice = (kind: 'error' | 'ok' | 'info', text: string) =>
  `<p class="notice ${kind}">${escapeHtml(text)}</p>`;

/** One account: its ratio over its bands, positions, protection controls, analytics and audit trail. */
export async function renderAccount(
  root: HTMLElement,
  api: Api,
  live: Live,
  id: string,
  role: Role,
): Promise<() => void> {
  const path = `/accounts/${encodeURIComponent(id)}`;
  root.innerHTML = `
    <p><a href="#/">← all accounts</a></p>
    <h1>${escapeHtml(id)} <span id="level"></span></h1>
    <div class="cards" id="figures"></div>
    <div class="grid2">
      <div class="panel"><h2>Margin ratio history</h2><div class="chart-box"><canvas id="ratio-chart"></canvas></div><p class="muted" id="chart-note"></p></div>
      <div class="panel" id="protection"><h2>Protection</h2><div id="protection-body"></div></div>
    </div>
    <div class="panel"><h2>Positions</h2><div id="positions"></div></div>
    <div class="panel"><h2>Analytics</h2><div id="analytics"></div></div>
    <div class="panel"><h2>Audit trail</h2><table id="audit"><thead><tr><th>When</th><th>Action</th><th>By</th><th>Incident</th><th>Details</th></tr></thead><tbody></tbody></table></div>`;

  const [risk, thresholds] = await Promise.all([
    api.get<Json>(`${path}/risk`).catch((e: ApiError) => (e.status === 404 ? null : Promise.reject(e))),
    api.get<Json>(`${path}/thresholds`),
  ]);
  if (!risk) {
    root.querySelector('#figures')!.innerHTML = notice('info', 'Not evaluated yet.');
    return () => {};
  }
  let current = risk;
  const effective = thresholds.effective as Thresholds & { hysteresis: string };

  const drawFigures = (r: Json, margin?: Json) => {
    root.querySelector('#level')!.innerHTML = `${levelBadge(r.level)}${stateBadges(r)}`;
    const cards: [string, string][] = [
      ['Margin ratio', ratio(r.marginRatio)],
      ['Equity', money(r.equity)],
      ['Maintenance', money(r.maintenanceRequirement)],
      ...(margin
        ? ([
            ['Excess liquidity', money(margin.excessLiquidity)],
            ['Gross exposure', money(margin.grossExposure)],
            ['Leverage', margin.leverage === null ? '—' : money(margin.leverage, 2)],
          ] as [string, string][])
        : []),
      ['Call at', r.inMarginCall ? 'in call' : move(r.distanceToCall?.call?.move ?? r.callMove)],
      ['Zero equity at', move(r.distanceToCall?.zeroEquity?.move ?? r.zeroEquityMove)],
      // The staged trading restriction (none, withdrawals-gated, no-new-risk, close-only): docs/risk.md.
      ['Trading', String(r.restriction ?? 'none')],
      ['Evaluated', when(r.evaluatedAt)],
    ];
    root.querySelector('#figures')!.innerHTML = cards
      .map(
        ([l, v]) =>
          `<div class="card"><div class="label">${escapeHtml(l)}</div><div class="value" data-figure="${escapeHtml(l)}">${escapeHtml(v)}</div></div>`,
      )
      .join('');
  };

  const history: RatioPoint[] = [];
  const loadHistory = async () => {
    const page = await api.get<{ items: RatioPoint[] }>(`${path}/history`, { limit: '500' });
    history.splice(0, history.length, ...page.items.reverse());
  };
  const [margin] = await Promise.all([api.get<Json>(`${path}/margin`).catch(() => undefined), loadHistory()]);
  drawFigures(current, margin);
  const canvas = root.querySelector<HTMLCanvasElement>('#ratio-chart')!;
  const chart = new RatioChart(canvas, effective, history);
  const chartNote = () => {
    canvas.dataset.points = String(chart.pointCount());
    root.querySelector('#chart-note')!.textContent =
      `${history.length} recorded evaluations (written on change and heartbeat). Bands: SAFE above ${effective.warning}, WARNING above ${effective.critical}, CRITICAL above ${effective.liquidation}, LIQUIDATION below; hysteresis ${effective.hysteresis}.`;
  };
  chartNote();

  const drawPositions = (m: Json | undefined) => {
    const positions = (m?.positions ?? []) as Json[];
    const tiered = positions.some((p) => 'liquidationPrice' in p);
    root.querySelector('#positions')!.innerHTML = positions.length
      ? `<table><thead><tr><th>Instrument</th><th class="num">Quantity</th><th class="num">Price</th><th class="num">Market value</th><th class="num">Maintenance</th>
          <th class="num">${tiered ? 'Liquidation price' : 'Call price'}</th><th class="num">${tiered ? 'Bankruptcy price' : 'Zero-equity price'}</th></tr></thead><tbody>
          ${positions
            .map(
              (
                p,
              ) => `<tr><td>${escapeHtml(p.instrument)}</td><td class="num">${escapeHtml(p.quantity)}</td><td class="num">${money(p.price, 4)}</td>
              <td class="num">${money(p.marketValue)}</td><td class="num">${money(p.maintenanceRequirement)}</td>
              <td class="num">${p.liquidationPrice !== undefined ? money(p.liquidationPrice, 4) : p.callPrice === null || p.callPrice === undefined ? 'unreachable' : money(p.callPrice, 4)}</td>
              <td class="num">${p.bankruptcyPrice !== undefined ? money(p.bankruptcyPrice, 4) : p.zeroEquityPrice === null || p.zeroEquityPrice === undefined ? 'unreachable' : money(p.zeroEquityPrice, 4)}</td></tr>`,
            )
            .join('')}</tbody></table>
          <p class="muted">As of the last written evaluation (${when(m?.asOf ?? current.evaluatedAt)}): evaluations are stored on a change and a heartbeat; in between, the guard bands prove the level and margin call cannot have changed. Call and zero-equity prices: where this instrument alone must move, others unchanged.</p>`
      : '<p class="muted">No positions.</p>';
  };
  drawPositions(margin);

  const loadAudit = async () => {
    const { items } = await api.get<{ items: Json[] }>(`${path}/actions`);
    root.querySelector('#audit tbody')!.innerHTML =
      items
        .map(
          (
            a,
          ) => `<tr data-action="${escapeHtml(a.action)}"><td>${when(a.at)}</td><td>${escapeHtml(a.action)}</td><td>${escapeHtml(a.actor)}</td>
          <td>${escapeHtml((a.incidentId ?? '').slice(0, 16))}</td><td class="muted">${escapeHtml(summarise(a.details))}</td></tr>`,
        )
        .join('') || '<tr><td colspan="5" class="muted">Nothing yet.</td></tr>';
  };

  const loadAnalytics = async () => {
    const a = await api.get<Json>(`${path}/analytics`);
    const total = Object.values(a.timeInLevelMs as Record<string, number>).reduce((s, v) => s + v, 0) || 1;
    root.querySelector('#analytics')!.innerHTML = `
      <div class="bar" title="time per level">${Object.entries(a.timeInLevelMs as Record<string, number>)
        .filter(([, ms]) => ms > 0)
        .map(
          ([level, ms]) =>
            `<div style="width:${(100 * ms) / total}%;background:${LEVEL_COLOURS[level]}" title="${level}: ${duration(ms)}"></div>`,
        )
        .join('')}</div>
      <p class="muted">${
        Object.entries(a.timeInLevelMs as Record<string, number>)
          .filter(([, ms]) => ms > 0)
          .map(([level, ms]) => `${level} ${duration(ms)}`)
          .join(' · ') || 'no history yet'
      }</p>
      <p>Incidents: ${a.incidents.total} · resolved without liquidation ${a.incidents.resolvedWithoutLiquidation} · liquidated ${a.incidents.liquidated} · open ${a.incidents.open}</p>
      <p>Actions: ${
        Object.entries(a.actions as Record<string, number>)
          .map(([k, v]) => `${escapeHtml(k)} ${v}`)
          .join(', ') || 'none'
      }</p>
      ${
        (a.protection as Json[]).length
          ? `<table id="effectiveness"><thead><tr><th>When</th><th>Action</th><th class="num">Ratio before</th><th class="num">Ratio after</th><th class="num">Change</th></tr></thead><tbody>${(
              a.protection as Json[]
            )
              .map(
                (p) =>
                  `<tr><td>${when(p.at)}</td><td>${escapeHtml(p.action)}</td><td class="num">${ratio(p.ratioBefore)}</td><td class="num">${p.ratioAfter === null ? 'pending' : ratio(p.ratioAfter)}</td><td class="num">${p.improvement === null ? '—' : ratio(p.improvement)}</td></tr>`,
              )
              .join('')}</tbody></table>`
          : ''
      }`;
  };

  const protection = root.querySelector('#protection-body')!;
  const drawProtection = () => {
    const operator = role === 'operator';
    const hold = current.hold as Json | null;
    protection.innerHTML = `
      ${operator ? '' : notice('info', 'Signed in as a viewer: read-only.')}
      <h3>Hold</h3>
      ${
        hold
          ? `<p>On hold since ${when(hold.at)} by ${escapeHtml(hold.by)}: “${escapeHtml(hold.reason)}”</p><button id="release-hold" ${operator ? '' : 'disabled'}>Release hold</button>`
          : `<form id="hold-form" class="inline"><label>Reason <input id="hold-reason" name="reason" minlength="3" maxlength="500" required ${operator ? '' : 'disabled'} /></label><button id="place-hold" type="submit" ${operator ? '' : 'disabled'}>Place hold</button></form>`
      }
      <h3>Deleverage or liquidate</h3>
      <form id="order-form" class="inline">
        <label>Kind <select name="kind" ${operator ? '' : 'disabled'}><option value="deleverage">deleverage</option><option value="liquidate">liquidate</option></select></label>
        <label>Target ratio <input name="targetRatio" size="5" placeholder="policy" ${operator ? '' : 'disabled'} /></label>
        <label>Strategy <select name="strategy" ${operator ? '' : 'disabled'}><option value="">policy</option>${STRATEGIES.map((s) => `<option>${s}</option>`).join('')}</select></label>
        <label>Priority <select name="liquidationPriority" ${operator ? '' : 'disabled'}><option value="">policy</option>${PRIORITIES.map((s) => `<option>${s}</option>`).join('')}</select></label>
        <label>Reason <input name="reason" minlength="3" required ${operator ? '' : 'disabled'} /></label>
        <button id="preview-order" type="submit" ${operator ? '' : 'disabled'}>Preview plan</button>
      </form>
      <div id="plan-preview"></div>
      <h3>Thresholds</h3>
      <form id="thresholds-form" class="inline">
        ${(['warning', 'critical', 'liquidation', 'hysteresis'] as const)
          .map(
            (k) =>
              `<label>${k} <input name="${k}" size="5" value="${escapeHtml(effective[k])}" ${operator ? '' : 'disabled'} /></label>`,
          )
          .join('')}
        <button type="submit" ${operator ? '' : 'disabled'}>Save thresholds</button>
      </form>
      <div id="protection-result"></div>`;
    const result = (html: string) => (protection.querySelector('#protection-result')!.innerHTML = html);
    protection.querySelector('#hold-form')?.addEventListener('submit', async (e) => {
      e.preventDefault();
      const reason = (protection.querySelector('#hold-reason') as HTMLInputElement).value;
      try {
        const hold = await api.call<Json>('POST', `${path}/hold`, { body: { reason } });
        current = { ...current, hold };
        drawProtection();
        drawFigures(current, margin);
        result(notice('ok', 'Hold placed: automated deleverage and liquidation pause for this account.'));
        await loadAudit();
      } catch (err) {
        result(notice('error', (err as Error).message));
      }
    });
    protection.querySelector('#release-hold')?.addEventListener('click', async () => {
      try {
        await api.call('DELETE', `${path}/hold`);
        current = { ...current, hold: null };
        drawProtection();
        drawFigures(current, margin);
        result(notice('ok', 'Hold released: automation resumes at its next re-check.'));
        await loadAudit();
      } catch (err) {
        result(notice('error', (err as Error).message));
      }
    });
    protection.querySelector('#order-form')?.addEventListener('submit', async (e) => {
      e.preventDefault();
      const f = new FormData(e.target as HTMLFormElement);
      const kind = String(f.get('kind'));
      const overrides = {
        targetRatio: String(f.get('targetRatio') ?? '') || undefined,
        strategy: String(f.get('strategy') ?? '') || undefined,
        liquidationPriority: String(f.get('liquidationPriority') ?? '') || undefined,
      };
      const box = protection.querySelector('#plan-preview')!;
      /**
       * The plan, and a Confirm that sends exactly it: the request carries the preview's plan id (the same
       * plan confirmed twice is one request on the server) and the button is disabled while it is in
       * flight. A plan the prices have overtaken comes back as plan-stale with a fresh plan to confirm.
       */
      const showPlan = (plan: Json, note = '') => {
        const orders = plan.orders as Json[];
        box.innerHTML = `${note}<div class="plan" data-plan-kind="${escapeHtml(kind)}" data-plan-id="${escapeHtml(plan.planId)}">
          <strong>${kind === 'liquidate' ? 'Liquidation' : 'Deleverage'} plan</strong> — ratio ${ratio(plan.marginRatio)} → projected ${ratio(plan.projectedRatio)} (target ${ratio(plan.targetRatio)})${plan.restoresTarget ? '' : ' <span class="badge call">does not reach the target</span>'}
          <table id="plan-orders"><thead><tr><th>Side</th><th class="num">Quantity</th><th>Instrument</th><th class="num">Est. price</th><th class="num">Est. fees</th></tr></thead><tbody>
          ${orders.map((o) => `<tr><td>${escapeHtml(o.side)}</td><td class="num">${escapeHtml(o.quantity)}</td><td>${escapeHtml(o.instrument)}</td><td class="num">${money(o.estimatedPrice, 4)}</td><td class="num">${money(o.estimatedFees)}</td></tr>`).join('') || '<tr><td colspan="5">No orders needed.</td></tr>'}
          </tbody></table>
          <p><button id="confirm-order" class="${kind === 'liquidate' ? 'danger' : 'primary'}" ${orders.length ? '' : 'disabled'}>Confirm and send ${orders.length} order(s)</button> <button id="cancel-order" type="button">Cancel</button></p></div>`;
        const confirm = box.querySelector<HTMLButtonElement>('#confirm-order')!;
        box.querySelector('#cancel-order')!.addEventListener('click', () => (box.innerHTML = ''));
        confirm.addEventListener('click', async () => {
          if (confirm.disabled) return;
          confirm.disabled = true;
          confirm.textContent = 'Sending…';
          try {
            const sent = await api.call<Json>(
              'POST',
              `${path}/${kind === 'liquidate' ? 'liquidate' : 'deleverage'}`,
              { body: { planId: plan.planId, reason: String(f.get('reason')), ...overrides } },
            );
            box.innerHTML = notice(
              'ok',
              sent.status === 'in-flight'
                ? `This plan is already being sent (plan ${sent.planId}).`
                : `${sent.event.detailType} published: ${(sent.event.detail.orders as Json[]).length} order(s) to the broker.`,
            );
            await loadAudit();
          } catch (err) {
            if (err instanceof ApiError && err.body.error === 'plan-stale' && err.body.plan)
              return showPlan(
                err.body.plan as Json,
                notice(
                  'error',
                  'Prices or positions moved since the preview: nothing was sent. Here is the fresh plan.',
                ),
              );
            box.innerHTML = notice('error', (err as Error).message);
          }
        });
      };
      try {
        // The plan is shown first; nothing is published until the operator confirms it.
        showPlan(await api.get<Json>(`${path}/plan`, { kind, ...overrides }));
      } catch (err) {
        box.innerHTML = notice('error', (err as Error).message);
      }
    });
    protection.querySelector('#thresholds-form')?.addEventListener('submit', async (e) => {
      e.preventDefault();
      const f = new FormData(e.target as HTMLFormElement);
      const body = {
        thresholds: Object.fromEntries(
          ['warning', 'critical', 'liquidation', 'hysteresis'].map((k) => [k, String(f.get(k))]),
        ),
      };
      try {
        await api.call('POST', `${path}/thresholds`, { body });
        result(notice('ok', 'Thresholds saved; they apply from the next evaluation.'));
        await loadAudit();
      } catch (err) {
        result(notice('error', (err as Error).message));
      }
    });
  };
  drawProtection();
  await Promise.all([loadAudit(), loadAnalytics()]);

  live.watch([id]);
  const off = live.on((m: LiveMessage) => {
    if (m.accountId !== id) return;
    if (m.type === 'MarginUpdated') {
      const d = m.detail;
      current = {
        ...current,
        ...d,
        distanceToCall: undefined,
        callMove: d.callMove,
        zeroEquityMove: d.zeroEquityMove,
      };
      drawFigures(current, margin);
      history.push({ at: String(d.evaluatedAt), marginRatio: (d.marginRatio as string | null) ?? null });
      chart.set(history);
      chartNote();
      void api
        .get<Json>(`${path}/margin`)
        .then(drawPositions)
        .catch(() => {});
    } else if (m.type === 'ActionRecorded') {
      void loadAudit();
      void loadAnalytics();
    }
  });
  return () => {
    off();
    chart.destroy();
  };
}

function summarise(details: Json | undefined): string {
  if (!details) return '';
  return Object.entries(details)
    .map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join('; ')
    .slice(0, 200);
}
