import { Decimal } from '../../shared/decimal.ts';
import { executionSchema } from '../../shared/deleverage/execution.ts';
import type { LiquidationPriority, Strategy } from '../../shared/deleverage/ordering.ts';
import { planDeleverage, type Plan } from '../../shared/deleverage/planner.ts';
import { parseEvaluationInput } from '../../shared/margin/evaluate.ts';

export const FREE = executionSchema.parse({ feeRate: '0', slippageRate: '0' });

export function plan(
  raw: unknown,
  target: string,
  strategy: Strategy,
  extra: {
    liquidationPriority?: LiquidationPriority;
    execution?: typeof FREE;
    fullLiquidation?: boolean;
    step?: string;
  } = {},
): Plan {
  return planDeleverage({
    input: parseEvaluationInput(raw),
    targetRatio: new Decimal(target),
    strategy,
    liquidationPriority: extra.liquidationPriority ?? 'risk',
    execution: extra.execution ?? FREE,
    incidentId: 'INC-1',
    step: extra.step ?? 'deleverage',
    fullLiquidation: extra.fullLiquidation,
  });
}

export function orders(p: Plan): string[] {
  return p.orders.map((o) => `${o.side} ${o.quantity.toFixed()} ${o.instrument}`);
}
