import { toEdge, toEdgeOrNull, type Decimal } from '../decimal.ts';
import type { OrderInstruction } from '../deleverage/order-instructions.ts';
import type { Plan } from '../deleverage/planner.ts';
import { evaluationToJson } from '../margin/serialize.ts';
import type { RiskEvent } from '../risk/tracker.ts';
import type { ReplayResult } from './replay.ts';

const prices = (p: Record<string, Decimal>) =>
  Object.fromEntries(Object.entries(p).map(([k, v]) => [k, toEdge(v)]));

/** An order's working instruction as event fields (decimals as strings). */
export function instructionToJson(i: OrderInstruction) {
  return {
    orderType: i.orderType,
    timeInForce: i.timeInForce,
    reduceOnly: i.reduceOnly,
    regularHoursOnly: i.regularHoursOnly,
    ...(i.limitPrice ? { limitPrice: toEdge(i.limitPrice) } : {}),
    ...(i.stopPrice ? { stopPrice: toEdge(i.stopPrice) } : {}),
    ...(i.slices
      ? { slices: i.slices.map((s) => ({ startAt: s.startAt, quantity: toEdge(s.quantity) })) }
      : {}),
  };
}

export function planToJson(plan: Plan) {
  return {
    accountId: plan.accountId,
    incidentId: plan.incidentId,
    step: plan.step,
    kind: plan.kind,
    strategy: plan.strategy,
    liquidationPriority: plan.liquidationPriority,
    targetRatio: toEdge(plan.targetRatio),
    ratioBefore: toEdgeOrNull(plan.ratioBefore),
    projectedRatio: toEdgeOrNull(plan.projectedRatio),
    projectedEquity: toEdge(plan.projectedEquity),
    restoresTarget: plan.restoresTarget,
    reason: plan.reason,
    orders: plan.orders.map((o) => ({
      instrument: o.instrument,
      side: o.side,
      quantity: toEdge(o.quantity),
      referencePrice: toEdge(o.referencePrice),
      estimatedPrice: toEdge(o.estimatedPrice),
      estimatedFees: toEdge(o.estimatedFees),
      ...(o.instruction ? instructionToJson(o.instruction) : {}),
      idempotencyKey: o.idempotencyKey,
    })),
  };
}

export function riskEventToJson(e: RiskEvent) {
  switch (e.type) {
    case 'RiskLevelChanged':
      return { ...e, ratio: toEdgeOrNull(e.ratio) };
    case 'MarginCallTriggered':
      return { ...e, ratio: toEdgeOrNull(e.ratio), callRatio: toEdge(e.callRatio) };
    case 'MarginCallResolved':
      return { ...e, ratio: toEdgeOrNull(e.ratio), worstRatio: toEdgeOrNull(e.worstRatio) };
  }
}

export function replayToJson(r: ReplayResult) {
  return {
    accountId: r.accountId,
    model: r.model,
    policy: r.policy,
    start: evaluationToJson(r.start),
    marginCalls: r.marginCalls.map((m) => ({
      ...m,
      pricesAtTrigger: prices(m.pricesAtTrigger),
      ratioAtTrigger: toEdgeOrNull(m.ratioAtTrigger),
      worstRatio: toEdgeOrNull(m.worstRatio),
    })),
    stats: {
      triggered: r.stats.triggered,
      resolved: r.stats.resolved,
      worstRatio: toEdgeOrNull(r.stats.worstRatio),
      worstLevel: r.stats.worstLevel,
      averageRatioInCall: toEdgeOrNull(r.stats.averageRatioInCall),
      msInResolvedCalls: r.stats.msInCall,
    },
    zeroEquityOn: r.zeroEquityOn,
    actions: r.actions,
    end: {
      equity: toEdge(r.end.equity),
      marginRatio: toEdgeOrNull(r.end.marginRatio),
      level: r.end.level,
      pnl: toEdge(r.end.pnl),
    },
    maxDrawdown: { fraction: toEdge(r.drawdown.maxDrawdown), amount: toEdge(r.drawdown.amount) },
    timeline: r.timeline.map((t) => ({
      date: t.date,
      prices: prices(t.prices),
      equity: toEdge(t.equity),
      marginRatio: toEdgeOrNull(t.marginRatio),
      level: t.level,
      inMarginCall: t.inMarginCall,
      events: t.events.map(riskEventToJson),
      ...(t.crossings
        ? {
            crossings: t.crossings.map((c) => ({
              prices: prices(c.prices),
              marginRatio: toEdgeOrNull(c.marginRatio),
              level: c.level,
              inMarginCall: c.inMarginCall,
            })),
          }
        : {}),
      actions: t.actions.map((a) => ({
        kind: a.kind,
        incidentId: a.incidentId,
        level: a.level,
        ...(a.plan ? { plan: planToJson(a.plan) } : {}),
      })),
    })),
  };
}

export type ReplayJson = ReturnType<typeof replayToJson>;
