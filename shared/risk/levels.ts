import { z } from 'zod';
import { Decimal } from '../decimal.ts';
import { allDecimal, decimalString } from '../schemas/decimal-string.ts';

export const RISK_LEVELS = ['SAFE', 'WARNING', 'CRITICAL', 'LIQUIDATION'] as const;
export type RiskLevel = (typeof RISK_LEVELS)[number];

/** 0 = SAFE … 3 = LIQUIDATION. */
export function severity(level: RiskLevel): number {
  return RISK_LEVELS.indexOf(level);
}

export function isWorse(a: RiskLevel, b: RiskLevel): boolean {
  return severity(a) > severity(b);
}

const positiveRatio = decimalString.refine((d) => d.greaterThan(0), { error: 'must be greater than 0' });

/**
 * Margin-ratio thresholds: SAFE above `warning`, WARNING down to `critical`, CRITICAL down to
 * `liquidation`, LIQUIDATION below it. Recovering to a better level needs the ratio to clear that
 * level's threshold by `hysteresis`, so a ratio hovering on a line does not flap.
 */
export const thresholdsSchema = z
  .object({
    warning: positiveRatio.default(() => new Decimal('2.0')),
    critical: positiveRatio.default(() => new Decimal('1.5')),
    liquidation: positiveRatio.default(() => new Decimal('1.2')),
    hysteresis: decimalString
      .refine((d) => d.greaterThanOrEqualTo(0), { error: 'must not be negative' })
      .default(() => new Decimal('0.05')),
  })
  .strict()
  .superRefine((t, ctx) => {
    if (!allDecimal(t.warning, t.critical, t.liquidation, t.hysteresis)) return;
    if (!t.warning.greaterThan(t.critical)) {
      ctx.addIssue({
        code: 'custom',
        path: ['critical'],
        message: `must be below warning (${t.warning.toFixed()})`,
      });
    }
    if (!t.critical.greaterThan(t.liquidation)) {
      ctx.addIssue({
        code: 'custom',
        path: ['liquidation'],
        message: `must be below critical (${t.critical.toFixed()})`,
      });
    }
    const narrowest = Decimal.min(t.warning.minus(t.critical), t.critical.minus(t.liquidation));
    if (narrowest.isPositive() && !t.hysteresis.lessThan(narrowest)) {
      ctx.addIssue({
        code: 'custom',
        path: ['hysteresis'],
        message: `must be smaller than the narrowest band (${narrowest.toFixed()}) or a level could never be left`,
      });
    }
  });

export type Thresholds = z.output<typeof thresholdsSchema>;
export type ThresholdsInput = z.input<typeof thresholdsSchema>;

export const DEFAULT_THRESHOLDS: Thresholds = thresholdsSchema.parse({});

/**
 * The level a ratio falls in, with no memory. A null ratio means no requirement: SAFE unless equity is
 * negative (a debt with nothing to margin it).
 */
export function rawLevel(ratio: Decimal | null, equity: Decimal, t: Thresholds): RiskLevel {
  if (ratio === null) return equity.isNegative() ? 'LIQUIDATION' : 'SAFE';
  if (ratio.greaterThan(t.warning)) return 'SAFE';
  if (ratio.greaterThanOrEqualTo(t.critical)) return 'WARNING';
  if (ratio.greaterThanOrEqualTo(t.liquidation)) return 'CRITICAL';
  return 'LIQUIDATION';
}

/** The lowest ratio that counts as being in `level` when recovering into it (threshold + buffer). */
function recoveryFloor(level: RiskLevel, t: Thresholds): Decimal | null {
  switch (level) {
    case 'SAFE':
      return t.warning.plus(t.hysteresis);
    case 'WARNING':
      return t.critical.plus(t.hysteresis);
    case 'CRITICAL':
      return t.liquidation.plus(t.hysteresis);
    case 'LIQUIDATION':
      return null;
  }
}

/**
 * The level with memory: worse levels apply at once; a better level only once the ratio has cleared
 * its threshold by the hysteresis buffer (the best such level between the raw one and the previous).
 */
export function classify(
  ratio: Decimal | null,
  equity: Decimal,
  previous: RiskLevel | null,
  t: Thresholds,
): RiskLevel {
  const raw = rawLevel(ratio, equity, t);
  if (previous === null || !isWorse(previous, raw)) return raw;
  if (ratio === null) return raw; // no requirement left (flat or fully paid): nothing to hover around
  for (let s = severity(raw); s < severity(previous); s++) {
    const candidate = RISK_LEVELS[s]!;
    const floor = recoveryFloor(candidate, t);
    const clears = candidate === 'SAFE' ? ratio.greaterThan(floor!) : ratio.greaterThanOrEqualTo(floor!);
    if (clears) return candidate;
  }
  return previous;
}
