import { Decimal } from '../decimal.ts';
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
  /** Where, inside an OHLC bar, the level or margin call changed before the close (acted on there). */
  crossings?: Crossing[];
}

export interface Crossing {
  /** The prices on the path from the open toward the adverse extreme at which the change happened. */
  prices: Record<string, Decimal>;
  marginRatio: Decimal | null;
  level: RiskLevel;
  inMarginCall: boolean;
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

/**
 * Each held instrument's price at a point of an OHLC bar: its open, or its adverse extreme for the
 * position (low if long, high if short); closes-only instruments stay at their close.
 */
function pricesAt(input: ValidatedInput, bar: PriceBar, point: 'open' | 'adverse'): Map<string, Decimal> {
  const out = new Map<string, Decimal>();
  for (const p of input.positions) {
    const r = bar.ohlc?.get(p.instrument);
    const close = bar.closes.get(p.instrument) ?? p.price;
    out.set(p.instrument, !r ? close : point === 'open' ? r.open : p.quantity.isNegative() ? r.high : r.low);
  }
  return out;
}

/**
 * The first point on the straight path from `from` to `to` at which `changes` holds (it does at `to`),
 * by bisection to 2⁻⁴⁸ of the path, then rounded to 8 decimals toward the adverse side so the prices
 * returned are past the crossing.
 */
function crossingOnPath(
  from: Map<string, Decimal>,
  to: Map<string, Decimal>,
  changes: (prices: Map<string, Decimal>) => boolean,
  input: ValidatedInput,
): Map<string, Decimal> {
  const at = (s: Decimal) => {
    const out = new Map<string, Decimal>();
    for (const p of input.positions) {
      const a = from.get(p.instrument)!;
      const b = to.get(p.instrument)!;
      const x = a.plus(b.minus(a).times(s));
      out.set(p.instrument, x.toDecimalPlaces(8, b.lessThan(a) ? Decimal.ROUND_DOWN : Decimal.ROUND_UP));
    }
    return out;
  };
  let lo = new Decimal(0);
  let hi = new Decimal(1);
  if (changes(at(lo))) return at(lo);
  for (let i = 0; i < 48; i++) {
    const mid = lo.plus(hi).dividedBy(2);
    if (changes(at(mid))) hi = mid;
    else lo = mid;
  }
  return at(hi);
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

  /** The escalation once per incident: alert, then deleverage or liquidate at the current prices. */
  const act = (
    e: Evaluation,
    events: RiskEvent[],
    at: string,
    prices: Record<string, Decimal>,
  ): [Evaluation, Action[]] => {
    const actions: Action[] = [];
    const incident = state.incident;
    const level = state.level!;
    if (!incident) return [e, actions];
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
        orderMethod: policy.orders[trade === 'liquidation' ? 'liquidation' : 'deleverage'],
        now: new Date(Date.parse(at.slice(0, 10)) + 21 * 3_600_000),
      });
      actions.push({
        kind: plan.kind === 'liquidation' ? 'liquidation' : trade,
        incidentId: incident.id,
        level,
        plan,
      });
      if (plan.orders.length > 0) {
        working = applyFills(working, plannedFills(plan), built.model.valuation);
        e = evaluate(working);
        events.push(...observe(e, at.replace('T00:00:00', 'T00:00:01'), prices));
      }
    }
    return [e, actions];
  };

  for (const bar of bars) {
    const events: RiskEvent[] = [];
    const actions: Action[] = [];
    const crossings: Crossing[] = [];
    let tick = 0;
    const at = () => `${bar.date}T00:00:00.${String(tick).padStart(3, '0')}Z`;
    // OHLC: walk from the open toward each position's adverse extreme (the low for a long, the high for a
    // short) and act where the level or margin call first changes — what a closes-only replay misses.
    if (bar.ohlc) {
      const open = pricesAt(working, bar, 'open');
      if (state.level === null) {
        // The first bar: the open is where tracking starts, not a crossing.
        working = withPrices(working, open);
        const first = evaluate(working);
        const prices = Object.fromEntries(working.positions.map((p) => [p.instrument, p.price]));
        events.push(...observe(first, at(), prices));
        tick += 1;
      }
      for (let from = open; ;) {
        const adverse = pricesAt(working, bar, 'adverse');
        const changes = (prices: Map<string, Decimal>) => {
          const e = evaluate(withPrices(working, prices));
          return (
            track(
              state,
              {
                at: at(),
                ratio: e.marginRatio,
                equity: e.equity,
                inMarginCall: e.inMarginCall,
                callRatio: e.callRatio,
              },
              thresholdsFor(input.account, e.equity),
            ).events.length > 0
          );
        };
        if (working.positions.length === 0 || !changes(adverse)) break;
        const crossing = crossingOnPath(from, adverse, changes, working);
        working = withPrices(working, crossing);
        const prices = Object.fromEntries(working.positions.map((p) => [p.instrument, p.price]));
        let e = evaluate(working);
        if (zeroEquityOn === null && !e.equity.isPositive()) zeroEquityOn = bar.date;
        events.push(...observe(e, at(), prices));
        crossings.push({
          prices,
          marginRatio: e.marginRatio,
          level: state.level!,
          inMarginCall: e.inMarginCall,
        });
        const [after, taken] = act(e, events, at(), prices);
        e = after;
        actions.push(...taken);
        tick += 1;
        from = crossing;
        if (crossings.length >= 8) break; // a bar cannot flip state more often than this along one path
      }
    }
    working = withPrices(working, bar.closes);
    const prices = Object.fromEntries(working.positions.map((p) => [p.instrument, p.price]));
    let e = evaluate(working);
    if (zeroEquityOn === null && !e.equity.isPositive()) zeroEquityOn = bar.date;
    events.push(...observe(e, at(), prices));
    const [after, taken] = act(e, events, at(), prices);
    e = after;
    actions.push(...taken);
    timeline.push({
      date: bar.date,
      prices,
      equity: e.equity,
      marginRatio: e.marginRatio,
      level: state.level!,
      inMarginCall: e.inMarginCall,
      events,
      actions,
      ...(crossings.length > 0 ? { crossings } : {}),
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
