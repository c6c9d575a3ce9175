import { Decimal, ZERO } from '../../decimal.ts';
import { simplePointBetween } from '../axis-points.ts';
import type { CurveAxis, MaintenanceCurve } from '../model.ts';
import type { Position } from '../../schemas/position.ts';
import { isOption, nakedRates } from './contract.ts';
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
 * - on each interval between seeds, `kinksOn` tests affinity by five interior samples against the chord and
 *   the slopes just inside both ends (a 1e-24 relative tolerance: every value is an exact decimal sum except
 *   the chord's one division); a
 *   non-affine interval gets one kink solved from its end slopes when that point checks out on both
 *   sides, and is halved otherwise (the half point declared a breakpoint too: a breakpoint that is no
 *   kink costs the solver one more piece, never a wrong one).
 * - beyond the searched range ([0, 64 × the largest seed], the seeds including K / V for every moving option)
 *   the book is taken to be affine: every rule is affine once the underlying is far past every strike
 *   (calls deep in, puts deep out of the money) and option values far past every strike-sized constant.
 *
 * The search is sampled, so unlike the separable models' declared breakpoints this is a numerical
 * statement: test/unit/margin/options/curve.test.ts checks affinity between the returned breakpoints on
 * random books. Pricing is exact Decimal throughout; only the kink search is heuristic.
 */

const TOLERANCE = new Decimal('1e-24');
const FRACTIONS = ['0.0915', '0.2718281828', '0.5', '0.7071067812', '0.9182'].map((f) => new Decimal(f));
const MAX_DEPTH = 48;
const END_STEP = new Decimal('1e-7');

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
    if (!u1.equals(u0))
      for (const u of underlyingKinks(p)) seeds.push(axis === 'price' ? u : u.dividedBy(u0));
    // Option values scale with x too: a value term meets a strike-sized constant (a spread's width, a 10%
    // minimum) near x = K / V, far out when the option is cheap; the searched range must reach it.
    const i = positions.indexOf(p);
    if (axis === 'scale' && moving.includes(i))
      seeds.push(p.strike!.dividedBy(p.price), p.strike!.times('0.1').dividedBy(p.price));
    // On the price axis the range must reach past every strike and underlying price.
    if (axis === 'price') seeds.push(p.strike!, u0);
  }
  return seeds.filter((s) => s.isFinite() && s.greaterThan(0));
}

/**
 * Underlying prices where one of an option's own formulas kinks: the strike (in / out of the money); the
 * uncovered call's and put's switch to their 10% minimums (rate·U − (K − U) = min·U → U = K / (1 + rate − min);
 * rate·U − (U − K) = min·K → U = K(1 − min) / (1 − rate)); a protective put's or call's switch between 10% of
 * the strike plus the OTM amount and the stock's own 25% / 30% / $5 a share. Grouping switches between them
 * are found by the search.
 */
function underlyingKinks(p: Position): Decimal[] {
  const k = p.strike!;
  const { rate, minimumRate } = nakedRates(p);
  const out = [k, k.dividedBy(new Decimal(1).plus(rate).minus(minimumRate))];
  if (rate.lessThan(1))
    out.push(k.times(new Decimal(1).minus(minimumRate)).dividedBy(new Decimal(1).minus(rate)));
  const tenth = k.times('0.1');
  out.push(
    k.times('0.9').dividedBy('0.75'), // 0.1K + (U − K) = 0.25U
    tenth.dividedBy('0.25'), // 0.1K = 0.25U
    k.times('1.1').dividedBy('1.3'), // 0.1K + (K − U) = 0.30U
    tenth.dividedBy('0.3'), // 0.1K = 0.30U
    k.times('1.1').minus(5), // 0.1K + (K − U) = $5
  );
  return out.filter((u) => u.greaterThan(0));
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

/**
 * Affine on [l, r]? The chord must match at five interior points and the slopes just inside both ends
 * (a step of 1e-7 of the width). Between seeds that hold every formula kink, each grouping's total is affine
 * and the optimum, their minimum, is concave: a concave function on its chord at one interior point is
 * affine, so the test is then exact. Kinks the seeds miss (a straddle's sides crossing, a group floored at
 * 0) leave a dip that returns to the chord undetected only if it lies between the samples.
 */
function affineOn(at: (x: Decimal) => Decimal, l: Decimal, r: Decimal): boolean {
  const fl = at(l);
  const fr = at(r);
  const width = r.minus(l);
  const scale = fl.abs().plus(fr.abs()).plus(1);
  const near = (a: Decimal, b: Decimal) => a.minus(b).abs().lessThanOrEqualTo(scale.times(TOLERANCE));
  const onChord = FRACTIONS.every((f) => near(at(l.plus(width.times(f))), fl.plus(fr.minus(fl).times(f))));
  if (!onChord) return false;
  const h = width.times(END_STEP);
  return (
    near(at(l.plus(h)), fl.plus(fr.minus(fl).times(END_STEP))) &&
    near(at(r.minus(h)), fr.minus(fr.minus(fl).times(END_STEP)))
  );
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
