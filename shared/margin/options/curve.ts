import { Decimal, ZERO } from '../../decimal.ts';
import { simplePointBetween } from '../axis-points.ts';
import type { CurveAxis, MaintenanceCurve } from '../model.ts';
import { isOption } from './contract.ts';
import { optionBookRequirements, quoteOf, type PairingContext, type PairingPlan } from './pairing.ts';
import type { Quote } from './strategies.ts';

/**
 * The maintenance requirement of an option book along a solver axis (model.ts CurveAxis), for the distance
 * to call.
 *
 * Along either axis every strategy's requirement is a continuous piecewise-affine function of x (maxima and
 * minima of terms linear in the underlying's and the options' prices), and the optimal pairing is the minimum
 * over groupings of their sums: still continuous and piecewise affine, but its kinks include the points where
 * the best grouping changes, which no formula lists. They are found from the function itself:
 *
 * - seeds: the points any one formula can kink at that are known in advance (each strike over today's
 *   underlying, the stock rule's own breakpoints), and the ends of the searched range;
 * - on each interval between seeds, `kinksOn` tests affinity by three interior samples against the chord
 *   (a 1e-24 relative tolerance: every value is an exact decimal sum except the chord's one division); a
 *   non-affine interval gets one kink solved from its end slopes when that point checks out on both
 *   sides, and is halved otherwise (the half point declared a breakpoint too: a breakpoint that is no
 *   kink costs the solver one more piece, never a wrong one).
 * - beyond the searched range ([0, 64 × the largest seed]) the book is taken to be affine: every rule is
 *   affine once the underlying is far past every strike (calls deep in, puts deep out of the money).
 *
 * The search is sampled, so unlike the separable models' declared breakpoints this is a numerical
 * statement: test/unit/margin/options/curve.test.ts checks affinity between the returned breakpoints on
 * random books. Pricing is exact Decimal throughout; only the kink search is heuristic.
 */

const TOLERANCE = new Decimal('1e-24');
const FRACTIONS = [new Decimal('0.2718281828'), new Decimal('0.5'), new Decimal('0.7071067812')];
const MAX_DEPTH = 48;

export function optionCurve(
  ctx: PairingContext,
  plan: PairingPlan,
  stockBreakpoints: (index: number) => Decimal[],
  moving: readonly number[],
  axis: CurveAxis = 'scale',
): MaintenanceCurve {
  const positions = ctx.positions;
  const movingSet = new Set(moving);
  const base = quoteOf(positions);
  // Underlyings priced by `underlyingPrice` move with a uniform scale when every option on them moves.
  const unheld = new Set<string>();
  const held = new Set(positions.filter((p) => !isOption(p)).map((p) => p.instrument));
  for (const p of positions) if (isOption(p) && !held.has(p.underlying!)) unheld.add(p.underlying!);
  const scaledUnderlyings = new Set(
    axis === 'scale'
      ? [...unheld].filter((u) =>
          positions.every((p, i) => !isOption(p) || p.underlying !== u || movingSet.has(i)),
        )
      : [],
  );

  const quoteAt = (x: Decimal): Quote => ({
    price: (i) =>
      movingSet.has(i) ? (axis === 'price' ? x : positions[i]!.price.times(x)) : positions[i]!.price,
    underlying: (name) => {
      if (held.has(name)) {
        const i = positions.findIndex((p) => p.instrument === name && !isOption(p));
        return movingSet.has(i) ? (axis === 'price' ? x : positions[i]!.price.times(x)) : positions[i]!.price;
      }
      const u = base.underlying(name);
      return scaledUnderlyings.has(name) ? u.times(x) : u;
    },
  });
  const memo = new Map<string, Decimal>();
  const at = (x: Decimal): Decimal => {
    const key = x.toString();
    let value = memo.get(key);
    if (value === undefined) {
      value = optionBookRequirements(ctx, plan, quoteAt(x)).maintenance;
      if (memo.size < 20_000) memo.set(key, value);
    }
    return value;
  };

  let breakpoints: Decimal[] | undefined;
  return {
    at,
    get breakpoints() {
      breakpoints ??= findBreakpoints(at, seedsFor(ctx, stockBreakpoints, moving, axis, quoteAt));
      return breakpoints;
    },
  };
}

/** Known kink candidates on the axis, positive. */
function seedsFor(
  ctx: PairingContext,
  stockBreakpoints: (index: number) => Decimal[],
  moving: readonly number[],
  axis: CurveAxis,
  quoteAt: (x: Decimal) => Quote,
): Decimal[] {
  const positions = ctx.positions;
  const one = quoteAt(new Decimal(1));
  const seeds: Decimal[] = [];
  const unit = (i: number) => (axis === 'price' ? new Decimal(1) : positions[i]!.price);
  for (const i of moving) {
    const p = positions[i]!;
    if (!isOption(p))
      for (const b of stockBreakpoints(i)) if (b.greaterThan(0)) seeds.push(b.dividedBy(unit(i)));
    seeds.push(axis === 'price' ? p.price : new Decimal(1));
  }
  for (const p of positions) {
    if (!isOption(p)) continue;
    const u0 = one.underlying(p.underlying!);
    const u1 = quoteAt(new Decimal(2)).underlying(p.underlying!);
    // The underlying moves with x when its price at x = 2 differs from x = 1: it is u0·x (scale) or x (price).
    if (!u1.equals(u0)) seeds.push(axis === 'price' ? p.strike! : p.strike!.dividedBy(u0));
    // On the price axis the range must reach past every strike and underlying price.
    if (axis === 'price') seeds.push(p.strike!, u0);
  }
  return seeds.filter((s) => s.isFinite() && s.greaterThan(0));
}

function findBreakpoints(at: (x: Decimal) => Decimal, seeds: readonly Decimal[]): Decimal[] {
  const sorted = [...new Map(seeds.map((s) => [s.toString(), s])).values()].sort((a, b) => a.comparedTo(b));
  const top = sorted[sorted.length - 1]!.times(64);
  const points = [ZERO, ...sorted, top];
  const out: Decimal[] = [];
  for (let k = 0; k + 1 < points.length; k++) {
    const [l, r] = [points[k]!, points[k + 1]!];
    if (!r.greaterThan(l)) continue;
    if (k > 0) out.push(l);
    out.push(...kinksOn(at, l, r, 0));
  }
  out.push(top);
  return [...new Map(out.filter((x) => x.greaterThan(0)).map((x) => [x.toString(), x])).values()].sort(
    (a, b) => a.comparedTo(b),
  );
}

function affineOn(at: (x: Decimal) => Decimal, l: Decimal, r: Decimal): boolean {
  const fl = at(l);
  const fr = at(r);
  const width = r.minus(l);
  const scale = fl.abs().plus(fr.abs()).plus(1);
  return FRACTIONS.every((f) => {
    const x = l.plus(width.times(f));
    const chord = fl.plus(fr.minus(fl).times(f));
    return at(x).minus(chord).abs().lessThanOrEqualTo(scale.times(TOLERANCE));
  });
}

export function kinksOn(at: (x: Decimal) => Decimal, l: Decimal, r: Decimal, depth: number): Decimal[] {
  if (affineOn(at, l, r)) return [];
  if (depth >= MAX_DEPTH) return [simplePointBetween(l, r)];
  // One kink: where the lines through each end meet, if the function is affine on both sides of it.
  const h = r.minus(l).times('1e-9');
  const fl = at(l);
  const fr = at(r);
  const sl = at(l.plus(h)).minus(fl).dividedBy(h);
  const sr = fr.minus(at(r.minus(h))).dividedBy(h);
  if (!sl.equals(sr)) {
    const k = fr.minus(fl).plus(sl.times(l)).minus(sr.times(r)).dividedBy(sl.minus(sr));
    if (k.greaterThan(l) && k.lessThan(r) && affineOn(at, l, k) && affineOn(at, k, r)) return [k];
  }
  const m = simplePointBetween(l, r);
  return [...kinksOn(at, l, m, depth + 1), m, ...kinksOn(at, m, r, depth + 1)];
}
