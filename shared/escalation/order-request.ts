import { eventId, SCHEMA_VERSION, type DomainEvent } from '../events/schemas.ts';
import type { Plan } from '../deleverage/planner.ts';
import { planToJson } from '../replay/serialize.ts';

/** A plan as the broker-facing event: DeleverageRequested or LiquidationRequested, with every order's key. */
export function orderRequestEvent(
  plan: Plan,
  requestedBy: 'automation' | 'manual',
  occurredAt: string,
): DomainEvent {
  const json = planToJson(plan);
  const detailType = plan.kind === 'liquidation' ? 'LiquidationRequested' : 'DeleverageRequested';
  return {
    detailType,
    detail: {
      schemaVersion: SCHEMA_VERSION,
      eventId: eventId(detailType, plan.accountId, `${plan.incidentId}:${plan.step}`),
      accountId: plan.accountId,
      occurredAt,
      incidentId: plan.incidentId,
      step: plan.step,
      requestedBy,
      reason: plan.reason,
      marginRatio: json.ratioBefore,
      targetRatio: json.targetRatio,
      projectedRatio: json.projectedRatio,
      strategy: plan.strategy,
      liquidationPriority: plan.liquidationPriority,
      orders: json.orders,
    },
  } as DomainEvent;
}

export function describeOrders(plan: Plan): string {
  if (plan.orders.length === 0) return 'no orders needed';
  return plan.orders.map((o) => `${o.side} ${o.quantity.toFixed()} ${o.instrument}`).join(', ');
}
