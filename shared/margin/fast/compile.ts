import { Decimal, ZERO } from '../../decimal.ts';
import type { Position } from '../../schemas/position.ts';
import { samplePoints, simplePointBetween } from '../axis-points.ts';
import { templateOf } from '../position-template.ts';
import type { PositionRule } from '../separable.ts';
import { scaledOf, type Scaled } from './scaled.ts';

/**
 * One requirement (maintenance or initial) of one position as a function of its price: affine on each
 * piece between consecutive breakpoints, piece k = a[k] + b[k]·price on (bps[k−1], bps[k]).
 */
export interface CompiledCurve {
  readonly bps: readonly Decimal[];
  /** bps as float64 (correctly rounded), to place a price without decimal arithmetic. */
  readonly bpFloat: readonly number[];
  readonly a: readonly Scaled[];
  readonly b: readonly Scaled[];
}

export interface CompiledPosition {
  /** quantity · multiplier (signed). */
  readonly exposure: Scaled;
  /** exposure · avgCost, the entry value a derivative's equity subtracts; null without avgCost. */
  readonly entryValue: Scaled | null;
  readonly maintenance: CompiledCurve;
  readonly initial: CompiledCurve;
}

function uniqueSorted(points: readonly Decimal[]): Decimal[] {
  const sorted = points.filter((p) => p.greaterThan(0)).sort((x, y) => x.comparedTo(y));
  return sorted.filter((p, i) => i === 0 || !p.equals(sorted[i - 1]!));
}

/**
 * Samples the rule on every piece and reads off exact coefficients. Returns null (no fast path) when a
 * coefficient is not a short finite decimal or when a third and fourth sample are off the line: a rule
 * whose declared breakpoints miss a kink is caught here instead of being evaluated wrongly.
 */
function compileCurve(
  at: (price: Decimal) => Decimal,
  breakpoints: readonly Decimal[],
): CompiledCurve | null {
  const bps = uniqueSorted(breakpoints);
  const a: Scaled[] = [];
  const b: Scaled[] = [];
  for (let k = 0; k <= bps.length; k++) {
    const lo = bps[k - 1] ?? ZERO;
    const hi = bps[k];
    const [x1, x2] = samplePoints(lo, hi);
    const checks = [simplePointBetween(lo, x1), simplePointBetween(x2, hi ?? x2.times(1000))];
    const y1 = at(x1);
    const rise = at(x2).minus(y1);
    const slope = rise.dividedBy(x2.minus(x1));
    if (!slope.times(x2.minus(x1)).equals(rise)) return null; // not a finite decimal slope
    const intercept = y1.minus(slope.times(x1));
    if (checks.some((x) => !intercept.plus(slope.times(x)).equals(at(x)))) return null;
    const sa = scaledOf(intercept);
    const sb = scaledOf(slope);
    if (!sa || !sb) return null;
    a.push(sa);
    b.push(sb);
  }
  return { bps, bpFloat: bps.map((p) => p.toNumber()), a, b };
}

function compile(rule: PositionRule, position: Position): CompiledPosition | null {
  if (!rule.initialBreakpoints) return null;
  const exposureDecimal = position.quantity.times(position.multiplier);
  const exposure = scaledOf(exposureDecimal);
  const entryValue =
    position.avgCost === undefined ? null : scaledOf(exposureDecimal.times(position.avgCost));
  if (!exposure || (position.avgCost !== undefined && !entryValue)) return null;
  const maintenance = compileCurve(
    (price) => rule.requirement(position, price).maintenance,
    rule.priceBreakpoints(position),
  );
  const initial = compileCurve(
    (price) => rule.requirement(position, price).initial,
    rule.initialBreakpoints(position),
  );
  return maintenance && initial ? { exposure, entryValue, maintenance, initial } : null;
}

/** Positions priced by a rule before, by identity (the template a re-priced position was copied from). */
const byIdentity = new WeakMap<Position, Map<PositionRule, CompiledPosition | null>>();
/**
 * The same by content, for positions made afresh with the same static fields (a what-if fill changes one
 * quantity and keeps the rest; a replay re-prices every bar). Bounded per rule.
 */
const byContent = new WeakMap<PositionRule, Map<string, CompiledPosition | null>>();
const CONTENT_ENTRIES = 10_000;

/** Everything a rule may read: all fields but the price and what only names or times the position. */
function contentKey(position: Position): string {
  return JSON.stringify(position, (key, value: unknown) =>
    key === 'price' || key === 'priceTime' || key === 'instrument' || key === 'openedAt' ? undefined : value,
  );
}

/**
 * The position's compiled requirements under this rule, built once per stored version of the position
 * (keyed by its template) and rule (one per params object). Rules must price from the price they are
 * given, never from position.price, which is what makes the tables valid for every later tick.
 */
export function compiledPosition(rule: PositionRule, position: Position): CompiledPosition | null {
  const template = templateOf(position);
  let byRule = byIdentity.get(template);
  if (!byRule) byIdentity.set(template, (byRule = new Map()));
  let result = byRule.get(rule);
  if (result === undefined) {
    let contents = byContent.get(rule);
    if (!contents) byContent.set(rule, (contents = new Map()));
    const key = contentKey(template);
    result = contents.get(key);
    if (result === undefined) {
      result = compile(rule, template);
      if (contents.size >= CONTENT_ENTRIES) contents.delete(contents.keys().next().value!);
      contents.set(key, result);
    }
    byRule.set(rule, result);
  }
  return result;
}

const byBook = new WeakMap<
  readonly Position[],
  { rule: PositionRule; compiled: (CompiledPosition | null)[] }
>();

/** Every position of a book, with one lookup when the book is a re-priced stored version seen before. */
export function compiledPositions(
  rule: PositionRule,
  positions: readonly Position[],
): readonly (CompiledPosition | null)[] {
  const template = templateOf(positions);
  const hit = byBook.get(template);
  if (hit && hit.rule === rule) return hit.compiled;
  const compiled = positions.map((p) => compiledPosition(rule, p));
  byBook.set(template, { rule, compiled });
  return compiled;
}
