import { z } from 'zod';
import { Decimal } from '../decimal.ts';
import { executionSchema } from '../deleverage/execution.ts';
import { orderMethodsSchema } from '../deleverage/order-instructions.ts';
import { liquidationPrioritySchema, strategySchema } from '../deleverage/ordering.ts';
import { decimalString } from '../schemas/decimal-string.ts';

/**
 * How an incident escalates: alert on WARNING, deleverage on CRITICAL, liquidate on LIQUIDATION, each
 * at most once per incident. `monitor` only records (levels, calls, alerts) and never trades.
 */
export const escalationPolicySchema = z
  .object({
    mode: z.enum(['full', 'monitor']).default('full'),
    strategy: strategySchema.default('risk-based'),
    liquidationPriority: liquidationPrioritySchema.default('risk'),
    /** Ratio a deleverage restores; defaults to back into SAFE (warning threshold + hysteresis). */
    targetRatio: decimalString
      .refine((d) => d.greaterThan(0), { error: 'must be greater than 0' })
      .optional(),
    execution: executionSchema.default(() => executionSchema.parse({})),
    /** How each step's orders are worked: limit for deleverage, market for liquidation by default. */
    orders: orderMethodsSchema.default(() => orderMethodsSchema.parse({})),
  })
  .strict();

export type EscalationPolicy = z.output<typeof escalationPolicySchema>;

export function defaultTarget(policy: EscalationPolicy, warning: Decimal, hysteresis: Decimal): Decimal {
  return policy.targetRatio ?? warning.plus(hysteresis);
}
