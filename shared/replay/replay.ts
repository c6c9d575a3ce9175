import type { Decimal } from '../decimal.ts';
import { applyFills } from '../deleverage/execution.ts';
import { planDeleverage, plannedFills, type Plan } from '../deleverage/planner.ts';
import { buildBook, evaluateBook, type ValidatedInput } from '../margin/evaluate.ts';
import type { Evaluation } from '../margin/evaluation.ts';
import type { ModelName } from '../schemas/account.ts';
import { thresholdsFor } from '../risk/account-thresholds.ts';
import { severity, type RiskLevel } from '../risk/levels.ts';
import { maxDrawdown, type Drawdown } from '../risk/metrics.ts';
import {
  averageRatioInCall,
  initialRiskState,
  track,
  type MarginCallStats,
  type RiskEvent,
  type RiskState,
} from '../risk/tracker.ts';
import { defaultTarget, type EscalationPolicy } from './policy.ts';
import type { PriceBar } from './prices-csv.ts';

export type ActionKind = 'alert' | 'deleverage' | 'liquidation';

export interface Action {
  kind: ActionKind;
  incidentId: string;
  level: RiskLevel;
  plan?: Plan;
}

export interface TimelineEntry {
  date: string;
  prices: Record<string, Decimal>;
  /** Figures after any action taken on this bar. */
  equity: Decimal;
  marginRatio: Decimal | null;
  level: RiskLevel;
  inMarginCall: boolean;
  events: RiskEvent[];
  actions: Action[];
}

export interface MarginCallRecord {
  incidentId: string;
  triggeredOn: string;
  pricesAtTrigger: Record<string, Decimal>;
  ratioAtTrigger: Decimal | null;
  resolvedOn: string | null;
  worstRatio: Decimal | null;
}

export interface ReplayResult {
  accountId: string;
  model: ModelName;
  policy: EscalationPolicy['mode'];
  start: Evaluation;
  timeline: TimelineEntry[];
  marginCalls: MarginCallRecord[];
  stats: MarginCallStats & { averageRatioInCall: Decimal | null };
  /** First date equity was zero or below (before any action that day), or null. */
  zeroEquityOn: string | null;
  actions: Record<ActionKind, number>;
  end: { equity: Decimal; marginRatio: Decimal | null; level: RiskLevel; pnl: Decimal };
  drawdown: Drawdown;
}

function withPrices(input: ValidatedInput, closes: Map<string, Decimal>): ValidatedInput {
  return {
    ...input,
    positions: input.positions.map((p) =>
      closes.has(p.instrument) ? { ...p, price: closes.get(p.instrument)! } : p,
    ),
  };
}

/**
 * Replays a price path bar by bar: evaluate at the close, track levels and margin calls, and (in `full`
 * mode) run the escalation once per incident — alert on WARNING, deleverage at the bar's price on
 * CRITICAL, liquidate on LIQUIDATION — re-evaluating after every action.
 */
export function replay(
  input: ValidatedInput,
  bars: readonly PriceBar[],
  policy: EscalationPolicy,
  model?: ModelName,
): ReplayResult {
  const built = buildBook(input, { model });
  const evaluate = (w: ValidatedInput, positionPrices = false) =>
    evaluateBook(
      built.model,
      { ...built.book, account: w.account, positions: w.positions },
      { positionPrices },
    );
  const start = evaluate(input, true);

  let working = input;
  let state: RiskState = initialRiskState(input.account.id);
  const stepsDone = new Map<string, Set<ActionKind>>();
  const timeline: TimelineEntry[] = [];
  const marginCalls: MarginCallRecord[] = [];
  let zeroEquityOn: string | null = null;

  const observe = (e: Evaluation, at: string, prices: Record<string, Decimal>) => {
    const out = track(
      state,
      { at, ratio: e.marginRatio, equity: e.equity, inMarginCall: e.inMarginCall, callRatio: e.callRatio },
      thresholdsFor(input.account, e.equity),
    );
    state = out.state;
    for (const event of out.events) {
      if (event.type === 'MarginCallTriggered') {
        marginCalls.push({
          incidentId: event.incidentId,
          triggeredOn: at.slice(0, 10),
          pricesAtTrigger: prices,
          ratioAtTrigger: event.ratio,
          resolvedOn: null,
          worstRatio: event.ratio,
        });
      } else if (event.type === 'MarginCallResolved') {
        const record = marginCalls.find((m) => m.incidentId === event.incidentId)!;
        record.resolvedOn = at.slice(0, 10);
        record.worstRatio = event.worstRatio;
      }
    }
    return out.events;
  };

  for (const bar of bars) {
    working = withPrices(working, bar.closes);
    const prices = Object.fromEntries(working.positions.map((p) => [p.instrument, p.price]));
    let e = evaluate(working);
    if (zeroEquityOn === null && !e.equity.isPositive()) zeroEquityOn = bar.date;
    const events = observe(e, `${bar.date}T00:00:00.000Z`, prices);
    const actions: Action[] = [];
    const incident = state.incident;
    const level = state.level!;
    if (incident) {
      const done = stepsDone.get(incident.id) ?? new Set<ActionKind>();
      stepsDone.set(incident.id, done);
      if (severity(level) >= severity('WARNING') && !done.has('alert')) {
        done.add('alert');
        actions.push({ kind: 'alert', incidentId: incident.id, level });
      }
      const trade: ActionKind | null =
        policy.mode !== 'full'
          ? null
          : level === 'LIQUIDATION' && !done.has('liquidation')
            ? 'liquidation'
            : level === 'CRITICAL' && !done.has('deleverage') && !done.has('liquidation')
              ? 'deleverage'
              : null;
      if (trade && working.positions.length > 0) {
        done.add(trade);
        const t = thresholdsFor(input.account, e.equity);
        const plan = planDeleverage({
          input: working,
          options: { model },
          targetRatio: defaultTarget(policy, t.warning, t.hysteresis),
          strategy: policy.strategy,
          liquidationPriority: policy.liquidationPriority,
          execution: policy.execution,
          incidentId: incident.id,
          step: trade,
          fullLiquidation: trade === 'liquidation',
        });
        actions.push({
          kind: plan.kind === 'liquidation' ? 'liquidation' : trade,
          incidentId: incident.id,
          level,
          plan,
        });
        if (plan.orders.length > 0) {
          const fills = plannedFills(plan);
          working = applyFills(working, fills, built.model.valuation);
          e = evaluate(working);
          events.push(...observe(e, `${bar.date}T00:00:01.000Z`, prices));
        }
      }
    }
    timeline.push({
      date: bar.date,
      prices,
      equity: e.equity,
      marginRatio: e.marginRatio,
      level: state.level!,
      inMarginCall: e.inMarginCall,
      events,
      actions,
    });
  }

  const open = state.marginCall;
  if (open) marginCalls.find((m) => m.incidentId === open.id)!.worstRatio = open.worstRatio;
  const last = timeline[timeline.length - 1];
  const count = (kind: ActionKind) =>
    timeline.reduce((n, t) => n + t.actions.filter((a) => a.kind === kind).length, 0);
  return {
    accountId: input.account.id,
    model: built.model.name,
    policy: policy.mode,
    start,
    timeline,
    marginCalls,
    stats: { ...state.stats, averageRatioInCall: averageRatioInCall(state.stats) },
    zeroEquityOn,
    actions: { alert: count('alert'), deleverage: count('deleverage'), liquidation: count('liquidation') },
    end: {
      equity: last?.equity ?? start.equity,
      marginRatio: last ? last.marginRatio : start.marginRatio,
      level: last?.level ?? 'SAFE',
      pnl: (last?.equity ?? start.equity).minus(start.equity),
    },
    drawdown: maxDrawdown([start.equity, ...timeline.map((t) => t.equity)]),
  };
}
