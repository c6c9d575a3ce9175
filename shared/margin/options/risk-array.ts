import { Decimal } from '../../decimal.ts';
import type { UnderlyingClass } from '../../schemas/option.ts';
import { optionPrice, type Right } from './pricing.ts';

/**
 * Risk-based (portfolio) margin of one class group by repricing, after FINRA Rule 4210(g) and OCC's TIMS:
 * every position on one underlying is repriced at valuation points across the underlying's price range, with
 * optional volatility shifts, and the group's requirement is its largest theoretical loss, but at least
 * $0.375 × multiplier for each option contract.
 *
 * Ranges (FINRA 4210(g)): equities, ETFs and narrow-based indexes ±15%; broad-based indexes (the high-cap
 * ones; the rule's ±10% for non-high-cap broad indexes is not a class here) +6% / −8%; each range cut into ten
 * equal intervals (eleven points with today). Leveraged ETFs: the
 * range times |factor| (capped at 100%).
 *
 * Not wired into the portfolio model yet (that model still refuses options by name): a building block with
 * its own tests (test/unit/margin/options/risk-array.test.ts). Theoretical values are float64 from the pricing
 * module; the requirement crosses into Decimal once, rounded up to the cent.
 */

export interface RepricedLeg {
  /** Signed: contracts for an option, units for the underlying itself. */
  quantity: number;
  multiplier: number;
  option?: {
    right: Right;
    strike: number;
    /** Years to expiry. */
    time: number;
    volatility: number;
    style: 'american' | 'european';
  };
}

export interface ClassGroup {
  spot: number;
  rate: number;
  dividendYield?: number;
  underlyingClass: UnderlyingClass;
  /** |leverage factor| for leveraged ETFs (1 otherwise). */
  leverage?: number;
  legs: RepricedLeg[];
}

export interface Scenario {
  move: number;
  volatilityShift: number;
  /** Theoretical profit (+) or loss (−) of the group at this point. */
  pnl: number;
}

export interface GroupRequirement {
  requirement: Decimal;
  worst: Scenario;
  scenarios: Scenario[];
  /** $0.375 × multiplier × |contracts|. */
  minimum: Decimal;
}

export const PER_CONTRACT_MINIMUM = 0.375;

export function priceRange(cls: UnderlyingClass, leverage = 1): { down: number; up: number } {
  const broad = cls === 'broad-index' || cls === 'broad-etf' || cls === 'leveraged-broad-etf';
  const [down, up] = broad ? [0.08, 0.06] : [0.15, 0.15];
  const lev = cls.startsWith('leveraged') ? Math.abs(leverage) : 1;
  return { down: Math.min(1, down * lev), up: up * lev };
}

function legValue(leg: RepricedLeg, spot: number, group: ClassGroup, volShift: number): number {
  if (!leg.option) return leg.quantity * leg.multiplier * spot;
  const o = leg.option;
  const price = optionPrice(
    {
      right: o.right,
      spot,
      strike: o.strike,
      time: o.time,
      rate: group.rate,
      dividendYield: group.dividendYield ?? 0,
      volatility: Math.max(0, o.volatility + volShift),
    },
    o.style,
  );
  return leg.quantity * leg.multiplier * price;
}

/** The group's requirement: the worst loss over the grid, at least the per-contract minimum. */
export function classGroupRequirement(
  group: ClassGroup,
  volatilityShifts: readonly number[] = [0],
): GroupRequirement {
  const { down, up } = priceRange(group.underlyingClass, group.leverage ?? 1);
  const moves: number[] = [];
  // Today's point exactly 0 when the range is symmetric.
  for (let k = 0; k <= 10; k++) moves.push((up * k - down * (10 - k)) / 10);
  const today = group.legs.reduce((v, leg) => v + legValue(leg, group.spot, group, 0), 0);
  const scenarios: Scenario[] = [];
  for (const volatilityShift of volatilityShifts)
    for (const move of moves) {
      const spot = group.spot * (1 + move);
      const value =
        spot > 0 ? group.legs.reduce((v, leg) => v + legValue(leg, spot, group, volatilityShift), 0) : 0;
      scenarios.push({ move, volatilityShift, pnl: value - today });
    }
  const worst = scenarios.reduce((a, b) => (b.pnl < a.pnl ? b : a));
  const contracts = group.legs.reduce((n, l) => n + (l.option ? Math.abs(l.quantity) * l.multiplier : 0), 0);
  const minimum = new Decimal(PER_CONTRACT_MINIMUM).times(contracts);
  if (!Number.isFinite(worst.pnl)) throw new RangeError('repricing gave a non-finite value');
  const loss = new Decimal(Math.max(0, -worst.pnl).toFixed(6)).toDecimalPlaces(2, Decimal.ROUND_UP);
  return { requirement: Decimal.max(loss, minimum), worst, scenarios, minimum };
}
