import { Decimal, ONE, ZERO } from '../decimal.ts';
import type { MaintenanceCurve } from './model.ts';

/**
 * Equity and requirement as functions of a price scale factor s (s = 1 is today's prices):
 *   equity(s) = equityConstant + equitySlope · s
 *   gap(s)    = equity(s) − threshold · maintenance(s)
 * The call (or zero equity, threshold 0) is the nearest s where gap(s) reaches 0.
 */
export interface ScaleProblem {
  equityConstant: Decimal;
  equitySlope: Decimal;
  curve: MaintenanceCurve;
  threshold: Decimal;
}

export interface ScaleRoots {
  /** True when gap(1) ≤ 0: already at or past the threshold; both roots are then 1. */
  breached: boolean;
  /** The highest s ≤ 1 with gap ≤ 0 (prices falling), or null if no fall to zero reaches it. */
  down: Decimal | null;
  /** The lowest s ≥ 1 with gap ≤ 0 (prices rising), or null if no rise reaches it. */
  up: Decimal | null;
}

function gap(problem: ScaleProblem, s: Decimal): Decimal {
  return problem.equityConstant
    .plus(problem.equitySlope.times(s))
    .minus(problem.threshold.times(problem.curve.at(s)));
}

/** The affine piece of gap() inside (a, b), found from two interior points so breakpoint rules never leak in. */
function affinePiece(problem: ScaleProblem, x1: Decimal, x2: Decimal): { alpha: Decimal; beta: Decimal } {
  const g1 = gap(problem, x1);
  const g2 = gap(problem, x2);
  const beta = g2.minus(g1).dividedBy(x2.minus(x1));
  return { alpha: g1.minus(beta.times(x1)), beta };
}

/** Two points strictly inside (lo, hi); halves and quarters stay exact in decimal. */
function interiorPoints(lo: Decimal, hi: Decimal): readonly [Decimal, Decimal] {
  const width = hi.minus(lo);
  return [lo.plus(width.dividedBy(2)), lo.plus(width.times(3).dividedBy(4))];
}

function uniqueSorted(points: Decimal[], ascending: boolean): Decimal[] {
  const sorted = [...points].sort((a, b) => (ascending ? a.comparedTo(b) : b.comparedTo(a)));
  return sorted.filter((p, i) => i === 0 || !p.equals(sorted[i - 1]!));
}

function searchDown(problem: ScaleProblem): Decimal | null {
  const inside = problem.curve.breakpoints.filter((b) => b.greaterThan(0) && b.lessThan(1));
  const bounds = [ONE, ...uniqueSorted(inside, false), ZERO];
  for (let k = 0; k + 1 < bounds.length; k++) {
    const hi = bounds[k]!;
    const lo = bounds[k + 1]!;
    const { alpha, beta } = affinePiece(problem, ...interiorPoints(lo, hi));
    // A requirement that jumps at a breakpoint can cross the threshold right at the boundary.
    if (alpha.plus(beta.times(hi)).lessThanOrEqualTo(0)) return hi;
    if (alpha.plus(beta.times(lo)).lessThanOrEqualTo(0)) return alpha.negated().dividedBy(beta);
  }
  return null;
}

function searchUp(problem: ScaleProblem): Decimal | null {
  const inside = problem.curve.breakpoints.filter((b) => b.greaterThan(1));
  const bounds = [ONE, ...uniqueSorted(inside, true)];
  for (let k = 0; k < bounds.length; k++) {
    const lo = bounds[k]!;
    const hi = bounds[k + 1];
    const { alpha, beta } = affinePiece(problem, ...(hi ? interiorPoints(lo, hi) : ([lo.times(2), lo.times(3)] as const)));
    if (alpha.plus(beta.times(lo)).lessThanOrEqualTo(0)) return lo;
    if (hi ? alpha.plus(beta.times(hi)).lessThanOrEqualTo(0) : beta.isNegative()) {
      return alpha.negated().dividedBy(beta);
    }
  }
  return null;
}

export function solveScale(problem: ScaleProblem): ScaleRoots {
  if (gap(problem, ONE).lessThanOrEqualTo(0)) return { breached: true, down: ONE, up: ONE };
  return { breached: false, down: searchDown(problem), up: searchUp(problem) };
}

/** A uniform move, as a signed fraction (−0.2 = every price 20% lower). */
export interface Move {
  /** The nearest move that reaches the threshold, signed; 0 when already breached; null if none does. */
  move: Decimal | null;
  /** Size of the fall that reaches it (positive fraction), or null. */
  fall: Decimal | null;
  /** Size of the rise that reaches it (positive fraction), or null. */
  rise: Decimal | null;
}

export function rootsToMove(roots: ScaleRoots): Move {
  if (roots.breached) return { move: ZERO, fall: ZERO, rise: ZERO };
  const fall = roots.down === null ? null : ONE.minus(roots.down);
  const rise = roots.up === null ? null : roots.up.minus(ONE);
  let move: Decimal | null = null;
  if (fall !== null && (rise === null || fall.lessThanOrEqualTo(rise))) move = fall.negated();
  else if (rise !== null) move = rise;
  return { move, fall, rise };
}

/** The price a single position must reach (others unchanged) for the threshold, nearest side first. */
export function nearestScale(roots: ScaleRoots): Decimal | null {
  if (roots.breached) return ONE;
  const { down, up } = roots;
  if (down === null) return up;
  if (up === null) return down;
  return ONE.minus(down).lessThanOrEqualTo(up.minus(ONE)) ? down : up;
}
