import { z } from 'zod';
import { Decimal, ZERO, max } from '../decimal.ts';
import type { FieldIssue } from '../errors.ts';
import type { Position } from '../schemas/position.ts';
import { allDecimal } from '../schemas/decimal-string.ts';
import { commonParamsShape, rateParam } from './common-params.ts';
import type { CommonParams, MarginModel } from './model.ts';
import {
  memoizeRule,
  notionalAt,
  separableBandCurves,
  separableCurve,
  separableRequirements,
  type PositionRule,
} from './separable.ts';

/**
 * Gross "capital basis": every position, long or short, consumes capital on its own (no hedge
 * netting). Initial margin is charged on cost basis (the capital committed when the trade was made);
 * maintenance follows market value by default, so a falling position brings the call closer.
 */
export const grossParamsSchema = z
  .object({
    ...commonParamsShape,
    initialRate: rateParam('0.5'),
    maintenanceRate: rateParam('0.25'),
    /** market: maintenance on current value; entry: a fixed share of the capital posted at entry. */
    maintenanceBasis: z.enum(['market', 'entry']).default('market'),
  })
  .strict()
  .refine((p) => !allDecimal(p.initialRate) || p.initialRate.greaterThan(0), {
    path: ['initialRate'],
    error: 'must be greater than 0',
  })
  .refine(
    (p) =>
      !allDecimal(p.initialRate, p.maintenanceRate) || p.maintenanceRate.lessThanOrEqualTo(p.initialRate),
    {
      path: ['maintenanceRate'],
      error: 'must not exceed initialRate',
    },
  );

export type GrossParams = z.output<typeof grossParamsSchema> & CommonParams;

const ruleFor = memoizeRule((params: GrossParams): PositionRule => {
  return {
    requirement(position: Position, price: Decimal) {
      const cost = position.avgCost ?? ZERO;
      const initialRate = max(params.initialRate, position.initialRate ?? ZERO);
      const maintenanceRate = max(params.maintenanceRate, position.maintenanceRate ?? ZERO);
      const basisPrice = params.maintenanceBasis === 'market' ? price : cost;
      return {
        initial: notionalAt(position, cost).times(initialRate),
        maintenance: notionalAt(position, basisPrice).times(maintenanceRate),
      };
    },
    priceBreakpoints: () => [],
    initialBreakpoints: () => [], // initial is on cost basis: constant in price
  };
});

export const grossModel: MarginModel<GrossParams> = {
  name: 'gross',
  valuation: 'spot',
  paramsSchema: grossParamsSchema as z.ZodType<GrossParams, unknown>,
  validate(book) {
    const issues: FieldIssue[] = [];
    book.positions.forEach((p, i) => {
      if (p.avgCost === undefined && !p.quantity.isZero()) {
        issues.push({
          field: `positions[${i}].avgCost`,
          message: 'required by the gross model (cost basis)',
        });
      }
    });
    return issues;
  },
  requirements: (book) => separableRequirements(book.positions, ruleFor(book.params)),
  curve: (book, moving, axis) => separableCurve(book.positions, ruleFor(book.params), moving, axis),
  bandCurves: (book, index) => separableBandCurves(book.positions, ruleFor(book.params), index),
  separable: (book) => ({ rule: ruleFor(book.params), accountMaintenance: ZERO }),
  funds(book, core) {
    // Capital not yet committed at cost, grossed up by the initial rate.
    const availableFunds = core.equity.minus(core.initialRequirement);
    return {
      availableFunds,
      buyingPower: max(ZERO, availableFunds).dividedBy(book.params.initialRate),
      details: {},
      violations: [],
    };
  },
};
