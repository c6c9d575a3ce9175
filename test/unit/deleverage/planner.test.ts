import { describe, expect, it } from 'vitest';
import { executionSchema } from '../../../shared/deleverage/execution.ts';
import { orders, plan } from '../../helpers/plan.ts';

// Reg T, cash −30,000; A 100 @ 200 and B 200 @ 100: equity 10,000, maintenance 10,000, ratio 1.0.
// With free fills, selling value V cuts maintenance by 0.25V: 10,000 / (10,000 − 0.25V) ≥ 1.5 ⇔ V ≥ 13,333.33.
const book = (extraA: object = {}, extraB: object = {}) => ({
  account: { id: 'ACC', model: 'reg-t', cash: '-30000', asOf: '2026-01-05' },
  positions: [
    { instrument: 'A', quantity: '100', avgCost: '200', price: '200', ...extraA },
    { instrument: 'B', quantity: '200', avgCost: '100', price: '100', ...extraB },
  ],
});

describe('deleverage planner, by hand', () => {
  it('risk-based: one order, the fewest shares of the first position (tie broken by instrument)', () => {
    const p = plan(book(), '1.5', 'risk-based');
    expect(p.kind).toBe('deleverage');
    expect(orders(p)).toEqual(['SELL 67 A']); // 66.67 shares rounded up
    expect(p.projectedRatio!.toDecimalPlaces(4).toFixed()).toBe('1.5038'); // 10,000 / 6,650
    expect(p.restoresTarget).toBe(true);
  });

  it('respects lot sizes', () => {
    expect(orders(plan(book({ lotSize: '10' }), '1.5', 'risk-based'))).toEqual(['SELL 70 A']);
  });

  it('proportional: the smallest common cut, rounded up to whole shares', () => {
    // 33.1% → A 33.1 → 34, B 66.2 → 67: 6,800 + 6,700 = 13,500 ≥ 13,333; 33.0% gives 13,200.
    const p = plan(book(), '1.5', 'proportional');
    expect(orders(p)).toEqual(['SELL 34 A', 'SELL 67 B']);
    expect(p.reason).toBe('every position cut by 33.1%');
  });

  it('liquidity-aware: most liquid first, capped at 10% of ADV', () => {
    // B trades 1,000/day (100,000 a day in value) → at most 100 shares; A 500/day (100,000) — tie, B first by name? no:
    // ADV value A = 500·200 = 100,000, B = 1,000·100 = 100,000 → tie → A first by instrument. Make B clearly more liquid:
    const p = plan(
      book({ averageDailyVolume: '500' }, { averageDailyVolume: '1000', price: '100.01' }),
      '1.5',
      'liquidity-aware',
    );
    // B capped at 100 shares (10,001 of value): maintenance 10,002.5 − 2,500.25; then A needs the rest.
    expect(orders(p)[0]).toBe('SELL 100 B');
    expect(p.orders).toHaveLength(2);
    expect(p.orders[1]!.instrument).toBe('A');
    expect(p.orders[1]!.quantity.lessThanOrEqualTo(50)).toBe(true); // 10% of 500
    expect(p.restoresTarget).toBe(true);
  });

  it('time-based: oldest first', () => {
    const p = plan(
      book({ openedAt: '2026-01-02T10:00:00Z' }, { openedAt: '2025-06-01T10:00:00Z' }),
      '1.5',
      'time-based',
    );
    expect(orders(p)).toEqual(['SELL 134 B']); // 13,400 of B
  });

  it('covers a short with a buy', () => {
    // Short 100 @ 50 with 6,000 cash: equity 1,000, maintenance 1,500. 1,000 / (15·(100 − Δ)) ≥ 1.5 → Δ ≥ 55.56.
    const p = plan(
      {
        account: { id: 'S', model: 'reg-t', cash: '6000' },
        positions: [{ instrument: 'XYZ', quantity: '-100', price: '50' }],
      },
      '1.5',
      'risk-based',
    );
    expect(orders(p)).toEqual(['BUY 56 XYZ']);
  });

  it('counts fees and slippage: more must be sold', () => {
    const costly = executionSchema.parse({ feeRate: '0.001', slippageRate: '0.01' });
    const p = plan(book(), '1.5', 'risk-based', { execution: costly });
    expect(orders(p)).toEqual(['SELL 69 A']);
    expect(p.orders[0]!.estimatedPrice.toFixed()).toBe('198'); // 1% worse than 200
    expect(p.orders[0]!.estimatedFees.toFixed()).toBe('13.662'); // 0.1% of 69 × 198
  });

  it('falls back to full liquidation by priority when no partial plan restores the target', () => {
    // Equity −1,000: nothing short of closing everything helps.
    const broke = { account: { id: 'B', model: 'reg-t', cash: '-41000' }, positions: book().positions };
    const p = plan(broke, '1.5', 'risk-based', { liquidationPriority: 'size' });
    expect(p.kind).toBe('liquidation');
    expect(p.restoresTarget).toBe(false);
    expect(orders(p)).toEqual(['SELL 100 A', 'SELL 200 B']);
    expect(p.projectedRatio).toBeNull(); // flat
    expect(p.projectedEquity.toFixed()).toBe('-1000');
  });

  it('orders a liquidation by each priority', () => {
    const raw = book(
      { openedAt: '2026-01-02T00:00:00Z', averageDailyVolume: '10' },
      { quantity: '300', openedAt: '2025-01-02T00:00:00Z', averageDailyVolume: '1000000' },
    );
    const first = (priority: 'risk' | 'size' | 'liquidity' | 'time') =>
      plan(raw, '1.5', 'risk-based', { liquidationPriority: priority, fullLiquidation: true }).orders[0]!
        .instrument;
    expect(first('size')).toBe('B'); // 30,000 vs 20,000
    expect(first('risk')).toBe('B');
    expect(first('liquidity')).toBe('B');
    expect(first('time')).toBe('B');
    expect(
      plan(book({ openedAt: '2020-01-01T00:00:00Z' }), '1.5', 'risk-based', {
        liquidationPriority: 'time',
        fullLiquidation: true,
      }).orders[0]!.instrument,
    ).toBe('A');
  });

  it('does nothing when the target already holds', () => {
    const p = plan(book(), '0.9', 'risk-based');
    expect(p.kind).toBe('none');
    expect(p.orders).toEqual([]);
  });

  it('gives every order a deterministic idempotency key per account, incident, step and instrument', () => {
    const a = plan(book(), '1.5', 'risk-based');
    const b = plan(book(), '1.5', 'risk-based');
    const c = plan(book(), '1.5', 'risk-based', { step: 'liquidate' });
    expect(a.orders[0]!.idempotencyKey).toBe(b.orders[0]!.idempotencyKey);
    expect(a.orders[0]!.idempotencyKey).not.toBe(c.orders[0]!.idempotencyKey);
    expect(a.orders[0]!.idempotencyKey).toMatch(/^mg-[0-9a-f]{40}$/);
  });

  it('skips a hedge leg whose sale would raise the requirement (portfolio margin)', () => {
    const hedged = {
      // Equity 6,000; worst (equity −15%): SPY 1,500 + QQQ 750 − SH 450 = 1,800 → ratio 3.33.
      // Selling SH would raise the loss to 2,250; selling ~40 SPY brings it to 1,200 (ratio 5).
      account: { id: 'H', model: 'portfolio', cash: '-12000' },
      positions: [
        { instrument: 'SPY', quantity: '100', price: '100' },
        {
          instrument: 'SH',
          quantity: '30',
          price: '100',
          leverageFactor: '-1',
          openedAt: '2020-01-01T00:00:00Z',
        },
        { instrument: 'QQQ', quantity: '50', price: '100' },
      ],
    };
    const p = plan(hedged, '5', 'risk-based');
    expect(orders(p)).toEqual(['SELL 40 SPY']);
    // Oldest first starts with SH: it is skipped, not sold; then undated QQQ (by name): 40 × 15% cut = 600.
    expect(orders(plan(hedged, '5', 'time-based'))).toEqual(['SELL 40 QQQ']);
    expect(p.restoresTarget).toBe(true);
  });
});
