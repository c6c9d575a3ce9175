import { Decimal } from '../../decimal.ts';
import type { Position } from '../../schemas/position.ts';
import { toEdge } from '../../decimal.ts';
import type { Book, BookRequirements, MarginModel } from '../model.ts';
import type { PositionRule } from '../model.ts';
import { hasOptions } from './contract.ts';
import { optionCurve } from './curve.ts';
import {
  optionBookRequirements,
  planPairing,
  quoteOf,
  type OptionBookRequirements,
  type PairingContext,
  type PairingPlan,
  type StrategyGroup,
} from './pairing.ts';

/**
 * The reg-t model with listed options: a book holding an option is margined strategy by strategy with the
 * optimal pairing (pairing.ts); a book without options goes to the linear model untouched (and keeps its
 * fast path). Option books decline the fast path (fast/summary.ts) and guard bands (bands/price-bands.ts):
 * their requirement is not a sum of per-position terms, so neither the compiled tables nor the per-position
 * band bound apply; the reference engine evaluates them on every tick.
 */

interface Prepared {
  ctx: PairingContext;
  plan: PairingPlan;
  today?: OptionBookRequirements;
}

const prepared = new WeakMap<readonly Position[], WeakMap<object, Prepared>>();

function prepare(book: Book<object>, rule: PositionRule): Prepared {
  let byParams = prepared.get(book.positions);
  if (!byParams) prepared.set(book.positions, (byParams = new WeakMap()));
  let p = byParams.get(book.params);
  if (!p || p.ctx.asOf !== book.asOf) {
    const ctx = { positions: book.positions, stockRule: rule, asOf: book.asOf };
    p = { ctx, plan: planPairing(ctx) };
    byParams.set(book.params, p);
  }
  return p;
}

/** The requirements and strategy grouping of an option book at today's prices. */
export function optionBookToday(book: Book<object>, rule: PositionRule): OptionBookRequirements {
  const p = prepare(book, rule);
  p.today ??= optionBookRequirements(p.ctx, p.plan, quoteOf(book.positions));
  return p.today;
}

/** The grouping as plain JSON (decimal strings), for the evaluation's details and the console. */
export function groupsToJson(groups: readonly StrategyGroup[]) {
  return groups.map((g) => ({
    strategy: g.strategy,
    underlying: g.underlying,
    units: toEdge(g.units),
    legs: g.legs.map((l) => ({ instrument: l.instrument, quantity: toEdge(l.quantity) })),
    initial: toEdge(g.initial),
    maintenance: toEdge(g.maintenance),
  }));
}

export function withOptions<P extends { callRatio: Decimal }>(
  linear: MarginModel<P>,
  ruleFor: (params: P) => PositionRule,
): MarginModel<P> {
  return {
    ...linear,
    requirements(book): BookRequirements {
      if (!hasOptions(book.positions)) return linear.requirements(book);
      const r = optionBookToday(book, ruleFor(book.params));
      return { perPosition: r.perPosition, initial: r.initial, maintenance: r.maintenance };
    },
    curve(book, moving, axis) {
      if (!hasOptions(book.positions)) return linear.curve(book, moving, axis);
      const rule = ruleFor(book.params);
      const p = prepare(book, rule);
      return optionCurve(p.ctx, p.plan, (i) => rule.priceBreakpoints(book.positions[i]!), moving, axis);
    },
    bandCurves(book, index) {
      if (!hasOptions(book.positions)) return linear.bandCurves(book, index);
      // Not a bound for joint moves (the requirement nets legs): priceBands declines option books first.
      throw new Error('guard bands decline option books (bands/price-bands.ts)');
    },
    funds(book, core) {
      const funds = linear.funds(book, core);
      if (!hasOptions(book.positions)) return funds;
      const r = optionBookToday(book, ruleFor(book.params));
      return {
        ...funds,
        details: {
          ...funds.details,
          optionStrategies: JSON.stringify(groupsToJson(r.groups)),
          optionPairingOptimal: r.optimal,
        },
      };
    },
  };
}
