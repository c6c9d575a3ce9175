import { z } from 'zod';
import { Decimal } from '../decimal.ts';
import { decimalString } from '../schemas/decimal-string.ts';
import { thresholdsSchema, type Thresholds } from './levels.ts';

/**
 * Thresholds that move with the situation. Each factor multiplies all three thresholds (so their order
 * is kept) and never lowers them: a big account takes longer to unwind, an aggressive strategy moves
 * faster, and a stressed market gaps through levels.
 */
export const riskContextSchema = z
  .object({
    strategyRisk: z.enum(['low', 'medium', 'high']).default('medium'),
    volatilityRegime: z.enum(['calm', 'normal', 'stressed', 'crisis']).default('normal'),
  })
  .strict();

export type RiskContext = z.output<typeof riskContextSchema>;

const multiplier = decimalString.refine((d) => d.greaterThanOrEqualTo(1), {
  error: 'must be at least 1 (thresholds only rise)',
});

export const adjustmentTableSchema = z
  .object({
    strategyRisk: z
      .strictObject({ low: multiplier, medium: multiplier, high: multiplier })
      .default(() => ({ low: new Decimal('1'), medium: new Decimal('1'), high: new Decimal('1.15') })),
    volatilityRegime: z
      .strictObject({ calm: multiplier, normal: multiplier, stressed: multiplier, crisis: multiplier })
      .default(() => ({
        calm: new Decimal('1'),
        normal: new Decimal('1'),
        stressed: new Decimal('1.15'),
        crisis: new Decimal('1.3'),
      })),
    /** Equity at or above which an account is "large" and gets `largeAccount`. */
    largeAccountEquity: decimalString.default(() => new Decimal('1000000')),
    largeAccount: multiplier.default(() => new Decimal('1.1')),
  })
  .strict();

export type AdjustmentTable = z.output<typeof adjustmentTableSchema>;
export const DEFAULT_ADJUSTMENTS: AdjustmentTable = adjustmentTableSchema.parse({});

export function adjustThresholds(
  base: Thresholds,
  equity: Decimal,
  context: RiskContext,
  table: AdjustmentTable = DEFAULT_ADJUSTMENTS,
): Thresholds {
  const factor = table.strategyRisk[context.strategyRisk]
    .times(table.volatilityRegime[context.volatilityRegime])
    .times(equity.greaterThanOrEqualTo(table.largeAccountEquity) ? table.largeAccount : 1);
  const adjusted = {
    warning: base.warning.times(factor),
    critical: base.critical.times(factor),
    liquidation: base.liquidation.times(factor),
    hysteresis: base.hysteresis,
  };
  // Scaling keeps the order and widens the bands, so the result is valid whenever the base is.
  return thresholdsSchema.parse(
    Object.fromEntries(Object.entries(adjusted).map(([k, v]) => [k, v.toFixed()])),
  );
}
