import { z } from 'zod';
import { Decimal, ZERO, max } from '../decimal.ts';
import { formatPath, type FieldIssue } from '../errors.ts';
import { allDecimal, decimalString } from '../schemas/decimal-string.ts';
import type { Position } from '../schemas/position.ts';
import { commonParamsShape, rateParam } from './common-params.ts';
import { nearestRoot, sharedSamples, solveScale } from './distance.ts';
import { thresholdPrices } from './single-position.ts';
import type { Book, CommonParams, CurveAxis, MarginModel } from './model.ts';
import {
  memoizeRule,
  notionalAt,
  separableBandCurves,
  separableCurve,
  separableRequirements,
  type PositionRule,
} from './separable.ts';

/**
 * Futures and crypto perpetuals: the maintenance rate steps up with the position's notional.
 * Each tier's maintenance amount (the deduction that keeps the requirement continuous across a tier
 * boundary) is derived from the table, or taken exactly as published when a tier carries one; a table
 * whose amounts would make the requirement jump is refused. Every instrument may have its own table
 * (`instrumentTiers`, as venues publish one per symbol); the others use `tiers`.
 * Positions are contracts: cash is the collateral (wallet) and positions add unrealised PnL.
 */
const tierSchema = z.strictObject({
  /** Upper bound of the tier's notional, inclusive; null for the last, open-ended tier. */
  upTo: decimalString.nullable(),
  maintenanceRate: rateParam('0.005'),
  maxLeverage: decimalString.refine((d) => d.greaterThanOrEqualTo(1), { error: 'must be at least 1' }),
  /** The venue's published deduction ("maintenance amount", Binance's cum); derived when absent. */
  maintenanceAmount: decimalString.optional(),
});

const tableSchema = z.array(tierSchema).min(1);

const DEFAULT_TIERS = [
  ['50000', '0.004', '125'],
  ['250000', '0.005', '100'],
  ['3000000', '0.01', '50'],
  ['15000000', '0.025', '20'],
  ['30000000', '0.05', '10'],
  ['80000000', '0.1', '5'],
  ['100000000', '0.125', '4'],
  ['200000000', '0.15', '3'],
  ['300000000', '0.25', '2'],
  [null, '0.5', '1'],
] as const;

type TierInput = z.output<typeof tierSchema>;

/** The stable name of a tier table refused for a jump in its requirement, at the start of its message. */
export const DISCONTINUOUS_TIERS = 'discontinuous tier table';

/**
 * The table's rules, for `tiers` and every `instrumentTiers` entry: bounds increase, rates do not
 * decrease, only the last tier is open-ended, and published maintenance amounts keep the requirement
 * continuous (notional·rate − amount equal on both sides of every bound, and 0 for an empty position).
 */
function checkTable(tiers: unknown, path: readonly PropertyKey[], ctx: z.RefinementCtx): void {
  if (
    !Array.isArray(tiers) ||
    !tiers.every(
      (t: TierInput | undefined) =>
        t &&
        allDecimal(t.maintenanceRate) &&
        (t.upTo === null || allDecimal(t.upTo)) &&
        (t.maintenanceAmount === undefined || allDecimal(t.maintenanceAmount)),
    )
  )
    return;
  const table = tiers as TierInput[];
  let ordered = true;
  table.forEach((tier, i) => {
    const last = i === table.length - 1;
    if (last !== (tier.upTo === null)) {
      ordered = false;
      ctx.addIssue({
        code: 'custom',
        path: [...path, i, 'upTo'],
        message: last ? 'the last tier must be open-ended (null)' : 'only the last tier may be open-ended',
      });
    }
    const prev = table[i - 1];
    if (prev && tier.upTo && prev.upTo && !tier.upTo.greaterThan(prev.upTo)) {
      ordered = false;
      ctx.addIssue({ code: 'custom', path: [...path, i, 'upTo'], message: 'tier bounds must increase' });
    }
    if (prev && tier.maintenanceRate.lessThan(prev.maintenanceRate)) {
      ctx.addIssue({
        code: 'custom',
        path: [...path, i, 'maintenanceRate'],
        message: 'tier rates must not decrease',
      });
    }
  });
  if (!ordered) return;
  // Continuity: the amount that makes tier i meet tier i − 1 at its bound, against the published one.
  let amount = ZERO;
  table.forEach((tier, i) => {
    const prev = table[i - 1];
    const continuous = prev
      ? amount.plus(prev.upTo!.times(tier.maintenanceRate.minus(prev.maintenanceRate)))
      : ZERO;
    const given = tier.maintenanceAmount;
    if (given !== undefined && !given.equals(continuous)) {
      ctx.addIssue({
        code: 'custom',
        path: [...path, i, 'maintenanceAmount'],
        message: prev
          ? `${DISCONTINUOUS_TIERS}: at notional ${prev.upTo!.toFixed()} the requirement would jump from ${prev
              .upTo!.times(prev.maintenanceRate)
              .minus(amount)
              .toFixed()} to ${prev.upTo!.times(tier.maintenanceRate).minus(given).toFixed()} (a continuous table has ${continuous.toFixed()} here)`
          : `${DISCONTINUOUS_TIERS}: the first tier's amount must be 0 (an empty position requires nothing), got ${given.toFixed()}`,
      });
    }
    amount = given ?? continuous;
  });
}

export const tieredParamsSchema = z
  .object({
    ...commonParamsShape,
    /** cross: all positions share the account's equity; isolated: each position risks only its own margin. */
    mode: z.enum(['cross', 'isolated']).default('cross'),
    defaultLeverage: decimalString
      .refine((d) => d.greaterThanOrEqualTo(1), { error: 'must be at least 1' })
      .default(() => new Decimal(10)),
    tiers: tableSchema.default(() =>
      DEFAULT_TIERS.map(([upTo, rate, lev]) => ({
        upTo: upTo === null ? null : new Decimal(upTo),
        maintenanceRate: new Decimal(rate),
        maxLeverage: new Decimal(lev),
      })),
    ),
    /** Per-instrument tables (a venue's bracket table per symbol); instruments without one use `tiers`. */
    instrumentTiers: z.record(z.string().min(1).max(64), tableSchema).default({}),
    /**
     * mark: maintenance on the notional at today's price (Binance); entry: on the entry notional
     * (|q|·k·avgCost: Bybit, KuCoin), which fixes each position's requirement while it is held.
     */
    maintenanceBasis: z.enum(['mark', 'entry']).default('mark'),
    /**
     * Taker fee charged on closing, counted in the liquidation and bankruptcy prices: at price p the
     * position must also pay closingFeeRate·|q|·k·p to close (Bybit's fee to close, KuCoin's
     * liquidation fee). 0 (Binance) by default.
     */
    closingFeeRate: decimalString
      .refine((d) => d.greaterThanOrEqualTo(0) && d.lessThan(1), {
        error: 'must be a fraction at least 0 and below 1 (e.g. "0.00055" for 0.055%)',
      })
      .default(() => new Decimal(0)),
  })
  .strict()
  .superRefine((p, ctx) => {
    checkTable(p.tiers, ['tiers'], ctx);
    if (p.instrumentTiers && typeof p.instrumentTiers === 'object')
      for (const [instrument, table] of Object.entries(p.instrumentTiers))
        checkTable(table, ['instrumentTiers', instrument], ctx);
  });

/** The stable name of a tier table for an instrument the account does not hold, at the start of its message. */
export const UNHELD_TIER_TABLE = 'tier table for an instrument not held';

export type TieredParams = z.output<typeof tieredParamsSchema> & CommonParams;
type Tier = TieredParams['tiers'][number];

interface ResolvedTier extends Tier {
  /** Deduction that makes notional·rate − amount continuous at every boundary (published or derived). */
  amount: Decimal;
}

function resolveTiers(tiers: Tier[]): ResolvedTier[] {
  let amount = ZERO;
  return tiers.map((tier, i) => {
    const prev = tiers[i - 1];
    if (prev) amount = amount.plus(prev.upTo!.times(tier.maintenanceRate.minus(prev.maintenanceRate)));
    // The schema has checked that a published amount equals the continuous one: it is used as given.
    if (tier.maintenanceAmount !== undefined) amount = tier.maintenanceAmount;
    return { ...tier, amount };
  });
}

interface Tables {
  fallback: ResolvedTier[];
  byInstrument: Map<string, ResolvedTier[]>;
}

const tablesCache = new WeakMap<TieredParams, Tables>();

function tablesOf(params: TieredParams): Tables {
  let tables = tablesCache.get(params);
  if (!tables) {
    tables = {
      fallback: resolveTiers(params.tiers),
      byInstrument: new Map(Object.entries(params.instrumentTiers).map(([k, t]) => [k, resolveTiers(t)])),
    };
    tablesCache.set(params, tables);
  }
  return tables;
}

/** The tier table an instrument is margined on: its own, or the account's `tiers`. */
export function tiersFor(params: TieredParams, instrument: string): readonly ResolvedTier[] {
  const tables = tablesOf(params);
  return tables.byInstrument.get(instrument) ?? tables.fallback;
}

/** The price the maintenance requirement (and so the tier) is taken at: today's, or the entry price. */
export function maintenanceBasisPrice(params: TieredParams, position: Position, price: Decimal): Decimal {
  return params.maintenanceBasis === 'entry' ? (position.avgCost ?? price) : price;
}

function tierFor(tiers: readonly ResolvedTier[], notional: Decimal): ResolvedTier {
  return tiers.find((t) => t.upTo === null || notional.lessThanOrEqualTo(t.upTo)) ?? tiers[tiers.length - 1]!;
}

function leverageOf(position: Position, params: TieredParams): Decimal {
  return position.leverage ?? params.defaultLeverage;
}

/** Margin posted to an isolated position: explicit, or its entry notional over its leverage. */
function isolatedMargin(position: Position, params: TieredParams): Decimal {
  return (
    position.isolatedMargin ??
    notionalAt(position, position.avgCost ?? position.price).dividedBy(leverageOf(position, params))
  );
}

const ruleFor = memoizeRule((params: TieredParams): PositionRule => {
  const entryBasis = params.maintenanceBasis === 'entry';
  return {
    requirement(position, price) {
      const notional = notionalAt(position, price);
      // Entry basis: the requirement is fixed at the entry notional, whatever the price.
      const basis = entryBasis
        ? notionalAt(position, maintenanceBasisPrice(params, position, price))
        : notional;
      const tier = tierFor(tiersFor(params, position.instrument), basis);
      const byTier = basis.times(tier.maintenanceRate).minus(tier.amount);
      const house = basis.times(position.maintenanceRate ?? ZERO);
      return { initial: notional.dividedBy(leverageOf(position, params)), maintenance: max(byTier, house) };
    },
    priceBreakpoints(position) {
      if (entryBasis) return []; // one constant
      const perUnit = position.quantity.abs().times(position.multiplier);
      if (perUnit.isZero()) return [];
      const tiers = tiersFor(params, position.instrument);
      const points = tiers.filter((t) => t.upTo !== null).map((t) => t.upTo!.dividedBy(perUnit));
      // A house rate h is a line under the max with the tier's n·rate − amount: they meet where
      // n = amount / (rate − h), in every tier whose rate is above h.
      const house = position.maintenanceRate ?? ZERO;
      if (house.greaterThan(0)) {
        for (const t of tiers) {
          if (t.maintenanceRate.greaterThan(house) && t.amount.greaterThan(0))
            points.push(t.amount.dividedBy(t.maintenanceRate.minus(house)).dividedBy(perUnit));
        }
      }
      return points;
    },
    initialBreakpoints: () => [], // notional / leverage: one line
  };
});

function tieredCurve(book: Book<TieredParams>, moving: readonly number[], axis?: CurveAxis) {
  return separableCurve(book.positions, ruleFor(book.params), moving, axis);
}

/**
 * Liquidation (equity = maintenance + fee to close) and bankruptcy (equity = fee to close) prices of one
 * position, on its price axis with the others at today's prices. The fee to close at p is
 * closingFeeRate·|q|·k·p, affine in p like equity, so it moves into the equity's slope:
 * equity(p) − fee(p) = equityOtherwise + (q − f·|q|)·k·p, and the roots stay exact.
 */
function positionExtras(book: Book<TieredParams>, index: number) {
  const position = book.positions[index]!;
  let equityOtherwise: Decimal;
  let scope: Book<TieredParams>;
  let scopeIndex: number;
  if (book.params.mode === 'isolated') {
    // Only the position's own margin backs it: margin + qty·mult·(p − entry).
    const exposure = position.quantity.times(position.multiplier);
    equityOtherwise = isolatedMargin(position, book.params).minus(
      exposure.times(position.avgCost ?? position.price),
    );
    scope = { ...book, positions: [position] };
    scopeIndex = 0;
  } else {
    equityOtherwise = book.account.cash;
    book.positions.forEach((p, i) => {
      const exposure = p.quantity.times(p.multiplier);
      equityOtherwise = equityOtherwise.minus(exposure.times(p.avgCost ?? p.price));
      if (i !== index) equityOtherwise = equityOtherwise.plus(exposure.times(p.price));
    });
    scope = book;
    scopeIndex = index;
  }
  const fee = book.params.closingFeeRate;
  if (fee.isZero()) {
    const [liquidationPrice, bankruptcyPrice] = thresholdPrices(
      tieredCurve,
      scope,
      scopeIndex,
      equityOtherwise,
      [new Decimal(1), ZERO],
    );
    return { liquidationPrice, bankruptcyPrice };
  }
  const exposure = position.quantity.times(position.multiplier);
  if (exposure.isZero()) return { liquidationPrice: null, bankruptcyPrice: null };
  const curve = sharedSamples(tieredCurve(scope, [scopeIndex], 'price'));
  const equitySlope = exposure.minus(fee.times(exposure.abs()));
  const [liquidationPrice, bankruptcyPrice] = [new Decimal(1), ZERO].map((threshold) =>
    nearestRoot(
      solveScale({ equityConstant: equityOtherwise, equitySlope, curve, threshold, origin: position.price }),
    ),
  );
  return { liquidationPrice, bankruptcyPrice };
}

export const tieredModel: MarginModel<TieredParams> = {
  name: 'tiered',
  valuation: 'derivative',
  paramsSchema: tieredParamsSchema as z.ZodType<TieredParams, unknown>,
  validate(book) {
    const issues: FieldIssue[] = [];
    book.positions.forEach((p, i) => {
      if (p.avgCost === undefined && !p.quantity.isZero()) {
        issues.push({
          field: `positions[${i}].avgCost`,
          message: 'required by the tiered model (entry price for PnL)',
        });
      }
      const tier = tierFor(tiersFor(book.params, p.instrument), notionalAt(p, p.price));
      const leverage = leverageOf(p, book.params);
      if (leverage.greaterThan(tier.maxLeverage)) {
        issues.push({
          field: p.leverage ? `positions[${i}].leverage` : 'account.params.defaultLeverage',
          message: `${leverage.toFixed()}x exceeds the ${tier.maxLeverage.toFixed()}x maximum for ${p.instrument}'s notional tier`,
        });
      }
    });
    return issues;
  },
  // Only for a submitted book: a stored one drops closed positions, and a closed symbol's table must not
  // stop its account being evaluated (see MarginModel.validateSubmitted).
  validateSubmitted(book) {
    const issues: FieldIssue[] = [];
    const held = new Set(book.positions.map((p) => p.instrument));
    for (const instrument of Object.keys(book.params.instrumentTiers)) {
      if (!held.has(instrument))
        issues.push({
          field: formatPath(['account', 'params', 'instrumentTiers', instrument]),
          message: `${UNHELD_TIER_TABLE}: the account holds no ${instrument} position (a misspelt symbol would leave its position on the account's tiers)`,
        });
    }
    return issues;
  },
  requirements: (book) => separableRequirements(book.positions, ruleFor(book.params)),
  curve: tieredCurve,
  bandCurves: (book, index) => separableBandCurves(book.positions, ruleFor(book.params), index),
  separable: (book) => ({ rule: ruleFor(book.params), accountMaintenance: ZERO }),
  funds(book, core) {
    const availableFunds = core.equity.minus(core.initialRequirement);
    const posted =
      book.params.mode === 'isolated'
        ? book.positions.reduce((acc, p) => acc.plus(isolatedMargin(p, book.params)), ZERO)
        : null;
    return {
      availableFunds,
      // Notional that free collateral can open at the default leverage.
      buyingPower: max(ZERO, availableFunds).times(book.params.defaultLeverage),
      details: { mode: book.params.mode, isolatedMarginPosted: posted },
      violations: [],
    };
  },
  positionExtras,
};
