import fc from 'fast-check';
import { expect, it } from 'vitest';
import { Decimal, ZERO } from '../../shared/decimal.ts';
import {
  buildBook,
  evaluateBook,
  evaluateBookReference,
  fastPathStats,
  parseEvaluationInput,
} from '../../shared/margin/evaluate.ts';
import { ParsedInputCache } from '../../shared/margin/parse-cache.ts';
import { evaluationToJson } from '../../shared/margin/serialize.ts';
import { fixedPoint } from './arbitraries.ts';
import { scaled } from './scale.ts';

/**
 * Books for the fast summary's differential test: random books of every separable model, and books
 * placed on purpose within 1e-12 (and exactly on) every threshold and breakpoint the fast path decides:
 * the margin call (equity = callRatio · maintenance), the risk levels (1.2, 1.5, 2.0), each position's
 * price breakpoints, and uniform-move roots landing on a breakpoint of the solver's axis.
 */
export type SeparableModelName = 'reg-t' | 'gross' | 'cash' | 'tiered';

export interface RawBook {
  account: Record<string, unknown> & { model: string; cash: string };
  positions: Record<string, unknown>[];
}

/** Offsets from a threshold: exactly on it, within 1e-12, and a little further. */
const OFFSETS = ['0', '1e-12', '-1e-12', '1e-8', '-1e-8', '0.01', '-0.01'];
const LEVELS = ['1.2', '1.5', '2'];

/**
 * Two profiles, half the books each: equities in cents with whole quantities (what a broker mostly holds;
 * the float64 tier), and mixed scales up to crypto's 8 and 12 decimals (the BigInt tier).
 */
type Profile = 'cents' | 'mixed';
const centsArb = fixedPoint(50, 50_000_000, 2);
const priceArb = (profile: Profile) =>
  profile === 'cents'
    ? centsArb
    : fc.oneof(
        centsArb,
        fixedPoint(100, 99_999, 4),
        fixedPoint(1, 9_000_000_000, 8),
        fixedPoint(1, 9_000_000_000_000, 12),
      );

const quantityArb = (allowShorts: boolean, fractional: boolean) =>
  (fractional
    ? fc.oneof(fixedPoint(1, 500_000_000, 8), fixedPoint(1, 500, 0))
    : fixedPoint(1, 5_000, 0)
  ).chain((q) => (allowShorts ? fc.constantFrom(q, `-${q}`) : fc.constant(q)));

function positionArb(model: SeparableModelName, index: number, profile: Profile) {
  const shorts = model !== 'cash';
  return fc
    .record({
      quantity: quantityArb(shorts, model === 'tiered' && profile === 'mixed'),
      price: priceArb(profile),
      avgCost: priceArb(profile),
      multiplier: fc.constantFrom('1', '1', '100', '0.1'),
      leverageFactor: model === 'reg-t' ? fc.constantFrom('1', '1', '2', '-3') : fc.constant('1'),
      maintenanceRate: fc.option(fc.constantFrom('0.35', '0.5', '0.02'), { nil: undefined }),
      initialRate: fc.option(fc.constantFrom('0.6', '0.75'), { nil: undefined }),
      // 3 makes initial = notional / 3, not a finite decimal: those books take the reference path.
      leverage: fc.constantFrom('1', '2', '2', '4', '3'),
    })
    .map((p) => ({
      instrument: `I${index}`,
      quantity: p.quantity,
      price: p.price,
      avgCost: p.avgCost,
      multiplier: p.multiplier,
      ...(model === 'reg-t' ? { leverageFactor: p.leverageFactor } : {}),
      ...(p.maintenanceRate && model !== 'cash' ? { maintenanceRate: p.maintenanceRate } : {}),
      ...(p.initialRate && (model === 'reg-t' || model === 'gross') ? { initialRate: p.initialRate } : {}),
      ...(model === 'tiered' ? { leverage: p.leverage } : {}),
    }));
}

const FOUR_TIERS = [
  { upTo: '1000', maintenanceRate: '0.01', maxLeverage: '50' },
  { upTo: '25000', maintenanceRate: '0.02', maxLeverage: '25' },
  { upTo: '400000', maintenanceRate: '0.05', maxLeverage: '10' },
  { upTo: null, maintenanceRate: '0.1', maxLeverage: '5' },
];

/** The same table with its deductions published: 1000·0.01 = 10; 10 + 25000·0.03 = 760; 760 + 400000·0.05. */
const FOUR_TIERS_WITH_AMOUNTS = FOUR_TIERS.map((t, i) => ({
  ...t,
  maintenanceAmount: ['0', '10', '760', '20760'][i]!,
}));

/** Another instrument's own table: steeper, other bounds. */
const I0_TIERS = [
  { upTo: '5000', maintenanceRate: '0.015', maxLeverage: '50' },
  { upTo: '80000', maintenanceRate: '0.03', maxLeverage: '20', maintenanceAmount: '75' },
  { upTo: null, maintenanceRate: '0.08', maxLeverage: '5' },
];

function paramsArb(model: SeparableModelName): fc.Arbitrary<Record<string, unknown>> {
  const callRatio = fc.constantFrom('1', '1', '1.1', '1.25');
  switch (model) {
    case 'reg-t':
      return fc.record({
        callRatio,
        houseMaintenanceRate: fc.constantFrom('0', '0', '0.3', '0.35'),
        shortMaintenanceRate: fc.constantFrom('0.30', '0.35'),
        // A threshold other than the per-share minimum makes the short requirement jump there.
        lowPriceThreshold: fc.constantFrom('5', '5', '6'),
        shortPerShareMinimum: fc.constantFrom('5', '7.5'),
      });
    case 'gross':
      return fc.record({
        callRatio,
        initialRate: fc.constantFrom('0.5', '0.6'),
        maintenanceRate: fc.constantFrom('0.25', '0.3'),
        maintenanceBasis: fc.constantFrom('market', 'entry'),
      });
    case 'cash':
      return fc.record({ callRatio, settlementDays: fc.constantFrom(1, 2) });
    case 'tiered':
      return fc.record({
        callRatio,
        defaultLeverage: fc.constantFrom('10', '3'),
        // The default ten-tier table a third of the time; a four-tier table that small books cross otherwise
        // (with its maintenance amounts published, half of those).
        tiers: fc.constantFrom(undefined, FOUR_TIERS, FOUR_TIERS_WITH_AMOUNTS),
        // I0 (every book has it) on a table of its own, some of the time.
        instrumentTiers: fc.constantFrom(undefined, undefined, { I0: I0_TIERS }),
        maintenanceBasis: fc.constantFrom(undefined, 'mark', 'entry'),
        // Not in a summary (only the liquidation and bankruptcy prices read it): must change nothing.
        closingFeeRate: fc.constantFrom(undefined, '0.00055'),
      });
  }
}

const placementArb = fc.oneof(
  fc.constant({ kind: 'random' as const }),
  fc.record({ kind: fc.constant('call' as const), offset: fc.constantFrom(...OFFSETS) }),
  fc.record({
    kind: fc.constant('level' as const),
    level: fc.constantFrom(...LEVELS),
    offset: fc.constantFrom(...OFFSETS),
  }),
  fc.record({
    kind: fc.constant('price-breakpoint' as const),
    pick: fc.nat(),
    offset: fc.constantFrom(...OFFSETS),
  }),
  fc.record({
    kind: fc.constant('root-at-breakpoint' as const),
    pick: fc.nat(),
    threshold: fc.constantFrom('call', 'zero'),
    offset: fc.constantFrom(...OFFSETS),
  }),
);

/** A book and a later tick's prices (in the same profile) for its positions. */
export function bookArb(
  model: SeparableModelName,
  maxPositions = 4,
): fc.Arbitrary<{ raw: RawBook; tick: string[] }> {
  return fc.constantFrom<Profile>('cents', 'mixed').chain((profile) =>
    fc
      .record({
        positions: fc
          .integer({ min: 1, max: maxPositions })
          .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => positionArb(model, i, profile)))),
        params: paramsArb(model),
        cash:
          profile === 'cents'
            ? fixedPoint(-5_000_000_00, 5_000_000_00, 2)
            : fc.oneof(fixedPoint(-5_000_000_00, 5_000_000_00, 2), fixedPoint(-100_000, 100_000, 6)),
        placement: placementArb,
        pending: fc.constantFrom([], [{ tradeDate: '2026-01-02', amount: '1500.25' }]),
        tick: fc.array(priceArb(profile), { minLength: 1, maxLength: 5 }),
      })
      .map(({ tick, ...book }) => ({ raw: bookOf(model, book), tick })),
  );
}

function bookOf(
  model: SeparableModelName,
  {
    positions,
    params,
    cash,
    placement,
    pending,
  }: {
    positions: Record<string, unknown>[];
    params: Record<string, unknown>;
    cash: string;
    placement: Placement;
    pending: readonly unknown[];
  },
): RawBook {
  {
    const raw: RawBook = {
      account: {
        id: 'F',
        model,
        cash,
        asOf: '2026-01-05',
        params: Object.fromEntries(Object.entries(params).filter(([, v]) => v !== undefined)),
        ...(model === 'cash' ? { pendingSettlements: pending } : {}),
      },
      positions: positions.map((p) => ({ ...p })),
    };
    return place(raw, placement);
  }
}

type Placement = typeof placementArb extends fc.Arbitrary<infer T> ? T : never;

/** Ends in at most 12 decimals, as a stored price or cash balance would. */
function stored(value: Decimal): string {
  return value.toDecimalPlaces(12, Decimal.ROUND_HALF_EVEN).toFixed();
}

/** Moves the book onto a threshold or breakpoint, using the reference engine to find where it is. */
function place(raw: RawBook, placement: Placement): RawBook {
  if (placement.kind === 'random') return raw;
  let built;
  try {
    built = buildBook(parseEvaluationInput(raw));
  } catch {
    return raw; // invalid books are compared too: both paths must throw the same error
  }
  const { model, book } = built;
  const form = model.separable?.(book);
  // Where the book is only decides where to place it: the (cheaper) fast path will do; it is checked after.
  const evaluation = evaluateBook(model, book, { positionPrices: false });
  const equity = evaluation.equity;
  const cash = new Decimal(raw.account.cash);
  const withCash = (target: Decimal) => ({
    ...raw,
    account: { ...raw.account, cash: stored(cash.plus(target.minus(equity))) },
  });
  switch (placement.kind) {
    case 'call':
    case 'level': {
      const ratio = placement.kind === 'call' ? book.params.callRatio : new Decimal(placement.level);
      if (model.name === 'cash') {
        // The requirement is the debit itself: solve cash + value = ratio · (−cash) + offset.
        const value = equity.minus(cash);
        return {
          ...raw,
          account: {
            ...raw.account,
            cash: stored(new Decimal(placement.offset).minus(value).dividedBy(ratio.plus(1))),
          },
        };
      }
      return withCash(ratio.times(evaluation.maintenanceRequirement).plus(placement.offset));
    }
    case 'price-breakpoint': {
      if (!form) return raw;
      const points = book.positions.flatMap((p, i) =>
        [...form.rule.priceBreakpoints(p), ...(form.rule.initialBreakpoints?.(p) ?? [])].map(
          (bp) => [i, bp] as const,
        ),
      );
      if (points.length === 0) return raw;
      const [i, bp] = points[placement.pick % points.length]!;
      const price = bp.plus(placement.offset);
      if (!price.isPositive()) return raw;
      return {
        ...raw,
        positions: raw.positions.map((p, j) => (j === i ? { ...p, price: stored(price) } : p)),
      };
    }
    case 'root-at-breakpoint': {
      if (!form) return raw;
      const points = book.positions.flatMap((p, i) =>
        form.rule.priceBreakpoints(p).map((bp) => bp.dividedBy(book.positions[i]!.price)),
      );
      if (points.length === 0) return raw;
      const s = new Decimal(stored(points[placement.pick % points.length]!)).plus(placement.offset);
      if (!s.isPositive()) return raw;
      // equity(s) = constant + slope·s must equal θ·M(s): move cash (the constant) to make it so.
      const slope = evaluation.longMarketValue.minus(evaluation.shortMarketValue);
      const constant = equity.minus(slope);
      const theta = placement.threshold === 'call' ? book.params.callRatio : ZERO;
      const curve = model.curve(
        book,
        book.positions.map((_, i) => i),
        'scale',
      );
      const target = theta.times(curve.at(s)).minus(slope.times(s));
      return {
        ...raw,
        account: { ...raw.account, cash: stored(cash.plus(target.minus(constant))) },
      };
    }
  }
}

/** The summary of the same parsed book by both engines, as JSON (or the error each throws). */
function bothSummaries(raw: unknown, cache: ParsedInputCache): [string, string] | null {
  let built;
  try {
    built = buildBook(cache.parse(raw));
  } catch {
    return null; // input errors come before either engine: nothing to compare
  }
  const { model, book } = built;
  const json = (evaluate: typeof evaluateBook) => {
    try {
      return JSON.stringify(evaluationToJson(evaluate(model, book, { positionPrices: false })));
    } catch (e) {
      return `throws ${(e as Error).name}: ${(e as Error).message}`;
    }
  };
  return [json(evaluateBook), json(evaluateBookReference)];
}

/** A new tick for every position: the same stored version, other prices. */
export function repriced(raw: RawBook, prices: readonly string[]): RawBook {
  return { ...raw, positions: raw.positions.map((p, i) => ({ ...p, price: prices[i % prices.length]! })) };
}

/**
 * The differential check: the summary through evaluateBook (fast path where it applies) against the
 * reference engine, as JSON strings; then the same stored version re-priced through a ParsedInputCache,
 * so the compiled tables of the first sight are reused on a later tick.
 */
export function sameAsReference(raw: RawBook, tick: readonly string[], cache: ParsedInputCache): void {
  for (const input of [raw, repriced(raw, tick)]) {
    const pair = bothSummaries(input, cache);
    if (pair && pair[0] !== pair[1])
      throw new Error(`fast summary differs from the reference\n fast: ${pair[0]}\n  ref: ${pair[1]}`);
  }
}

/**
 * The differential property for one model: `runs` random and adversarial books, each compared first sight
 * and re-priced (two books per run), in rounds of 500 so the test worker stays responsive. The
 * fast path must have been taken for most of them, in both integer tiers, or the test proves nothing.
 */
export function differentialProperty(
  model: SeparableModelName,
  runs: number,
  minimumFastShare: number,
): void {
  const ROUND = 500;
  for (let done = 0; done < runs; done += ROUND) {
    const count = Math.min(ROUND, runs - done);
    it(`${model}: books ${2 * done + 1}–${2 * (done + count)}, same summary as the reference, string for string`, () => {
      const cache = new ParsedInputCache(1_000);
      const before = { ...fastPathStats };
      fc.assert(
        fc.property(bookArb(model), ({ raw, tick }) => sameAsReference(raw, tick, cache)),
        { numRuns: count },
      );
      const fast = fastPathStats.fast - before.fast;
      const reference = fastPathStats.reference - before.reference;
      const distance = fastPathStats.distanceFallbacks - before.distanceFallbacks;
      const exact = fastPathStats.exactDecisions - before.exactDecisions;
      const float = fastPathStats.floatTier - before.floatTier;
      console.log(
        `${model}: ${fast} fast (${float} in the float64 tier), ${reference} reference, ${distance} distance fallbacks, ${exact} decisions too close for float64`,
      );
      expect(fast / (fast + reference)).toBeGreaterThanOrEqual(minimumFastShare);
      // Both integer tiers must be exercised, or one of them is untested.
      expect(float).toBeGreaterThan(fast / 20);
      expect(fast - float).toBeGreaterThan(fast / 20);
    }, 300_000);
  }
}

/**
 * Runs per model, from its full-tier count: a tenth of it under `npm test` (5,000 runs, 10,000 books over
 * the four models, every round still checking the fast share and both integer tiers), all of it under
 * `npm run test:full` (50,000 runs, 100,000 books). FAST_SUMMARY_SCALE multiplies either tier.
 */
export function runsFor(full: number): number {
  const runs = scaled(full / 10, full);
  return Math.max(100, Math.round(runs * Number.parseFloat(process.env.FAST_SUMMARY_SCALE ?? '1')));
}
