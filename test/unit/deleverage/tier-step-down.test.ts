import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Decimal } from '../../../shared/decimal.ts';
import { executionSchema } from '../../../shared/deleverage/execution.ts';
import { planDeleverage } from '../../../shared/deleverage/planner.ts';
import { stepDownQuantity, tierIndexOf } from '../../../shared/deleverage/tier-step-down.ts';
import { parseEvaluationInput } from '../../../shared/margin/evaluate.ts';

// The tiered model's default first tiers: up to 50,000 (0.4%), 250,000 (0.5%), 3,000,000 (1%).
const tiers = ['50000', '250000', '3000000', null].map((u) => ({ upTo: u === null ? null : new Decimal(u) }));
const pos = (quantity: string, lotSize = '1') => ({
  quantity: new Decimal(quantity),
  multiplier: new Decimal(1),
  lotSize: new Decimal(lotSize),
});

describe('tier step-down', () => {
  it('10 BTC at 30,000 (300,000, tier 2) steps down to tier 1 by closing 2: 240,000 ≤ 250,000', () => {
    expect(stepDownQuantity(pos('10'), new Decimal('30000'), tiers)).toEqual({
      close: new Decimal(2),
      fromTier: 2,
      toTier: 1,
    });
    // A short steps down the same way; a first-tier position has nothing to step down to.
    expect(stepDownQuantity(pos('-10'), new Decimal('30000'), tiers).close.toFixed()).toBe('2');
    expect(stepDownQuantity(pos('1'), new Decimal('30000'), tiers).close.toFixed()).toBe('0');
  });

  it('always lands on the largest whole-lot size within the lower tier, never below zero', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100_000 }),
        fc.integer({ min: 1, max: 200_000 }),
        fc.constantFrom('1', '0.1', '5'),
        (lots, priceUnits, lotText) => {
          const lot = new Decimal(lotText);
          const price = new Decimal(priceUnits).dividedBy(10);
          const p = pos(lot.times(lots).toFixed(), lotText);
          const { close, fromTier, toTier } = stepDownQuantity(p, price, tiers);
          const keep = p.quantity.minus(close);
          expect(close.greaterThanOrEqualTo(0) && keep.greaterThanOrEqualTo(0)).toBe(true);
          if (fromTier === 0) {
            expect(close.isZero()).toBe(true);
            return;
          }
          const bound = tiers[toTier]!.upTo!;
          expect(keep.times(price).lessThanOrEqualTo(bound)).toBe(true);
          expect(keep.plus(lot).times(price).greaterThan(bound)).toBe(true);
          expect(tierIndexOf(keep.times(price), tiers)).toBeLessThanOrEqual(toTier);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a tiered liquidation steps down when that is enough to leave LIQUIDATION, and closes everything when not', () => {
    // Wallet 1,900, 10 BTC at 30,000 (entry 30,000): maintenance in tier 2 is 1% × 300,000 − 1,300 = 1,700,
    // ratio 1.118 (LIQUIDATION below 1.2). Closing 2 leaves 240,000 in tier 1: 0.5% × 240,000 − 50 = 1,150,
    // and equity 1,900 less fees: ratio ≈ 1.65 ≥ 1.25 (liquidation + hysteresis).
    const input = parseEvaluationInput({
      account: { id: 'T', model: 'tiered', cash: '1900' },
      positions: [{ instrument: 'BTC-PERP', quantity: '10', avgCost: '30000', price: '30000' }],
    });
    const request = {
      input,
      targetRatio: new Decimal('2.05'),
      strategy: 'risk-based' as const,
      liquidationPriority: 'risk' as const,
      execution: executionSchema.parse({ feeRate: '0', slippageRate: '0' }),
      incidentId: 'I',
      step: 'liquidate',
      fullLiquidation: true,
    };
    const stepped = planDeleverage({ ...request, stepDownFloor: new Decimal('1.25') });
    expect(stepped.orders.map((o) => `${o.side} ${o.quantity.toFixed()}`)).toEqual(['SELL 2']);
    expect(stepped.projectedRatio!.toDecimalPlaces(4).toFixed()).toBe('1.6522'); // 1,900 / 1,150
    expect(stepped.reason).toMatch(/stepped down/);
    // A floor the step-down cannot reach: the position is closed.
    expect(
      planDeleverage({ ...request, stepDownFloor: new Decimal('2') }).orders.map((o) => o.quantity.toFixed()),
    ).toEqual(['10']);
    expect(planDeleverage(request).orders.map((o) => o.quantity.toFixed())).toEqual(['10']);
  });
  it("steps down on the instrument's own tier table (instrumentTiers)", () => {
    // BTC-PERP's own table: 0.5% to 100,000, then 1% − 500 to 1,000,000. 10 at 30,000 = 300,000 is in its
    // tier 2: 1% × 300,000 − 500 = 2,500, wallet 2,900, ratio 1.16 (LIQUIDATION). Its tier 1 holds at
    // most 100,000 / 30,000 → 3 whole contracts: close 7 (on the account's default tiers it would be 2),
    // leaving 0.5% × 90,000 = 450, ratio 2,900 / 450 ≈ 6.44.
    const own = [
      { upTo: '100000', maintenanceRate: '0.005', maxLeverage: '100' },
      { upTo: '1000000', maintenanceRate: '0.01', maxLeverage: '50', maintenanceAmount: '500' },
      { upTo: null, maintenanceRate: '0.05', maxLeverage: '10' },
    ];
    const input = parseEvaluationInput({
      account: { id: 'T', model: 'tiered', cash: '2900', params: { instrumentTiers: { 'BTC-PERP': own } } },
      positions: [{ instrument: 'BTC-PERP', quantity: '10', avgCost: '30000', price: '30000' }],
    });
    const plan = planDeleverage({
      input,
      targetRatio: new Decimal('2.05'),
      strategy: 'risk-based',
      liquidationPriority: 'risk',
      execution: executionSchema.parse({ feeRate: '0', slippageRate: '0' }),
      incidentId: 'I',
      step: 'liquidate',
      fullLiquidation: true,
      stepDownFloor: new Decimal('1.25'),
    });
    expect(plan.orders.map((o) => `${o.side} ${o.quantity.toFixed()}`)).toEqual(['SELL 7']);
    expect(plan.projectedRatio!.toDecimalPlaces(4).toFixed()).toBe('6.4444');
  });
});
