import { z } from 'zod';
import { Decimal, ZERO, max } from '../decimal.ts';
import type { FieldIssue } from '../errors.ts';
import { allDecimal, decimalString } from '../schemas/decimal-string.ts';
import type { Position } from '../schemas/position.ts';
import { commonParamsShape, rateParam } from './common-params.ts';
import { thresholdPrices } from './single-position.ts';
import type { Book, CommonParams, CurveAxis, MarginModel } from './model.ts';
import {
  memoizeRule,
  notionalAt,
  separableBandCurves,
  separableCurve,
  separableRequirements,
  type PositionRule,
} from './separable.ts';

/**
 * Futures and crypto perpetuals: the maintenance rate steps up with the position's notional.
 * Each tier's maintenance amount (the deduction that keeps the requirement continuous across a tier
 * boundary) is derived from the table, not typed in, so a table can never be inconsistent.
 * Positions are contracts: cash is the collateral (wallet) and positions add unrealised PnL.
 */
const tierSchema = z.strictObject({
  /** Upper bound of the tier's notional, inclusive; null for the last, open-ended tier. */
  upTo: decimalString.nullable(),
  maintenanceRate: rateParam('0.005'),
  maxLeverage: decimalString.refine((d) => d.greaterThanOrEqualTo(1), { error: 'must be at least 1' }),
});

const DEFAULT_TIERS = [
  ['50000', '0.004', '125'],
  ['250000', '0.005', '100'],
  ['3000000', '0.01', '50'],
  ['15000000', '0.025', '20'],
  ['30000000', '0.05', '10'],
  ['80000000', '0.1', '5'],
  ['100000000', '0.125', '4'],
  ['200000000', '0.15', '3'],
  ['300000000', '0.25', '2'],
  [null, '0.5', '1'],
] as const;

export const tieredParamsSchema = z
  .object({
    ...commonParamsShape,
    /** cross: all positions share the account's equity; isolated: each position risks only its own margin. */
    mode: z.enum(['cross', 'isolated']).default('cross'),
    defaultLeverage: decimalString
      .refine((d) => d.greaterThanOrEqualTo(1), { error: 'must be at least 1' })
      .default(() => new Decimal(10)),
    tiers: z
      .array(tierSchema)
      .min(1)
      .default(() =>
        DEFAULT_TIERS.map(([upTo, rate, lev]) => ({
          upTo: upTo === null ? null : new Decimal(upTo),
          maintenanceRate: new Decimal(rate),
          maxLeverage: new Decimal(lev),
        })),
      ),
  })
  .strict()
  .superRefine((p, ctx) => {
    if (
      !Array.isArray(p.tiers) ||
      !p.tiers.every((t) => t && allDecimal(t.maintenanceRate) && (t.upTo === null || allDecimal(t.upTo)))
    )
      return;
    p.tiers.forEach((tier, i) => {
      const last = i === p.tiers.length - 1;
      if (last !== (tier.upTo === null)) {
        ctx.addIssue({
          code: 'custom',
          path: ['tiers', i, 'upTo'],
          message: last ? 'the last tier must be open-ended (null)' : 'only the last tier may be open-ended',
        });
      }
      const prev = p.tiers[i - 1];
      if (prev && tier.upTo && prev.upTo && !tier.upTo.greaterThan(prev.upTo)) {
        ctx.addIssue({ code: 'custom', path: ['tiers', i, 'upTo'], message: 'tier bounds must increase' });
      }
      if (prev && tier.maintenanceRate.lessThan(prev.maintenanceRate)) {
        ctx.addIssue({
          code: 'custom',
          path: ['tiers', i, 'maintenanceRate'],
          message: 'tier rates must not decrease',
        });
      }
    });
  });

export type TieredParams = z.output<typeof tieredParamsSchema> & CommonParams;
type Tier = TieredParams['tiers'][number];

interface ResolvedTier extends Tier {
  /** Deduction that makes notional·rate − amount continuous at every boundary. */
  amount: Decimal;
}

function resolveTiers(tiers: Tier[]): ResolvedTier[] {
  let amount = ZERO;
  return tiers.map((tier, i) => {
    const prev = tiers[i - 1];
    if (prev) amount = amount.plus(prev.upTo!.times(tier.maintenanceRate.minus(prev.maintenanceRate)));
    return { ...tier, amount };
  });
}

function tierFor(tiers: ResolvedTier[], notional: Decimal): ResolvedTier {
  return tiers.find((t) => t.upTo === null || notional.lessThanOrEqualTo(t.upTo)) ?? tiers[tiers.length - 1]!;
}

function leverageOf(position: Position, params: TieredParams): Decimal {
  return position.leverage ?? params.defaultLeverage;
}

/** Margin posted to an isolated position: explicit, or its entry notional over its leverage. */
function isolatedMargin(position: Position, params: TieredParams): Decimal {
  return (
    position.isolatedMargin ??
    notionalAt(position, position.avgCost ?? position.price).dividedBy(leverageOf(position, params))
  );
}

const ruleFor = memoizeRule((params: TieredParams): PositionRule => {
  const tiers = resolveTiers(params.tiers);
  return {
    requirement(position, price) {
      const notional = notionalAt(position, price);
      const tier = tierFor(tiers, notional);
      const byTier = notional.times(tier.maintenanceRate).minus(tier.amount);
      const house = notional.times(position.maintenanceRate ?? ZERO);
      return { initial: notional.dividedBy(leverageOf(position, params)), maintenance: max(byTier, house) };
    },
    priceBreakpoints(position) {
      const perUnit = position.quantity.abs().times(position.multiplier);
      if (perUnit.isZero()) return [];
      const points = tiers.filter((t) => t.upTo !== null).map((t) => t.upTo!.dividedBy(perUnit));
      // A house rate h is a line under the max with the tier's n·rate − amount: they meet where
      // n = amount / (rate − h), in every tier whose rate is above h.
      const house = position.maintenanceRate ?? ZERO;
      if (house.greaterThan(0)) {
        for (const t of tiers) {
          if (t.maintenanceRate.greaterThan(house) && t.amount.greaterThan(0))
            points.push(t.amount.dividedBy(t.maintenanceRate.minus(house)).dividedBy(perUnit));
        }
      }
      return points;
    },
    initialBreakpoints: () => [], // notional / leverage: one line
  };
});

function tieredCurve(book: Book<TieredParams>, moving: readonly number[], axis?: CurveAxis) {
  return separableCurve(book.positions, ruleFor(book.params), moving, axis);
}

/** Liquidation (equity = maintenance) and bankruptcy (equity = 0) prices of one position. */
function positionExtras(book: Book<TieredParams>, index: number) {
  const position = book.positions[index]!;
  let equityOtherwise: Decimal;
  let scope: Book<TieredParams>;
  let scopeIndex: number;
  if (book.params.mode === 'isolated') {
    // Only the position's own margin backs it: margin + qty·mult·(p − entry).
    const exposure = position.quantity.times(position.multiplier);
    equityOtherwise = isolatedMargin(position, book.params).minus(
      exposure.times(position.avgCost ?? position.price),
    );
    scope = { ...book, positions: [position] };
    scopeIndex = 0;
  } else {
    equityOtherwise = book.account.cash;
    book.positions.forEach((p, i) => {
      const exposure = p.quantity.times(p.multiplier);
      equityOtherwise = equityOtherwise.minus(exposure.times(p.avgCost ?? p.price));
      if (i !== index) equityOtherwise = equityOtherwise.plus(exposure.times(p.price));
    });
    scope = book;
    scopeIndex = index;
  }
  const [liquidationPrice, bankruptcyPrice] = thresholdPrices(
    tieredCurve,
    scope,
    scopeIndex,
    equityOtherwise,
    [new Decimal(1), ZERO],
  );
  return { liquidationPrice, bankruptcyPrice };
}

export const tieredModel: MarginModel<TieredParams> = {
  name: 'tiered',
  valuation: 'derivative',
  paramsSchema: tieredParamsSchema as z.ZodType<TieredParams, unknown>,
  validate(book) {
    const issues: FieldIssue[] = [];
    const tiers = resolveTiers(book.params.tiers);
    book.positions.forEach((p, i) => {
      if (p.avgCost === undefined && !p.quantity.isZero()) {
        issues.push({
          field: `positions[${i}].avgCost`,
          message: 'required by the tiered model (entry price for PnL)',
        });
      }
      const tier = tierFor(tiers, notionalAt(p, p.price));
      const leverage = leverageOf(p, book.params);
      if (leverage.greaterThan(tier.maxLeverage)) {
        issues.push({
          field: p.leverage ? `positions[${i}].leverage` : 'account.params.defaultLeverage',
          message: `${leverage.toFixed()}x exceeds the ${tier.maxLeverage.toFixed()}x maximum for ${p.instrument}'s notional tier`,
        });
      }
    });
    return issues;
  },
  requirements: (book) => separableRequirements(book.positions, ruleFor(book.params)),
  curve: tieredCurve,
  bandCurves: (book, index) => separableBandCurves(book.positions, ruleFor(book.params), index),
  separable: (book) => ({ rule: ruleFor(book.params), accountMaintenance: ZERO }),
  funds(book, core) {
    const availableFunds = core.equity.minus(core.initialRequirement);
    const posted =
      book.params.mode === 'isolated'
        ? book.positions.reduce((acc, p) => acc.plus(isolatedMargin(p, book.params)), ZERO)
        : null;
    return {
      availableFunds,
      // Notional that free collateral can open at the default leverage.
      buyingPower: max(ZERO, availableFunds).times(book.params.defaultLeverage),
      details: { mode: book.params.mode, isolatedMarginPosted: posted },
      violations: [],
    };
  },
  positionExtras,
};
