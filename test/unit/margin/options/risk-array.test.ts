import { describe, expect, it } from 'vitest';
import { classGroupRequirement, priceRange } from '../../../../shared/margin/options/risk-array.ts';

/**
 * Source: Cboe, "Margin Requirement Examples for Sample Options-based Positions" (portfolio margin column):
 * long 100 IBM April 100 puts and 100 April 100 calls: $7,500 — the $0.375 × 100 minimum on 200 contracts,
 * since a long straddle repriced at today's volatility loses little anywhere on the grid (convex: at most its
 * delta's share of a 3% step, here ~$180). Its other rows depend on the volatilities used, which it does not print.
 */
const ibm = { spot: 97.73, rate: 0.05, underlyingClass: 'equity' as const };
const option = (quantity: number, right: 'call' | 'put', strike: number) => ({
  quantity,
  multiplier: 100,
  option: { right, strike, time: 0.1, volatility: 0.25, style: 'american' as const },
});

describe('risk-based margin by repricing (TIMS-style grid)', () => {
  it('the long straddle: the per-contract minimum, $7,500 (Cboe)', () => {
    const r = classGroupRequirement({ ...ibm, legs: [option(100, 'put', 100), option(100, 'call', 100)] });
    expect(r.requirement.toFixed()).toBe('7500');
    expect(r.minimum.toFixed()).toBe('7500');
    expect(-r.worst.pnl).toBeGreaterThan(0);
    expect(-r.worst.pnl).toBeLessThan(7500);
  });

  it('stock alone: 15% of its value, the −15% point', () => {
    // 10,000 × 97.73 × 0.15 = 146,595 (±float rounding, rounded up to the cent).
    const r = classGroupRequirement({ ...ibm, legs: [{ quantity: 10000, multiplier: 1 }] });
    expect(r.requirement.toFixed()).toBe('146595');
    expect(r.worst.move).toBeCloseTo(-0.15, 12);
  });

  it('a covered call offsets: less than the stock alone, by at most the call value lost at −15%', () => {
    const stock = { quantity: 10000, multiplier: 1 };
    const alone = classGroupRequirement({ ...ibm, legs: [stock] }).requirement;
    const covered = classGroupRequirement({ ...ibm, legs: [stock, option(-100, 'call', 100)] }).requirement;
    expect(covered.lessThan(alone)).toBe(true);
  });

  it('a short call loses most at the top of the range, more with volatility up', () => {
    const flat = classGroupRequirement({ ...ibm, legs: [option(-10, 'call', 100)] });
    expect(flat.worst.move).toBeCloseTo(0.15, 12);
    const shocked = classGroupRequirement({ ...ibm, legs: [option(-10, 'call', 100)] }, [-0.05, 0, 0.05]);
    expect(shocked.worst.volatilityShift).toBe(0.05);
    expect(shocked.requirement.greaterThan(flat.requirement)).toBe(true);
  });

  it('ranges: ±15% for equities, +6% / −8% for broad-based indexes, times |factor| for leveraged ETFs', () => {
    expect(priceRange('equity')).toEqual({ down: 0.15, up: 0.15 });
    expect(priceRange('broad-index')).toEqual({ down: 0.08, up: 0.06 });
    const lev = priceRange('leveraged-etf', 3);
    expect(lev.down).toBeCloseTo(0.45, 15);
    expect(lev.up).toBeCloseTo(0.45, 15);
  });
});
