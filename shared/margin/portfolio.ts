import { z } from 'zod';
import { Decimal, ZERO, max, sum } from '../decimal.ts';
import { decimalString } from '../schemas/decimal-string.ts';
import { ASSET_CLASSES, type AssetClass, type Position } from '../schemas/position.ts';
import { commonParamsShape, rateParam } from './common-params.ts';
import type { Book, CommonParams, MarginModel, Requirement } from './model.ts';
import { notionalAt } from './separable.ts';

/**
 * Scenario-based portfolio margin: the requirement is the worst loss of the whole book over a set of
 * price shocks, so hedges offset, floored by a per-position minimum so a perfect hedge still costs
 * something. Shocks to an asset class move a leveraged/inverse ETF by its factor.
 */
const shock = decimalString.refine((d) => d.greaterThan(-1), { error: 'a shock must be above -1 (-100%)' });

const scenarioSchema = z.object({
  name: z.string().min(1),
  /** Keyed by instrument (its own move) or asset class (the market move, scaled by leverage factor). */
  shocks: z.record(z.string(), shock),
});

export const portfolioParamsSchema = z
  .object({
    ...commonParamsShape,
    /** Default shock range per asset class: scenarios span −range…+range. */
    ranges: z
      .object({ equity: rateParam('0.15'), crypto: rateParam('0.40'), future: rateParam('0.20') })
      .strict()
      .default(() => ({ equity: new Decimal('0.15'), crypto: new Decimal('0.40'), future: new Decimal('0.20') })),
    /** Points on each side of zero in the default grid (5 → ±3%, ±6% … ±15% for equities). */
    steps: z.number().int().min(1).max(20).default(5),
    /** Custom scenarios replace the default grid. */
    scenarios: z.array(scenarioSchema).min(1).optional(),
    /** Per-position floor as a fraction of its market value. */
    minimumRate: rateParam('0.025'),
    /** Initial requirement as a multiple of the scenario requirement. */
    initialMultiplier: decimalString.refine((d) => d.greaterThanOrEqualTo(1), { error: 'must be at least 1' }).default(() => new Decimal(1)),
  })
  .strict();

export type PortfolioParams = z.output<typeof portfolioParamsSchema> & CommonParams;

interface Scenario {
  name: string;
  /** The move applied to one position in this scenario. */
  moveOf(position: Position): Decimal;
}

function classMove(position: Position, classShocks: Partial<Record<AssetClass, Decimal>>): Decimal {
  const market = classShocks[position.assetClass];
  return market === undefined ? ZERO : market.times(position.leverageFactor);
}

/** Default grid: each class alone across its range, then all classes together. */
export function scenariosFor(params: PortfolioParams, classes: readonly AssetClass[]): Scenario[] {
  if (params.scenarios) {
    return params.scenarios.map((s) => ({
      name: s.name,
      moveOf: (p) => s.shocks[p.instrument] ?? classMove(p, s.shocks as Partial<Record<AssetClass, Decimal>>),
    }));
  }
  const out: Scenario[] = [];
  const fractions: Decimal[] = [];
  for (let k = -params.steps; k <= params.steps; k++) {
    if (k !== 0) fractions.push(new Decimal(k).dividedBy(params.steps));
  }
  const pct = (d: Decimal) => `${d.times(100).toDecimalPlaces(2).toFixed()}%`;
  for (const assetClass of classes) {
    for (const f of fractions) {
      const move = params.ranges[assetClass].times(f);
      out.push({ name: `${assetClass} ${pct(move)}`, moveOf: (p) => (p.assetClass === assetClass ? classMove(p, { [assetClass]: move }) : ZERO) });
    }
  }
  if (classes.length > 1) {
    for (const f of [new Decimal(-1), new Decimal(1)]) {
      const shocks = Object.fromEntries(classes.map((c) => [c, params.ranges[c].times(f)]));
      out.push({ name: `all classes ${f.isNegative() ? 'down' : 'up'}`, moveOf: (p) => classMove(p, shocks) });
    }
  }
  return out;
}

function presentClasses(positions: readonly Position[]): AssetClass[] {
  const present = new Set(positions.map((p) => p.assetClass));
  return ASSET_CLASSES.filter((c) => present.has(c));
}

/** Loss of one position in one scenario at a given price (positive = loss). */
function positionLoss(position: Position, price: Decimal, scenario: Scenario): Decimal {
  return position.quantity.times(position.multiplier).times(price).times(scenario.moveOf(position)).negated();
}

interface Assessment {
  maintenance: Decimal;
  worstScenario: string | null;
  perPosition: Decimal[];
}

function assess(book: Book<PortfolioParams>, prices: readonly Decimal[]): Assessment {
  const { positions, params } = book;
  const scenarios = scenariosFor(params, presentClasses(positions));
  const floors = positions.map((p, i) => notionalAt(p, prices[i]!).times(params.minimumRate));
  const floor = sum(floors);
  let worst: { loss: Decimal; scenario: Scenario; losses: Decimal[] } | null = null;
  for (const scenario of scenarios) {
    const losses = positions.map((p, i) => positionLoss(p, prices[i]!, scenario));
    const loss = sum(losses);
    if (!worst || loss.greaterThan(worst.loss)) worst = { loss, scenario, losses };
  }
  if (worst && worst.loss.greaterThan(floor)) {
    return { maintenance: worst.loss, worstScenario: worst.scenario.name, perPosition: worst.losses };
  }
  return { maintenance: floor, worstScenario: null, perPosition: floors };
}

/** Each scenario's loss (and the floor) is affine in a scale applied to the moving positions. */
function affineCandidates(book: Book<PortfolioParams>, moving: ReadonlySet<number>): { a: Decimal; b: Decimal }[] {
  const { positions, params } = book;
  const split = (term: (p: Position) => Decimal) => {
    let a = ZERO;
    let b = ZERO;
    positions.forEach((p, i) => {
      const value = term(p);
      if (moving.has(i)) b = b.plus(value);
      else a = a.plus(value);
    });
    return { a, b };
  };
  const scenarios = scenariosFor(params, presentClasses(positions));
  return [
    split((p) => notionalAt(p, p.price).times(params.minimumRate)),
    ...scenarios.map((s) => split((p) => positionLoss(p, p.price, s))),
  ];
}

export const portfolioModel: MarginModel<PortfolioParams> = {
  name: 'portfolio',
  valuation: 'spot',
  paramsSchema: portfolioParamsSchema as z.ZodType<PortfolioParams, unknown>,
  validate: () => [],
  requirements(book) {
    const { maintenance, perPosition } = assess(book, book.positions.map((p) => p.price));
    const multiplier = book.params.initialMultiplier;
    const requirements: Requirement[] = perPosition.map((m) => ({ initial: m.times(multiplier), maintenance: m }));
    return { perPosition: requirements, initial: maintenance.times(multiplier), maintenance };
  },
  curve(book, moving) {
    const movingSet = new Set(moving);
    const candidates = affineCandidates(book, movingSet);
    // The worst-case switches where two candidate lines cross.
    const breakpoints: Decimal[] = [];
    for (let i = 0; i < candidates.length; i++) {
      for (let j = i + 1; j < candidates.length; j++) {
        const { a: a1, b: b1 } = candidates[i]!;
        const { a: a2, b: b2 } = candidates[j]!;
        if (!b1.equals(b2)) {
          const s = a2.minus(a1).dividedBy(b1.minus(b2));
          if (s.greaterThan(0)) breakpoints.push(s);
        }
      }
    }
    return {
      at: (scale) => candidates.reduce((worst, c) => max(worst, c.a.plus(c.b.times(scale))), ZERO),
      breakpoints,
    };
  },
  funds(book, core) {
    const availableFunds = core.equity.minus(core.initialRequirement);
    const worstScenario = assess(book, book.positions.map((p) => p.price)).worstScenario;
    return {
      availableFunds,
      // A new long equity position costs its equity shock range per dollar.
      buyingPower: book.params.ranges.equity.isZero()
        ? ZERO
        : max(ZERO, availableFunds).dividedBy(book.params.ranges.equity),
      details: { worstScenario: worstScenario ?? 'per-position minimum' },
      violations: [],
    };
  },
};
