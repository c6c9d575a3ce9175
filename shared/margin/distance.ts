import { Decimal, ONE, ZERO } from '../decimal.ts';
import { samplePoints } from './axis-points.ts';
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
  /** Where today is on the axis: 1 for a scale factor, the current price when solving in price. */
  origin?: Decimal;
}

export interface ScaleRoots {
  /** True when gap(origin) ≤ 0: already at or past the threshold; both roots are then the origin. */
  breached: boolean;
  origin: Decimal;
  /** The highest point ≤ origin with gap ≤ 0 (prices falling), or null if no fall to zero reaches it. */
  down: Decimal | null;
  /** The lowest point ≥ origin with gap ≤ 0 (prices rising), or null if no rise reaches it. */
  up: Decimal | null;
}

function gap(problem: ScaleProblem, s: Decimal): Decimal {
  return problem.equityConstant
    .plus(problem.equitySlope.times(s))
    .minus(problem.threshold.times(problem.curve.at(s)));
}

/** gap() on one segment, as alpha + beta·x. */
interface Piece {
  alpha: Decimal;
  beta: Decimal;
}

/**
 * gap() is affine inside a segment. From the model's own affine form when it has one; otherwise from
 * two samples at few-digit points, so the samples are exact and the root needs a single division.
 */
function pieceOn(problem: ScaleProblem, lo: Decimal, hi: Decimal | undefined): Piece {
  const { equityConstant, equitySlope, threshold, curve } = problem;
  if (curve.affineAfter) {
    const { a, b } = curve.affineAfter(lo);
    return { alpha: equityConstant.minus(threshold.times(a)), beta: equitySlope.minus(threshold.times(b)) };
  }
  const [x1, x2] = samplePoints(lo, hi);
  const g1 = gap(problem, x1);
  const beta = gap(problem, x2).minus(g1).dividedBy(x2.minus(x1));
  return { alpha: g1.minus(beta.times(x1)), beta };
}

function reachedAt(p: Piece, x: Decimal): boolean {
  return p.alpha.plus(p.beta.times(x)).lessThanOrEqualTo(0);
}

function rootOf(p: Piece): Decimal {
  return p.alpha.negated().dividedBy(p.beta);
}

function uniqueSorted(points: Decimal[], ascending: boolean): Decimal[] {
  const sorted = [...points].sort((a, b) => (ascending ? a.comparedTo(b) : b.comparedTo(a)));
  return sorted.filter((p, i) => i === 0 || !p.equals(sorted[i - 1]!));
}

function searchDown(problem: ScaleProblem, origin: Decimal): Decimal | null {
  const inside = problem.curve.breakpoints.filter((b) => b.greaterThan(0) && b.lessThan(origin));
  const bounds = [origin, ...uniqueSorted(inside, false), ZERO];
  for (let k = 0; k + 1 < bounds.length; k++) {
    const hi = bounds[k]!;
    const lo = bounds[k + 1]!;
    const p = pieceOn(problem, lo, hi);
    // A requirement that jumps at a breakpoint can cross the threshold right at the boundary.
    if (reachedAt(p, hi)) return hi;
    if (reachedAt(p, lo)) return rootOf(p);
  }
  return null;
}

function searchUp(problem: ScaleProblem, origin: Decimal): Decimal | null {
  const inside = problem.curve.breakpoints.filter((b) => b.greaterThan(origin));
  const bounds = [origin, ...uniqueSorted(inside, true)];
  for (let k = 0; k < bounds.length; k++) {
    const lo = bounds[k]!;
    const hi = bounds[k + 1];
    const p = pieceOn(problem, lo, hi);
    if (reachedAt(p, lo)) return lo;
    if (hi ? reachedAt(p, hi) : p.beta.isNegative()) return rootOf(p);
  }
  return null;
}

/** Caches a curve's samples and pieces: the call and zero-equity searches visit the same ones. */
export function sharedSamples(curve: MaintenanceCurve): MaintenanceCurve {
  const memo = <T>(fn: (x: Decimal) => T) => {
    const seen = new Map<string, T>();
    return (x: Decimal): T => {
      const key = x.toString();
      let value = seen.get(key);
      if (value === undefined) seen.set(key, (value = fn(x)));
      return value;
    };
  };
  const affineAfter = curve.affineAfter;
  return {
    breakpoints: curve.breakpoints,
    at: memo((x) => curve.at(x)),
    ...(affineAfter ? { affineAfter: memo((x) => affineAfter(x)) } : {}),
  };
}

export function solveScale(problem: ScaleProblem): ScaleRoots {
  const origin = problem.origin ?? ONE;
  if (gap(problem, origin).lessThanOrEqualTo(0)) return { breached: true, origin, down: origin, up: origin };
  return { breached: false, origin, down: searchDown(problem, origin), up: searchUp(problem, origin) };
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

const NO_MOVE: Move = { move: null, fall: null, rise: null };
const ALREADY: Move = { move: ZERO, fall: ZERO, rise: ZERO };

/**
 * The distance of a flat book (no exposure): no price move changes its equity or its requirement, so no
 * move reaches the call or zero equity (null: "none", never "now"), unless the account is already past
 * it — a debit with nothing held is in a call below zero equity whatever prices do (0: already).
 */
export function flatBookDistance(inMarginCall: boolean, equity: Decimal): { call: Move; zeroEquity: Move } {
  return { call: inMarginCall ? ALREADY : NO_MOVE, zeroEquity: equity.isNegative() ? ALREADY : NO_MOVE };
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

/** The nearest point on either side of the origin that reaches the threshold. */
export function nearestRoot(roots: ScaleRoots): Decimal | null {
  const { down, up, origin } = roots;
  if (down === null) return up;
  if (up === null) return down;
  return origin.minus(down).lessThanOrEqualTo(up.minus(origin)) ? down : up;
}
