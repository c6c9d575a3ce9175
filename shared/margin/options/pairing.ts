import { Decimal, ZERO, max, sum } from '../../decimal.ts';
import { InputError } from '../../errors.ts';
import type { Position } from '../../schemas/position.ts';
import type { Requirement } from '../model.ts';
import type { PositionRule } from '../model.ts';
import {
  candidateStrategies,
  legsOf,
  standaloneCost,
  standaloneKind,
  type Leg,
  type Quote,
  type StrategyInstance,
  type StrategyKind,
} from './strategies.ts';

/**
 * Optimal strategy pairing (issue 27).
 *
 * Problem. Legs are the book's positions (option contracts; stock in quantity units). A strategy instance
 * takes a fixed number of units of each of its legs (strategies.ts); whatever is not paired is margined on
 * its own (long option, uncovered short, plain stock). Every requirement is linear in the number of units,
 * so with x_t ≥ 0 integer units of instance t:
 *     total(x) = Σ_legs standalone_i · |q_i| − Σ_t x_t · saving_t,   saving_t = Σ_i a_ti · standalone_i − cost_t
 *     subject to Σ_t a_ti · x_t ≤ |q_i| for every leg i.
 * Minimising the total is the integer program max Σ x_t · saving_t over that polytope; instances with
 * saving_t ≤ 0 never help (dropping one never raises the total) and are left out.
 *
 * Algorithm. Strategies never span underlyings, so each underlying is solved alone. Within one, a
 * depth-first branch and bound over the instances in order of saving per unit: at depth t it tries
 * x_t = the most that fits, then fewer, down to 0; a node is cut when its saving plus the bound
 * Σ_{j ≥ t} saving_j · (the most of j that fits in what is left) cannot beat the best found. The bound never
 * underestimates (every later instance is bounded by the capacity left, ignoring the others), so the search
 * is exact; the first dive is the greedy pairing, so a good incumbent is found at once. A node whose
 * capacities left at its depth were already reached with at least its saving is cut too (its completions
 * are the same). A node budget
 * (SEARCH_BUDGET) stops pathological books: the best pairing found is used and `optimal: false` is reported.
 * test/property/option-pairing.property.test.ts checks the result against exhaustive enumeration of every
 * valid pairing on books of up to 8 legs.
 *
 * The pairing minimises maintenance (what a margin call is judged by); initial is computed for the same
 * grouping.
 */

export const SEARCH_BUDGET = 200_000;
const MEMO_LIMIT = 100_000;

export interface PairingProblem {
  /** Units of each leg that may be paired. */
  capacity: readonly number[];
  instances: readonly { uses: readonly (readonly [number, number])[]; saving: Decimal }[];
}

export interface PairingSolution {
  units: number[];
  saving: Decimal;
  optimal: boolean;
}

function fits(uses: readonly (readonly [number, number])[], left: readonly number[]): number {
  let most = Infinity;
  for (const [leg, n] of uses) most = Math.min(most, Math.floor(left[leg]! / n));
  return most === Infinity ? 0 : most;
}

/** max Σ x_t · saving_t subject to the capacities (see above). Deterministic: ties keep the first found. */
export function maximiseSavings(problem: PairingProblem, budget = SEARCH_BUDGET): PairingSolution {
  const order = problem.instances
    .map((inst, t) => ({ ...inst, t }))
    .filter((inst) => inst.saving.greaterThan(0))
    .sort((a, b) => b.saving.comparedTo(a.saving) || a.t - b.t);
  const left = [...problem.capacity];
  const x = new Array<number>(problem.instances.length).fill(0);
  let best: PairingSolution = { units: [...x], saving: ZERO, optimal: true };
  let nodes = 0;
  let stopped = false;
  const visited = new Map<string, Decimal>();

  const bound = (from: number) => {
    let b = ZERO;
    for (let j = from; j < order.length; j++) {
      const most = fits(order[j]!.uses, left);
      if (most > 0) b = b.plus(order[j]!.saving.times(most));
    }
    return b;
  };
  const dive = (depth: number, saving: Decimal) => {
    if (stopped) return;
    if (++nodes > budget) {
      stopped = true;
      return;
    }
    if (saving.greaterThan(best.saving)) best = { units: [...x], saving, optimal: true };
    if (depth === order.length) return;
    // The same capacities left at the same depth have the same completions: one reached with no more
    // saving cannot do better (exact dominance, so the search stays exact).
    const key = `${depth}:${left.join(',')}`;
    const seen = visited.get(key);
    if (seen !== undefined && seen.greaterThanOrEqualTo(saving)) return;
    if (visited.size < MEMO_LIMIT) visited.set(key, saving);
    if (!saving.plus(bound(depth)).greaterThan(best.saving)) return;
    const inst = order[depth]!;
    for (let u = fits(inst.uses, left); u >= 0; u--) {
      for (const [leg, n] of inst.uses) left[leg]! -= u * n;
      x[inst.t] = u;
      dive(depth + 1, u === 0 ? saving : saving.plus(inst.saving.times(u)));
      x[inst.t] = 0;
      for (const [leg, n] of inst.uses) left[leg]! += u * n;
      if (stopped) break;
    }
  };
  dive(0, ZERO);
  return { ...best, optimal: !stopped };
}

export interface StrategyGroup {
  strategy: StrategyKind;
  underlying: string;
  /** How many units of the strategy. */
  units: Decimal;
  /** Signed quantities of each position the group takes (contracts; stock in its quantity units). */
  legs: { instrument: string; quantity: Decimal }[];
  initial: Decimal;
  maintenance: Decimal;
}

export interface OptionBookRequirements {
  perPosition: Requirement[];
  initial: Decimal;
  maintenance: Decimal;
  groups: StrategyGroup[];
  optimal: boolean;
}

export interface PairingContext {
  positions: readonly Position[];
  stockRule: PositionRule;
  asOf: string;
}

/** Per underlying: legs and candidate strategies, computed once per book (prices do not change them). */
export interface PairingPlan {
  legs: Leg[];
  byUnderlying: { legs: Leg[]; candidates: StrategyInstance[] }[];
}

const underlyingOf = (leg: Leg) => leg.contract?.underlying ?? leg.position.instrument;

export function planPairing(ctx: PairingContext): PairingPlan {
  const legs = legsOf(ctx.positions);
  const groups = new Map<string, Leg[]>();
  for (const leg of legs) {
    const key = underlyingOf(leg);
    let list = groups.get(key);
    if (!list) groups.set(key, (list = []));
    list.push(leg);
  }
  return {
    legs,
    byUnderlying: [...groups.values()].map((group) => ({
      legs: group,
      candidates: group.some((l) => l.contract) ? candidateStrategies(group, ctx.stockRule) : [],
    })),
  };
}

/** Whole units a leg can give to strategies (options are whole contracts; a fractional stock remainder stays alone). */
function capacityOf(leg: Leg): number {
  const q = leg.position.quantity.abs().floor();
  return q.greaterThan(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : q.toNumber();
}

/** The requirements of an option book at the quote's prices, with the optimal grouping (see above). */
export function optionBookRequirements(
  ctx: PairingContext,
  plan: PairingPlan,
  quote: Quote,
): OptionBookRequirements {
  const perPosition: Requirement[] = ctx.positions.map(() => ({ initial: ZERO, maintenance: ZERO }));
  const groups: StrategyGroup[] = [];
  let optimal = true;
  for (const { legs, candidates } of plan.byUnderlying) {
    const local = new Map(legs.map((l, k) => [l.index, k]));
    const unit = legs.map((l) => standaloneCost(l, quote, ctx.stockRule, ctx.asOf));
    const costs = candidates.map((c) => c.cost(quote));
    const solution = maximiseSavings({
      capacity: legs.map(capacityOf),
      instances: candidates.map((c, t) => ({
        uses: c.legs.map((l) => [local.get(l.index)!, l.perUnit] as const),
        saving: sum(c.legs.map((l) => unit[local.get(l.index)!]!.maintenance.times(l.perUnit))).minus(
          costs[t]!.maintenance,
        ),
      })),
    });
    optimal &&= solution.optimal;
    const used = legs.map(() => ZERO);
    candidates.forEach((c, t) => {
      const n = solution.units[t]!;
      if (n === 0) return;
      const units = new Decimal(n);
      for (const l of c.legs)
        used[local.get(l.index)!] = used[local.get(l.index)!]!.plus(units.times(l.perUnit));
      const cost = costs[t]!;
      const group: StrategyGroup = {
        strategy: c.kind,
        underlying: c.underlying,
        units,
        legs: c.legs.map((l) => {
          const leg = legs[local.get(l.index)!]!;
          return { instrument: leg.position.instrument, quantity: units.times(l.perUnit).times(leg.sign) };
        }),
        initial: cost.initial.times(units),
        maintenance: cost.maintenance.times(units),
      };
      groups.push(group);
      // The group's requirement is shown on its first short option (what it margins), else its first leg.
      const anchor =
        c.legs.find((l) => legs[local.get(l.index)!]!.sign < 0 && legs[local.get(l.index)!]!.contract) ??
        c.legs[0]!;
      const r = perPosition[anchor.index]!;
      perPosition[anchor.index] = {
        initial: r.initial.plus(group.initial),
        maintenance: r.maintenance.plus(group.maintenance),
      };
    });
    legs.forEach((leg, k) => {
      const rest = leg.position.quantity.abs().minus(used[k]!);
      if (rest.isZero()) return;
      const alone = leg.contract
        ? { initial: unit[k]!.initial.times(rest), maintenance: unit[k]!.maintenance.times(rest) }
        : ctx.stockRule.requirement(
            { ...leg.position, quantity: rest.times(leg.sign) },
            quote.price(leg.index),
          );
      groups.push({
        strategy: standaloneKind(leg),
        underlying: underlyingOf(leg),
        units: rest,
        legs: [{ instrument: leg.position.instrument, quantity: rest.times(leg.sign) }],
        initial: max(alone.initial, alone.maintenance),
        maintenance: alone.maintenance,
      });
      const r = perPosition[leg.index]!;
      perPosition[leg.index] = {
        initial: r.initial.plus(max(alone.initial, alone.maintenance)),
        maintenance: r.maintenance.plus(alone.maintenance),
      };
    });
  }
  return {
    perPosition,
    initial: sum(perPosition.map((r) => r.initial)),
    maintenance: sum(perPosition.map((r) => r.maintenance)),
    groups,
    optimal,
  };
}

/** Today's prices: each position's own, each underlying's from the held position or `underlyingPrice`. */
export function quoteOf(positions: readonly Position[], prices?: readonly Decimal[]): Quote {
  const price = (i: number) => prices?.[i] ?? positions[i]!.price;
  const held = new Map<string, number>();
  positions.forEach((p, i) => {
    if (p.instrumentType !== 'option') held.set(p.instrument, i);
  });
  const given = new Map<string, Decimal>();
  for (const p of positions)
    if (p.instrumentType === 'option' && p.underlying && p.underlyingPrice && !given.has(p.underlying))
      given.set(p.underlying, p.underlyingPrice);
  return {
    price,
    underlying(name) {
      const i = held.get(name);
      if (i !== undefined) return price(i);
      const u = given.get(name);
      if (!u) {
        // optionBookIssues names this at parse; a book built another way (a planner's fills) meets it here.
        const at = positions.findIndex((p) => p.instrumentType === 'option' && p.underlying === name);
        throw InputError.single(
          `positions[${at}].underlyingPrice`,
          `required: the book does not hold ${name}`,
        );
      }
      return u;
    },
  };
}
