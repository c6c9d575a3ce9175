import { Decimal, ZERO, sum } from '../decimal.ts';
import type { Position } from '../schemas/position.ts';
import type { BookRequirements, MaintenanceCurve, Requirement } from './model.ts';

/**
 * Most models price each position on its own (no netting): the book's requirement is a sum.
 * This builds requirements and solver curves from one per-position rule.
 */
export interface PositionRule {
  requirement(position: Position, price: Decimal): Requirement;
  /** Prices at which this position's rule changes slope (thresholds, per-share minimums, tiers). */
  priceBreakpoints(position: Position): Decimal[];
}

export function separableRequirements(
  positions: readonly Position[],
  rule: PositionRule,
  accountMaintenance: Decimal = ZERO,
): BookRequirements {
  const perPosition = positions.map((p) => rule.requirement(p, p.price));
  return {
    perPosition,
    initial: sum(perPosition.map((r) => r.initial)),
    maintenance: sum(perPosition.map((r) => r.maintenance)).plus(accountMaintenance),
  };
}

export function separableCurve(
  positions: readonly Position[],
  rule: PositionRule,
  moving: readonly number[],
  accountMaintenance: Decimal = ZERO,
): MaintenanceCurve {
  const movingSet = new Set(moving);
  let fixed = accountMaintenance;
  positions.forEach((p, i) => {
    if (!movingSet.has(i)) fixed = fixed.plus(rule.requirement(p, p.price).maintenance);
  });
  const movers = moving.map((i) => positions[i]!);
  const breakpoints: Decimal[] = [];
  for (const p of movers) {
    for (const price of rule.priceBreakpoints(p)) {
      if (price.greaterThan(0)) breakpoints.push(price.dividedBy(p.price));
    }
  }
  return {
    at: (scale) => fixed.plus(sum(movers.map((p) => rule.requirement(p, p.price.times(scale)).maintenance))),
    breakpoints,
  };
}

/** |qty| · multiplier: the number of underlying units, for per-share rules. */
export function units(position: Position): Decimal {
  return position.quantity.abs().times(position.multiplier);
}

export function notionalAt(position: Position, price: Decimal): Decimal {
  return units(position).times(price);
}
