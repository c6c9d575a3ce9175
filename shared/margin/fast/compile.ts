import { Decimal, ZERO } from '../../decimal.ts';
import type { Position } from '../../schemas/position.ts';
import { samplePoints, simplePointBetween } from '../axis-points.ts';
import { templateOf } from '../position-template.ts';
import type { PositionRule } from '../model.ts';
import { scaledOf, type Scaled } from './scaled.ts';

/**
 * One position's requirements as functions of its price: both affine on each piece between consecutive
 * breakpoints, piece k on (bps[k−1], bps[k]): maintenance = maintenanceA[k] + maintenanceB[k]·price,
 * initial likewise.
 */
export interface CompiledPosition {
  /** quantity · multiplier (signed). */
  readonly exposure: Scaled;
  /** exposure · avgCost, the entry value a derivative's equity subtracts; null without avgCost. */
  readonly entryValue: Scaled | null;
  /** Where either requirement may change slope, ascending and distinct. */
  readonly bps: readonly Decimal[];
  /** bps as float64, to place a price without decimal arithmetic. */
  readonly bpFloat: readonly number[];
  /** Whether bps[k] is a maintenance breakpoint: the solver crosses only those (see uniform-solver.ts). */
  readonly maintenanceBreak: readonly boolean[];
  readonly maintenanceA: readonly Scaled[];
  readonly maintenanceB: readonly Scaled[];
  readonly initialA: readonly Scaled[];
  readonly initialB: readonly Scaled[];
}

function uniqueSorted(points: readonly Decimal[]): Decimal[] {
  const sorted = points.filter((p) => p.greaterThan(0)).sort((x, y) => x.comparedTo(y));
  return sorted.filter((p, i) => i === 0 || !p.equals(sorted[i - 1]!));
}

/**
 * The line through the first two points, if its slope is a finite decimal and every other point lies on
 * it; as (intercept, slope).
 */
function line(xs: readonly Decimal[], ys: readonly Decimal[]): [Scaled, Scaled] | null {
  const [x1, x2] = [xs[0]!, xs[1]!];
  const rise = ys[1]!.minus(ys[0]!);
  const slope = rise.dividedBy(x2.minus(x1));
  if (!slope.times(x2.minus(x1)).equals(rise)) return null; // notional / 3, say
  const intercept = ys[0]!.minus(slope.times(x1));
  for (let j = 2; j < xs.length; j++) if (!intercept.plus(slope.times(xs[j]!)).equals(ys[j]!)) return null;
  return [scaledOf(intercept), scaledOf(slope)];
}

/**
 * Samples the rule twice on every piece and reads off exact coefficients; two more samples near the ends
 * must lie on the same lines, so a rule whose declared breakpoints miss a kink is caught here (no fast
 * path: null) instead of being evaluated wrongly.
 */
function compile(rule: PositionRule, position: Position): CompiledPosition | null {
  if (!rule.initialBreakpoints) return null;
  const exposureDecimal = position.quantity.times(position.multiplier);
  const maintenanceBps = uniqueSorted(rule.priceBreakpoints(position));
  const bps = uniqueSorted([...maintenanceBps, ...rule.initialBreakpoints(position)]);
  const compiled = {
    exposure: scaledOf(exposureDecimal),
    entryValue: position.avgCost === undefined ? null : scaledOf(exposureDecimal.times(position.avgCost)),
    bps,
    bpFloat: bps.map((p) => p.toNumber()),
    maintenanceBreak: bps.map((bp) => maintenanceBps.some((m) => m.equals(bp))),
    maintenanceA: [] as Scaled[],
    maintenanceB: [] as Scaled[],
    initialA: [] as Scaled[],
    initialB: [] as Scaled[],
  };
  for (let k = 0; k <= bps.length; k++) {
    const lo = bps[k - 1] ?? ZERO;
    const hi = bps[k];
    const [x1, x2] = samplePoints(lo, hi);
    const xs = [x1, x2, simplePointBetween(lo, x1), simplePointBetween(x2, hi ?? x2.times(1000))];
    const ys = xs.map((x) => rule.requirement(position, x));
    const maintenance = line(
      xs,
      ys.map((r) => r.maintenance),
    );
    const initial = line(
      xs,
      ys.map((r) => r.initial),
    );
    if (!maintenance || !initial) return null;
    compiled.maintenanceA.push(maintenance[0]);
    compiled.maintenanceB.push(maintenance[1]);
    compiled.initialA.push(initial[0]);
    compiled.initialB.push(initial[1]);
  }
  return compiled;
}

/** Positions compiled under a rule before, by identity. */
const byIdentity = new WeakMap<Position, Map<PositionRule, CompiledPosition | null>>();
/**
 * The same by content, for positions made afresh with the same static fields (a what-if fill changes one
 * quantity and keeps the rest; a replay re-prices every bar). Bounded per rule.
 */
const byContent = new WeakMap<PositionRule, Map<string, CompiledPosition | null>>();
const CONTENT_ENTRIES = 10_000;

/**
 * Everything a rule may read: all fields but the price and what only times the position. The instrument
 * is read (a tiered account's per-instrument tier tables), so it is part of the key.
 */
function contentKey(position: Position): string {
  return JSON.stringify(position, (key, value: unknown) =>
    key === 'price' || key === 'priceTime' || key === 'openedAt' ? undefined : value,
  );
}

/**
 * The position's compiled requirements under this rule (one rule per params object), by identity, then
 * by content. Rules must price from the price they are given, never from position.price, which is what
 * makes the tables valid for every later tick.
 */
export function compiledPosition(rule: PositionRule, position: Position): CompiledPosition | null {
  let byRule = byIdentity.get(position);
  if (!byRule) byIdentity.set(position, (byRule = new Map()));
  let result = byRule.get(rule);
  if (result === undefined) {
    let contents = byContent.get(rule);
    if (!contents) byContent.set(rule, (contents = new Map()));
    const key = contentKey(position);
    result = contents.get(key);
    if (result === undefined) {
      result = compile(rule, position);
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
