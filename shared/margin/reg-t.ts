import { z } from 'zod';
import { Decimal, ZERO, ONE, max, min } from '../decimal.ts';
import type { Position } from '../schemas/position.ts';
import { allDecimal } from '../schemas/decimal-string.ts';
import { commonParamsShape, moneyParam, rateParam } from './common-params.ts';
import type { CommonParams, MarginModel } from './model.ts';
import { withOptions } from './options/reg-t-options.ts';
import {
  memoizeRule,
  notionalAt,
  separableBandCurves,
  separableCurve,
  separableRequirements,
  units,
  type PositionRule,
} from './separable.ts';

/**
 * Regulation T initial margin with FINRA Rule 4210 maintenance:
 * - long: 25% of market value;
 * - short at $5 or more: max(30% of market value, $5 per share);
 * - short under $5: max(100% of market value, $2.50 per share);
 * - leveraged ETFs: the percentage times |leverage factor|, capped at 100%;
 * - house rates (per account or instrument) can only raise a requirement.
 * At exactly $5 the two short rules agree ($5/share), so the requirement is continuous in price.
 */
/** Reg T initial and FINRA 4210 maintenance floors. */
const REGULATORY_MINIMUMS = {
  initialRate: '0.5',
  maintenanceRate: '0.25',
  shortMaintenanceRate: '0.30',
  shortPerShareMinimum: '5',
  lowPricedShortRate: '1',
  lowPricedShortPerShare: '2.5',
} as const;

export const regTParamsSchema = z
  .object({
    ...commonParamsShape,
    initialRate: rateParam('0.5'),
    /** Long maintenance rate (FINRA 4210: 25%). */
    maintenanceRate: rateParam('0.25'),
    shortMaintenanceRate: rateParam('0.30'),
    shortPerShareMinimum: moneyParam('5'),
    lowPriceThreshold: moneyParam('5'),
    lowPricedShortRate: rateParam('1'),
    lowPricedShortPerShare: moneyParam('2.5'),
    /** Account-wide house maintenance rate; can only raise requirements. */
    houseMaintenanceRate: rateParam('0'),
    /** Pattern-day-trader minimum equity (FINRA 4210(f)(8)(B)). */
    patternDayTraderMinimumEquity: moneyParam('25000'),
    /** Day-trading buying power as a multiple of maintenance excess. */
    dayTradingMultiple: moneyParam('4'),
    /** Day trades within five business days that make a pattern day trader. */
    patternDayTradeCount: z.number().int().positive().default(4),
  })
  .strict()
  .superRefine((p, ctx) => {
    // Brokers may be stricter than the rules, never looser.
    for (const [key, floor] of Object.entries(REGULATORY_MINIMUMS)) {
      const value = p[key as keyof typeof REGULATORY_MINIMUMS];
      if (allDecimal(value) && value.lessThan(floor)) {
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: `must not be below the regulatory minimum ${floor}`,
        });
      }
    }
    if (allDecimal(p.maintenanceRate, p.initialRate) && p.maintenanceRate.greaterThan(p.initialRate)) {
      ctx.addIssue({ code: 'custom', path: ['maintenanceRate'], message: 'must not exceed initialRate' });
    }
  });

export type RegTParams = z.output<typeof regTParamsSchema> & CommonParams;

function leveraged(rate: Decimal, position: Position): Decimal {
  return min(ONE, rate.times(position.leverageFactor.abs()));
}

const ruleFor = memoizeRule((params: RegTParams): PositionRule => {
  return {
    requirement(position, price) {
      const value = notionalAt(position, price);
      const house = max(params.houseMaintenanceRate, position.maintenanceRate ?? ZERO).times(value);
      let regulatory: Decimal;
      if (position.quantity.greaterThanOrEqualTo(0)) {
        regulatory = value.times(leveraged(params.maintenanceRate, position));
      } else if (price.greaterThanOrEqualTo(params.lowPriceThreshold)) {
        regulatory = max(
          value.times(leveraged(params.shortMaintenanceRate, position)),
          units(position).times(params.shortPerShareMinimum),
        );
      } else {
        regulatory = max(
          value.times(params.lowPricedShortRate),
          units(position).times(params.lowPricedShortPerShare),
        );
      }
      const maintenance = max(regulatory, house);
      const initialRate = max(params.initialRate, position.initialRate ?? ZERO);
      return { initial: max(value.times(initialRate), maintenance), maintenance };
    },
    priceBreakpoints(position) {
      if (position.quantity.greaterThanOrEqualTo(0)) return [];
      const points = [params.lowPriceThreshold];
      const shortRate = leveraged(params.shortMaintenanceRate, position);
      if (shortRate.greaterThan(0)) points.push(params.shortPerShareMinimum.dividedBy(shortRate));
      if (params.lowPricedShortRate.greaterThan(0)) {
        points.push(params.lowPricedShortPerShare.dividedBy(params.lowPricedShortRate));
      }
      // A house rate is a third line under the max: it meets each per-share minimum too.
      const house = max(params.houseMaintenanceRate, position.maintenanceRate ?? ZERO);
      if (house.greaterThan(0)) {
        points.push(
          params.shortPerShareMinimum.dividedBy(house),
          params.lowPricedShortPerShare.dividedBy(house),
        );
      }
      return points;
    },
    initialBreakpoints(position) {
      const points = this.priceBreakpoints(position);
      // initial = max(value · initial rate, maintenance): the initial line meets each per-share minimum.
      const initialRate = max(params.initialRate, position.initialRate ?? ZERO);
      if (position.quantity.isNegative() && initialRate.greaterThan(0))
        points.push(
          params.shortPerShareMinimum.dividedBy(initialRate),
          params.lowPricedShortPerShare.dividedBy(initialRate),
        );
      return points;
    },
  };
});

/** Linear positions only; regTModel adds listed options (strategy-based, options/). */
const regTLinear: MarginModel<RegTParams> = {
  name: 'reg-t',
  valuation: 'spot',
  paramsSchema: regTParamsSchema as z.ZodType<RegTParams, unknown>,
  validate: () => [],
  requirements: (book) => separableRequirements(book.positions, ruleFor(book.params)),
  curve: (book, moving, axis) => separableCurve(book.positions, ruleFor(book.params), moving, axis),
  bandCurves: (book, index) => separableBandCurves(book.positions, ruleFor(book.params), index),
  separable: (book) => ({ rule: ruleFor(book.params), accountMaintenance: ZERO }),
  funds(book, core) {
    const { params, account } = book;
    const availableFunds = core.equity.minus(core.initialRequirement);
    const reserved = core.openOrderInitial ?? ZERO;
    // SMA only ratchets up with excess equity (of positions: orders are not ledger entries); a
    // broker-supplied balance is kept if higher.
    const sma = max(account.sma ?? ZERO, availableFunds.plus(reserved));
    const bySma = max(ZERO, sma).dividedBy(params.initialRate);
    const byMaintenance = params.maintenanceRate.isZero()
      ? bySma
      : max(ZERO, core.excessLiquidity).dividedBy(params.maintenanceRate);
    // Open orders consume the buying power their fills would: reserved initial / initial rate.
    const buyingPower = reserved.isZero()
      ? min(bySma, byMaintenance)
      : max(ZERO, min(bySma, byMaintenance).minus(reserved.dividedBy(params.initialRate)));

    const patternDayTrader = account.patternDayTrader ?? account.dayTrades5d >= params.patternDayTradeCount;
    const pdtRestricted = patternDayTrader && core.equity.lessThan(params.patternDayTraderMinimumEquity);
    let dayTradingBuyingPower = buyingPower;
    if (patternDayTrader) {
      dayTradingBuyingPower = pdtRestricted
        ? ZERO
        : max(ZERO, core.excessLiquidity).times(params.dayTradingMultiple);
    }
    const violations = pdtRestricted
      ? [
          `pattern day trader with equity ${core.equity.toFixed()} below the ${params.patternDayTraderMinimumEquity.toFixed()} minimum: day trading suspended until restored`,
        ]
      : [];
    return {
      availableFunds,
      buyingPower,
      details: { sma, dayTradingBuyingPower, patternDayTrader, pdtRestricted },
      violations,
    };
  },
};

/** Reg T with listed options: strategy-based requirements with optimal pairing (options/reg-t-options.ts). */
export const regTModel: MarginModel<RegTParams> = withOptions(regTLinear, ruleFor);
