/**
 * Most models price each position on its own (no netting): the book's requirement is a sum.
 * This builds requirements and solver curves from one per-position rule.
 */
import { Decimal, ONE, ZERO, sum } from '../decimal.ts';
import type { Position } from '../schemas/position.ts';
import { samplePoints } from './axis-points.ts';
import type {
  Affine,
  BandCurves,
  BookRequirements,
  CurveAxis,
  MaintenanceCurve,
  PositionRule,
  Requirement,
} from './model.ts';

// The rule types live beside the model interface that refers to them (no import cycle); models import them here.
export type { PositionRule, SeparableForm } from './model.ts';

/** Per-position requirements at today's prices, computed once per (rule, positions) and reused by every curve. */
const todayCache = new WeakMap<PositionRule, WeakMap<readonly Position[], Requirement[]>>();

function requirementsToday(positions: readonly Position[], rule: PositionRule): Requirement[] {
  let byPositions = todayCache.get(rule);
  if (!byPositions) todayCache.set(rule, (byPositions = new WeakMap()));
  let result = byPositions.get(positions);
  if (!result) byPositions.set(positions, (result = positions.map((p) => rule.requirement(p, p.price))));
  return result;
}

/** One rule object per params object, so caches keyed by rule hit across calls. */
export function memoizeRule<P extends object>(
  build: (params: P) => PositionRule,
): (params: P) => PositionRule {
  const rules = new WeakMap<P, PositionRule>();
  return (params) => {
    let rule = rules.get(params);
    if (!rule) rules.set(params, (rule = build(params)));
    return rule;
  };
}

export function separableRequirements(
  positions: readonly Position[],
  rule: PositionRule,
  accountMaintenance: Decimal = ZERO,
): BookRequirements {
  const perPosition = requirementsToday(positions, rule);
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
  axis: CurveAxis = 'scale',
  accountMaintenance: Decimal = ZERO,
): MaintenanceCurve {
  const today = requirementsToday(positions, rule);
  let fixed = accountMaintenance.plus(sum(today.map((r) => r.maintenance)));
  for (const i of moving) fixed = fixed.minus(today[i]!.maintenance);
  const movers = moving.map((i) => {
    const position = positions[i]!;
    const price = axis === 'price' ? ONE : position.price;
    const own = rule
      .priceBreakpoints(position)
      .filter((b) => b.greaterThan(0))
      .map((b) => b.dividedBy(price))
      .sort((a, b) => a.comparedTo(b));
    return { position, price, own, pieces: new Map<number, Affine>() };
  });
  const requirementAt = (m: (typeof movers)[number], x: Decimal) =>
    rule.requirement(m.position, m.price.times(x)).maintenance;

  return {
    at: (x) => fixed.plus(sum(movers.map((m) => requirementAt(m, x)))),
    breakpoints: movers.flatMap((m) => m.own),
    // Each position is affine between its own breakpoints: sample each piece once, then just add.
    affineAfter(lo) {
      let a = fixed;
      let b = ZERO;
      for (const m of movers) {
        let piece = 0;
        while (piece < m.own.length && m.own[piece]!.lessThanOrEqualTo(lo)) piece++;
        let affine = m.pieces.get(piece);
        if (!affine) {
          const [x1, x2] = samplePoints(m.own[piece - 1] ?? ZERO, m.own[piece]);
          const y1 = requirementAt(m, x1);
          const slope = requirementAt(m, x2).minus(y1).dividedBy(x2.minus(x1));
          affine = { a: y1.minus(slope.times(x1)), b: slope };
          m.pieces.set(piece, affine);
        }
        a = a.plus(affine.a);
        b = b.plus(affine.b);
      }
      return { a, b };
    },
  };
}

/**
 * A separable requirement is a sum of per-position terms, so a joint move changes it by exactly the sum of
 * each position's own change: the one-position curve is both bound.
 */
export function separableBandCurves(
  positions: readonly Position[],
  rule: PositionRule,
  index: number,
  accountMaintenance: Decimal = ZERO,
): BandCurves {
  const curve = separableCurve(positions, rule, [index], 'price', accountMaintenance);
  return { upper: curve, lower: curve };
}

/** |qty| · multiplier: the number of underlying units, for per-share rules. */
export function units(position: Position): Decimal {
  return position.quantity.abs().times(position.multiplier);
}

export function notionalAt(position: Position, price: Decimal): Decimal {
  return units(position).times(price);
}
