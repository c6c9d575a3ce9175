import { z } from 'zod';
import { Decimal, ZERO, max, sum } from '../decimal.ts';
import { decimalString } from '../schemas/decimal-string.ts';
import { ASSET_CLASSES, type AssetClass, type Position } from '../schemas/position.ts';
import { commonParamsShape, rateParam } from './common-params.ts';
import type { Book, CommonParams, MarginModel, Requirement } from './model.ts';

/**
 * Scenario-based portfolio margin: the requirement is the worst loss of the whole book over a set of
 * price shocks, so hedges offset, floored by a per-position minimum so a perfect hedge still costs
 * something. Shocks to an asset class move a leveraged/inverse ETF by its factor.
 */
const shock = decimalString.refine((d) => d.greaterThan(-1), { error: 'a shock must be above -1 (-100%)' });

const scenarioSchema = z.strictObject({
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
      .default(() => ({
        equity: new Decimal('0.15'),
        crypto: new Decimal('0.40'),
        future: new Decimal('0.20'),
      })),
    /** Points on each side of zero in the default grid (5 → ±3%, ±6% … ±15% for equities). */
    steps: z.number().int().min(1).max(20).default(5),
    /** Custom scenarios replace the default grid. */
    scenarios: z.array(scenarioSchema).min(1).optional(),
    /** Per-position floor as a fraction of its market value. */
    minimumRate: rateParam('0.025'),
    /** Initial requirement as a multiple of the scenario requirement. */
    initialMultiplier: decimalString
      .refine((d) => d.greaterThanOrEqualTo(1), { error: 'must be at least 1' })
      .default(() => new Decimal(1)),
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
      out.push({
        name: `${assetClass} ${pct(move)}`,
        moveOf: (p) => (p.assetClass === assetClass ? classMove(p, { [assetClass]: move }) : ZERO),
      });
    }
  }
  if (classes.length > 1) {
    for (const f of [new Decimal(-1), new Decimal(1)]) {
      const shocks = Object.fromEntries(classes.map((c) => [c, params.ranges[c].times(f)]));
      out.push({
        name: `all classes ${f.isNegative() ? 'down' : 'up'}`,
        moveOf: (p) => classMove(p, shocks),
      });
    }
  }
  return out;
}

function presentClasses(positions: readonly Position[]): AssetClass[] {
  const present = new Set(positions.map((p) => p.assetClass));
  return ASSET_CLASSES.filter((c) => present.has(c));
}

/**
 * Loss per unit of price for every (scenario, position), plus the floor's: losses are linear in each
 * price, so every requirement question is a few multiply-adds on this table. Built once per book.
 */
interface LossTable {
  scenarios: string[];
  /** coefficient[j][i]: loss of position i in scenario j per 1 of its price; the last row is the floor. */
  coefficient: Decimal[][];
}

const tables = new WeakMap<Book<PortfolioParams>['positions'], WeakMap<PortfolioParams, LossTable>>();

function lossTable(book: Book<PortfolioParams>): LossTable {
  let byParams = tables.get(book.positions);
  if (!byParams) tables.set(book.positions, (byParams = new WeakMap()));
  let table = byParams.get(book.params);
  if (!table) {
    const { positions, params } = book;
    const scenarios = scenariosFor(params, presentClasses(positions));
    const exposure = positions.map((p) => p.quantity.times(p.multiplier));
    table = {
      scenarios: scenarios.map((s) => s.name),
      coefficient: [
        ...scenarios.map((s) => positions.map((p, i) => exposure[i]!.times(s.moveOf(p)).negated())),
        positions.map((_, i) => exposure[i]!.abs().times(params.minimumRate)),
      ],
    };
    byParams.set(book.params, table);
  }
  return table;
}

interface Assessment {
  maintenance: Decimal;
  /** Row of the loss table that sets the requirement (the floor is the last row). */
  worstRow: number;
  worstScenario: string | null;
  perPosition: Decimal[];
}

const assessments = new WeakMap<Book<PortfolioParams>['positions'], WeakMap<PortfolioParams, Assessment>>();

/** Requirements and funds both need the assessment of the same book: computed once. */
function assess(book: Book<PortfolioParams>): Assessment {
  let byParams = assessments.get(book.positions);
  if (!byParams) assessments.set(book.positions, (byParams = new WeakMap()));
  let result = byParams.get(book.params);
  if (!result) byParams.set(book.params, (result = assessNow(book)));
  return result;
}

function assessNow(book: Book<PortfolioParams>): Assessment {
  const { scenarios, coefficient } = lossTable(book);
  const prices = book.positions.map((p) => p.price);
  const rows = coefficient.map((row) => row.map((c, i) => c.times(prices[i]!)));
  const floorRow = rows[rows.length - 1]!;
  const floor = sum(floorRow);
  let worst = -1;
  let worstLoss = floor;
  for (let j = 0; j < scenarios.length; j++) {
    const loss = sum(rows[j]!);
    if (loss.greaterThan(worstLoss)) {
      worst = j;
      worstLoss = loss;
    }
  }
  return worst < 0
    ? { maintenance: floor, worstRow: rows.length - 1, worstScenario: null, perPosition: floorRow }
    : {
        maintenance: worstLoss,
        worstRow: worst,
        worstScenario: scenarios[worst]!,
        perPosition: rows[worst]!,
      };
}

/**
 * The requirement is the largest of the candidate losses Lⱼ(p) = Σᵢ cⱼᵢ·pᵢ (the floor row is ≥ 0, so the
 * max with zero never binds). For a joint move Δ:
 *   M(p) ≤ M(p₀) + maxⱼ Σᵢ cⱼᵢΔᵢ ≤ M(p₀) + Σᵢ maxⱼ cⱼᵢΔᵢ      (upper: each position's worst coefficient)
 *   M(p) ≥ L_w(p) = M(p₀) + Σᵢ c_wᵢΔᵢ                           (lower: the scenario that binds today)
 * so both bounds split per position, which is what guard bands need.
 */
function portfolioBandCurves(book: Book<PortfolioParams>, index: number) {
  const { coefficient } = lossTable(book);
  const { maintenance, worstRow } = assess(book);
  const origin = book.positions[index]!.price;
  const column = coefficient.map((row) => row[index]!);
  const steepest = column.reduce((a, b) => max(a, b));
  const shallowest = column.reduce((a, b) => (a.lessThanOrEqualTo(b) ? a : b));
  const binding = column[worstRow]!;
  return {
    upper: {
      at: (x: Decimal) => {
        const move = x.minus(origin);
        return maintenance.plus(move.times(move.isNegative() ? shallowest : steepest));
      },
      breakpoints: [origin],
    },
    lower: { at: (x: Decimal) => maintenance.plus(x.minus(origin).times(binding)), breakpoints: [] },
  };
}

export const portfolioModel: MarginModel<PortfolioParams> = {
  name: 'portfolio',
  valuation: 'spot',
  paramsSchema: portfolioParamsSchema as z.ZodType<PortfolioParams, unknown>,
  validate: () => [],
  requirements(book) {
    const { maintenance, perPosition } = assess(book);
    const multiplier = book.params.initialMultiplier;
    const requirements: Requirement[] = perPosition.map((m) => ({
      initial: m.times(multiplier),
      maintenance: m,
    }));
    return { perPosition: requirements, initial: maintenance.times(multiplier), maintenance };
  },
  curve(book, moving, axis = 'scale') {
    const movingSet = new Set(moving);
    // Each candidate (scenario loss or floor) is a + b·x on the axis.
    const candidates = lossTable(book).coefficient.map((row) => {
      let a = ZERO;
      let b = ZERO;
      row.forEach((c, i) => {
        const price = book.positions[i]!.price;
        if (!movingSet.has(i)) a = a.plus(c.times(price));
        else b = b.plus(axis === 'price' ? c : c.times(price));
      });
      return { a, b };
    });
    // The worst case switches where two candidate lines cross.
    const breakpoints: Decimal[] = [];
    for (let i = 0; i < candidates.length; i++) {
      for (let j = i + 1; j < candidates.length; j++) {
        const { a: a1, b: b1 } = candidates[i]!;
        const { a: a2, b: b2 } = candidates[j]!;
        if (!b1.equals(b2)) {
          const x = a2.minus(a1).dividedBy(b1.minus(b2));
          if (x.greaterThan(0)) breakpoints.push(x);
        }
      }
    }
    return {
      at: (x) => candidates.reduce((worst, c) => max(worst, c.a.plus(c.b.times(x))), ZERO),
      breakpoints,
    };
  },
  bandCurves: portfolioBandCurves,
  funds(book, core) {
    const availableFunds = core.equity.minus(core.initialRequirement);
    return {
      availableFunds,
      // A new long equity position costs its equity shock range per dollar.
      buyingPower: book.params.ranges.equity.isZero()
        ? ZERO
        : max(ZERO, availableFunds).dividedBy(book.params.ranges.equity),
      details: { worstScenario: assess(book).worstScenario ?? 'per-position minimum' },
      violations: [],
    };
  },
};
